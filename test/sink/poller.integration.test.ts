// The bulk poller on its own: idempotent per job, resumable mid-publish, outcomes dated by the job.
import { afterEach, describe, expect, it } from 'vitest';
import { pollBulkJob } from '../../lib/bulk/poll.ts';
import type { BulkExecutionInput } from '../../lib/bulk/state-machine.ts';
import { parseConfig } from '../../lib/config/index.ts';
import { createMemoryPublisher } from '../../lib/outcomes/index.ts';
import { mskEvent } from '../../local/events/build-event.ts';
import { orderEvents } from '../../local/events/generate.ts';
import { type Embedded, startEmbedded } from '../../local/runtime/embedded.ts';

const config = parseConfig({
  bulk: { pollInterval: '1s' },
  mappings: [{ topic: 'order-events', sobject: 'Order_Event__c', mode: 'bulk', operation: 'insert' }],
});

let sink: Embedded | undefined;
afterEach(async () => {
  await sink?.close();
  sink = undefined;
});

/** Submits a bulk unit but runs no execution, so the test drives the poller itself. */
async function submitted(
  count: number,
  processingMs = 1,
): Promise<{ sink: Embedded; input: BulkExecutionInput }> {
  sink = await startEmbedded({ config, emulator: { bulkProcessingDelayMs: processingMs }, waitMs: 1 });
  const started: BulkExecutionInput[] = [];
  sink.executions.start = async (_name, input) => {
    started.push(input);
    return 'running';
  };
  sink.executions.status = async () => 'RUNNING';
  await sink.invoke(mskEvent(orderEvents({ count, partitions: 1 })));
  expect(started).toHaveLength(1);
  return { sink, input: started[0]! };
}

async function pollUntilDone(
  s: Embedded,
  input: BulkExecutionInput,
  publisher = createMemoryPublisher(),
  now?: () => Date,
) {
  let next = input;
  for (let i = 0; i < 200 && !next.done; i++) {
    next = await pollBulkJob(next, {
      config,
      salesforce: async () => s.salesforce,
      jobs: s.jobs,
      publisher,
      deadline: Date.now() + 60_000,
      ...(now ? { now } : {}),
    });
    if (!next.done) await new Promise((r) => setTimeout(r, 5));
  }
  return { next, publisher };
}

describe('bulk poller', () => {
  it('publishes one outcome per record, then nothing when run again for the finished job', async () => {
    const { sink: s, input } = await submitted(1200);
    expect(await s.jobs.inFlight('local')).toBe(1);
    const first = await pollUntilDone(s, input);
    expect(await s.jobs.inFlight('local')).toBe(0);
    expect(first.next.done).toBe(true);
    expect(first.next.result).toEqual({
      jobState: 'JobComplete',
      sobject: 'Order_Event__c',
      succeeded: 1200,
      failed: 0,
    });
    expect(first.publisher.outcomes).toHaveLength(1200);
    const again = await pollUntilDone(s, { ...input, done: false });
    expect(again.publisher.outcomes).toHaveLength(0);
  });

  it('resumes after a crash mid-publish without publishing any chunk twice, with identical outcomes', async () => {
    const { sink: s, input } = await submitted(1200);
    const publisher = createMemoryPublisher();
    let calls = 0;
    const flaky = {
      async publish(outcomes: Parameters<typeof publisher.publish>[0]) {
        calls++;
        if (calls === 2) throw new Error('publisher down');
        await publisher.publish(outcomes);
      },
      async close() {},
    };
    await expect(pollUntilDone(s, input, flaky as never)).rejects.toThrow('publisher down');
    const afterCrash = publisher.outcomes.length;
    expect(afterCrash).toBe(500);
    await pollUntilDone(s, input, flaky as never);
    const keys = publisher.outcomes.map((o) => o.offset);
    expect(keys).toHaveLength(1200);
    expect(new Set(keys).size).toBe(1200);
    // Every outcome carries the job's end time, not the time of the run that published it.
    expect(new Set(publisher.outcomes.map((o) => o.timestamp)).size).toBe(1);
  });
});

describe('a job that ends without the sink', () => {
  it('deleted by Salesforce before its results were read: its rows get OUTCOME_UNKNOWN, not failed for a reason', async () => {
    const { sink: s, input } = await submitted(3);
    s.emulator!.bulk.expire(input.jobId);
    const { publisher, next } = await pollUntilDone(s, input);
    expect(next.done).toBe(true);
    expect(publisher.outcomes.map((o) => [o.status, o.errors[0]?.code, o.bulkJobId])).toEqual(
      Array.from({ length: 3 }, () => ['failed', 'OUTCOME_UNKNOWN', input.jobId]),
    );
    expect(await s.jobs.inFlight('local')).toBe(0);
  });

  it('still running past Salesforce’s job lifetime is aborted; while the abort fails, the unit stays open', async () => {
    const { sink: s, input } = await submitted(3, 60_000);
    s.emulator!.faults.add({ route: 'bulk', method: 'PATCH', fault: 'status', status: 500, times: 'always' });
    const later = () => new Date(Date.now() + 8 * 24 * 3600 * 1000);
    const round = await pollBulkJob(input, {
      config,
      salesforce: async () => s.salesforce,
      jobs: s.jobs,
      publisher: createMemoryPublisher(),
      deadline: Date.now() + 60_000,
      now: later,
    }).catch((error: unknown) => error);
    expect(round).toBeInstanceOf(Error);
    expect((await s.jobs.get(input.unitKey))?.state).toBe('started');
    expect(await s.jobs.inFlight('local')).toBe(1);
    s.emulator!.faults.clear();
    const { publisher } = await pollUntilDone(s, input, createMemoryPublisher(), later);
    expect(publisher.outcomes.map((o) => [o.status, o.errors[0]?.code])).toEqual(
      Array.from({ length: 3 }, () => ['failed', 'UNPROCESSED']),
    );
    expect((await s.jobs.get(input.unitKey))?.state).toBe('done');
  });
});

describe('bulk rows that failed for a passing reason', () => {
  it('are submitted again (locked rows), until every record is written once', async () => {
    sink = await startEmbedded({
      config,
      emulator: {
        bulkProcessingDelayMs: 1,
        faults: [{ fault: 'lockRow', route: 'bulk', probability: 0.1, times: 'always' }],
      },
      waitMs: 1,
    });
    const records = orderEvents({ count: 1000, partitions: 1 });
    await sink.deliver(mskEvent(records));
    await sink.settle();
    const outcomes = sink.outcomes.outcomes;
    expect(outcomes).toHaveLength(1000);
    expect(outcomes.filter((o) => o.status !== 'succeeded').map((o) => o.errors[0]?.code)).toEqual([]);
    expect(outcomes.some((o) => o.attempts > 1)).toBe(true);
    const keys = sink.emulator!.org.list('Order_Event__c').map((r) => r.fields.Event_Key__c);
    expect(keys).toHaveLength(1000);
    expect(new Set(keys).size).toBe(1000);
  });

  it('are submitted again when Salesforce fails a job part way (unprocessed rows)', async () => {
    sink = await startEmbedded({
      config,
      emulator: {
        bulkProcessingDelayMs: 1,
        faults: [
          { fault: 'failJob', afterRecords: 300, errorMessage: 'InternalServerError : try again later' },
        ],
      },
      waitMs: 1,
    });
    const records = orderEvents({ count: 1000, partitions: 1 });
    await sink.deliver(mskEvent(records));
    await sink.settle();
    const outcomes = sink.outcomes.outcomes;
    expect(outcomes).toHaveLength(1000);
    expect(outcomes.every((o) => o.status === 'succeeded')).toBe(true);
    expect(outcomes.filter((o) => o.attempts === 2)).toHaveLength(700);
    expect(sink.emulator!.org.list('Order_Event__c')).toHaveLength(1000);
  });
});

describe('closing a resubmission chain', () => {
  it('is finished by a re-run after it failed half-way, so the partition and the job slot are freed', async () => {
    sink = await startEmbedded({
      config,
      // One locked row: the job's other rows finish, that one goes on in a follow-up job.
      emulator: { bulkProcessingDelayMs: 1, faults: [{ fault: 'lockRow', route: 'bulk', times: 1 }] },
      waitMs: 1,
    });
    const jobs = sink.jobs;
    const write = jobs.write.bind(jobs);
    let failed = false;
    jobs.write = async (unitKey, guard, changes, expire) => {
      if (guard.state === 'continued' && changes.state === 'done' && !failed) {
        failed = true;
        throw new Error('DynamoDB throttled');
      }
      return write(unitKey, guard, changes, expire);
    };
    await sink.deliver(mskEvent(orderEvents({ count: 20, partitions: 1 })));
    await sink.settle();
    expect(failed).toBe(true);
    expect(await jobs.inFlight('local')).toBe(0);
    expect(sink.outcomes.outcomes.filter((o) => o.status === 'succeeded')).toHaveLength(20);
    // The partition is not blocked: a later batch goes straight to a new job.
    const later = await sink.invoke(
      mskEvent(
        orderEvents({ count: 5, partitions: 1, keyPrefix: 'L-' }).map((r) => ({
          ...r,
          offset: r.offset + 20,
        })),
      ),
    );
    expect(later.batchItemFailures).toEqual([]);
    expect(later.summary.tracked).toBe(5);
  });
});

describe('job slots', () => {
  it('held by a unit that no longer exists are freed when the limit is reached', async () => {
    const one = parseConfig({
      ...config,
      bulk: { pollInterval: '1s', maxConcurrentJobs: 1 },
      mappings: config.mappings,
    });
    sink = await startEmbedded({ config: one, emulator: { bulkProcessingDelayMs: 1 }, waitMs: 1 });
    // A slot leaked by a unit that was lost (e.g. expired) before it could be released.
    expect(await sink.jobs.acquireSlot('local', 'ghost-unit', 1)).toBe(true);
    const report = await sink.deliver(mskEvent(orderEvents({ count: 10, partitions: 1 })), {
      maxInvocations: 3,
    });
    await sink.settle();
    expect(report.uncommitted).toBe(0);
    expect(sink.outcomes.outcomes).toHaveLength(10);
    expect(await sink.jobs.inFlight('local')).toBe(0);
  });
});

describe('a bulk submission that Salesforce refuses', () => {
  it('fails its own records with Salesforce error, without failing the invocation', async () => {
    sink = await startEmbedded({
      config,
      emulator: {
        bulkProcessingDelayMs: 1,
        faults: [
          {
            fault: 'status',
            status: 400,
            route: 'bulk',
            method: 'POST',
            times: 'always',
            body: [{ errorCode: 'INVALIDJOB', message: 'InvalidJob : object type not supported' }],
          },
        ],
      },
      waitMs: 1,
    });
    const result = await sink.invoke(mskEvent(orderEvents({ count: 5, partitions: 1 })));
    expect(result.batchItemFailures).toEqual([]);
    expect(sink.outcomes.outcomes.map((o) => [o.status, o.errors[0]?.code])).toEqual(
      Array.from({ length: 5 }, () => ['failed', 'INVALIDJOB']),
    );
    expect(await sink.jobs.inFlight('local')).toBe(0);
  });

  it('hands back a passing failure, counted against maxRedeliveries, then fails the records', async () => {
    const budget = parseConfig({ ...config, maxRetries: 0, maxRedeliveries: 2, mappings: config.mappings });
    sink = await startEmbedded({
      config: budget,
      emulator: {
        bulkProcessingDelayMs: 1,
        faults: [{ fault: 'status', status: 503, route: 'bulk', method: 'POST', times: 'always' }],
      },
      waitMs: 1,
    });
    const report = await sink.deliver(mskEvent(orderEvents({ count: 3, partitions: 1 })), {
      maxInvocations: 10,
    });
    expect(report.uncommitted).toBe(0);
    expect(report.invocations).toBe(3);
    expect(sink.outcomes.outcomes.map((o) => o.status)).toEqual(['failed', 'failed', 'failed']);
    expect(sink.outcomes.outcomes[0]!.attempts).toBe(3);
  });
});
