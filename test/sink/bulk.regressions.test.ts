// Failure paths of the bulk job lifecycle, one per defect found in review (issue 12, 1–8): each pins
// what a user must see. They drive the real sink and poller on the stand-ins (emulator, dynalite, the
// state machine on aws-local-stepfunctions).
import { afterEach, describe, expect, it } from 'vitest';
import { UnitStateConflictError } from '../../lib/bulk/errors.ts';
import { abandonUnit, setUpJob } from '../../lib/bulk/job-setup.ts';
import type { BulkUnit } from '../../lib/bulk/store.ts';
import { unitLifecycle } from '../../lib/bulk/unit.ts';
import { parseConfig, type SinkConfigInput } from '../../lib/config/index.ts';
import { silentLogger } from '../../lib/logger.ts';
import type { Outcome, OutcomePublisher } from '../../lib/outcomes/index.ts';
import type { EmulatorOptions } from '../../local/emulator/server.ts';
import { type EventRecordInput, mskEvent } from '../../local/events/build-event.ts';
import { type Embedded, type EmbeddedOptions, startEmbedded } from '../../local/runtime/embedded.ts';

let sink: Embedded | undefined;
afterEach(async () => {
  await sink?.close();
  sink = undefined;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function start(
  input: SinkConfigInput,
  emulator: EmulatorOptions = {},
  options: Partial<EmbeddedOptions> = {},
): Promise<Embedded> {
  sink = await startEmbedded({
    config: parseConfig(input),
    emulator: { bulkProcessingDelayMs: 2, ...emulator },
    waitMs: 2,
    backoff: { baseDelayMs: 5, maxDelayMs: 20 },
    ...options,
  });
  return sink;
}

const LEADS = 'leads';
const leadUpserts: SinkConfigInput['mappings'][number] = {
  topic: LEADS,
  sobject: 'Lead',
  externalIdField: 'CustomId__c',
  mode: 'bulk',
  eventType: 'override',
  operation: 'upsert',
};

function leads(count: number, from = 0, title = 'v1'): EventRecordInput[] {
  return Array.from({ length: count }, (_, i) => ({
    topic: LEADS,
    partition: 0,
    offset: from + i,
    key: `L-${from + i}`,
    value: { CustomId__c: `L-${from + i}`, LastName: `Doe ${from + i}`, Company: 'Acme', Title: title },
  }));
}

const ORDERS = 'orders';
const orderInserts: SinkConfigInput['mappings'][number] = {
  topic: ORDERS,
  sobject: 'Order_Event__c',
  operation: 'insert',
  mode: 'bulk',
};

function orders(count: number, from = 0): EventRecordInput[] {
  return Array.from({ length: count }, (_, i) => ({
    topic: ORDERS,
    partition: 0,
    offset: from + i,
    key: `E-${from + i}`,
    value: { Event_Key__c: `E-${from + i}`, Amount__c: from + i },
  }));
}

/** A later record on a topic without a mapping: a delivery that only keeps the stream moving. */
const tick = (offset: number) => mskEvent([{ topic: 'unmapped', partition: 0, offset, value: 'x' }]);

const byRecord = (outcomes: readonly Outcome[]) => {
  const map = new Map<string, Outcome[]>();
  for (const o of outcomes)
    map.set(`${o.topic}/${o.offset}`, [...(map.get(`${o.topic}/${o.offset}`) ?? []), o]);
  return map;
};

/** Check calls of a job (not its result files) answer 500. */
const CHECKS_FAIL = {
  route: 'bulk',
  method: 'GET',
  path: '/jobs/ingest/[^/]+$',
  fault: 'status',
  status: 500,
  times: 'always',
} as const;

/** Every job create after the first is refused for good: a follow-up job cannot be set up. */
const FOLLOW_UP_CREATES_REFUSED = {
  route: 'bulk',
  method: 'POST',
  path: '/jobs/ingest$',
  nth: 2,
  times: 'always',
  fault: 'status',
  status: 400,
  body: [{ errorCode: 'INVALIDJOB', message: 'InvalidJob : too many jobs' }],
} as const;

describe('1. a partition’s next job never starts while an earlier one may still be processing', () => {
  it('after the poller failed and its abort failed, job 2 waits for job 1 and every row of job 1 is reported as written', async () => {
    const s = await start(
      { maxRetries: 0, bulk: { batchSize: 20_000 }, mappings: [leadUpserts] },
      { bulkProcessingDelayMs: 400 },
    );
    // Job 1: 10,001 rows, two internal batches; its key K (the last row) is written in the second.
    const first = leads(10_001);
    await s.invoke(mskEvent(first));
    s.emulator!.faults.add(CHECKS_FAIL);
    s.emulator!.faults.add({ route: 'bulk', method: 'PATCH', fault: 'status', status: 500, times: 'always' });
    await sleep(250);
    s.emulator!.faults.clear();
    // Job 2 changes K again.
    const second = [
      { ...first.at(-1)!, offset: 10_001, value: { ...(first.at(-1)!.value as object), Title: 'v2' } },
    ];
    const report = await s.deliver(mskEvent(second), { maxInvocations: 20 });
    await s.settle();

    expect(report.uncommitted).toBe(0);
    const k = s.emulator!.org.list('Lead').find((r) => r.fields.CustomId__c === 'L-10000');
    expect(k?.fields.Title).toBe('v2');
    const statuses = [...byRecord(s.outcomes.outcomes).values()].map((list) => list[0]!.status);
    expect(statuses.filter((st) => st !== 'succeeded')).toEqual([]);
    expect(statuses).toHaveLength(10_002);
    // Job 2 was closed only after job 1 ended.
    const [job1, job2] = s.emulator!.bulk.history().filter((j) => j.closedAt !== undefined);
    expect(job2!.closedAt!).toBeGreaterThanOrEqual(job1!.endedAt!);
  }, 60_000);
});

describe('2. a failed Step Functions execution does not block its partition', () => {
  it('after every execution of a job failed (its outcomes could not be published), the next delivery starts a successor; the partition moves on and the slot is freed', async () => {
    let downUntil = Date.now() + 10 ** 9;
    const publisher: OutcomePublisher = {
      async publish() {
        if (Date.now() < downUntil) throw new Error('outcome destination unreachable');
      },
      async close() {},
    };
    const s = await start({ maxRetries: 0, mappings: [orderInserts] }, {}, { publisher });
    await s.invoke(mskEvent(orders(5)));
    // Long enough for every execution the sink started to end Failed.
    await sleep(800);
    expect(s.outcomes.outcomes).toEqual([]);
    downUntil = 0;
    const report = await s.deliver(mskEvent(orders(3, 5)), { maxInvocations: 4 });
    await s.settle();
    expect(report.uncommitted).toBe(0);
    expect(byRecord(s.outcomes.outcomes).size).toBe(8);
    expect(await s.jobs.inFlight('local')).toBe(0);
  }, 60_000);

  it('a poller that cannot even start (its Lambda fails every time) is replaced once it works again', async () => {
    const s = await start({ maxRetries: 0, mappings: [orderInserts] });
    let broken = true;
    s.poller.before = () => {
      if (broken) throw new Error('secret is not JSON');
    };
    await s.invoke(mskEvent(orders(4)));
    for (let i = 0; i < 200 && s.executions.running().length > 0; i++) await sleep(20);
    expect(s.executions.ended().map((e) => e.status)).toEqual(['FAILED']);
    broken = false;
    await s.invoke(tick(0));
    await s.settle();
    expect(s.executions.names).toHaveLength(2);
    expect(s.executions.names[1]).toBe(`${s.executions.names[0]}-1`);
    expect(s.outcomes.outcomes.filter((o) => o.topic === ORDERS).map((o) => o.status)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
  }, 60_000);
});

describe('3. no execution outlives its history', () => {
  it('a job that outlasts one execution’s rounds is followed by successor executions, each within its budget', async () => {
    const s = await start(
      { mappings: [orderInserts] },
      { bulkProcessingDelayMs: 300 },
      { pollsPerExecution: 5 },
    );
    await s.invoke(mskEvent(orders(3)));
    await s.settle();
    // One check of the job per round.
    const checks = s
      .emulator!.calls()
      .filter((c) => c.method === 'GET' && /\/jobs\/ingest\/[^/]+$/.test(c.path));
    expect(checks.length).toBeGreaterThan(5);
    expect(s.executions.names.length).toBeGreaterThanOrEqual(Math.ceil(checks.length / 5));
    expect(s.outcomes.outcomes.map((o) => o.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  }, 60_000);

  it('refuses a maxPollInterval shorter than 5 s', () => {
    expect(() =>
      parseConfig({ bulk: { pollInterval: '1s', maxPollInterval: '1s' }, mappings: [orderInserts] }),
    ).toThrow(/maxPollInterval/);
  });
});

describe('4. known results are kept', () => {
  it('when the follow-up job for a locked row cannot be created, the written rows are reported succeeded and the locked one with its lock error', async () => {
    const s = await start(
      { mappings: [orderInserts] },
      {
        faults: [{ route: 'bulk', fault: 'lockRow', times: 1 }, FOLLOW_UP_CREATES_REFUSED],
      },
    );
    await s.deliver(mskEvent(orders(20)));
    await s.settle();
    const outcomes = [...byRecord(s.outcomes.outcomes).values()].map((list) => list[0]!);
    expect(outcomes.filter((o) => o.status === 'succeeded')).toHaveLength(19);
    expect(outcomes.filter((o) => o.status !== 'succeeded').map((o) => o.errors[0]?.code)).toEqual([
      'UNABLE_TO_LOCK_ROW',
    ]);
    expect(s.emulator!.org.list('Order_Event__c')).toHaveLength(19);
  }, 60_000);

  it('after an outage of the error destination, no record gets two outcomes with different statuses', async () => {
    const delivered = { results: [] as Outcome[], errors: [] as Outcome[] };
    let errorOutages = 9;
    const publisher: OutcomePublisher = {
      async publish(outcomes) {
        delivered.results.push(...outcomes.filter((o) => o.status === 'succeeded'));
        const errors = outcomes.filter((o) => o.status !== 'succeeded');
        if (errors.length > 0 && errorOutages-- > 0) throw new Error('error queue unavailable');
        delivered.errors.push(...errors);
      },
      async close() {},
    };
    // 99 good rows, one Salesforce refuses (locked, and no retries left).
    const s = await start(
      { maxRetries: 0, mappings: [orderInserts] },
      { faults: [{ route: 'bulk', fault: 'lockRow', times: 1 }] },
      { publisher },
    );
    await s.deliver(mskEvent(orders(100)));
    await s.settle();
    const statuses = new Map<number, Set<string>>();
    for (const o of [...delivered.results, ...delivered.errors])
      statuses.set(o.offset, (statuses.get(o.offset) ?? new Set()).add(o.status));
    expect([...statuses.values()].filter((set) => set.size > 1)).toEqual([]);
    expect(statuses.size).toBe(100);
    expect(delivered.errors.map((o) => o.errors[0]?.code)).toEqual(['UNABLE_TO_LOCK_ROW']);
  }, 60_000);
});

describe('5. the Id lookup of update/delete by external id in bulk', () => {
  const deletes: SinkConfigInput['mappings'][number] = {
    topic: 'lead-deletes',
    sobject: 'Lead',
    externalIdField: 'CustomId__c',
    operation: 'delete',
    eventType: 'override',
    mode: 'bulk',
  };
  const deleteEvents = (count: number) =>
    mskEvent(
      Array.from({ length: count }, (_, i) => ({
        topic: 'lead-deletes',
        partition: 0,
        offset: i,
        value: { CustomId__c: `D-${i}` },
      })),
    );
  const seed = (s: Embedded, count: number) =>
    s.emulator!.org.apply(
      'insert',
      'Lead',
      Array.from({ length: count }, (_, i) => ({
        LastName: `D${i}`,
        Company: 'Acme',
        CustomId__c: `D-${i}`,
      })),
      { allOrNone: false, source: 'json' },
    );

  it('refused by Salesforce (400) fails its records with Salesforce’s code instead of failing the invocation', async () => {
    const s = await start({ mappings: [deletes] });
    seed(s, 3);
    s.emulator!.faults.add({
      route: 'query',
      fault: 'status',
      status: 400,
      times: 'always',
      body: [{ errorCode: 'INVALID_QUERY_FILTER_OPERATOR', message: 'invalid operator' }],
    });
    const result = await s.invoke(deleteEvents(3));
    expect(result.batchItemFailures).toEqual([]);
    expect(s.outcomes.outcomes.map((o) => [o.status, o.errors[0]?.code])).toEqual(
      Array.from({ length: 3 }, () => ['failed', 'INVALID_QUERY_FILTER_OPERATOR']),
    );
    expect(s.emulator!.org.list('Lead')).toHaveLength(3);
  });

  it('unavailable (503) hands its records back within maxRedeliveries, then fails them', async () => {
    const s = await start({ maxRetries: 0, maxRedeliveries: 2, mappings: [deletes] });
    seed(s, 2);
    s.emulator!.faults.add({ route: 'query', fault: 'status', status: 503, times: 'always' });
    const report = await s.deliver(deleteEvents(2), { maxInvocations: 10 });
    expect(report.uncommitted).toBe(0);
    expect(report.crashes).toBe(0);
    expect(report.invocations).toBe(3);
    expect(s.outcomes.outcomes.map((o) => [o.status, o.errors[0]?.code, o.attempts])).toEqual([
      ['failed', 'SERVER_UNAVAILABLE', 3],
      ['failed', 'SERVER_UNAVAILABLE', 3],
    ]);
  });

  it.each(['bulk', 'realtime'] as const)(
    'an external id that matches several records fails with DUPLICATE_EXTERNAL_ID (%s)',
    async (mode) => {
      const s = await start({
        mappings: [
          {
            topic: 'by-email',
            sobject: 'Lead',
            externalIdField: 'Email',
            operation: 'update',
            eventType: 'override',
            mode,
          },
        ],
      });
      s.emulator!.org.apply(
        'insert',
        'Lead',
        [
          { LastName: 'A', Company: 'Acme', Email: 'same@example.com' },
          { LastName: 'B', Company: 'Acme', Email: 'same@example.com' },
        ],
        { allOrNone: false, source: 'json' },
      );
      await s.deliver(
        mskEvent([
          { topic: 'by-email', partition: 0, offset: 0, value: { Email: 'same@example.com', Title: 'X' } },
        ]),
      );
      await s.settle();
      expect(s.outcomes.outcomes.map((o) => [o.status, o.errors[0]?.code])).toEqual([
        ['failed', 'DUPLICATE_EXTERNAL_ID'],
      ]);
    },
  );
});

describe('6. a lost answer to a job create leaves no Open job behind', () => {
  it.each([
    ['the connection reset after Salesforce created the job', 'reset'],
    ['the sink crashed right after the create', 'crash'],
  ] as const)('%s: the left-behind job is aborted, the records go into one job', async (_what, how) => {
    const s = await start({ mappings: [orderInserts] });
    if (how === 'reset')
      s.emulator!.faults.add({
        route: 'bulk',
        method: 'POST',
        path: '/jobs/ingest$',
        fault: 'reset',
        when: 'after',
      });
    let crashed = false;
    const report = await s.deliver(mskEvent(orders(5)), {
      after: (step) => {
        if (how === 'crash' && step === 'job-create' && !crashed) {
          crashed = true;
          throw new Error('injected crash after job-create');
        }
      },
    });
    await s.settle();
    expect(report.uncommitted).toBe(0);
    const jobs = s.emulator!.bulk.jobs();
    expect(jobs.filter((j) => j.state === 'Open')).toEqual([]);
    expect(jobs.filter((j) => j.state === 'JobComplete')).toHaveLength(1);
    expect(s.outcomes.outcomes.map((o) => o.status)).toEqual(Array.from({ length: 5 }, () => 'succeeded'));
    expect(s.emulator!.org.list('Order_Event__c')).toHaveLength(5);
  });
});

describe('7. a poller outage does not fail rows Salesforce may have applied', () => {
  it('checks failing for longer than the task retries: the rows are reported succeeded once checks work again', async () => {
    const s = await start({ maxRetries: 0, mappings: [orderInserts] });
    s.emulator!.faults.add(CHECKS_FAIL);
    await s.invoke(mskEvent(orders(5)));
    await sleep(600);
    s.emulator!.faults.clear();
    await s.invoke(tick(0));
    await s.settle();
    expect(s.emulator!.org.list('Order_Event__c')).toHaveLength(5);
    expect(s.outcomes.outcomes.filter((o) => o.topic === ORDERS).map((o) => o.status)).toEqual(
      Array.from({ length: 5 }, () => 'succeeded'),
    );
  }, 60_000);
});

describe('8. result files the job info says are empty are not fetched', () => {
  const bulkCalls = (s: Embedded) =>
    s
      .emulator!.calls()
      .filter((c) => c.route === 'bulk')
      .map((c) => `${c.method} ${c.path.replace(/^\/services\/data\/v[\d.]+\/jobs\/ingest\/?[^/]*/, '')}`);

  it('a clean job costs create, upload, close, one check and successfulResults', async () => {
    const s = await start({ mappings: [orderInserts] }, { bulkProcessingDelayMs: 1 }, { waitMs: 100 });
    await s.invoke(mskEvent(orders(10)));
    await s.settle();
    expect(bulkCalls(s)).toEqual(['POST ', 'PUT /batches', 'PATCH ', 'GET ', 'GET /successfulResults/']);
  });

  it('a job with a failed row fetches failedResults too, and never unprocessedrecords', async () => {
    const s = await start(
      { maxRetries: 0, mappings: [orderInserts] },
      { bulkProcessingDelayMs: 1, faults: [{ route: 'bulk', fault: 'lockRow', times: 1 }] },
      { waitMs: 100 },
    );
    await s.invoke(mskEvent(orders(10)));
    await s.settle();
    expect(bulkCalls(s)).toEqual([
      'POST ',
      'PUT /batches',
      'PATCH ',
      'GET ',
      'GET /successfulResults/',
      'GET /failedResults/',
    ]);
  });
});

describe('9. bulk units belong to the records’ source', () => {
  const amounts = (s: Embedded) =>
    s
      .emulator!.org.list('Order_Event__c')
      .map((r) => r.fields.Amount__c)
      .sort((a, b) => Number(a) - Number(b));

  it('the same offsets from a new cluster are written in a job of their own, not taken for the old job', async () => {
    const s = await start({ mappings: [orderInserts] });
    await s.deliver(mskEvent(orders(3)));
    await s.settle();
    const other = orders(3).map((r) => ({
      ...r,
      value: { Event_Key__c: `F-${r.offset}`, Amount__c: 100 + r.offset },
    }));
    const report = await s.deliver(
      { ...mskEvent(other), eventSourceArn: 'arn:aws:kafka:us-east-1:123456789012:cluster/other/2' },
      { maxInvocations: 10 },
    );
    await s.settle();
    expect(report.uncommitted).toBe(0);
    expect(amounts(s)).toEqual([0, 1, 2, 100, 101, 102]);
    expect(s.outcomes.outcomes.map((o) => o.status)).toEqual(Array(6).fill('succeeded'));
  }, 60_000);

  it('the same offsets of a re-created topic are written in a job of their own', async () => {
    const s = await start({ mappings: [orderInserts] });
    await s.deliver(mskEvent(orders(3)));
    await s.settle();
    const recreated = orders(3).map((r) => ({
      ...r,
      timestamp: 1_800_000_000_000 + r.offset,
      value: { Event_Key__c: `F-${r.offset}`, Amount__c: 100 + r.offset },
    }));
    const report = await s.deliver(mskEvent(recreated), { maxInvocations: 10 });
    await s.settle();
    expect(report.uncommitted).toBe(0);
    expect(amounts(s)).toEqual([0, 1, 2, 100, 101, 102]);
    expect(s.outcomes.outcomes.map((o) => o.status)).toEqual(Array(6).fill('succeeded'));
  }, 60_000);
});

describe('10. a realtime write never overtakes a bulk job of its partition', () => {
  it('after the mapping switched from bulk to realtime while a job was processing, the key ends with the newer value', async () => {
    const s = await start({ mappings: [leadUpserts] }, { bulkProcessingDelayMs: 600 });
    await s.invoke(mskEvent(leads(3)));
    // The job processes for a while; meanwhile the mapping becomes realtime and L-2 changes again.
    s.reconfigure(parseConfig({ mappings: [{ ...leadUpserts, mode: 'realtime' }] }));
    const newer = { ...leads(1, 2, 'v2')[0]!, offset: 3 };
    const report = await s.deliver(mskEvent([newer]), { maxInvocations: 20 });
    await s.settle();
    expect(report.uncommitted).toBe(0);
    const k = s.emulator!.org.list('Lead').find((r) => r.fields.CustomId__c === 'L-2');
    expect(k?.fields.Title).toBe('v2');
    expect(s.outcomes.outcomes.map((o) => [o.offset, o.status]).sort()).toEqual([
      [0, 'succeeded'],
      [1, 'succeeded'],
      [2, 'succeeded'],
      [3, 'succeeded'],
    ]);
  }, 60_000);
});

describe('11. overlapping writers of one bulk unit', () => {
  async function closedByOther(s: Embedded) {
    const units = unitLifecycle(s.jobs);
    const deps = {
      bulk: s.salesforce.bulk,
      units,
      jobs: s.jobs,
      context: { deadline: Date.now() + 30_000 },
      now: () => new Date(),
      log: silentLogger,
    };
    const intent = await units.recordIntent(
      {
        unitKey: 'overlapping',
        group: 'local',
        sobject: 'Order_Event__c',
        operation: 'insert',
        matchColumns: ['Event_Key__c', 'Amount__c'],
        records: 1,
        createdAt: new Date().toISOString(),
      },
      [{ topic: ORDERS, partition: 0, offset: 0, key: null, match: 'm' }],
    );
    const job = await s.salesforce.bulk.create(
      { object: 'Order_Event__c', operation: 'insert' },
      deps.context,
    );
    const created = await units.markCreated(intent, job.id);
    // The other writer uploads and closes the job; this one still holds its earlier copies.
    const closed = await setUpJob(created, 'Event_Key__c,Amount__c\nE-0,1\n', deps);
    return { deps, units, job, copies: { intent, created }, closed };
  }

  it.each(['intent', 'created'] as const)(
    'a copy read in state %s cannot abandon a unit another writer closed: the unit and its job go on',
    async (state) => {
      const s = await start({ mappings: [orderInserts] }, { bulkProcessingDelayMs: 500 });
      const { deps, units, job, copies, closed } = await closedByOther(s);
      const stale: BulkUnit = copies[state];
      await expect(abandonUnit(stale, deps)).rejects.toBeInstanceOf(UnitStateConflictError);
      expect((await units.get(closed.unitKey))?.state).toBe('closed');
      expect((await s.salesforce.bulk.check(job.id, deps.context)).state).not.toBe('Aborted');
    },
  );

  it('rows a job never processed because someone else aborted it are written in a follow-up job', async () => {
    const s = await start({ mappings: [orderInserts] }, { bulkProcessingDelayMs: 400 });
    await s.invoke(mskEvent(orders(3)));
    const [job] = s.emulator!.bulk.history();
    await s.salesforce.bulk.abort(job!.id, { deadline: Date.now() + 10_000 });
    await s.settle();
    expect(s.outcomes.outcomes.map((o) => o.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(s.emulator!.org.list('Order_Event__c')).toHaveLength(3);
  }, 60_000);
});

describe('12. a unit resumed after its mapping changed', () => {
  it('a unit not yet uploaded when ignoreFields changed is planned afresh: every record is reported written', async () => {
    const s = await start({ mappings: [orderInserts] });
    await expect(
      s.invoke(mskEvent(orders(3)), {
        after: (step) => {
          if (step === 'job-create') throw new Error('injected crash after job-create');
        },
      }),
    ).rejects.toThrow('injected crash');
    s.reconfigure(parseConfig({ mappings: [{ ...orderInserts, ignoreFields: ['Amount__c'] }] }));
    const report = await s.deliver(mskEvent(orders(3)), { maxInvocations: 10 });
    await s.settle();
    expect(report.uncommitted).toBe(0);
    expect(s.outcomes.outcomes.map((o) => [o.status, o.errors[0]?.code])).toEqual(
      Array(3).fill(['succeeded', undefined]),
    );
    expect(s.emulator!.org.list('Order_Event__c').map((r) => r.fields.Amount__c ?? null)).toEqual([
      null,
      null,
      null,
    ]);
    expect(s.emulator!.bulk.jobs().filter((j) => j.state === 'Open')).toEqual([]);
  }, 60_000);
});

describe('13. a lost create answer, then creates that fail for a while (neighbour of 6)', () => {
  it('the unit is kept until the job the lost create left can be found: no Open job is left behind', async () => {
    const s = await start({ maxRetries: 5, mappings: [orderInserts] });
    s.emulator!.faults.add({
      route: 'bulk',
      method: 'POST',
      path: '/jobs/ingest$',
      fault: 'reset',
      when: 'after',
    });
    s.emulator!.faults.add({
      route: 'bulk',
      method: 'POST',
      path: '/jobs/ingest$',
      nth: 2,
      times: 6,
      fault: 'status',
      status: 503,
      body: [{ errorCode: 'SERVER_UNAVAILABLE', message: 'try again' }],
    });
    const report = await s.deliver(mskEvent(orders(5)), { maxInvocations: 30 });
    await s.settle();
    expect(report.uncommitted).toBe(0);
    const jobs = s.emulator!.bulk.jobs();
    expect(jobs.filter((j) => j.state === 'Open')).toEqual([]);
    expect(s.outcomes.outcomes.map((o) => o.status)).toEqual(Array(5).fill('succeeded'));
    expect(s.emulator!.org.list('Order_Event__c')).toHaveLength(5);
  }, 60_000);
});

describe('14. rows Salesforce refuses for the whole org', () => {
  it('rows refused during read-only maintenance go on in follow-up jobs until it ends, whatever maxRetries', async () => {
    const s = await start(
      { maxRetries: 0, mappings: [orderInserts] },
      {
        faults: [
          {
            route: 'bulk',
            fault: 'refuseRecord',
            code: 'INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE',
            message: 'Updates can’t be performed during read-only maintenance.',
            times: 10,
          },
        ],
      },
    );
    await s.deliver(mskEvent(orders(5)));
    await s.settle();
    expect(s.outcomes.outcomes.map((o) => o.status)).toEqual(Array(5).fill('succeeded'));
    expect(s.emulator!.org.list('Order_Event__c')).toHaveLength(5);
    expect(s.emulator!.bulk.history().length).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it('a locked row still gets only maxRetries follow-ups', async () => {
    const s = await start(
      { maxRetries: 0, mappings: [orderInserts] },
      { faults: [{ route: 'bulk', fault: 'lockRow', times: 1 }] },
    );
    await s.deliver(mskEvent(orders(3)));
    await s.settle();
    expect(s.outcomes.outcomes.map((o) => o.errors[0]?.code ?? o.status).sort()).toEqual([
      'UNABLE_TO_LOCK_ROW',
      'succeeded',
      'succeeded',
    ]);
    expect(s.emulator!.bulk.history()).toHaveLength(1);
  }, 60_000);
});

describe('15. follow-ups of held rows (found in review)', () => {
  const MAINTENANCE = 'INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE';
  const codes = (s: Embedded) =>
    [...byRecord(s.outcomes.outcomes.filter((o) => o.topic === ORDERS)).entries()]
      .sort(([a], [b]) => Number(a.split('/')[1]) - Number(b.split('/')[1]))
      .map(([, list]) => list.map((o) => o.errors[0]?.code ?? o.status));

  it('a chain of more than 100 held follow-ups whose execution failed gets a successor, and its row is written once maintenance ends', async () => {
    let maintenance = true;
    const s = await start(
      { maxRetries: 0, mappings: [orderInserts] },
      {
        faults: [
          {
            route: 'bulk',
            fault: 'refuseRecord',
            code: MAINTENANCE,
            times: 'always',
            predicate: () => maintenance,
          },
        ],
      },
    );
    await s.invoke(mskEvent(orders(1)));
    for (let i = 0; i < 3000 && s.emulator!.bulk.history().length < 105; i++) await sleep(20);
    expect(s.emulator!.bulk.history().length).toBeGreaterThanOrEqual(105);
    let broken = true;
    s.poller.before = () => {
      if (broken) throw new Error('secret is not JSON');
    };
    for (let i = 0; i < 500 && s.executions.running().length > 0; i++) await sleep(20);
    expect(s.executions.running()).toHaveLength(0);
    broken = false;
    maintenance = false;
    for (let offset = 1; offset <= 3; offset++) {
      await s.invoke(tick(offset));
      await s.settle();
    }
    expect(codes(s)).toEqual([['succeeded']]);
    expect(await s.jobs.inFlight('local')).toBe(0);
  }, 120_000);

  it('held follow-ups spend no retry: a row refused for maintenance twice, then locked once, gets its lock retry', async () => {
    const row0 = (c: { fields: Record<string, unknown> }) => c.fields.Event_Key__c === 'E-0';
    const s = await start(
      { maxRetries: 1, mappings: [orderInserts] },
      {
        faults: [
          { route: 'bulk', fault: 'refuseRecord', code: MAINTENANCE, times: 2, predicate: row0 },
          { route: 'bulk', fault: 'lockRow', times: 1, predicate: row0 },
        ],
      },
    );
    await s.deliver(mskEvent(orders(3)));
    await s.settle();
    expect(codes(s)).toEqual([['succeeded'], ['succeeded'], ['succeeded']]);
  }, 60_000);

  it('a locked row past its retries gets its one outcome while a held row of the same job goes on', async () => {
    const s = await start(
      { maxRetries: 0, mappings: [orderInserts] },
      {
        faults: [
          {
            route: 'bulk',
            fault: 'refuseRecord',
            code: MAINTENANCE,
            times: 3,
            predicate: (c) => c.fields.Event_Key__c === 'E-1',
          },
          { route: 'bulk', fault: 'lockRow', times: 1, predicate: (c) => c.fields.Event_Key__c === 'E-0' },
        ],
      },
    );
    await s.deliver(mskEvent(orders(3)));
    await s.settle();
    expect(codes(s)).toEqual([['UNABLE_TO_LOCK_ROW'], ['succeeded'], ['succeeded']]);
  }, 60_000);

  it('a held row whose follow-up job cannot be created keeps its maintenance error, once', async () => {
    const s = await start(
      { maxRetries: 0, mappings: [orderInserts] },
      {
        faults: [
          { route: 'bulk', fault: 'refuseRecord', code: MAINTENANCE, times: 1 },
          FOLLOW_UP_CREATES_REFUSED,
        ],
      },
    );
    await s.deliver(mskEvent(orders(3)));
    await s.settle();
    expect(codes(s)).toEqual([[MAINTENANCE], ['succeeded'], ['succeeded']]);
    expect(await s.jobs.inFlight('local')).toBe(0);
  }, 60_000);

  it('which rows go on is decided once: a redeploy lowering maxRetries while the follow-up is set up leaves no row without an outcome', async () => {
    const s = await start(
      { maxRetries: 1, mappings: [orderInserts] },
      { faults: [{ route: 'bulk', fault: 'lockRow', times: 1 }] },
    );
    let crashed = false;
    s.poller.after = (step) => {
      if (step === 'follow-up' && !crashed) {
        crashed = true;
        s.reconfigure(parseConfig({ maxRetries: 0, mappings: [orderInserts] }));
        throw new Error('the poller stops after setting the follow-up up; a redeploy lowers maxRetries');
      }
    };
    await s.deliver(mskEvent(orders(3)));
    await s.settle();
    await sleep(200);
    expect(crashed).toBe(true);
    expect(codes(s)).toEqual([['succeeded'], ['succeeded'], ['succeeded']]);
  }, 60_000);
});
