// Schema-aware fuzz records: for every field of an sObject, by its describe type, good values and edge
// values (epoch seconds, milliseconds and microseconds in date/time/datetime fields, calendar-invalid
// strings, 1e400, -0, huge and tiny numbers, integers beyond 2^53 as number literals, empty and
// 100,000-character strings, unicode, nested objects), meta keys in any letter case, `__proto__` and
// `constructor` keys, unknown fields. Values are JSON text, so exact number literals and `__proto__`
// keys reach the sink as a producer would write them.
import fc from 'fast-check';
import { type FieldSchema, loadSchema, type Schema, withField } from '../../local/emulator/schema.ts';

const raw = JSON as unknown as { rawJSON(text: string): unknown };
const exact = (text: string) => raw.rawJSON(text);

/** The emulator's default schema plus a time field, so every describe type the sink checks is fuzzed. */
export function fuzzSchema(): Schema {
  return withField(loadSchema(), 'Order_Event__c', { name: 'Pickup_Time__c', type: 'time' }, new Date(0));
}

/** Fields a record of the sObject may carry: createable, not compound, not a modeled reference. */
export function fuzzFields(schema: Schema, sobject: string): FieldSchema[] {
  const s = schema.byName.get(sobject.toLowerCase())!;
  return s.fields.filter(
    (f) =>
      f.createable &&
      f.type !== 'address' &&
      f.type !== 'location' &&
      f.type !== 'id' &&
      !(f.type === 'reference' && f.referenceTo.some((r) => schema.byName.has(r.toLowerCase()))),
  );
}

const DAY_MS = 86_400_000;
const MIN_MS = Date.UTC(1700, 0, 1);
const MAX_MS = Date.UTC(4000, 11, 31);
const instant = fc.integer({ min: MIN_MS, max: MAX_MS });
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function text(field: FieldSchema): fc.Arbitrary<string> {
  const max = Math.min(field.length || 255, 60);
  if (field.type === 'email')
    return fc.stringMatching(/^[a-z0-9]{1,20}$/).map((user) => `${user}@example.com`.slice(0, max));
  return fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: max })
    .filter((s) => s.length <= max && s !== '#N/A');
}

function number(field: FieldSchema): fc.Arbitrary<number> {
  if (field.type === 'int') {
    const limit = field.precision > 0 ? Math.min(10 ** field.precision - 1, 2 ** 31 - 1) : 2 ** 31 - 1;
    return fc.integer({ min: -limit, max: limit });
  }
  const whole = field.precision > 0 ? Math.min(field.precision - field.scale, 15) : 15;
  const scale = Math.min(field.scale, 15 - Math.min(whole, 15));
  return fc
    .tuple(
      fc.integer({ min: -(10 ** whole) + 1, max: 10 ** whole - 1 }),
      fc.integer({ min: 0, max: 10 ** scale - 1 }),
    )
    .map(([w, f]) => Number(`${w}.${pad(f, scale)}`));
}

/** A value Salesforce accepts for the field, in one of the forms a producer may send it. */
export function goodValue(field: FieldSchema): fc.Arbitrary<unknown> {
  switch (field.type) {
    case 'boolean':
      return fc.oneof(fc.boolean(), fc.constantFrom('true', 'false'));
    case 'int':
    case 'double':
    case 'currency':
    case 'percent':
      return fc.oneof(number(field), number(field).map(String));
    case 'date':
      return fc.oneof(
        instant.map((ms) => new Date(ms).toISOString().slice(0, 10)),
        instant.map((ms) => Math.floor(ms / DAY_MS)),
      );
    case 'datetime':
      return fc.oneof(
        instant.map((ms) => new Date(ms).toISOString()),
        instant,
        fc
          .tuple(instant, fc.integer({ min: -12, max: 14 }))
          .map(
            ([ms, h]) =>
              `${new Date(ms).toISOString().slice(0, 19)}${h < 0 ? '-' : '+'}${pad(Math.abs(h))}:00`,
          ),
      );
    case 'time':
      return fc.oneof(
        fc.integer({ min: 0, max: DAY_MS - 1 }),
        fc.integer({ min: 0, max: DAY_MS - 1 }).map((ms) => `${new Date(ms).toISOString().slice(11, 23)}Z`),
      );
    case 'reference':
      return fc.constant('0055E0000000001AAA');
    default:
      return text(field);
  }
}

const everywhere = fc.constantFrom<unknown>(
  null,
  '',
  ' ',
  true,
  0,
  exact('-0'),
  exact('1e400'),
  exact('-1e400'),
  exact('1e-400'),
  exact('9007199254740993'),
  exact('123456789012345678901234567890'),
  1e21,
  5e-324,
  Number.MAX_SAFE_INTEGER,
  'NaN',
  'Infinity',
  { nested: { deeper: [1, 2] } },
  [1, 'two'],
  '\u0000\u202e\ud83d\ude00\u00e9',
  'x'.repeat(100_000),
);

/** Edge values for the field's type: mostly ones Salesforce refuses, some it accepts in odd forms. */
export function edgeValue(field: FieldSchema): fc.Arbitrary<unknown> {
  const typed: unknown[] = [];
  const now = 1_704_164_645_123;
  switch (field.type) {
    case 'date':
      typed.push(now, Math.floor(now / 1000), now * 1000, 19_723, 19_723.5, -200_000, 800_000);
      typed.push('2024-02-30', '2024-13-01', '2023-02-29', '2024-02-29', '1699-12-31', '4001-01-01');
      typed.push('2024-01-02T03:04:05Z', '2024-1-2', '20240102', '0000-00-00');
      break;
    case 'datetime':
      typed.push(now, Math.floor(now / 1000), now * 1000, now * 1_000_000, now + 0.5, -1e15);
      typed.push('2024-01-02T03:04Z', '2024-01-02T25:04:05Z', '2024-01-02T03:60:05Z', '2024-01-02T03:04:60Z');
      typed.push('2024-01-02T03:04:05', '2024-02-30T00:00:00Z', '2024-01-02T03:04:05.123456789+05:30');
      typed.push('2024-01-02T03:04:05+0530', '2024-01-02 03:04:05Z', '1699-12-31T23:59:59Z');
      typed.push('4000-12-31T23:59:59.999Z', '2024-01-02T03:04:05+19:00');
      break;
    case 'time':
      typed.push(now, DAY_MS, -1, 37_800_000, 1.5, '10:30', '25:00:00', '10:30:00.000Z', '10:30:00');
      typed.push('10:30:00.1234Z', '23:59:59.999Z', '10:60:00Z');
      break;
    case 'int':
      typed.push(12.5, 2 ** 31, -(2 ** 31), 2 ** 31 - 1, 1e3, '12', '0x10', ' 7 ', '1e3', 123_456_789);
      typed.push(exact('9007199254740993'), exact('12.000000000000000001'));
      break;
    case 'double':
    case 'currency':
    case 'percent':
      typed.push(10 ** (field.precision - field.scale), 10 ** (field.precision - field.scale) - 1);
      typed.push(123.456789, '1e5', 'abc', ' 5 ', '+5', '.5', '5.', '1_000', exact('123456789012345678'));
      typed.push(exact('0.1234567890123456789012345'), -0.0000001);
      break;
    case 'boolean':
      typed.push('yes', 1, 0, 'TRUE', 'False');
      break;
    case 'email':
      typed.push('not-an-email', 'a@b.c', `${'x'.repeat(75)}@e.io`);
      break;
    case 'reference':
      typed.push('not-an-id', '001000000000000', { External_Id__c: 'A-404' }, 42);
      break;
    default:
      break;
  }
  if (field.length > 0) {
    typed.push('x'.repeat(field.length), 'x'.repeat(field.length + 1), '\ud83d\ude00'.repeat(field.length));
  }
  return fc.oneof(
    { weight: 3, arbitrary: typed.length > 0 ? fc.constantFrom(...typed) : everywhere },
    { weight: 1, arbitrary: everywhere },
  );
}

/** A field name as a producer may spell it: canonical, or in another letter case. */
export function spelling(name: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constant(name) },
    { weight: 1, arbitrary: fc.constantFrom(name.toLowerCase(), name.toUpperCase()) },
  );
}

export const EVENT_TYPES = ['created', 'updated', 'deleted', 'undeleted'] as const;
const TYPED = new Set(['date', 'datetime', 'time', 'int', 'double', 'currency', 'percent', 'boolean']);
const META_SPELLINGS = ['_EventType', '_EVENTTYPE', '_eventtype', '_eventType', '_EventTYPE'];

export interface FuzzRecordSpec {
  sobject: string;
  /** The external id field the topic's mapping addresses records by, if any. */
  keyField?: string;
  /** Fields the sObject requires on create. */
  required: string[];
  /** Event types the topic gets. */
  events: readonly string[];
}

/** Extra keys: meta in any case, `__proto__`/`constructor`, unknown names, the wrong _ObjectType. */
const strangeKey = fc.oneof(
  fc.tuple(
    fc.constantFrom(...META_SPELLINGS),
    fc.constantFrom<unknown>(...EVENT_TYPES, 'Created', 'merged', 42, null),
  ),
  fc.tuple(
    fc.constantFrom('_ObjectType', '_OBJECTTYPE', '_objecttype'),
    fc.constantFrom<unknown>('Lead', 'lead', 'Account', 'Order_Event__c'),
  ),
  fc.tuple(
    fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty'),
    fc.constantFrom<unknown>({ Id: '00Q5E0000000001AAA', _EventType: 'deleted' }, 'x', null),
  ),
  fc.tuple(fc.constantFrom('Unknown_Field__c', 'a b', '', 'Name.First', '9lives', 'Id'), everywhere),
);

/** A record as a JSON object (null prototype, so `__proto__` is a plain key); external id left to the caller. */
export function fuzzObject(
  schema: Schema,
  spec: FuzzRecordSpec,
  options: { edgy: boolean },
): fc.Arbitrary<Record<string, unknown>> {
  const fields = fuzzFields(schema, spec.sobject).filter((f) => f.name !== spec.keyField);
  const byName = new Map(fields.map((f) => [f.name, f]));
  const required = spec.required.map((n) => byName.get(n)!).filter(Boolean);
  const optional = fields.filter((f) => !spec.required.includes(f.name));
  const entry = (field: FieldSchema, value: fc.Arbitrary<unknown>) =>
    fc.tuple(spelling(field.name), value) as fc.Arbitrary<[string, unknown]>;
  const goodEntries = fc.tuple(
    fc.tuple(...required.map((f) => entry(f, goodValue(f)))),
    fc
      .uniqueArray(fc.constantFrom(...optional), { maxLength: 6, selector: (f) => f.name })
      .chain((picked) => fc.tuple(...picked.map((f) => entry(f, goodValue(f))))),
  );
  // Typed fields get most edges: they are where Salesforce's reader refuses whole requests.
  const pickField = fc.oneof(
    ...fields.map((f) => ({ weight: TYPED.has(f.type) ? 6 : 1, arbitrary: fc.constant(f) })),
  );
  const edges = options.edgy
    ? fc.array(
        fc.oneof(
          { weight: 6, arbitrary: pickField.chain((f) => entry(f, edgeValue(f))) },
          { weight: 1, arbitrary: strangeKey as fc.Arbitrary<[string, unknown]> },
        ),
        { minLength: 1, maxLength: 2 },
      )
    : fc.constant([] as Array<[string, unknown]>);
  return fc
    .tuple(fc.constantFrom(...spec.events), goodEntries, edges, fc.boolean())
    .map(([event, [req, opt], extra, typed]) => {
      const out = Object.create(null) as Record<string, unknown>;
      out._EventType = event;
      if (typed) out._ObjectType = spec.sobject;
      for (const [name, value] of [...req, ...opt, ...extra]) out[name] = value;
      return out;
    });
}
