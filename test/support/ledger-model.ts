// Random histories for the delivery ledger: the real processBatch on the stand-ins (Salesforce emulator,
// dynalite), driven by fast-check commands as the event source mapping could drive it — batches of any
// size, redeliveries from the committed offset or from further back, repeated offsets, offset gaps,
// out-of-order records within an event, two invocations of one partition at once, a new source
// cluster — while Salesforce refuses or loses answers before and after commit, the handler crashes
// after any step, and the configuration changes between deliveries. After each history:
// - Salesforce holds what applying the stream's succeeded records in Kafka order gives;
// - every record has exactly one final outcome (re-publications identical), and it agrees with
//   Salesforce (a succeeded insert exists once, with the outcome's Id; a failed one does not);
// - no record was written by more than maxRedeliveries + 1 invocations that completed;
// - no two writes of one key were in flight at once, and none applied after a later change of its key.
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import fc from 'fast-check';
import { parseConfig, type SinkConfigInput } from '../../lib/config/index.ts';
import type { LambdaKafkaEvent, LambdaKafkaRecord } from '../../lib/decode/index.ts';
import type { Outcome } from '../../lib/outcomes/index.ts';
import type { WriteUnit } from '../../lib/plan/plan.ts';
import type { Step } from '../../lib/sink/process-batch.ts';
import type { FaultRuleInput } from '../../local/emulator/faults.ts';
import { type EventRecordInput, mskEvent } from '../../local/events/build-event.ts';
import { type Embedded, startEmbedded } from '../../local/runtime/embedded.ts';

const MAX_REDELIVERIES = 2;
const CLUSTERS = [
  'arn:aws:kafka:us-east-1:123456789012:cluster/model-a/00000000-0000-0000-0000-00000000000a-1',
  'arn:aws:kafka:us-east-1:123456789012:cluster/model-b/00000000-0000-0000-0000-00000000000b-1',
];
const STEPS: Step[] = ['collections-call', 'applied-saved', 'publish'];

/** One Kafka record of a history, with what it means for the expected state. */
interface StreamRecord extends EventRecordInput {
  kind: 'upsert' | 'delete' | 'insert' | 'deleteById' | 'bad';
  /** Lead CustomId__c, Account External_Id__c, or the Id a delete addresses. */
  target: string;
}

interface Stream {
  cluster: string;
  records: StreamRecord[];
  /** topic-partition → the records in offset order. */
  partitions: Map<string, StreamRecord[]>;
  /** topic-partition → index of the first uncommitted record. */
  committed: Map<string, number>;
}

interface History {
  streams: Stream[];
  topics: { leads: string; accounts: string; deletes: string };
  /** Account Ids created before the stream, which its deletes address. */
  accountIds: string[];
}

/** What the commands do to the system; the model is the event source mapping's committed offsets. */
interface Real {
  sink: Embedded;
  history: History;
  current: number;
  unknownFields: 'ignore' | 'reject';
  /** Invocation → records it wrote; invocations that threw. */
  writes: Map<number, Set<string>>;
  threw: Set<number>;
  /** key → [start, end] of every write call carrying it. */
  inFlight: Map<string, { start: number; end: number; invocation: number }[]>;
  /** Lead key → offsets in the order Salesforce applied them. */
  applied: Map<string, number[]>;
  invocations: number;
}

const invocationOf = new AsyncLocalStorage<number>();

/** Streams of two clusters share topic names and offsets: the key (unique per stream) tells them apart. */
const recordId = (r: { topic: string; partition: number; offset: number; key?: string | null }) =>
  `${r.topic}/${r.partition}/${r.offset}/${r.key}`;

function configFor(topics: History['topics'], unknownFields: 'ignore' | 'reject') {
  const input: SinkConfigInput = {
    maxRetries: 1,
    maxRedeliveries: MAX_REDELIVERIES,
    maxInFlight: 2,
    requestTimeout: '5s',
    mappings: [
      { topic: topics.leads, sobject: 'Lead', externalIdField: 'CustomId__c', unknownFields },
      { topic: topics.accounts, sobject: 'Account', operation: 'insert', eventType: 'override' },
      { topic: topics.deletes, sobject: 'Account', operation: 'delete', eventType: 'override' },
    ],
  };
  return parseConfig(input);
}

/** A history's streams: Lead changes on two partitions, Account inserts, deletes of existing Accounts. */
const streamArbitrary = fc.record({
  leads: fc.array(
    fc.record({
      key: fc.integer({ min: 0, max: 5 }),
      change: fc.constantFrom('created', 'updated', 'updated', 'deleted'),
      unknownField: fc.boolean(),
      bad: fc.nat(15),
    }),
    { minLength: 1, maxLength: 10 },
  ),
  accounts: fc.nat(5),
  deletes: fc.nat(3),
  gaps: fc.array(fc.constantFrom(1, 1, 1, 2, 3), { minLength: 30, maxLength: 30 }),
});

type StreamSpec = typeof streamArbitrary extends fc.Arbitrary<infer T> ? T : never;

function buildStream(
  spec: StreamSpec,
  topics: History['topics'],
  cluster: string,
  accountIds: string[],
  tag: string,
): Stream {
  const records: StreamRecord[] = [];
  const nextOffset = new Map<string, number>();
  let g = 0;
  const push = (r: Omit<StreamRecord, 'offset'>) => {
    const id = `${r.topic}-${r.partition}`;
    const offset = nextOffset.get(id) ?? 0;
    nextOffset.set(id, offset + spec.gaps[g++ % spec.gaps.length]!);
    records.push({ ...r, offset });
  };
  for (const lead of spec.leads) {
    const target = `L${tag}-${lead.key}`;
    const partition = lead.key % 2;
    if (lead.bad === 0) {
      push({ topic: topics.leads, partition, key: target, value: 'not json', kind: 'bad', target });
      continue;
    }
    const value: Record<string, unknown> = {
      _EventType: lead.change,
      CustomId__c: target,
      LastName: `Doe ${target}`,
      Company: 'Acme',
    };
    if (lead.unknownField) value.Source_Only__c = 'x';
    push({
      topic: topics.leads,
      partition,
      key: target,
      value,
      kind: lead.change === 'deleted' ? 'delete' : 'upsert',
      target,
    });
  }
  for (let i = 0; i < spec.accounts; i++) {
    const target = `A${tag}-${i}`;
    push({
      topic: topics.accounts,
      partition: 0,
      key: target,
      value: { Name: `Account ${target}`, External_Id__c: target },
      kind: 'insert',
      target,
    });
  }
  for (const id of accountIds.slice(0, spec.deletes)) {
    push({ topic: topics.deletes, partition: 0, key: id, value: { Id: id }, kind: 'deleteById', target: id });
  }
  // The version marker: which Kafka record a Lead's stored fields came from.
  for (const r of records)
    if (r.kind === 'upsert') (r.value as Record<string, unknown>).Title = `o${r.offset}`;
  const partitions = new Map<string, StreamRecord[]>();
  for (const r of records) {
    const id = `${r.topic}-${r.partition}`;
    partitions.set(id, [...(partitions.get(id) ?? []), r]);
  }
  return { cluster, records, partitions, committed: new Map([...partitions.keys()].map((p) => [p, 0])) };
}

function eventOf(
  stream: Stream,
  batch: Map<string, StreamRecord[]>,
  shuffle: boolean,
  duplicate: boolean,
): LambdaKafkaEvent {
  const event = { ...mskEvent([...batch.values()].flat()), eventSourceArn: stream.cluster };
  for (const list of Object.values(event.records)) {
    if (duplicate && list.length > 0) list.push({ ...list[0]! } as LambdaKafkaRecord);
    if (shuffle) list.reverse();
  }
  return event;
}

/** Runs one invocation as the event source mapping would, and commits what its answer allows. */
async function invoke(
  real: Real,
  stream: Stream,
  batch: Map<string, StreamRecord[]>,
  options: { crashAt?: Step; shuffle?: boolean; duplicate?: boolean },
): Promise<Map<string, number> | undefined> {
  const n = ++real.invocations;
  const event = eventOf(stream, batch, options.shuffle ?? false, options.duplicate ?? false);
  let crashed = false;
  const after = options.crashAt
    ? (step: Step) => {
        if (step === options.crashAt && !crashed) {
          crashed = true;
          throw new Error(`injected crash after ${step}`);
        }
      }
    : undefined;
  try {
    const answer = await invocationOf.run(n, () => real.sink.invoke(event, after ? { after } : {}));
    const from = new Map(
      answer.batchItemFailures.map((f) => [f.itemIdentifier.partition, f.itemIdentifier.offset]),
    );
    const commits = new Map<string, number>();
    for (const [partition, list] of batch) {
      const failedFrom = from.get(partition);
      const done = failedFrom === undefined ? list : list.filter((r) => r.offset < failedFrom);
      const last = done.at(-1);
      if (last) commits.set(partition, last.offset);
    }
    return commits;
  } catch {
    real.threw.add(n);
    return undefined;
  }
}

function commit(stream: Stream, commits: Map<string, number> | undefined) {
  if (!commits) return;
  for (const [partition, offset] of commits) {
    const list = stream.partitions.get(partition)!;
    const index = list.findIndex((r) => r.offset > offset);
    const next = index === -1 ? list.length : index;
    if (next > stream.committed.get(partition)!) stream.committed.set(partition, next);
  }
}

/** A batch as the event source mapping polls it: per partition, from `from` (committed by default). */
function pollBatch(stream: Stream, sizes: readonly number[], rewind: number): Map<string, StreamRecord[]> {
  const batch = new Map<string, StreamRecord[]>();
  [...stream.partitions.entries()].forEach(([partition, list], i) => {
    const from = Math.max(0, stream.committed.get(partition)! - rewind);
    const size = sizes[i % sizes.length]!;
    const slice = list.slice(from, from + size);
    if (slice.length > 0) batch.set(partition, slice);
  });
  return batch;
}

type Command = fc.AsyncCommand<{ step: number }, Real>;

const deliver = (
  sizes: number[],
  rewind: number,
  shuffle: boolean,
  duplicate: boolean,
  crashAt: Step | undefined,
): Command => ({
  check: () => true,
  async run(_model, real) {
    const stream = real.history.streams[real.current]!;
    const batch = pollBatch(stream, sizes, rewind);
    if (batch.size === 0) return;
    commit(
      stream,
      await invoke(real, stream, batch, { shuffle, duplicate, ...(crashAt ? { crashAt } : {}) }),
    );
  },
  toString: () =>
    `deliver(${sizes}, rewind ${rewind}${shuffle ? ', shuffled' : ''}${duplicate ? ', repeated offset' : ''}${crashAt ? `, crash after ${crashAt}` : ''})`,
});

const overlap = (sizes: number[], latencyMs: number): Command => ({
  check: () => true,
  async run(_model, real) {
    const stream = real.history.streams[real.current]!;
    const batch = pollBatch(stream, sizes, 0);
    if (batch.size === 0) return;
    real.sink.emulator!.faults.add({ route: 'collections', fault: 'latency', ms: latencyMs });
    const older = invoke(real, stream, batch, {});
    await new Promise((resolve) => setTimeout(resolve, Math.floor(latencyMs / 3)));
    const newer = invoke(real, stream, batch, {});
    const [a, b] = await Promise.all([older, newer]);
    // Both answered for the same records: commit only what both finished.
    const both = new Map<string, number>();
    for (const [partition, offset] of a ?? []) {
      const other = b?.get(partition);
      if (other !== undefined) both.set(partition, Math.min(offset, other));
    }
    commit(stream, both);
  },
  toString: () => `overlapping invocations(${sizes}, ${latencyMs} ms)`,
});

const fault = (rule: FaultRuleInput, label: string): Command => ({
  check: () => true,
  async run(_model, real) {
    real.sink.emulator!.faults.add(rule);
  },
  toString: () => `fault(${label})`,
});

const reconfigure = (unknownFields: 'ignore' | 'reject'): Command => ({
  check: () => true,
  async run(_model, real) {
    real.unknownFields = unknownFields;
    real.sink.reconfigure(configFor(real.history.topics, unknownFields));
  },
  toString: () => `reconfigure(unknownFields: ${unknownFields})`,
});

const switchCluster: Command = {
  check: () => true,
  async run(_model, real) {
    real.current = (real.current + 1) % real.history.streams.length;
  },
  toString: () => 'switch source cluster',
};

const sizes = fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 });
const commandArbitrary = fc.commands(
  [
    fc
      .tuple(
        sizes,
        fc.constantFrom(0, 0, 0, 2, 50),
        fc.boolean(),
        fc.boolean(),
        fc.option(fc.constantFrom(...STEPS), { freq: 3 }),
      )
      .map(([s, rewind, shuffle, duplicate, crashAt]) =>
        deliver(s, rewind, shuffle, duplicate, crashAt ?? undefined),
      ),
    fc.tuple(sizes, fc.integer({ min: 30, max: 90 })).map(([s, ms]) => overlap(s, ms)),
    fc.oneof(
      fc
        .integer({ min: 1, max: 4 })
        .map((times) =>
          fault({ route: 'collections', fault: 'status', status: 503, times }, `503 before ×${times}`),
        ),
      fc.constant(fault({ route: 'collections', fault: 'status', status: 503, times: 40 }, '503 storm')),
      fc.constant(
        fault({ route: 'collections', fault: 'status', status: 500, when: 'after' }, '500 after commit'),
      ),
      fc.constant(fault({ route: 'collections', fault: 'reset', when: 'after' }, 'reset after commit')),
      fc.constant(fault({ route: 'collections', fault: 'reset' }, 'reset before')),
      fc.constant(fault({ route: 'query', fault: 'status', status: 503, times: 2 }, 'lookups 503')),
    ),
    fc.constantFrom<'ignore' | 'reject'>('ignore', 'reject').map(reconfigure),
    fc.constant(switchCluster),
  ],
  { maxCommands: 8 },
);

/** Watches every write of the history under way: the invocation making it and its keys in flight. */
function observe(sink: Embedded, current: () => Real) {
  const write = sink.salesforce.writeUnit.bind(sink.salesforce);
  sink.salesforce.writeUnit = async (unit: WriteUnit, context) => {
    const real = current();
    const n = invocationOf.getStore() ?? 0;
    const keys = unit.records.map(
      (r) => `${unit.group.sobject}:${r.address?.value ?? (r.fields.External_Id__c as string)}`,
    );
    const ids = real.writes.get(n) ?? new Set<string>();
    for (const r of unit.records) ids.add(recordId(r));
    real.writes.set(n, ids);
    const start = performance.now();
    try {
      return await write(unit, context);
    } finally {
      const end = performance.now();
      for (const key of keys)
        real.inFlight.set(key, [...(real.inFlight.get(key) ?? []), { start, end, invocation: n }]);
    }
  };
}

function watchApplies(real: Real) {
  real.sink.emulator!.faults.add({
    route: 'collections',
    fault: 'lockRow',
    times: 'always',
    predicate: (context) => {
      const { CustomId__c: key, Title: title } = context.fields as { CustomId__c?: string; Title?: string };
      if (context.sobject === 'Lead' && context.operation !== 'delete' && key && title?.startsWith('o')) {
        real.applied.set(key, [...(real.applied.get(key) ?? []), Number(title.slice(1))]);
      }
      return false;
    },
  });
}

async function drain(real: Real) {
  real.sink.emulator!.faults.clear();
  watchApplies(real);
  for (const stream of real.history.streams) {
    for (let i = 0; i < 40; i++) {
      const batch = pollBatch(stream, [50], 0);
      if (batch.size === 0) break;
      commit(stream, await invoke(real, stream, batch, {}));
    }
    const left = [...stream.partitions].filter(([p, list]) => stream.committed.get(p)! < list.length);
    assert.deepEqual(
      left.map(([p]) => p),
      [],
      'every record is committed once faults stop',
    );
  }
}

/** The invariants over a finished history. */
function check(real: Real) {
  const { sink, history } = real;
  const all = history.streams.flatMap((s) => s.records);
  const byRecord = new Map<string, Outcome[]>();
  for (const o of sink.outcomes.outcomes)
    byRecord.set(recordId(o), [...(byRecord.get(recordId(o)) ?? []), o]);
  const final = new Map<string, Outcome>();
  for (const r of all) {
    const seen = byRecord.get(recordId(r)) ?? [];
    assert.ok(seen.length > 0, `${recordId(r)} has an outcome`);
    assert.equal(
      new Set(seen.map((o) => JSON.stringify(o))).size,
      1,
      `${recordId(r)} has one outcome: ${seen.map((o) => o.status)}`,
    );
    final.set(recordId(r), seen[0]!);
  }
  assert.equal(byRecord.size, all.length, 'no outcome for a record that was never delivered');

  // Salesforce holds what applying the succeeded records in Kafka order gives. A record whose outcome is
  // OUTCOME_UNKNOWN (sent, answer lost, and the configuration now rejects it) may or may not have
  // applied: after the last succeeded change of its key, it widens what the key may hold.
  const possible = new Map<string, Set<string | undefined>>();
  for (const r of [...all].sort((a, b) => a.offset - b.offset)) {
    const o = final.get(recordId(r))!;
    if (r.kind === 'bad') assert.equal(o.status, 'rejected');
    if (r.kind !== 'upsert' && r.kind !== 'delete') continue;
    const state = r.kind === 'upsert' ? `o${r.offset}` : undefined;
    if (o.status === 'succeeded') possible.set(r.target, new Set([state]));
    else if (o.errors[0]?.code === 'OUTCOME_UNKNOWN')
      possible.set(r.target, (possible.get(r.target) ?? new Set([undefined])).add(state));
  }
  const leads = sink.emulator!.org.list('Lead');
  for (const [key, states] of possible) {
    const found = leads.filter((l) => l.fields.CustomId__c === key);
    assert.ok(found.length <= 1, `Lead ${key} exists once at most`);
    const state = found[0]?.fields.Title as string | undefined;
    assert.ok(
      states.has(state),
      `Lead ${key} holds ${state ?? 'nothing'}, expected one of ${[...states].map((s) => s ?? 'nothing')}`,
    );
  }
  for (const lead of leads)
    assert.ok(
      possible.has(lead.fields.CustomId__c as string),
      `Lead ${lead.fields.CustomId__c} was written by a succeeded record`,
    );
  const accounts = sink.emulator!.org.list('Account');
  for (const r of all.filter((x) => x.kind === 'insert')) {
    const o = final.get(recordId(r))!;
    const rows = accounts.filter((a) => a.fields.External_Id__c === r.target);
    assert.ok(rows.length <= 1, `Account ${r.target} is inserted at most once`);
    if (o.status === 'succeeded')
      assert.equal(rows[0]?.id, o.salesforceId, `Account ${r.target} exists with its outcome's Id`);
    // OUTCOME_UNKNOWN says just that: the insert may or may not have taken effect.
    else if (o.errors[0]?.code !== 'OUTCOME_UNKNOWN')
      assert.equal(rows.length, 0, `Account ${r.target} failed (${o.errors[0]?.code}) and does not exist`);
  }
  for (const r of all.filter((x) => x.kind === 'deleteById')) {
    const o = final.get(recordId(r))!;
    const exists = accounts.some((a) => a.id === r.target);
    if (o.errors[0]?.code === 'OUTCOME_UNKNOWN') continue;
    assert.equal(
      exists,
      o.status !== 'succeeded',
      `delete of ${r.target} is ${o.status} and the Account ${exists ? 'exists' : 'is gone'}`,
    );
  }

  // No record written by more than maxRedeliveries + 1 invocations that completed.
  const writers = new Map<string, number>();
  for (const [n, ids] of real.writes) {
    if (real.threw.has(n)) continue;
    for (const id of ids) writers.set(id, (writers.get(id) ?? 0) + 1);
  }
  for (const [id, count] of writers)
    assert.ok(count <= MAX_REDELIVERIES + 1, `${id} was written by ${count} completed invocations`);

  // No two writes of one key in flight at once; none applied after a later change of its key.
  for (const [key, spans] of real.inFlight) {
    const sorted = [...spans].sort((a, b) => a.start - b.start);
    for (let i = 1; i < sorted.length; i++) {
      assert.ok(
        sorted[i]!.start >= sorted[i - 1]!.end,
        `writes of ${key} overlapped (invocations ${sorted[i - 1]!.invocation} and ${sorted[i]!.invocation})`,
      );
    }
  }
  for (const [key, offsets] of real.applied) {
    for (let i = 1; i < offsets.length; i++)
      assert.ok(
        offsets[i]! >= offsets[i - 1]!,
        `${key} applied offset ${offsets[i]} after ${offsets[i - 1]}`,
      );
  }
}

export interface LedgerModelOptions {
  runs: number;
  seed?: number;
  onProgress?: (done: number) => void;
}

/**
 * Runs `runs` random histories against one embedded sink; throws (with fast-check's shrunk
 * counterexample) when an invariant breaks. Returns how many ran.
 *
 * @example
 * await runLedgerHistories({ runs: 300 });
 */
export async function runLedgerHistories(options: LedgerModelOptions): Promise<number> {
  const sink = await startEmbedded({
    config: configFor({ leads: 'x', accounts: 'y', deletes: 'z' }, 'ignore'),
    waitMs: 2,
    backoff: { baseDelayMs: 5, maxDelayMs: 20 },
  });
  let ran = 0;
  let real: Real | undefined;
  observe(sink, () => real!);
  try {
    await fc.assert(
      fc.asyncProperty(
        streamArbitrary,
        streamArbitrary,
        commandArbitrary,
        async (first, second, commands) => {
          const h = ran++;
          sink.emulator!.reset();
          const topics = { leads: `h${h}-leads`, accounts: `h${h}-accounts`, deletes: `h${h}-deletes` };
          const accountIds = sink
            .emulator!.org.apply(
              'insert',
              'Account',
              [1, 2, 3].map((i) => ({ Name: `Existing ${h}-${i}` })),
              { allOrNone: false, source: 'json' },
            )
            .map((r) => r.id!);
          const history: History = {
            topics,
            accountIds,
            streams: [
              buildStream(first, topics, CLUSTERS[0]!, accountIds, `${h}a`),
              buildStream(second, topics, CLUSTERS[1]!, [], `${h}b`),
            ],
          };
          sink.reconfigure(configFor(topics, 'ignore'));
          sink.outcomes.clear();
          real = {
            sink,
            history,
            current: 0,
            unknownFields: 'ignore',
            writes: new Map(),
            threw: new Set(),
            inFlight: new Map(),
            applied: new Map(),
            invocations: 0,
          };
          watchApplies(real);
          await fc.asyncModelRun(() => ({ model: { step: 0 }, real }), commands);
          await drain(real);
          check(real);
          options.onProgress?.(ran);
        },
      ),
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
