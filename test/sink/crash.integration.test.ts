// Crash anywhere, redeliver: nothing lost, nothing written twice, one outcome per record.
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/index.ts';
import type { Step } from '../../lib/sink/process-batch.ts';
import { type EventRecordInput, mskEvent } from '../../local/events/build-event.ts';
import { leadStream, orderEvents, sequentialLeadState } from '../../local/events/generate.ts';
import { seededRandom } from '../../local/random.ts';
import { type Embedded, startEmbedded } from '../../local/runtime/embedded.ts';

const config = parseConfig({
  maxRetries: 2,
  bulk: { pollInterval: '1s', maxPollInterval: '5s' },
  mappings: [
    {
      topic: 'sfdc-pushtopic-lead',
      sobject: 'Lead',
      externalIdField: 'CustomId__c',
      unknownFields: 'ignore',
    },
    // Plain inserts (no external id in the mapping): the non-idempotent case.
    { topic: 'orders-rt', sobject: 'Order_Event__c', operation: 'insert' },
    { topic: 'order-events', sobject: 'Order_Event__c', mode: 'bulk', operation: 'insert' },
  ],
});

let sink: Embedded | undefined;
afterEach(async () => {
  await sink?.close();
  sink = undefined;
});

function workload(): EventRecordInput[] {
  return [
    ...leadStream({ leads: 30, partitions: 3, updates: 1, deleteEvery: 3 }),
    ...orderEvents({ count: 250, partitions: 2, topic: 'orders-rt', keyPrefix: 'R-' }),
    ...orderEvents({ count: 300, partitions: 2, topic: 'order-events' }),
  ];
}

const STEPS: Step[] = [
  'collections-call',
  'applied-saved',
  'publish',
  'job-create',
  'upload',
  'close',
  'start-execution',
];

describe('crash after each step, then redelivery', () => {
  it.each(STEPS)('after %s: no record missing, none duplicated, one outcome per record', async (step) => {
    sink = await startEmbedded({ config, emulator: { bulkProcessingDelayMs: 5 }, waitMs: 5 });
    const records = workload();
    let crashes = 0;
    const report = await sink.deliver(mskEvent(records), {
      after: (at) => {
        if (at === step && crashes === 0) {
          crashes++;
          throw new Error(`injected crash after ${step}`);
        }
      },
    });
    await sink.settle();
    expect(crashes).toBe(1);
    expect(report.crashes).toBe(1);
    expect(report.uncommitted).toBe(0);

    // Nothing lost or doubled in the org.
    const leads = sink.emulator!.org.list('Lead').map((r) => r.fields.CustomId__c as string);
    expect(leads.sort()).toEqual(
      [...sequentialLeadState(records.filter((r) => r.topic === 'sfdc-pushtopic-lead')).keys()].sort(),
    );
    const orders = sink.emulator!.org.list('Order_Event__c').map((r) => r.fields.Event_Key__c as string);
    const expectedOrders = records
      .filter((r) => r.topic !== 'sfdc-pushtopic-lead')
      .map((r) => (r.value as { Event_Key__c: string }).Event_Key__c);
    expect(orders.length).toBe(expectedOrders.length);
    expect(new Set(orders)).toEqual(new Set(expectedOrders));

    // One outcome per record; a crash after publishing repeats that publish (at least once), so
    // outcomes are counted per record, and the repeats must be identical in what they say.
    const byRecord = new Map<string, string[]>();
    for (const o of sink.outcomes.outcomes) {
      const key = `${o.topic}/${o.partition}/${o.offset}`;
      byRecord.set(key, [...(byRecord.get(key) ?? []), JSON.stringify(o)]);
    }
    expect(byRecord.size).toBe(records.length);
    for (const [key, seen] of byRecord) {
      if (step !== 'publish') expect(seen, key).toHaveLength(1);
      // A re-publication says exactly what the first one said.
      expect(new Set(seen).size, key).toBe(1);
    }
    const notSucceeded = sink.outcomes.outcomes.filter((o) => o.status !== 'succeeded');
    expect(notSucceeded.map((o) => [o.topic, o.offset, o.errors[0]?.code])).toEqual([]);
  });
});

describe('inserts whose answer was lost', () => {
  it('are looked up by an external id field they carry, found, and not sent again', async () => {
    sink = await startEmbedded({ config, emulator: { bulkProcessingDelayMs: 5 }, waitMs: 5 });
    const records = orderEvents({ count: 450, partitions: 1, topic: 'orders-rt', keyPrefix: 'R-' });
    let crashed = false;
    await sink.deliver(mskEvent(records), {
      after: (step) => {
        if (step === 'collections-call' && !crashed) {
          crashed = true;
          throw new Error('injected crash');
        }
      },
    });
    expect(crashed).toBe(true);
    expect(sink.emulator!.org.list('Order_Event__c')).toHaveLength(450);
    expect(sink.outcomes.outcomes).toHaveLength(450);
    expect(sink.outcomes.outcomes.every((o) => o.status === 'succeeded' && o.salesforceId)).toBe(true);
    const queries = sink.emulator!.calls().filter((c) => c.path.includes('/query'));
    expect(queries.length).toBeGreaterThan(0);
  });

  it('without any unique field are reported OUTCOME_UNKNOWN, never written twice', async () => {
    const accounts = parseConfig({
      mappings: [{ topic: 'accounts-rt', sobject: 'Account', operation: 'insert' }],
    });
    sink = await startEmbedded({ config: accounts, waitMs: 5 });
    const records = Array.from({ length: 250 }, (_, i) => ({
      topic: 'accounts-rt',
      partition: 0,
      offset: i,
      value: { Name: `Account ${i}` },
    }));
    let crashed = false;
    await sink.deliver(mskEvent(records), {
      after: (step) => {
        if (step === 'collections-call' && !crashed) {
          crashed = true;
          throw new Error('injected crash');
        }
      },
    });
    expect(sink.emulator!.org.list('Account')).toHaveLength(250);
    const unknown = sink.outcomes.outcomes.filter((o) => o.errors[0]?.code === 'OUTCOME_UNKNOWN');
    // The crashed call carried one unit of 200; its records exist but could not be confirmed.
    expect(unknown).toHaveLength(200);
    expect(sink.outcomes.outcomes).toHaveLength(250);
  });
});

describe('bulk deletes by external id', () => {
  it.each(['job-create', 'upload'] as const)('are redone correctly after a crash after %s', async (step) => {
    const bulkLeads = parseConfig({
      bulk: { pollInterval: '1s' },
      mappings: [
        {
          topic: 'leads',
          sobject: 'Lead',
          externalIdField: 'CustomId__c',
          mode: 'bulk',
          unknownFields: 'ignore',
        },
      ],
    });
    sink = await startEmbedded({ config: bulkLeads, emulator: { bulkProcessingDelayMs: 2 }, waitMs: 2 });
    const records = leadStream({ topic: 'leads', leads: 9, partitions: 1, updates: 0, deleteEvery: 1 });
    let crashed = false;
    const report = await sink.deliver(mskEvent(records), {
      after: (at) => {
        // Crash while the deletes (the second bulk job) are being set up.
        if (at === step && !crashed && sink!.emulator!.org.list('Lead').length === 9) {
          crashed = true;
          throw new Error('injected crash');
        }
      },
    });
    await sink.settle();
    expect(crashed).toBe(true);
    expect(report.uncommitted).toBe(0);
    expect(sink.emulator!.org.list('Lead')).toHaveLength(0);
    expect(
      sink.outcomes.outcomes.filter((o) => o.status !== 'succeeded').map((o) => o.errors[0]?.code),
    ).toEqual([]);
    expect(new Set(sink.outcomes.outcomes.map((o) => o.offset)).size).toBe(records.length);
  });
});

describe('an org-wide refusal (daily API limit)', () => {
  it('holds the batch without marking its inserts as sent, so the redelivery writes them normally', async () => {
    const accounts = parseConfig({
      maxRetries: 0,
      apiUsageThreshold: 100,
      mappings: [{ topic: 'accounts-rt', sobject: 'Account', operation: 'insert' }],
    });
    sink = await startEmbedded({ config: accounts, waitMs: 1, hold: { pacing: { firstMs: 1, maxMs: 1 } } });
    const event = mskEvent(
      Array.from({ length: 3 }, (_, i) => ({
        topic: 'accounts-rt',
        partition: 0,
        offset: i,
        value: { Name: `A${i}` },
      })),
    );
    // Enough for the login and the describe, not for the Collections call.
    sink.emulator!.config.dailyApiMax = sink.emulator!.counters.apiCalls + 1;
    const held = await sink.invoke(event);
    expect(held.held?.reason).toBe('DAILY_API_LIMIT');
    expect(held.batchItemFailures).toEqual([{ itemIdentifier: { partition: 'accounts-rt-0', offset: 0 } }]);
    expect(sink.emulator!.org.list('Account')).toHaveLength(0);
    expect(sink.outcomes.outcomes).toEqual([]);
    sink.emulator!.config.dailyApiMax = 1_000_000;
    await new Promise((resolve) => setTimeout(resolve, 5));
    const again = await sink.invoke(event);
    expect(again.batchItemFailures).toEqual([]);
    expect(sink.emulator!.org.list('Account')).toHaveLength(3);
    expect(sink.outcomes.outcomes.map((o) => o.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });
});

describe('crashes while the event source re-polls in batches of varying size', () => {
  it.each([1, 2, 3])('seed %i: nothing lost, nothing doubled, one outcome per record', async (seed) => {
    sink = await startEmbedded({ config, emulator: { bulkProcessingDelayMs: 2 }, waitMs: 2 });
    const records = workload();
    const random = seededRandom(seed * 7919);
    let crashes = 0;
    const report = await sink.consume(mskEvent(records), {
      maxBatch: 120,
      seed,
      maxInvocations: 400,
      after: () => {
        if (crashes < 8 && random() < 0.08) {
          crashes++;
          throw new Error('injected crash');
        }
      },
    });
    await sink.settle();
    expect(crashes).toBeGreaterThan(0);
    expect(report.uncommitted).toBe(0);
    const leads = sink.emulator!.org.list('Lead').map((r) => r.fields.CustomId__c as string);
    expect(leads.sort()).toEqual(
      [...sequentialLeadState(records.filter((r) => r.topic === 'sfdc-pushtopic-lead')).keys()].sort(),
    );
    const orders = sink.emulator!.org.list('Order_Event__c').map((r) => r.fields.Event_Key__c as string);
    expect(orders).toHaveLength(
      records.length - records.filter((r) => r.topic === 'sfdc-pushtopic-lead').length,
    );
    expect(new Set(orders).size).toBe(orders.length);
    const byRecord = new Map<string, Set<string>>();
    for (const o of sink.outcomes.outcomes) {
      const key = `${o.topic}/${o.partition}/${o.offset}`;
      byRecord.set(key, (byRecord.get(key) ?? new Set()).add(JSON.stringify(o)));
    }
    expect(byRecord.size).toBe(records.length);
    expect([...byRecord.values()].filter((seen) => seen.size > 1)).toEqual([]);
    const notSucceeded = sink.outcomes.outcomes.filter((o) => o.status !== 'succeeded');
    expect(notSucceeded.map((o) => [o.topic, o.offset, o.errors[0]?.code])).toEqual([]);
  });
});
