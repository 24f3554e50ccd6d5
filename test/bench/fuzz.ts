// 7. Fuzz: random bytes, random JSON and mutated PushTopic records (plain and Kafka Connect envelopes,
// order events) through the whole handler on the embedded runtime, realtime and bulk mappings and an
// unmapped topic: the handler never crashes and every record gets an outcome (the same one if it is
// published twice). Also the pure stages alone, one record per case: `prepareRecord` never throws and
// every bulk record it accepts encodes as CSV.
//
//   node test/bench/fuzz.ts [--cases 10000] [--pure-cases 10000] [--seed 1]
import fc from 'fast-check';
import { parseConfig, type SinkConfigInput } from '../../lib/config/index.ts';
import { encodeCsv } from '../../lib/csv/index.ts';
import { prepareRecord } from '../../lib/pipeline.ts';
import type { JsonObject, JsonValue, KafkaRecord } from '../../lib/records.ts';
import { isRejection } from '../../lib/records.ts';
import { indexMappings } from '../../lib/resolve/resolve.ts';
import { schemaFromDescribe } from '../../lib/shape/sobject-schema.ts';
import { type EventRecordInput, mskEvent } from '../../local/events/build-event.ts';
import { leadStream, orderEvents } from '../../local/events/generate.ts';
import { pushTopicLead } from '../fixtures/index.ts';
import { leadDescribe } from '../fixtures/lead-describe.ts';
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

const envelope = {
  partition: fc.nat(2),
  key: fc.option(fc.string({ unit: 'binary', maxLength: 30 }), { nil: null }),
  headers: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 16 }), {
    maxKeys: 2,
  }),
};

/** Mostly mutated records on their own kind of topic; then garbage, and records on the wrong topic. */
export const fuzzRecord: fc.Arbitrary<FuzzInput> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      topic: fc.constantFrom('sfdc-pushtopic-lead', 'leads-bulk'),
      value: mutatedLead,
      ...envelope,
    }),
  },
  {
    weight: 3,
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

// --- the handler ------------------------------------------------------------------------------------

export interface FuzzReport {
  runs: number;
  /** Records through the handler (each a fast-check-generated case). */
  cases: number;
  crashes: number;
  uncommitted: number;
  withoutOutcome: number;
  conflicting: number;
  byStatus: Record<string, number>;
  codes: Record<string, number>;
  /** The first counterexample, shrunk, if the property failed. */
  failure?: string;
  ms: number;
}

/** Runs fast-check over batches of generated records through the handler until `cases` records went through. */
export async function fuzzHandler(options: {
  cases: number;
  seed?: number;
  maxBatch?: number;
}): Promise<FuzzReport> {
  const started = performance.now();
  const maxBatch = options.maxBatch ?? 60;
  const sink = await startSink(fuzzConfig, { bulkProcessingDelayMs: 1 }, 2);
  const offsets = new Map<string, number>();
  const report: FuzzReport = {
    runs: 0,
    cases: 0,
    crashes: 0,
    uncommitted: 0,
    withoutOutcome: 0,
    conflicting: 0,
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
          async (inputs) => {
            const records: EventRecordInput[] = inputs.map((input) => {
              const key = `${input.topic}-${input.partition}`;
              const offset = offsets.get(key) ?? 0;
              offsets.set(key, offset + 1);
              return { ...input, offset };
            });
            const before = sink.outcomes.outcomes.length;
            const delivery = await sink.deliver(mskEvent(records), { maxInvocations: 100 });
            await sink.settle();
            const audit = auditOutcomes(records, sink.outcomes.outcomes.slice(before));
            report.runs++;
            report.cases += records.length;
            report.crashes += delivery.crashes;
            report.uncommitted += delivery.uncommitted;
            report.withoutOutcome += audit.withoutOutcome;
            report.conflicting += audit.conflicting;
            for (const [status, n] of Object.entries(audit.byStatus))
              report.byStatus[status] = (report.byStatus[status] ?? 0) + n;
            for (const [code, n] of Object.entries(audit.errorCodes))
              report.codes[code] = (report.codes[code] ?? 0) + n;
            if (report.runs % 100 === 0) progress(`fuzz: ${report.cases} records in ${report.runs} batches`);
            return (
              delivery.crashes === 0 &&
              delivery.uncommitted === 0 &&
              audit.withoutOutcome === 0 &&
              audit.conflicting === 0
            );
          },
        ),
        // Shrinking replays the handler many times; the first counterexample is evidence enough.
        { numRuns, seed, endOnFailure: true },
      );
      if (result.failed) report.failure = fc.stringify(result.counterexample);
      seed++;
    }
  } finally {
    await sink.close();
  }
  report.ms = performance.now() - started;
  return report;
}

// --- the pure stages ----------------------------------------------------------------------------------

/** `prepareRecord` over single generated records: never throws; an accepted bulk record encodes as CSV. */
export function fuzzPipeline(options: { cases: number; seed?: number }): {
  cases: number;
  failure?: string;
  ms: number;
} {
  const started = performance.now();
  const config = parseConfig(fuzzConfig);
  const mappings = indexMappings(config);
  const lead = schemaFromDescribe(leadDescribe);
  const result = fc.check(
    fc.property(fuzzRecord, fc.nat(1000), (input, offset) => {
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
        schemaOf: (sobject) => (sobject === 'Lead' ? lead : undefined),
      });
      if (!isRejection(prepared) && prepared.mapping.mode === 'bulk') encodeCsv([prepared.fields]);
      return true;
    }),
    { numRuns: options.cases, seed: options.seed ?? 1 },
  );
  return {
    cases: options.cases,
    ...(result.failed
      ? { failure: `${fc.stringify(result.counterexample)}: ${String(result.errorInstance)}` }
      : {}),
    ms: performance.now() - started,
  };
}

export async function benchFuzz(
  options: { cases?: number; pureCases?: number; seed?: number } = {},
): Promise<SectionResult> {
  const started = performance.now();
  const cases = options.cases ?? 10_000;
  const pureCases = options.pureCases ?? 10_000;
  progress(`fuzz: pure stages, ${pureCases} cases`);
  const pure = fuzzPipeline({ cases: pureCases, seed: options.seed });
  progress(`fuzz: handler, ${cases} records`);
  const handler = await fuzzHandler({ cases, seed: options.seed });
  const failures = (handler.failure ? 1 : 0) + (pure.failure ? 1 : 0);
  return {
    section: 'fuzz',
    title: `Fuzz: ${handler.cases.toLocaleString('en-US')} generated records through the handler in ${handler.runs} batches; ${pure.cases.toLocaleString('en-US')} through the pure stages`,
    figures: [
      {
        name: 'handler: records (fast-check cases)',
        value: handler.cases,
        unit: '',
        note: `outcomes ${JSON.stringify(handler.byStatus)}; codes ${JSON.stringify(handler.codes)}`,
      },
      { name: 'handler: crashed invocations', value: handler.crashes, unit: '' },
      {
        name: 'handler: records without an outcome',
        value: handler.withoutOutcome + handler.uncommitted,
        unit: '',
      },
      { name: 'handler: records with disagreeing outcomes', value: handler.conflicting, unit: '' },
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
        handler.withoutOutcome + handler.uncommitted + handler.conflicting,
        0,
      ),
      target.equal('fuzz: pure-stage property failures', pure.failure ? 1 : 0, 0),
    ],
    details: { handler, pure },
    wallMs: performance.now() - started,
  };
}

if (import.meta.main) {
  const flags = parseFlags(process.argv.slice(2));
  const result = await benchFuzz({
    cases: numberFlag(flags, 'cases', 10_000),
    pureCases: numberFlag(flags, 'pure-cases', 10_000),
    seed: numberFlag(flags, 'seed', 1),
  });
  console.log(flags.has('json') ? JSON.stringify(result, null, 2) : formatReport([result]));
  process.exit(result.targets.every((t) => t.ok) ? 0 : 1);
}
