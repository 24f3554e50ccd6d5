// Random histories for the bulk job lifecycle: the real sink (submission) and the real poller (the state
// machine definition the stack deploys, on aws-local-stepfunctions with shortened waits) on the
// stand-ins (Salesforce emulator, dynalite), driven by fast-check commands: deliveries of any size and
// redeliveries, the sink crashing after each bulk step, lost create answers, failing uploads, checks,
// result downloads, closes and aborts, locked rows, rows refused for maintenance, jobs Salesforce fails
// or someone aborts part-way, jobs Salesforce deletes, jobs slower than an execution's budget of rounds,
// the poller Lambda failing (before it runs, or after any step), executions stopped or timed out.
// Checked:
// - a partition's jobs never overlap in processing (a job is closed only after the previous job with
//   records of its partition ended);
// - every record gets exactly one outcome (re-publications identical), and it matches the org: a
//   succeeded insert exists once with its Id, a failed one does not; each Lead holds what applying its
//   succeeded changes in Kafka order gives (OUTCOME_UNKNOWN: either);
// - no unit stays followed by an execution that has ended for more than one completed sink delivery;
// - job slots never leak, and no Open job is left behind.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { tailOf } from '../../lib/bulk/follow.ts';
import type { BulkStep } from '../../lib/bulk/job-setup.ts';
import type { PollStep } from '../../lib/bulk/poll.ts';
import { executionOf, needsExecution, unitLifecycle } from '../../lib/bulk/unit.ts';
import { parseConfig } from '../../lib/config/index.ts';
import type { Outcome } from '../../lib/outcomes/index.ts';
import type { FaultRuleInput } from '../../local/emulator/faults.ts';
import { type EventRecordInput, mskEvent } from '../../local/events/build-event.ts';
import { type Embedded, startEmbedded } from '../../local/runtime/embedded.ts';

const GROUP = 'local';
const PROCESSING_MS = 2;
const SLOW_PROCESSING_MS = 40;
const CRASH_STEPS: BulkStep[] = ['job-create', 'upload', 'close', 'start-execution'];
const POLL_STEPS: PollStep[] = ['check', 'collect', 'follow-up', 'publish'];

interface StreamRecord extends EventRecordInput {
  kind: 'upsert' | 'insert';
  /** Lead CustomId__c or Order_Event__c Event_Key__c. */
  target: string;
}

interface History {
  topics: { leads: string; orders: string };
  records: StreamRecord[];
  partitions: Map<string, StreamRecord[]>;
  committed: Map<string, number>;
  /** Unit key → execution name, dead at the last check after a completed delivery. */
  dead: Map<string, string>;
}

interface Real {
  sink: Embedded;
  history: History;
  tick: number;
}

const recordId = (r: { topic: string; partition: number; offset: number }) =>
  `${r.topic}/${r.partition}/${r.offset}`;

function configFor(topics: History['topics']) {
  return parseConfig({
    maxRetries: 1,
    maxRedeliveries: 3,
    requestTimeout: '5s',
    bulk: { batchSize: 4, maxConcurrentJobs: 3, pollInterval: '1s' },
    mappings: [
      {
        topic: topics.leads,
        sobject: 'Lead',
        externalIdField: 'CustomId__c',
        mode: 'bulk',
        eventType: 'override',
        operation: 'upsert',
      },
      { topic: topics.orders, sobject: 'Order_Event__c', operation: 'insert', mode: 'bulk' },
    ],
  });
}

type StreamSpec = { leads: number[]; orders: number; slow: boolean };

const streamArbitrary: fc.Arbitrary<StreamSpec> = fc.record({
  leads: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 0, maxLength: 8 }),
  orders: fc.integer({ min: 0, max: 6 }),
  slow: fc.boolean(),
});

function buildHistory(spec: StreamSpec, h: number): History {
  const topics = { leads: `bh${h}-leads`, orders: `bh${h}-orders` };
  const records: StreamRecord[] = [];
  const next = new Map<string, number>();
  const push = (r: Omit<StreamRecord, 'offset'>) => {
    const id = `${r.topic}-${r.partition}`;
    const offset = next.get(id) ?? 0;
    next.set(id, offset + 1);
    records.push({ ...r, offset });
  };
  for (const key of spec.leads) {
    const target = `BL${h}-${key}`;
    push({
      topic: topics.leads,
      partition: key % 2,
      key: target,
      value: { CustomId__c: target, LastName: `Doe ${target}`, Company: 'Acme' },
      kind: 'upsert',
      target,
    });
  }
  for (let i = 0; i < spec.orders || (records.length === 0 && i === 0); i++) {
    const target = `BO${h}-${i}`;
    push({
      topic: topics.orders,
      partition: 0,
      key: target,
      value: { Event_Key__c: target, Amount__c: i },
      kind: 'insert',
      target,
    });
  }
  // Which Kafka record a Lead's stored fields came from.
  for (const r of records)
    if (r.kind === 'upsert') (r.value as Record<string, unknown>).Title = `o${r.offset}`;
  const partitions = new Map<string, StreamRecord[]>();
  for (const r of records) {
    const id = `${r.topic}-${r.partition}`;
    partitions.set(id, [...(partitions.get(id) ?? []), r]);
  }
  return {
    topics,
    records,
    partitions,
    committed: new Map([...partitions.keys()].map((p) => [p, 0])),
    dead: new Map(),
  };
}

function pollBatch(history: History, sizes: readonly number[], rewind: number): EventRecordInput[] {
  const batch: EventRecordInput[] = [];
  [...history.partitions.entries()].forEach(([partition, list], i) => {
    const from = Math.max(0, history.committed.get(partition)! - rewind);
    batch.push(...list.slice(from, from + sizes[i % sizes.length]!));
  });
  return batch;
}

/** One invocation as the event source mapping makes it; commits what its answer allows. */
async function invoke(real: Real, batch: EventRecordInput[], crashAt?: BulkStep): Promise<boolean> {
  let crashed = false;
  const after = crashAt
    ? (step: string) => {
        if (step === crashAt && !crashed) {
          crashed = true;
          throw new Error(`injected crash after ${step}`);
        }
      }
    : undefined;
  let answer: Awaited<ReturnType<Embedded['invoke']>>;
  try {
    answer = await real.sink.invoke(mskEvent(batch), after ? { after } : {});
  } catch {
    return false;
  }
  const from = new Map(
    answer.batchItemFailures.map((f) => [f.itemIdentifier.partition, f.itemIdentifier.offset]),
  );
  for (const [partition, list] of real.history.partitions) {
    const delivered = batch.filter((r) => `${r.topic}-${r.partition}` === partition);
    const failedFrom = from.get(partition);
    const done = failedFrom === undefined ? delivered : delivered.filter((r) => r.offset < failedFrom);
    const last = done.at(-1);
    if (!last) continue;
    const index = list.findIndex((r) => r.offset > last.offset);
    const next = index === -1 ? list.length : index;
    if (next > real.history.committed.get(partition)!) real.history.committed.set(partition, next);
  }
  return true;
}

/**
 * After each completed delivery: a unit that needs an execution and was found without a running one at
 * the previous check (same execution name) has been left so for more than one delivery.
 */
async function checkFollowed(real: Real): Promise<void> {
  const units = unitLifecycle(real.sink.jobs);
  const dead = new Map<string, string>();
  for (const holder of await real.sink.jobs.slotHolders(GROUP)) {
    const tail = await tailOf(units, holder);
    if (!tail || !needsExecution(tail)) continue;
    const name = executionOf(tail);
    if ((await real.sink.executions.status(name)) === 'RUNNING') continue;
    assert.notEqual(
      real.history.dead.get(tail.unitKey),
      name,
      `bulk unit ${tail.unitKey} stayed ${tail.state} without a running execution (${name}) for more than one delivery`,
    );
    dead.set(tail.unitKey, name);
  }
  real.history.dead = dead;
}

type Command = fc.AsyncCommand<object, Real>;

const deliver = (sizes: number[], rewind: number, crashAt: BulkStep | undefined): Command => ({
  check: () => true,
  async run(_m, real) {
    const batch = pollBatch(real.history, sizes, rewind);
    if (batch.length === 0) return;
    if (await invoke(real, batch, crashAt)) await checkFollowed(real);
  },
  toString: () => `deliver(${sizes}, rewind ${rewind}${crashAt ? `, crash after ${crashAt}` : ''})`,
});

const fault = (rule: FaultRuleInput, label: string): Command => ({
  check: () => true,
  async run(_m, real) {
    real.sink.emulator!.faults.add(rule);
  },
  toString: () => `fault(${label})`,
});

const pollerFails = (times: number, at: PollStep | 'start'): Command => ({
  check: () => true,
  async run(_m, real) {
    let left = times;
    const fail = () => {
      if (left-- > 0) throw new Error(`injected poller failure${at === 'start' ? '' : ` after ${at}`}`);
    };
    if (at === 'start') real.sink.poller.before = fail;
    else real.sink.poller.after = (step) => (step === at ? fail() : undefined);
  },
  toString: () => `poller fails ×${times} ${at === 'start' ? 'before it runs' : `after ${at}`}`,
});

const stopExecution = (pick: number, as: 'ABORTED' | 'TIMED_OUT'): Command => ({
  check: () => true,
  async run(_m, real) {
    const running = real.sink.executions.running();
    if (running.length > 0) real.sink.executions.stop(running[pick % running.length]!, as);
  },
  toString: () => `stop an execution (${as})`,
});

const salesforceAborts = (pick: number): Command => ({
  check: () => true,
  async run(_m, real) {
    const jobs = real.sink
      .emulator!.bulk.jobs()
      .filter((j) => j.state === 'UploadComplete' || j.state === 'InProgress');
    if (jobs.length > 0) real.sink.emulator!.bulk.abort(jobs[pick % jobs.length]!.id);
  },
  toString: () => 'someone aborts a job part-way',
});

const salesforceDeletes = (pick: number): Command => ({
  check: () => true,
  async run(_m, real) {
    const jobs = real.sink
      .emulator!.bulk.jobs()
      .filter((j) => ['JobComplete', 'Failed', 'Aborted'].includes(j.state));
    if (jobs.length > 0) real.sink.emulator!.bulk.expire(jobs[pick % jobs.length]!.id);
  },
  toString: () => 'Salesforce deletes an ended job',
});

const pace = (ms: number): Command => ({
  check: () => true,
  async run(_m, real) {
    real.sink.emulator!.bulk.setProcessingDelay(ms);
  },
  toString: () => `jobs take ${ms} ms a step`,
});

const wait = (ms: number): Command => ({
  check: () => true,
  async run() {
    await new Promise((resolve) => setTimeout(resolve, ms));
  },
  toString: () => `wait ${ms} ms`,
});

const sizes = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 });
const bulkFault = fc.oneof(
  fc.constant(
    fault(
      { route: 'bulk', method: 'POST', path: '/jobs/ingest$', fault: 'reset', when: 'after' },
      'lost create answer',
    ),
  ),
  fc
    .integer({ min: 1, max: 3 })
    .map((times) =>
      fault(
        { route: 'bulk', method: 'POST', path: '/jobs/ingest$', fault: 'status', status: 503, times },
        `create 503 ×${times}`,
      ),
    ),
  fc
    .integer({ min: 1, max: 3 })
    .map((times) =>
      fault({ route: 'bulk', method: 'PUT', fault: 'status', status: 503, times }, `upload 503 ×${times}`),
    ),
  fc
    .integer({ min: 1, max: 4 })
    .map((times) =>
      fault(
        { route: 'bulk', method: 'PATCH', fault: 'status', status: 500, times },
        `close/abort 500 ×${times}`,
      ),
    ),
  fc
    .integer({ min: 1, max: 6 })
    .map((times) =>
      fault(
        { route: 'bulk', method: 'GET', path: '/jobs/ingest/[^/]+$', fault: 'status', status: 500, times },
        `check 500 ×${times}`,
      ),
    ),
  fc
    .integer({ min: 1, max: 6 })
    .map((times) =>
      fault(
        { route: 'bulk', method: 'GET', path: 'Results/$|records/$', fault: 'status', status: 503, times },
        `results 503 ×${times}`,
      ),
    ),
  fc.constant(
    fault({ route: 'bulk', method: 'GET', path: 'Results/$', fault: 'reset' }, 'results download reset'),
  ),
  fc
    .integer({ min: 1, max: 2 })
    .map((times) => fault({ route: 'bulk', fault: 'lockRow', times }, `${times} locked row(s)`)),
  fc.integer({ min: 1, max: 3 }).map((times) =>
    fault(
      {
        route: 'bulk',
        fault: 'refuseRecord',
        code: 'INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE',
        message: 'Updates can’t be performed during read-only maintenance.',
        times,
      },
      `${times} row(s) refused for maintenance`,
    ),
  ),
  fc
    .integer({ min: 0, max: 2 })
    .map((afterRecords) =>
      fault(
        { fault: 'failJob', afterRecords, errorMessage: 'InternalServerError : try again' },
        `a job fails after ${afterRecords} rows`,
      ),
    ),
);

const deliveries = fc
  .tuple(sizes, fc.constantFrom(0, 0, 0, 2), fc.option(fc.constantFrom(...CRASH_STEPS), { freq: 3 }))
  .map(([s, rewind, crashAt]) => deliver(s, rewind, crashAt ?? undefined));

const pollerFailures = fc
  .tuple(fc.integer({ min: 1, max: 8 }), fc.constantFrom<PollStep | 'start'>('start', ...POLL_STEPS))
  .map(([times, at]) => pollerFails(times, at));
const stops = fc
  .tuple(fc.nat(), fc.constantFrom<'ABORTED' | 'TIMED_OUT'>('ABORTED', 'TIMED_OUT'))
  .map(([pick, as]) => stopExecution(pick, as));

const commandArbitrary = fc.commands(
  [
    deliveries,
    deliveries,
    bulkFault,
    bulkFault,
    pollerFailures,
    pollerFailures,
    stops,
    stops,
    fc.nat().map(salesforceAborts),
    fc.nat().map(salesforceDeletes),
    fc.constantFrom(SLOW_PROCESSING_MS, PROCESSING_MS).map(pace),
    fc.constantFrom(5, 20, 60).map(wait),
  ],
  { maxCommands: 12 },
);

/**
 * Deliveries go on (a record of no mapping keeps the stream moving once a history's records are all
 * committed) while the faults still pending fire — each is bounded — then, should any be left, without
 * them, until everything is settled.
 */
async function drain(real: Real): Promise<void> {
  const { sink, history } = real;
  sink.emulator!.bulk.setProcessingDelay(PROCESSING_MS);
  for (let round = 0; round < 80; round++) {
    if (round === 40) {
      sink.emulator!.faults.clear();
      sink.poller.before = undefined;
      sink.poller.after = undefined;
    }
    const batch = pollBatch(history, [20], 0);
    if (batch.length > 0) {
      if (await invoke(real, batch)) await checkFollowed(real);
      continue;
    }
    await sink.settle();
    if ((await sink.jobs.inFlight(GROUP)) === 0) break;
    // Nothing left to deliver of this history: a record of no mapping lets the sink look at its units.
    if (
      await invoke(real, [
        { topic: `${history.topics.leads}-tick`, partition: 0, offset: real.tick++, value: 'x' },
      ])
    )
      await checkFollowed(real);
  }
  await sink.settle();
  for (const [partition, list] of history.partitions)
    assert.equal(
      history.committed.get(partition),
      list.length,
      `every record of ${partition} is committed once faults stop`,
    );
  assert.equal(await sink.jobs.inFlight(GROUP), 0, 'no job slot is left taken');
}

/** The invariants over a settled history. */
function check(real: Real): void {
  const { sink, history } = real;
  const outcomes = new Map<string, Outcome[]>();
  for (const o of sink.outcomes.outcomes) {
    if (o.topic.endsWith('-tick')) continue;
    outcomes.set(recordId(o), [...(outcomes.get(recordId(o)) ?? []), o]);
  }
  const final = new Map<string, Outcome>();
  for (const r of history.records) {
    const seen = outcomes.get(recordId(r)) ?? [];
    assert.ok(seen.length > 0, `${recordId(r)} has an outcome`);
    assert.equal(
      new Set(seen.map((o) => JSON.stringify(o))).size,
      1,
      `${recordId(r)} has one outcome: ${seen.map((o) => JSON.stringify(o)).join(' | ')}`,
    );
    final.set(recordId(r), seen[0]!);
  }
  assert.equal(outcomes.size, history.records.length, 'no outcome for a record never delivered');

  const unknown = (o: Outcome) => o.errors[0]?.code === 'OUTCOME_UNKNOWN';
  const orders = sink.emulator!.org.list('Order_Event__c');
  for (const r of history.records.filter((x) => x.kind === 'insert')) {
    const o = final.get(recordId(r))!;
    const rows = orders.filter((row) => row.fields.Event_Key__c === r.target);
    assert.ok(rows.length <= 1, `${r.target} is inserted at most once`);
    if (o.status === 'succeeded')
      assert.equal(rows[0]?.id, o.salesforceId, `${r.target} exists with its outcome's Id`);
    else if (!unknown(o))
      assert.equal(rows.length, 0, `${r.target} failed (${o.errors[0]?.code}) and does not exist`);
  }
  const possible = new Map<string, Set<string | undefined>>();
  for (const r of history.records.filter((x) => x.kind === 'upsert')) {
    const o = final.get(recordId(r))!;
    const state = `o${r.offset}`;
    if (o.status === 'succeeded') possible.set(r.target, new Set([state]));
    else if (unknown(o)) possible.set(r.target, (possible.get(r.target) ?? new Set([undefined])).add(state));
  }
  const leads = sink.emulator!.org.list('Lead');
  for (const target of new Set(history.records.filter((x) => x.kind === 'upsert').map((r) => r.target))) {
    const rows = leads.filter((l) => l.fields.CustomId__c === target);
    assert.ok(rows.length <= 1, `Lead ${target} exists once at most`);
    const states = possible.get(target) ?? new Set([undefined]);
    const held = rows[0]?.fields.Title as string | undefined;
    assert.ok(
      states.has(held),
      `Lead ${target} holds ${held ?? 'nothing'}, expected one of ${[...states].map((s) => s ?? 'nothing')}`,
    );
  }

  // A partition's jobs never overlap in processing.
  const partitionOf = new Map<string, string>(
    history.records.map((r) => [r.target, `${r.topic}-${r.partition}`]),
  );
  const spans = new Map<string, { id: string; closedAt: number; endedAt: number }[]>();
  const jobs = sink.emulator!.bulk.history();
  for (const job of jobs) {
    if (job.closedAt === undefined) continue;
    assert.ok(job.endedAt !== undefined, `job ${job.id} ended`);
    const column = job.header.findIndex((c) => c === 'CustomId__c' || c === 'Event_Key__c');
    for (const partition of new Set(job.rows.map((row) => partitionOf.get(row[column]!)))) {
      if (!partition) continue;
      spans.set(partition, [
        ...(spans.get(partition) ?? []),
        { id: job.id, closedAt: job.closedAt, endedAt: job.endedAt! },
      ]);
    }
  }
  for (const [partition, list] of spans) {
    list.sort((a, b) => a.closedAt - b.closedAt);
    for (let i = 1; i < list.length; i++)
      assert.ok(
        list[i]!.closedAt >= list[i - 1]!.endedAt,
        `jobs ${list[i - 1]!.id} and ${list[i]!.id} of ${partition} overlapped in processing`,
      );
  }
  assert.deepEqual(
    jobs.filter((j) => j.state === 'Open' && !j.deleted).map((j) => j.id),
    [],
    'no Open job is left behind',
  );
}

export interface BulkModelOptions {
  runs: number;
  seed?: number;
  /** fast-check's replay path of a counterexample (with its seed). */
  path?: string;
  onProgress?: (done: number) => void;
}

/**
 * Runs `runs` random histories against one embedded sink; throws (with fast-check's shrunk
 * counterexample) when an invariant breaks. Returns how many ran.
 *
 * @example
 * await runBulkHistories({ runs: 200 });
 */
export async function runBulkHistories(options: BulkModelOptions): Promise<number> {
  const sink = await startEmbedded({
    config: configFor({ leads: 'x', orders: 'y' }),
    emulator: { bulkProcessingDelayMs: PROCESSING_MS },
    waitMs: 2,
    backoff: { baseDelayMs: 2, maxDelayMs: 5 },
    pollsPerExecution: 4,
    bulkSweepIntervalMs: 0,
    bulkBarrier: { maxWaitMs: 40, intervalMs: 4 },
    group: GROUP,
  });
  let ran = 0;
  try {
    await fc.assert(
      fc.asyncProperty(streamArbitrary, commandArbitrary, async (spec, commands) => {
        const h = ran++;
        sink.emulator!.reset();
        sink.outcomes.clear();
        const history = buildHistory(spec, h);
        sink.reconfigure(configFor(history.topics));
        sink.emulator!.bulk.setProcessingDelay(spec.slow ? SLOW_PROCESSING_MS : PROCESSING_MS);
        const real: Real = { sink, history, tick: 0 };
        try {
          await fc.asyncModelRun(() => ({ model: {}, real }), commands);
          await drain(real);
          check(real);
        } finally {
          sink.poller.before = undefined;
          sink.poller.after = undefined;
          sink.emulator!.faults.clear();
          await sink.settle();
        }
        options.onProgress?.(ran);
      }),
      {
        numRuns: options.runs,
        ...(options.seed === undefined ? {} : { seed: options.seed }),
        endOnFailure: true,
      },
    );
  } finally {
    await sink.close();
  }
  return ran;
}
