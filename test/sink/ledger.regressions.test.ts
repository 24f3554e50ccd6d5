// Failure paths of the delivery ledger, one per defect found in review: each pins what a user must see.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig, type SinkConfigInput } from '../../lib/config/index.ts';
import type { Outcome } from '../../lib/outcomes/index.ts';
import { buildSchema, DEFAULT_SCHEMA_PATH } from '../../local/emulator/schema.ts';
import { type EventRecordInput, mskEvent } from '../../local/events/build-event.ts';
import { type Embedded, startEmbedded } from '../../local/runtime/embedded.ts';

let sink: Embedded | undefined;
afterEach(async () => {
  await sink?.close();
  sink = undefined;
});

async function start(input: SinkConfigInput, emulator: Record<string, unknown> = {}) {
  sink = await startEmbedded({
    config: parseConfig(input),
    emulator: { bulkProcessingDelayMs: 2, ...emulator },
    waitMs: 2,
  });
  return sink;
}

const outcomesAt = (s: Embedded, offset: number, topic?: string): Outcome[] =>
  s.outcomes.outcomes.filter((o) => o.offset === offset && (topic === undefined || o.topic === topic));

const orders = (count: number, topic = 'orders'): EventRecordInput[] =>
  Array.from({ length: count }, (_, i) => ({
    topic,
    partition: 0,
    offset: i,
    key: `K-${i}`,
    value: { Event_Key__c: `K-${i}`, Amount__c: i },
  }));

describe('the redelivery budget runs out for every operation', () => {
  const budget = { maxRetries: 0, maxRedeliveries: 2 };

  it('an insert refused with 503 on every delivery fails after maxRedeliveries + 1 deliveries', async () => {
    const s = await start({
      ...budget,
      mappings: [{ topic: 'orders', sobject: 'Order_Event__c', operation: 'insert' }],
    });
    s.emulator!.faults.add({
      route: 'collections',
      method: 'POST',
      fault: 'status',
      status: 503,
      times: 1000,
    });
    const report = await s.deliver(mskEvent(orders(1)), { maxInvocations: 12 });
    expect(report.uncommitted).toBe(0);
    expect(report.invocations).toBe(3);
    expect(outcomesAt(s, 0).map((o) => [o.status, o.errors[0]?.code, o.attempts])).toEqual([
      ['failed', 'SERVER_UNAVAILABLE', 3],
    ]);
  });

  it('a delete refused with 503 on every delivery fails after maxRedeliveries + 1 deliveries', async () => {
    const s = await start({
      ...budget,
      mappings: [{ topic: 'accounts', sobject: 'Account', operation: 'delete', eventType: 'override' }],
    });
    const [created] = s.emulator!.org.apply('insert', 'Account', [{ Name: 'Acme' }], {
      allOrNone: false,
      source: 'json',
    });
    s.emulator!.faults.add({
      route: 'collections',
      method: 'DELETE',
      fault: 'status',
      status: 503,
      times: 1000,
    });
    const event = mskEvent([{ topic: 'accounts', partition: 0, offset: 0, value: { Id: created!.id } }]);
    const report = await s.deliver(event, { maxInvocations: 12 });
    expect(report.uncommitted).toBe(0);
    expect(report.invocations).toBe(3);
    expect(outcomesAt(s, 0).map((o) => o.status)).toEqual(['failed']);
    expect(s.emulator!.org.list('Account')).toHaveLength(1);
  });

  it('an insert whose answer is lost on every delivery (500) is counted, and fails once the lookup finds nothing', async () => {
    const s = await start({
      ...budget,
      mappings: [{ topic: 'orders', sobject: 'Order_Event__c', operation: 'insert' }],
    });
    s.emulator!.faults.add({
      route: 'collections',
      method: 'POST',
      fault: 'status',
      status: 500,
      times: 1000,
    });
    const report = await s.deliver(mskEvent(orders(1)), { maxInvocations: 12 });
    expect(report.uncommitted).toBe(0);
    expect(report.invocations).toBe(3);
    expect(outcomesAt(s, 0).map((o) => [o.status, o.errors[0]?.code])).toEqual([['failed', 'RESPONSE_LOST']]);
    expect(s.emulator!.org.list('Order_Event__c')).toHaveLength(0);
  });
});

describe('an upsert that may have taken effect, whose every retry since was refused', () => {
  const config = {
    maxRetries: 0,
    maxRedeliveries: 2,
    mappings: [{ topic: 'leads', sobject: 'Lead', externalIdField: 'CustomId__c' }],
  };
  const lead = mskEvent([
    {
      topic: 'leads',
      partition: 0,
      offset: 0,
      value: { CustomId__c: 'L-1', LastName: 'Doe', Company: 'Acme' },
    },
  ]);

  it('after a crash once it was written: OUTCOME_UNKNOWN when the budget runs out, never failed for a 503', async () => {
    const s = await start(config);
    const crash = (step: string) => {
      if (step === 'collections-call') throw new Error('crash');
    };
    await expect(s.invoke(lead, { after: crash })).rejects.toThrow('crash');
    expect(s.emulator!.org.list('Lead')).toHaveLength(1);
    s.emulator!.faults.add({ route: 'collections', fault: 'status', status: 503, times: 1000 });
    const report = await s.deliver(lead, { maxInvocations: 12 });
    expect(report.uncommitted).toBe(0);
    expect(outcomesAt(s, 0).map((o) => [o.status, o.errors[0]?.code])).toEqual([
      ['failed', 'OUTCOME_UNKNOWN'],
    ]);
  });

  it('after a 500 once it was processed: OUTCOME_UNKNOWN when the budget runs out', async () => {
    const s = await start(config);
    s.emulator!.faults.add({ route: 'collections', fault: 'status', status: 500, when: 'after' });
    s.emulator!.faults.add({ route: 'collections', fault: 'status', status: 503, nth: 2, times: 1000 });
    const report = await s.deliver(lead, { maxInvocations: 12 });
    expect(report.uncommitted).toBe(0);
    expect(s.emulator!.org.list('Lead')).toHaveLength(1);
    expect(outcomesAt(s, 0).map((o) => [o.status, o.errors[0]?.code])).toEqual([
      ['failed', 'OUTCOME_UNKNOWN'],
    ]);
  });
});

describe('a delete that took effect but whose answer was lost', () => {
  it('addressed by Id, is reported succeeded when the redelivery finds it already deleted', async () => {
    const s = await start({
      maxRetries: 0,
      mappings: [{ topic: 'accounts', sobject: 'Account', operation: 'delete', eventType: 'override' }],
    });
    const [created] = s.emulator!.org.apply('insert', 'Account', [{ Name: 'Acme' }], {
      allOrNone: false,
      source: 'json',
    });
    s.emulator!.faults.add({
      route: 'collections',
      method: 'DELETE',
      fault: 'status',
      status: 502,
      when: 'after',
    });
    const report = await s.deliver(
      mskEvent([{ topic: 'accounts', partition: 0, offset: 0, value: { Id: created!.id } }]),
    );
    expect(report.uncommitted).toBe(0);
    expect(s.emulator!.org.list('Account')).toHaveLength(0);
    expect(outcomesAt(s, 0).map((o) => [o.status, o.errors])).toEqual([['succeeded', []]]);
  });

  it('is reported succeeded when its retry within the invocation finds it already deleted (500 after commit)', async () => {
    const s = await start({
      maxRetries: 1,
      mappings: [{ topic: 'accounts', sobject: 'Account', operation: 'delete', eventType: 'override' }],
    });
    const [created] = s.emulator!.org.apply('insert', 'Account', [{ Name: 'Acme' }], {
      allOrNone: false,
      source: 'json',
    });
    s.emulator!.faults.add({
      route: 'collections',
      method: 'DELETE',
      fault: 'status',
      status: 500,
      when: 'after',
    });
    const result = await s.invoke(
      mskEvent([{ topic: 'accounts', partition: 0, offset: 0, value: { Id: created!.id } }]),
    );
    expect(result.batchItemFailures).toEqual([]);
    expect(outcomesAt(s, 0).map((o) => [o.status, o.errors])).toEqual([['succeeded', []]]);
  });

  it('addressed by external id, is reported succeeded when the redelivery finds no record left', async () => {
    const s = await start({
      maxRetries: 0,
      mappings: [
        {
          topic: 'accounts',
          sobject: 'Account',
          operation: 'delete',
          eventType: 'override',
          externalIdField: 'External_Id__c',
        },
      ],
    });
    s.emulator!.org.apply('insert', 'Account', [{ Name: 'Acme', External_Id__c: 'A-1' }], {
      allOrNone: false,
      source: 'json',
    });
    s.emulator!.faults.add({
      route: 'collections',
      method: 'DELETE',
      fault: 'status',
      status: 502,
      when: 'after',
    });
    const event = mskEvent([
      { topic: 'accounts', partition: 0, offset: 0, value: { External_Id__c: 'A-1' } },
    ]);
    const report = await s.deliver(event);
    expect(report.uncommitted).toBe(0);
    expect(s.emulator!.org.list('Account')).toHaveLength(0);
    expect(outcomesAt(s, 0).map((o) => [o.status, o.errors])).toEqual([['succeeded', []]]);
  });
});

describe('a record whose outcome is stored', () => {
  const lead = (extra: Record<string, unknown> = {}) =>
    mskEvent([
      {
        topic: 'leads',
        partition: 0,
        offset: 0,
        value: { CustomId__c: 'L-1', LastName: 'Doe', Company: 'Acme', Source_Only__c: 'x', ...extra },
      },
    ]);
  const mapping = (unknownFields: 'ignore' | 'reject', mode: 'realtime' | 'bulk' = 'realtime') => ({
    bulk: { pollInterval: '1s' },
    mappings: [{ topic: 'leads', sobject: 'Lead', externalIdField: 'CustomId__c', unknownFields, mode }],
  });

  it('keeps it when the configuration changed before the redelivery (realtime: never rejected afterwards)', async () => {
    const s = await start(mapping('ignore'));
    const crash = (step: string) => {
      if (step === 'applied-saved') throw new Error('crash');
    };
    await expect(s.invoke(lead(), { after: crash })).rejects.toThrow('crash');
    s.reconfigure(parseConfig(mapping('reject')));
    await s.deliver(lead());
    expect(outcomesAt(s, 0).map((o) => o.status)).toEqual(['succeeded']);
  });

  it('keeps following its bulk job when the configuration changed (bulk: never both rejected and succeeded)', async () => {
    const s = await start(mapping('ignore', 'bulk'));
    const crash = (step: string) => {
      if (step === 'start-execution') throw new Error('crash');
    };
    await expect(s.invoke(lead(), { after: crash })).rejects.toThrow('crash');
    s.reconfigure(parseConfig(mapping('reject', 'bulk')));
    await s.deliver(lead());
    await s.settle();
    expect(outcomesAt(s, 0).map((o) => o.status)).toEqual(['succeeded']);
  });
});

describe('one event carrying the same offset twice', () => {
  it('writes the record once and gives it one outcome', async () => {
    const s = await start({ mappings: [{ topic: 'accounts', sobject: 'Account', operation: 'insert' }] });
    const record = { topic: 'accounts', partition: 0, offset: 7, value: { Name: 'Acme' } };
    const event = mskEvent([record]);
    event.records['accounts-0']!.push({ ...event.records['accounts-0']![0]! });
    await s.deliver(event);
    expect(s.emulator!.org.list('Account')).toHaveLength(1);
    expect(outcomesAt(s, 7)).toHaveLength(1);
  });
});

describe('checkpoints belong to the event source', () => {
  const config = { mappings: [{ topic: 'orders', sobject: 'Order_Event__c', operation: 'insert' as const }] };

  it('a new cluster with the same topic name has its records written, not skipped as already done', async () => {
    const s = await start(config);
    await s.deliver(mskEvent(orders(5)));
    const other = {
      ...mskEvent(orders(5).map((r) => ({ ...r, value: { Event_Key__c: `NEW-${r.offset}` } }))),
      eventSourceArn:
        'arn:aws:kafka:us-east-1:123456789012:cluster/other/11111111-1111-1111-1111-111111111111-1',
    };
    await s.deliver(other);
    const keys = s.emulator!.org.list('Order_Event__c').map((r) => r.fields.Event_Key__c);
    expect(keys.filter((k) => String(k).startsWith('NEW-'))).toHaveLength(5);
    expect(s.outcomes.outcomes).toHaveLength(10);
  });

  it('a re-created topic (offsets start over, newer records) has its records written', async () => {
    const s = await start(config);
    await s.deliver(mskEvent(orders(5)));
    const recreated = orders(3).map((r) => ({
      ...r,
      value: { Event_Key__c: `AGAIN-${r.offset}` },
      timestamp: 1_800_000_000_000 + r.offset,
    }));
    await s.deliver(mskEvent(recreated));
    const keys = s.emulator!.org.list('Order_Event__c').map((r) => String(r.fields.Event_Key__c));
    expect(keys.filter((k) => k.startsWith('AGAIN-'))).toHaveLength(3);
  });

  it('a redelivery of what was written is still skipped', async () => {
    const s = await start(config);
    await s.deliver(mskEvent(orders(5)));
    await s.deliver(mskEvent(orders(5)));
    expect(s.emulator!.org.list('Order_Event__c')).toHaveLength(5);
    expect(s.outcomes.outcomes).toHaveLength(5);
  });
});

/** The default schema with Order_Event__c's external id not marked unique: nothing stops a duplicate. */
function schemaWithoutUnique() {
  const file = JSON.parse(readFileSync(DEFAULT_SCHEMA_PATH, 'utf8'));
  for (const sobject of file.sobjects)
    for (const field of sobject.fields) if (field.name === 'Event_Key__c') field.unique = false;
  return buildSchema(file);
}

describe('two invocations of one partition at once (a rebalance)', () => {
  it('an insert still on the wire is not looked up and sent again by the newer invocation', async () => {
    const s = await start(
      { mappings: [{ topic: 'orders', sobject: 'Order_Event__c', operation: 'insert' }] },
      { schema: schemaWithoutUnique() },
    );
    s.emulator!.faults.add({ route: 'collections', method: 'POST', fault: 'latency', ms: 600 });
    const event = mskEvent(orders(3));
    const older = s.invoke(event);
    await new Promise((resolve) => setTimeout(resolve, 150));
    // Whichever of the two finds the other's checkpoint write stops; neither may write twice.
    await Promise.allSettled([older, s.invoke(event)]);
    await s.deliver(event);
    expect(s.emulator!.org.list('Order_Event__c')).toHaveLength(3);
    for (const offset of [0, 1, 2]) expect(outcomesAt(s, offset)).toHaveLength(1);
  });

  it("an upsert still on the wire is not overtaken by the newer invocation's later change of the same record", async () => {
    const s = await start({
      mappings: [{ topic: 'leads', sobject: 'Lead', externalIdField: 'CustomId__c' }],
    });
    s.emulator!.faults.add({ route: 'collections', method: 'PATCH', fault: 'latency', ms: 600 });
    const first = {
      topic: 'leads',
      partition: 0,
      offset: 0,
      value: { CustomId__c: 'L-1', LastName: 'v1', Company: 'Acme' },
    };
    const second = { ...first, offset: 1, value: { ...first.value, LastName: 'v2' } };
    const older = s.invoke(mskEvent([first]));
    await new Promise((resolve) => setTimeout(resolve, 150));
    await s.deliver(mskEvent([first, second]));
    await older.catch(() => undefined);
    expect(s.emulator!.org.list('Lead').map((r) => r.fields.LastName)).toEqual(['v2']);
  });
});

describe('a write sent before, whose answer never came', () => {
  const crashAfterWrite = (step: string) => {
    if (step === 'collections-call') throw new Error('crash');
  };
  const lead = mskEvent([
    {
      topic: 'leads',
      partition: 0,
      offset: 0,
      value: { CustomId__c: 'L-1', LastName: 'Doe', Company: 'Acme' },
    },
  ]);
  const leads = (mapping: Record<string, unknown>) => ({
    maxRetries: 0,
    bulk: { pollInterval: '5s' },
    mappings: [{ topic: 'leads', sobject: 'Lead', externalIdField: 'CustomId__c', ...mapping }],
  });

  it('is OUTCOME_UNKNOWN, not failed as never written, when its mapping no longer works with the org', async () => {
    const s = await start(leads({}));
    await expect(s.invoke(lead, { after: crashAfterWrite })).rejects.toThrow('crash');
    expect(s.emulator!.org.list('Lead')).toHaveLength(1);
    s.reconfigure(parseConfig(leads({ externalIdField: 'Company' })));
    const report = await s.deliver(lead);
    expect(report.uncommitted).toBe(0);
    expect(outcomesAt(s, 0).map((o) => [o.status, o.errors[0]?.code])).toEqual([
      ['failed', 'OUTCOME_UNKNOWN'],
    ]);
    expect(outcomesAt(s, 0)[0]!.errors[0]!.message).toMatch(/INVALID_EXTERNAL_ID_FIELD|External ID/);
  });

  it('is written by the bulk path when the mapping moved to bulk meanwhile (an upsert may be repeated)', async () => {
    const s = await start(leads({}));
    await expect(s.invoke(lead, { after: crashAfterWrite })).rejects.toThrow('crash');
    s.reconfigure(parseConfig(leads({ mode: 'bulk' })));
    const report = await s.deliver(lead);
    await s.settle();
    expect(report.uncommitted).toBe(0);
    expect(outcomesAt(s, 0).map((o) => o.status)).toEqual(['succeeded']);
    expect(s.emulator!.org.list('Lead')).toHaveLength(1);
  });

  it('two inserts of one unique value: the one record found settles only the first, the other is not called written', async () => {
    const s = await start({
      maxRetries: 0,
      mappings: [{ topic: 'orders', sobject: 'Order_Event__c', operation: 'insert' }],
    });
    // The second is refused as a duplicate of the first, but the answer saying so is lost.
    s.emulator!.faults.add({ route: 'collections', fault: 'reset', when: 'after' });
    const twice = orders(2).map((r) => ({ ...r, value: { Event_Key__c: 'K-same', Amount__c: r.offset } }));
    const report = await s.deliver(mskEvent(twice));
    expect(report.uncommitted).toBe(0);
    expect(s.emulator!.org.list('Order_Event__c')).toHaveLength(1);
    const statuses = [0, 1].map((offset) => outcomesAt(s, offset).map((o) => o.status));
    expect(statuses).toEqual([['succeeded'], ['failed']]);
    expect(outcomesAt(s, 1)[0]!.errors[0]!.code).toBe('OUTCOME_UNKNOWN');
  });

  it('an insert looked up by an external id several records share is not inserted again', async () => {
    const s = await start(
      { maxRetries: 0, mappings: [{ topic: 'orders', sobject: 'Order_Event__c', operation: 'insert' }] },
      { schema: schemaWithoutUnique() },
    );
    s.emulator!.org.apply('insert', 'Order_Event__c', [{ Event_Key__c: 'K-0', Amount__c: 99 }], {
      allOrNone: false,
      source: 'json',
    });
    s.emulator!.faults.add({ route: 'collections', fault: 'reset', when: 'after' });
    const report = await s.deliver(mskEvent(orders(1)));
    expect(report.uncommitted).toBe(0);
    expect(s.emulator!.org.list('Order_Event__c')).toHaveLength(2);
    expect(outcomesAt(s, 0).map((o) => [o.status, o.errors[0]?.code])).toEqual([
      ['failed', 'OUTCOME_UNKNOWN'],
    ]);
  });
});
