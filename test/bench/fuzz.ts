// 7. Fuzz: schema-aware records (every describe type's edge values: epoch s/ms/µs in date, time and
// datetime fields, calendar-invalid strings, 1e400, -0, huge and tiny numbers, integers beyond 2^53 as
// number literals, empty and 100,000-character strings, unicode, nested objects, meta keys in any
// letter case, `__proto__`/`constructor`, oversized Kafka keys) mixed with good records, random bytes,
// random JSON and mutated PushTopic records (plain and Kafka Connect envelopes), across partitions,
// through the whole handler against the strict emulator, realtime and bulk mappings and an unmapped
// topic. Checked per batch: no invocation throws; every record gets exactly one outcome; every
// rejection code is in the README's list; no good record fails — each failed record is written alone
// (Collections for realtime, a Bulk job of one row for bulk) to a second emulator restored to the
// state before the batch, and must fail there too. Also the pure stages alone: `prepareRecord` never
// throws, every bulk record it accepts encodes as CSV, and no realtime record it accepts has a body
// the emulator would refuse whole.
//
//   node test/bench/fuzz.ts [--cases 20000] [--pure-cases 10000] [--seed 1]
import fc from 'fast-check';
import { parseConfig, type SinkConfig, type SinkConfigInput } from '../../lib/config/index.ts';
import { encodeCsv } from '../../lib/csv/index.ts';
import { recordsOfEvent } from '../../lib/decode/index.ts';
import type { Outcome } from '../../lib/outcomes/index.ts';
import { prepareRecord } from '../../lib/pipeline.ts';
import { planWrites } from '../../lib/plan/plan.ts';
import type { JsonObject, JsonValue, KafkaRecord } from '../../lib/records.ts';
import { isRejection } from '../../lib/records.ts';
import { indexMappings, type MappingIndex } from '../../lib/resolve/resolve.ts';
import { createClientCache, createSalesforceClient } from '../../lib/salesforce/index.ts';
import type { SalesforceClient } from '../../lib/salesforce/types.ts';
import type { ShapedRecord } from '../../lib/shape/shape.ts';
import { type SObjectSchema, schemaFromDescribe } from '../../lib/shape/sobject-schema.ts';
import { describeSObject } from '../../local/emulator/describe.ts';
import { unreadableRecord } from '../../local/emulator/deserialize.ts';
import type { OrgSnapshot } from '../../local/emulator/org.ts';
import type { Schema } from '../../local/emulator/schema.ts';
import { type Emulator, startEmulator } from '../../local/emulator/server.ts';
import { type EventRecordInput, mskEvent } from '../../local/events/build-event.ts';
import { leadStream, orderEvents } from '../../local/events/generate.ts';
import { pushTopicLead } from '../fixtures/index.ts';
import { leadDescribe } from '../fixtures/lead-describe.ts';
import { readmeRejectionCodes } from '../support/readme.ts';
import { type FuzzRecordSpec, fuzzObject, fuzzSchema } from './fuzz-values.ts';
import { auditOutcomes, startSink } from './harness.ts';
import { formatReport, numberFlag, parseFlags, progress, type SectionResult, target } from './support.ts';

export const FUZZ_TOPICS = [
  'sfdc-pushtopic-lead',
  'leads-bulk',
  'orders-rt',
  'order-events',
  'unmapped-topic',
] as const;

export const fuzzConfig: SinkConfigInput = {
  maxRetries: 1,
  maxRedeliveries: 1,
  bulk: { pollInterval: '1s', maxPollInterval: '5s' },
  mappings: [
    { topic: 'sfdc-pushtopic-lead', sobject: 'Lead', externalIdField: 'CustomId__c' },
    {
      topic: 'leads-bulk',
      sobject: 'Lead',
      externalIdField: 'CustomId__c',
      mode: 'bulk',
      unknownFields: 'ignore',
    },
    { topic: 'orders-rt', sobject: 'Order_Event__c', operation: 'insert', unknownFields: 'ignore' },
    { topic: 'order-events', sobject: 'Order_Event__c', operation: 'insert', mode: 'bulk' },
  ],
};

// --- arbitraries --------------------------------------------------------------------------------------

const LEAD_SEEDS: JsonObject[] = [
  ...leadStream({ leads: 12, partitions: 1, updates: 1, deleteEvery: 3 }).map((r) => r.value as JsonObject),
  pushTopicLead().valueEnvelope,
  pushTopicLead().payload,
];
const ORDER_SEEDS: JsonObject[] = orderEvents({ count: 6 }).map((r) => r.value as JsonObject);

const FIELD_NAMES = [
  'Id',
  'CustomId__c',
  'LastName',
  'Company',
  'Email',
  'Status',
  'NumberOfEmployees',
  'AnnualRevenue',
  'Description',
  'CreatedDate',
  'OwnerId',
  'Owner',
  'Address',
  'Event_Key__c',
  'Amount__c',
  'Status__c',
  'Account__r',
  'Account__c',
  '_EventType',
  '_ObjectType',
  'Unknown_Field__c',
  '__proto__',
  'constructor',
  'a b',
  '',
  'Name.First',
];

const specialValue: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.constantFrom<JsonValue>(
    null,
    '',
    '#N/A',
    ' ',
    'created',
    'updated',
    'deleted',
    'undeleted',
    'Lead',
    1e21,
    -1e-7,
    0,
    -0,
    2 ** 60,
    true,
    false,
    [],
    {},
    'line\nbreak, "quoted"',
    '\u0000\u202e\ud83d\ude00',
    '2024-02-30T25:61:00Z',
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ minLength: 256, maxLength: 40_000 }).map((s) => s || 'x'),
  fc.double(),
  fc.integer(),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<JsonValue>,
  fc.record({ External_Id__c: fc.string({ maxLength: 10 }) }) as fc.Arbitrary<JsonValue>,
);

type Mutation = (value: JsonObject) => JsonObject;

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constantFrom(...FIELD_NAMES).map(
    (name): Mutation =>
      (v) => {
        const { [name]: _dropped, ...rest } = v;
        return rest;
      },
  ),
  fc.tuple(fc.oneof(fc.constantFrom(...FIELD_NAMES), fc.string({ maxLength: 12 })), specialValue).map(
    ([name, value]): Mutation =>
      (v) => {
        const out = { ...v };
        Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
        return out;
      },
  ),
  // A Kafka Connect envelope around the value, with a schema that may not match it.
  fc.jsonValue({ maxDepth: 2 }).map(
    (schema): Mutation =>
      (v) => ({ schema: schema as JsonValue, payload: v }),
  ),
  fc.constant<Mutation>((v) =>
    'payload' in v && typeof v.payload === 'object' && v.payload !== null ? (v.payload as JsonObject) : v,
  ),
);

function mutated(seeds: JsonObject[]): fc.Arbitrary<JsonObject> {
  return fc
    .tuple(fc.constantFrom(...seeds), fc.array(mutation, { maxLength: 3 }), fc.nat(1_000_000))
    .map(([seed, mutations, n]) => {
      // Distinct external ids across runs most of the time, repeated now and then.
      let value: JsonObject = { ...seed };
      if (typeof value.CustomId__c === 'string') value.CustomId__c = `F-${n % 5000}`;
      if (typeof value.Event_Key__c === 'string') value.Event_Key__c = `F-${n}`;
      for (const m of mutations) value = m(value);
      return value;
    });
}
const mutatedLead = mutated(LEAD_SEEDS);
const mutatedOrder = mutated(ORDER_SEEDS);

/** A record value as bytes, text or structure (as build-event encodes it). */
const garbageValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  fc.json({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.tuple(fc.oneof(mutatedLead, mutatedOrder), fc.nat()).map(([v, cut]) => {
    const text = JSON.stringify(v);
    return text.slice(0, cut % Math.max(1, text.length));
  }),
  fc.constantFrom<unknown>(null, '', '[]', 'null', '"text"', '1', '{"schema":{},"payload":null}'),
);

export interface FuzzInput {
  topic: string;
  partition: number;
  key: string | null;
  value: unknown;
  headers: Record<string, string>;
}

const SCHEMA = fuzzSchema();
const TOPIC_SPECS: Record<string, FuzzRecordSpec> = {
  'sfdc-pushtopic-lead': {
    sobject: 'Lead',
    keyField: 'CustomId__c',
    required: ['LastName', 'Company'],
    events: ['created', 'updated', 'updated', 'deleted', 'undeleted'],
  },
  'leads-bulk': {
    sobject: 'Lead',
    keyField: 'CustomId__c',
    required: ['LastName', 'Company'],
    events: ['created', 'updated', 'deleted'],
  },
  'orders-rt': { sobject: 'Order_Event__c', keyField: 'Event_Key__c', required: [], events: ['created'] },
  'order-events': { sobject: 'Order_Event__c', keyField: 'Event_Key__c', required: [], events: ['created'] },
};

/** A Kafka key: mostly short, now and then oversized (the sink stores a digest of keys over 16 KiB). */
const kafkaKey = fc.oneof(
  { weight: 30, arbitrary: fc.option(fc.string({ unit: 'binary', maxLength: 30 }), { nil: null }) },
  { weight: 1, arbitrary: fc.integer({ min: 16_000, max: 120_000 }).map((n) => 'k'.repeat(n)) },
);

const envelope = {
  partition: fc.nat(2),
  key: kafkaKey,
  headers: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 16 }), {
    maxKeys: 2,
  }),
};

/** An external id: fresh most of the time, from a small shared pool now and then (updates, deletes). */
const externalId = fc.oneof(
  { weight: 4, arbitrary: fc.nat(10_000_000).map((n) => `F-${n}`) },
  { weight: 1, arbitrary: fc.nat(40).map((n) => `S-${n}`) },
);

/** A Connect Decimal (base64 of a big-endian two's-complement integer) of up to 25 digits. */
const connectDecimal = fc.bigInt({ min: -(10n ** 25n), max: 10n ** 25n }).map((n) => {
  let hex = (n < 0n ? (1n << 128n) + n : n).toString(16);
  hex = hex.padStart(Math.ceil(hex.length / 2) * 2, '0');
  if (n >= 0n && Number.parseInt(hex[0]!, 16) >= 8) hex = `00${hex}`;
  return Buffer.from(hex, 'hex').toString('base64');
});

/** A schema-aware record for its topic: good, or good with edge values and strange keys. */
function schemaAware(topic: string, edgy: boolean): fc.Arbitrary<unknown> {
  const spec = TOPIC_SPECS[topic]!;
  return fc
    .tuple(fuzzObject(SCHEMA, spec, { edgy }), externalId, fc.nat(9), connectDecimal)
    .map(([value, id, form, decimal]) => {
      if (spec.keyField) value[spec.keyField] = id;
      if (form === 0 && spec.sobject === 'Lead') {
        // A Kafka Connect envelope whose schema makes AnnualRevenue a Decimal.
        value.AnnualRevenue = decimal;
        return {
          schema: {
            type: 'struct',
            fields: [
              {
                field: 'AnnualRevenue',
                type: 'bytes',
                name: 'org.apache.kafka.connect.data.Decimal',
                parameters: { scale: '0' },
              },
            ],
          },
          payload: value,
        };
      }
      return value;
    });
}

/** Schema-aware records first, then mutated samples, garbage, and records on the wrong topic. */
export const fuzzRecord: fc.Arbitrary<FuzzInput> = fc.oneof(
  ...Object.keys(TOPIC_SPECS).flatMap((topic) => [
    {
      weight: 2,
      arbitrary: fc.record({ topic: fc.constant(topic), value: schemaAware(topic, false), ...envelope }),
    },
    {
      weight: 3,
      arbitrary: fc.record({ topic: fc.constant(topic), value: schemaAware(topic, true), ...envelope }),
    },
  ]),
  {
    weight: 3,
    arbitrary: fc.record({
      topic: fc.constantFrom('sfdc-pushtopic-lead', 'leads-bulk'),
      value: mutatedLead,
      ...envelope,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      topic: fc.constantFrom('orders-rt', 'order-events'),
      value: mutatedOrder,
      ...envelope,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ topic: fc.constantFrom(...FUZZ_TOPICS), value: garbageValue, ...envelope }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      topic: fc.constantFrom(...FUZZ_TOPICS),
      value: fc.oneof(mutatedLead, mutatedOrder),
      ...envelope,
    }),
  },
);

/**
 * Gives repeated external ids within one batch fresh ones (case-insensitively, as Salesforce compares
 * them): a record's fate alone must not depend on a neighbour writing the same key first.
 */
function distinctKeys(inputs: FuzzInput[], batch: number): FuzzInput[] {
  const seen = new Set<string>();
  return inputs.map((input, i) => {
    if (typeof input.value !== 'object' || input.value === null || Buffer.isBuffer(input.value)) return input;
    const outer = input.value as Record<string, unknown>;
    const payload =
      typeof outer.payload === 'object' && outer.payload !== null && !Array.isArray(outer.payload)
        ? (outer.payload as Record<string, unknown>)
        : undefined;
    let value = input.value;
    for (const [holder, wrap] of [
      [outer, (v: Record<string, unknown>) => v],
      ...(payload ? [[payload, (v: Record<string, unknown>) => ({ ...outer, payload: v })] as const] : []),
    ] as const) {
      for (const field of ['CustomId__c', 'Event_Key__c']) {
        const key = holder[field];
        if (typeof key !== 'string') continue;
        const folded = key.toLowerCase();
        if (!seen.has(folded)) {
          seen.add(folded);
          continue;
        }
        const copy = Object.assign(Object.create(null), holder) as Record<string, unknown>;
        copy[field] = `${key}-b${batch}-${i}`;
        seen.add(String(copy[field]).toLowerCase());
        value = wrap(copy);
      }
    }
    return { ...input, value };
  });
}

// --- the handler ------------------------------------------------------------------------------------

export interface FuzzReport {
  runs: number;
  /** Records through the handler (each a fast-check-generated case). */
  cases: number;
  crashes: number;
  uncommitted: number;
  withoutOutcome: number;
  /** Records with more than one outcome. */
  repeated: number;
  conflicting: number;
  /** Rejections whose code the README's list lacks. */
  unlistedCodes: number;
  /** Failed records written alone, to the pre-batch state: how many, and how many succeeded so. */
  aloneChecks: number;
  goodFailed: number;
  byStatus: Record<string, number>;
  codes: Record<string, number>;
  /** The first counterexample, shrunk, if the property failed. */
  failure?: string;
  ms: number;
}

/**
 * The test of a good record: written alone (one record per Collections call or Bulk job) to a second
 * emulator restored to the state before its batch, does the emulator accept it?
 */
interface Oracle {
  acceptsAlone(input: EventRecordInput, before: OrgSnapshot): Promise<boolean>;
  close(): Promise<void>;
}

async function startOracle(config: SinkConfig, schema: Schema): Promise<Oracle> {
  const emulator: Emulator = await startEmulator({ schema, bulkProcessingDelayMs: 0 });
  const client: SalesforceClient = createSalesforceClient({
    credentials: {
      authType: 'client_credentials',
      loginUrl: emulator.url,
      clientId: emulator.credentials.clientId,
      clientSecret: emulator.credentials.clientSecret,
    },
    config,
    cache: createClientCache(),
  });
  const mappings: MappingIndex = indexMappings(config);
  const deadline = () => ({ deadline: Date.now() + 60_000 });

  async function bulkAlone(record: ShapedRecord): Promise<boolean> {
    const { sobject } = record.mapping;
    const operation = record.operation;
    let fields = record.fields;
    const ext = record.address && record.address.field !== 'Id' ? record.address.field : undefined;
    if (ext && operation !== 'upsert') {
      const ids = await client.resolveIds(sobject, ext, [record.address!.value], deadline());
      const id = ids.get(record.address!.value);
      if (!id) return false;
      fields = operation === 'update' ? { Id: id, ...fields } : { Id: id };
    }
    const job = await client.bulk.create(
      { object: sobject, operation, ...(operation === 'upsert' && ext ? { externalIdFieldName: ext } : {}) },
      deadline(),
    );
    await client.bulk.upload(job.id, encodeCsv([fields]).text, deadline());
    await client.bulk.close(job.id, deadline());
    for (;;) {
      const info = await client.bulk.check(job.id, deadline());
      if (info.state === 'JobComplete') return info.numberRecordsFailed === 0;
      if (info.state === 'Failed' || info.state === 'Aborted') return false;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  return {
    async acceptsAlone(input, before) {
      const record = recordsOfEvent(mskEvent([input]))[0]!;
      const mapping = mappings.get(record.topic);
      if (!mapping) return false;
      const schemaOfTarget = await client.schemaOf(mapping.sobject, deadline());
      const prepared = prepareRecord(record, { config, mappings, schemaOf: () => schemaOfTarget });
      if (isRejection(prepared)) return false;
      emulator.org.restore(before);
      if (mapping.mode === 'bulk') return bulkAlone(prepared);
      const [unit] = planWrites([prepared], { bulkUnitSize: 1 }).stages.flat();
      const [result] = await client.writeUnit(unit!, deadline());
      return result!.status === 'succeeded';
    },
    close: () => emulator.close(),
  };
}

/** Runs fast-check over batches of generated records through the handler until `cases` records went through. */
export async function fuzzHandler(options: {
  cases: number;
  seed?: number;
  maxBatch?: number;
}): Promise<FuzzReport> {
  const started = performance.now();
  const maxBatch = options.maxBatch ?? 80;
  const sink = await startSink(fuzzConfig, { bulkProcessingDelayMs: 1, schema: SCHEMA }, 2);
  const oracle = await startOracle(parseConfig(fuzzConfig), SCHEMA);
  const listed = new Set(readmeRejectionCodes());
  const offsets = new Map<string, number>();
  const report: FuzzReport = {
    runs: 0,
    cases: 0,
    crashes: 0,
    uncommitted: 0,
    withoutOutcome: 0,
    repeated: 0,
    conflicting: 0,
    unlistedCodes: 0,
    aloneChecks: 0,
    goodFailed: 0,
    byStatus: {},
    codes: {},
    ms: 0,
  };
  let seed = options.seed ?? 1;
  try {
    while (report.cases < options.cases && report.failure === undefined) {
      const remaining = options.cases - report.cases;
      const numRuns = Math.max(1, Math.ceil(remaining / ((maxBatch + 1) / 2)));
      const result = await fc.check(
        fc.asyncProperty(
          fc.array(fuzzRecord, { minLength: 1, maxLength: maxBatch, size: 'max' }),
          async (generated) => {
            const records: EventRecordInput[] = distinctKeys(generated, report.runs).map((input) => {
              const key = `${input.topic}-${input.partition}`;
              const offset = offsets.get(key) ?? 0;
              offsets.set(key, offset + 1);
              return { ...input, offset };
            });
            const org = sink.emulator!.org;
            const before = org.snapshot();
            const first = sink.outcomes.outcomes.length;
            const delivery = await sink.deliver(mskEvent(records), { maxInvocations: 100 });
            await sink.settle();
            const outcomes = sink.outcomes.outcomes.slice(first);
            const audit = auditOutcomes(records, outcomes);
            const unlisted = outcomes.filter(
              (o) => o.status === 'rejected' && !listed.has(o.errors[0]?.code ?? ''),
            ).length;
            const goodFailed = await failedAlone(records, outcomes, before);
            report.runs++;
            report.cases += records.length;
            report.crashes += delivery.crashes;
            report.uncommitted += delivery.uncommitted;
            report.withoutOutcome += audit.withoutOutcome;
            report.repeated += audit.rawDuplicates;
            report.conflicting += audit.conflicting;
            report.unlistedCodes += unlisted;
            report.goodFailed += goodFailed;
            for (const [status, n] of Object.entries(audit.byStatus))
              report.byStatus[status] = (report.byStatus[status] ?? 0) + n;
            for (const [code, n] of Object.entries(audit.errorCodes))
              report.codes[code] = (report.codes[code] ?? 0) + n;
            if (report.runs % 50 === 0) progress(`fuzz: ${report.cases} records in ${report.runs} batches`);
            return (
              delivery.crashes === 0 &&
              delivery.uncommitted === 0 &&
              audit.withoutOutcome === 0 &&
              audit.rawDuplicates === 0 &&
              audit.conflicting === 0 &&
              audit.phantom === 0 &&
              unlisted === 0 &&
              goodFailed === 0
            );
          },
        ),
        // Shrinking replays the handler many times; the first counterexample is evidence enough.
        { numRuns, seed, endOnFailure: true },
      );
      if (result.failed) report.failure = fc.stringify(result.counterexample).slice(0, 4_000);
      seed++;
    }
  } finally {
    await sink.close();
    await oracle.close();
  }
  report.ms = performance.now() - started;
  return report;

  /** Failed records that the emulator accepts written alone: a good record failed in its batch. */
  async function failedAlone(
    records: readonly EventRecordInput[],
    outcomes: readonly Outcome[],
    before: OrgSnapshot,
  ): Promise<number> {
    let good = 0;
    for (const o of outcomes) {
      if (o.status !== 'failed') continue;
      const input = records.find(
        (r) => r.topic === o.topic && r.partition === o.partition && r.offset === o.offset,
      );
      if (!input) continue;
      report.aloneChecks++;
      if (await oracle.acceptsAlone(input, before)) good++;
    }
    return good;
  }
}

// --- the pure stages ----------------------------------------------------------------------------------

/** The emulator's describe of an sObject, as the sink reads it. */
function emulatorSchema(sobject: string): SObjectSchema {
  return schemaFromDescribe(
    describeSObject(SCHEMA.byName.get(sobject.toLowerCase())!, '65.0') as unknown as Parameters<
      typeof schemaFromDescribe
    >[0],
  );
}

/**
 * `prepareRecord` over single generated records: never throws; an accepted bulk record encodes as
 * CSV; an accepted realtime record has no value the emulator's JSON reader refuses (a body Salesforce
 * would refuse whole).
 */
export function fuzzPipeline(options: { cases: number; seed?: number }): {
  cases: number;
  failure?: string;
  ms: number;
} {
  const started = performance.now();
  const config = parseConfig(fuzzConfig);
  const mappings = indexMappings(config);
  const schemas = new Map(['Lead', 'Order_Event__c'].map((s) => [s, emulatorSchema(s)]));
  const fixtureLead = schemaFromDescribe(leadDescribe);
  const result = fc.check(
    fc.property(fuzzRecord, fc.nat(1000), fc.boolean(), (input, offset, fixture) => {
      const raw = mskEvent([{ ...input, offset }]);
      const r = Object.values(raw.records)[0]![0]!;
      const record: KafkaRecord = {
        topic: r.topic,
        partition: r.partition,
        offset: r.offset,
        timestamp: r.timestamp ?? 0,
        key: input.key,
        headers: [],
        value: r.value == null ? null : Buffer.from(r.value, 'base64'),
      };
      const prepared = prepareRecord(record, {
        config,
        mappings,
        schemaOf: (sobject) => (fixture && sobject === 'Lead' ? fixtureLead : schemas.get(sobject)),
      });
      if (isRejection(prepared)) return true;
      if (prepared.mapping.mode === 'bulk') encodeCsv([prepared.fields]);
      else if (!fixture && prepared.operation !== 'delete') {
        const sobject = SCHEMA.byName.get(prepared.mapping.sobject.toLowerCase())!;
        const refused = unreadableRecord(sobject, prepared.fields as Record<string, unknown>);
        if (refused)
          throw new Error(`the sink would send a body Salesforce refuses whole: ${refused.message}`);
      }
      return true;
    }),
    { numRuns: options.cases, seed: options.seed ?? 1 },
  );
  return {
    cases: options.cases,
    ...(result.failed
      ? { failure: `${fc.stringify(result.counterexample).slice(0, 4_000)}: ${String(result.errorInstance)}` }
      : {}),
    ms: performance.now() - started,
  };
}

export async function benchFuzz(
  options: { cases?: number; pureCases?: number; seed?: number } = {},
): Promise<SectionResult> {
  const started = performance.now();
  const cases = options.cases ?? 20_000;
  const pureCases = options.pureCases ?? 10_000;
  progress(`fuzz: pure stages, ${pureCases} cases`);
  const pure = fuzzPipeline({ cases: pureCases, seed: options.seed });
  progress(`fuzz: handler, ${cases} records`);
  const handler = await fuzzHandler({ cases, seed: options.seed });
  const failures = (handler.failure ? 1 : 0) + (pure.failure ? 1 : 0);
  return {
    section: 'fuzz',
    title: `Fuzz: ${handler.cases.toLocaleString('en-US')} generated records (schema-aware edge values, good records, garbage) through the handler in ${handler.runs} batches; ${pure.cases.toLocaleString('en-US')} through the pure stages`,
    figures: [
      {
        name: 'handler: records (fast-check cases)',
        value: handler.cases,
        unit: '',
        note: `outcomes ${JSON.stringify(handler.byStatus)}; codes ${JSON.stringify(handler.codes)}`,
      },
      { name: 'handler: crashed invocations', value: handler.crashes, unit: '' },
      {
        name: 'handler: records without exactly one outcome',
        value: handler.withoutOutcome + handler.uncommitted + handler.repeated + handler.conflicting,
        unit: '',
      },
      {
        name: "handler: rejection codes missing from the README's list",
        value: handler.unlistedCodes,
        unit: '',
      },
      {
        name: 'handler: good records that failed (accepted when written alone)',
        value: handler.goodFailed,
        unit: '',
        note: `${handler.aloneChecks} failed records written alone`,
      },
      {
        name: 'property failures (handler + pure stages)',
        value: failures,
        unit: '',
        ...(failures > 0
          ? { note: [handler.failure, pure.failure].filter(Boolean).join(' | ').slice(0, 2000) }
          : {}),
      },
    ],
    targets: [
      target.atLeast('fuzz: records through the handler', handler.cases, cases),
      target.equal('fuzz: crashed invocations', handler.crashes, 0),
      target.equal(
        'fuzz: records without exactly one outcome',
        handler.withoutOutcome + handler.uncommitted + handler.repeated + handler.conflicting,
        0,
      ),
      target.equal("fuzz: rejection codes missing from the README's list", handler.unlistedCodes, 0),
      target.equal('fuzz: good records that failed', handler.goodFailed, 0),
      target.equal('fuzz: handler property failures', handler.failure ? 1 : 0, 0),
      target.equal('fuzz: pure-stage property failures', pure.failure ? 1 : 0, 0),
    ],
    details: { handler, pure },
    wallMs: performance.now() - started,
  };
}

if (import.meta.main) {
  const flags = parseFlags(process.argv.slice(2));
  const result = await benchFuzz({
    cases: numberFlag(flags, 'cases', 20_000),
    pureCases: numberFlag(flags, 'pure-cases', 10_000),
    seed: numberFlag(flags, 'seed', 1),
  });
  console.log(flags.has('json') ? JSON.stringify(result, null, 2) : formatReport([result]));
  process.exit(result.targets.every((t) => t.ok) ? 0 : 1);
}
