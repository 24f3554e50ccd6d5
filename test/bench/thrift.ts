// 2. API thrift against the emulator, 10,000 records per mapping.
// - Realtime: sObject Collections calls per (sObject, operation) run vs the minimum ⌈N/200⌉.
// - Bulk: API calls and Bulk batches of the sink (one job per 10,000 records) vs the same sink with
//   `bulk.batchSize: 1000` (Redpanda's default `bulk_batch_size`: one job per 1,000 records).
// - Bulk: calls per clean job when the first check already sees the job ended: create, upload, close,
//   one check, successfulResults (no empty result files fetched).
import type { SinkConfigInput } from '../../lib/config/index.ts';
import { loadSchema, withField } from '../../local/emulator/schema.ts';
import { mskEvent } from '../../local/events/build-event.ts';
import { leadStream, orderEvents } from '../../local/events/generate.ts';
import type { Embedded } from '../../local/runtime/embedded.ts';
import {
  auditOutcomes,
  type CallCounts,
  callCounts,
  callDelta,
  continueOffsets,
  withSink,
} from './harness.ts';
import { ceilDiv, type Figure, progress, round, type SectionResult, type Target, target } from './support.ts';

const LEADS = 'sfdc-pushtopic-lead';
const leadMapping = {
  topic: LEADS,
  sobject: 'Lead',
  externalIdField: 'CustomId__c',
  unknownFields: 'ignore',
} as const;

interface Delivered {
  calls: CallCounts;
  notSucceeded: number;
  uncommitted: number;
  jobs: number;
  ms: number;
}

/** Delivers records as one event (the handler retries hand-backs, as the event source would). */
async function deliverCounted(sink: Embedded, records: Parameters<typeof mskEvent>[0]): Promise<Delivered> {
  const before = callCounts(sink);
  const jobsBefore = sink.emulator!.bulk.jobs().length;
  const outcomesBefore = sink.outcomes.outcomes.length;
  const t = performance.now();
  const report = await sink.deliver(mskEvent(records), { maxInvocations: 1000 });
  await sink.settle();
  const ms = performance.now() - t;
  const audit = auditOutcomes(records, sink.outcomes.outcomes.slice(outcomesBefore));
  return {
    calls: callDelta(callCounts(sink), before),
    notSucceeded: audit.withoutOutcome + (audit.byStatus.failed ?? 0) + (audit.byStatus.rejected ?? 0),
    uncommitted: report.uncommitted,
    jobs: sink.emulator!.bulk.jobs().length - jobsBefore,
    ms,
  };
}

function checkClean(what: string, d: Delivered): void {
  if (d.notSucceeded > 0 || d.uncommitted > 0)
    throw new Error(
      `thrift ${what}: ${d.notSucceeded} records did not succeed, ${d.uncommitted} uncommitted`,
    );
}

export interface ThriftOptions {
  records?: number;
}

export async function benchThrift(options: ThriftOptions = {}): Promise<SectionResult> {
  const started = performance.now();
  const n = options.records ?? 10_000;
  const figures: Figure[] = [];
  const targets: Target[] = [];
  const details: Record<string, unknown> = {};
  const min = ceilDiv(n, 200);

  const realtimeFigure = (name: string, d: Delivered, records: number) => {
    const collections = d.calls.byRoute.collections ?? 0;
    const minimum = ceilDiv(records, 200);
    figures.push({
      name: `${name}: Collections calls`,
      value: collections,
      unit: 'calls',
      baseline: { name: `⌈${records}/200⌉`, value: minimum },
      ratio: round(collections / minimum, 3),
      note: `all API calls ${d.calls.apiCalls}`,
    });
    details[name] = d;
    return collections;
  };

  // Lead upsert (created events) then Lead delete by external id, on one sink.
  progress(`thrift: realtime Lead upsert and delete, ${n} records each`);
  await withSink({ mappings: [leadMapping] }, {}, async (sink) => {
    const creates = leadStream({ leads: n, partitions: 3, updates: 0 });
    const upsert = await deliverCounted(sink, creates);
    checkClean('Lead upsert', upsert);
    targets.push(
      target.equal(
        'realtime Lead upsert: Collections calls',
        realtimeFigure('realtime Lead upsert', upsert, n),
        min,
      ),
    );
    const deletes = continueOffsets(
      creates,
      creates.map((r) => {
        const v = r.value as { Id: string; CustomId__c: string };
        return {
          topic: r.topic,
          partition: r.partition,
          key: r.key ?? null,
          value: { Id: v.Id, CustomId__c: v.CustomId__c, _ObjectType: 'Lead', _EventType: 'deleted' },
        };
      }),
    );
    const del = await deliverCounted(sink, deletes);
    checkClean('Lead delete', del);
    targets.push(
      target.equal(
        'realtime Lead delete: Collections calls',
        realtimeFigure('realtime Lead delete', del, n),
        min,
      ),
    );
    if (sink.emulator!.org.list('Lead').length !== 0)
      throw new Error('thrift: Lead delete left records behind');
  });

  progress(`thrift: realtime Order_Event__c insert, ${n} records`);
  await withSink(
    { mappings: [{ topic: 'orders-rt', sobject: 'Order_Event__c', operation: 'insert' }] },
    {},
    async (sink) => {
      const insert = await deliverCounted(sink, orderEvents({ count: n, partitions: 2, topic: 'orders-rt' }));
      checkClean('Order insert', insert);
      targets.push(
        target.equal(
          'realtime Order_Event__c insert: Collections calls',
          realtimeFigure('realtime Order_Event__c insert', insert, n),
          min,
        ),
      );
    },
  );

  // A mixed PushTopic stream (created → updated → some deleted): order per record forces stages.
  progress('thrift: realtime mixed Lead stream');
  await withSink({ mappings: [leadMapping] }, {}, async (sink) => {
    const leads = Math.round(n / 2.25);
    const stream = leadStream({ leads, partitions: 3, updates: 1, deleteEvery: 4 });
    const mixed = await deliverCounted(sink, stream);
    checkClean('mixed Lead stream', mixed);
    const deletes = stream.filter((r) => (r.value as { _EventType: string })._EventType === 'deleted').length;
    const bound = ceilDiv(stream.length - deletes, 200) + ceilDiv(deletes, 200);
    const collections = mixed.calls.byRoute.collections ?? 0;
    figures.push({
      name: `realtime mixed Lead stream (${stream.length} records: ${stream.length - deletes} upserts, ${deletes} deletes): Collections calls`,
      value: collections,
      unit: 'calls',
      baseline: { name: 'Σ ⌈n_op/200⌉', value: bound },
      ratio: round(collections / bound, 3),
      note: `all API calls ${mixed.calls.apiCalls}`,
    });
    details['realtime mixed Lead stream'] = { ...mixed, records: stream.length, deletes, bound };
  });

  // A whole-request refusal costs extra calls, never good records. The describe is stale: after the
  // sink described Lead, a field was removed from the org (Salesforce names it: INVALID_FIELD, one extra
  // call) or changed its type (JSON_PARSER_ERROR: the call is halved until the record stands alone).
  const stale = [
    {
      name: 'a field gone from the org',
      field: { name: 'Tier__c', type: 'string' as const },
      now: undefined,
    },
    {
      name: 'a field whose type changed',
      field: { name: 'Tier__c', type: 'string' as const },
      now: { name: 'Tier__c', type: 'double' as const },
    },
  ];
  for (const scenario of stale) {
    progress(`thrift: realtime Lead insert, ${n} records, 10 refused whole (${scenario.name})`);
    await withSink(
      { mappings: [{ topic: 'lead-inserts', sobject: 'Lead', operation: 'insert' }] },
      { schema: withField(loadSchema(), 'Lead', scenario.field) },
      async (sink) => {
        const lead = (i: number) => ({ LastName: `L${i}`, Company: 'Acme', CustomId__c: `G-${i}` });
        await deliverCounted(sink, [{ topic: 'lead-inserts', partition: 0, offset: 0, value: lead(-1) }]);
        const base = loadSchema();
        sink.emulator!.org.setSchema(
          scenario.now ? withField(base, 'Lead', scenario.now, new Date(Date.now() + 2_000)) : base,
        );
        const bad = new Set(Array.from({ length: 10 }, (_, i) => Math.floor(((i + 0.5) * n) / 10)));
        const records = Array.from({ length: n }, (_, i) => ({
          topic: 'lead-inserts',
          partition: i % 2,
          offset: 1 + Math.floor(i / 2),
          value: bad.has(i) ? { ...lead(i), Tier__c: 'gold' } : lead(i),
        }));
        const outcomesBefore = sink.outcomes.outcomes.length;
        const d = await deliverCounted(sink, records);
        const outcomes = sink.outcomes.outcomes.slice(outcomesBefore);
        const failed = outcomes.filter((o) => o.status === 'failed');
        const collections = d.calls.byRoute.collections ?? 0;
        const codes = [...new Set(failed.map((o) => o.errors[0]?.code))].join(', ');
        figures.push({
          name: `realtime Lead insert, ${n} records of which ${bad.size} Salesforce refuses whole (${scenario.name}): Collections calls`,
          value: collections,
          unit: 'calls',
          baseline: { name: `⌈${n}/200⌉`, value: min },
          ratio: round(collections / min, 3),
          note: `${collections - min} extra calls to isolate them; ${failed.length} failed (${codes}), ${outcomes.length - failed.length} succeeded`,
        });
        targets.push(
          target.equal(`${scenario.name}: records failed (only the 10 at fault)`, failed.length, bad.size),
          target.atMost(
            `${scenario.name}: Collections calls (⌈N/200⌉ + 2 per halving per refused record)`,
            collections,
            min + bad.size * 2 * Math.ceil(Math.log2(200)),
          ),
        );
        details[`whole-request refusals: ${scenario.name}`] = { ...d, failed: failed.length };
      },
    );
  }

  // Bulk: the sink's default job size vs one job per 1,000 records, same harness.
  const bulkRuns: Array<{
    name: string;
    mapping: SinkConfigInput['mappings'][number];
    records: () => Parameters<typeof mskEvent>[0];
  }> = [
    {
      name: 'bulk Order_Event__c insert',
      mapping: { topic: 'order-events', sobject: 'Order_Event__c', operation: 'insert', mode: 'bulk' },
      records: () => orderEvents({ count: n, partitions: 2 }),
    },
    {
      name: 'bulk Lead upsert',
      mapping: { ...leadMapping, mode: 'bulk' },
      records: () => leadStream({ leads: n, partitions: 3, updates: 0 }),
    },
  ];
  for (const run of bulkRuns) {
    const measured: Record<string, Delivered> = {};
    for (const [label, batchSize] of [
      ['sink', 10_000],
      ['1,000 per job', 1_000],
    ] as const) {
      progress(`thrift: ${run.name}, ${n} records, bulk.batchSize ${batchSize}`);
      measured[label] = await withSink(
        { bulk: { batchSize, pollInterval: '1s', maxPollInterval: '5s' }, mappings: [run.mapping] },
        {},
        async (sink) => {
          const d = await deliverCounted(sink, run.records());
          checkClean(`${run.name} (batchSize ${batchSize})`, d);
          return d;
        },
      );
    }
    const sink = measured.sink!;
    const base = measured['1,000 per job']!;
    figures.push(
      {
        name: `${run.name}: Bulk batches`,
        value: sink.calls.bulkBatches,
        unit: 'batches',
        baseline: { name: '1,000 per job', value: base.calls.bulkBatches },
        ratio: round(sink.calls.bulkBatches / base.calls.bulkBatches, 3),
        note: `jobs ${sink.jobs} vs ${base.jobs}`,
      },
      {
        name: `${run.name}: Bulk API calls`,
        value: sink.calls.byRoute.bulk ?? 0,
        unit: 'calls',
        baseline: { name: '1,000 per job', value: base.calls.byRoute.bulk ?? 0 },
        ratio: round((sink.calls.byRoute.bulk ?? 0) / (base.calls.byRoute.bulk ?? 1), 3),
      },
      {
        name: `${run.name}: all API calls`,
        value: sink.calls.apiCalls,
        unit: 'calls',
        baseline: { name: '1,000 per job', value: base.calls.apiCalls },
        ratio: round(sink.calls.apiCalls / base.calls.apiCalls, 3),
      },
    );
    targets.push(
      target.atMost(
        `${run.name}: Bulk batches (1,000-per-job scheme: ${base.calls.bulkBatches})`,
        sink.calls.bulkBatches,
        base.calls.bulkBatches / 5,
      ),
    );
    details[run.name] = measured;
  }

  progress(`thrift: calls per clean bulk job, ${n} Order_Event__c inserts`);
  const perJob = await withSink(
    { mappings: [{ topic: 'order-events', sobject: 'Order_Event__c', operation: 'insert', mode: 'bulk' }] },
    { bulkProcessingDelayMs: 1 },
    async (sink) => {
      // The first Wait outlasts the job's processing: its first check sees it ended.
      const d = await deliverCounted(sink, orderEvents({ count: n, partitions: 1 }));
      checkClean('clean bulk job', d);
      return { calls: d.calls.byRoute.bulk ?? 0, jobs: d.jobs };
    },
    500,
  );
  const callsPerJob = perJob.calls / Math.max(1, perJob.jobs);
  figures.push({
    name: 'bulk, a clean job whose first check sees it ended: Bulk API calls per job',
    value: callsPerJob,
    unit: 'calls',
    baseline: { name: 'create, upload, close, check, 3 result files', value: 7 },
    ratio: round(callsPerJob / 7, 3),
    note: `${perJob.jobs} job(s)`,
  });
  targets.push(
    target.equal(
      'bulk: calls per clean job (create, upload, close, check, successfulResults)',
      callsPerJob,
      5,
    ),
  );

  return {
    section: 'thrift',
    title: `API thrift: ${n.toLocaleString('en-US')} records per mapping against the emulator`,
    figures,
    targets,
    details,
    wallMs: performance.now() - started,
  };
}

if (import.meta.main) {
  const result = await benchThrift();
  console.log(JSON.stringify(result, null, 2));
}
