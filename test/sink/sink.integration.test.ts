// The sink end to end on the real stand-ins: Salesforce emulator, dynalite, the bulk state machine on
// aws-local-stepfunctions, the event source mapping's redelivery rules.
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig, type SinkConfigInput } from '../../lib/config/index.ts';
import type { JsonObject } from '../../lib/records.ts';
import { mskEvent } from '../../local/events/build-event.ts';
import { leadStream, orderEvents, sequentialLeadState } from '../../local/events/generate.ts';
import { type Embedded, startEmbedded } from '../../local/runtime/embedded.ts';

const COMPARED = ['LastName', 'FirstName', 'Company', 'Email', 'Status', 'Title', 'NumberOfEmployees'];

const baseConfig: SinkConfigInput = {
  maxRetries: 3,
  bulk: { pollInterval: '1s', maxPollInterval: '5s' },
  mappings: [
    {
      topic: 'sfdc-pushtopic-lead',
      sobject: 'Lead',
      externalIdField: 'CustomId__c',
      unknownFields: 'ignore',
    },
    { topic: 'order-events', sobject: 'Order_Event__c', mode: 'bulk', operation: 'insert' },
  ],
};

let sink: Embedded | undefined;
afterEach(async () => {
  await sink?.close();
  sink = undefined;
});

async function start(config: SinkConfigInput = baseConfig, emulator = {}) {
  sink = await startEmbedded({
    config: parseConfig(config),
    emulator: { bulkProcessingDelayMs: 5, ...emulator },
    waitMs: 5,
  });
  return sink;
}

function leadsInOrg(s: Embedded): Map<string, Record<string, unknown>> {
  return new Map(s.emulator!.org.list('Lead').map((r) => [r.fields.CustomId__c as string, r.fields]));
}

function expectOrgMatchesReplay(s: Embedded, expected: Map<string, JsonObject>) {
  const actual = leadsInOrg(s);
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [id, fields] of expected) {
    for (const field of COMPARED) expect(actual.get(id)![field], `${id}.${field}`).toEqual(fields[field]);
  }
}

function expectOneOutcomePerRecord(
  s: Embedded,
  records: readonly { topic: string; partition: number; offset: number }[],
) {
  const seen = new Map<string, number>();
  for (const o of s.outcomes.outcomes) {
    const key = `${o.topic}/${o.partition}/${o.offset}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  const missing = records.filter((r) => !seen.has(`${r.topic}/${r.partition}/${r.offset}`));
  expect(missing).toEqual([]);
  expect([...seen.values()].filter((n) => n > 1)).toEqual([]);
  expect(seen.size).toBe(records.length);
}

describe('sink on the local stand-ins', () => {
  it('a PushTopic Lead stream across 3 partitions ends as a sequential replay would leave the org', async () => {
    const s = await start();
    const records = leadStream({ leads: 60, partitions: 3, updates: 2, deleteEvery: 4 });
    const report = await s.deliver(mskEvent(records));
    expect(report.uncommitted).toBe(0);
    expectOrgMatchesReplay(s, sequentialLeadState(records));
    expectOneOutcomePerRecord(s, records);
    expect(s.outcomes.outcomes.filter((o) => o.status !== 'succeeded')).toEqual([]);
  });

  it('a 10,000-record bulk topic ends with 10,000 records and 10,000 succeeded outcomes at the right offsets', async () => {
    const s = await start();
    const records = orderEvents({ count: 10_000, partitions: 2 });
    const report = await s.deliver(mskEvent(records));
    await s.settle();
    expect(report.uncommitted).toBe(0);
    const inOrg = s.emulator!.org.list('Order_Event__c');
    expect(inOrg).toHaveLength(10_000);
    const byId = new Map(inOrg.map((r) => [r.id, r.fields.Event_Key__c]));
    const outcomes = s.outcomes.outcomes;
    expect(outcomes).toHaveLength(10_000);
    for (const o of outcomes) {
      expect(o.status).toBe('succeeded');
      expect(o.bulkJobId).toMatch(/^750/);
      // The result files are out of order: the Id must still belong to this record's row.
      expect(byId.get(o.salesforceId!)).toBe(`E-${o.partition}-${o.offset}`);
    }
    expect(s.emulator!.counters.bulkBatches).toBe(1);
  });

  it('in bulk mode too, created → updated → deleted of one record apply in Kafka order (one job at a time per partition)', async () => {
    const s = await start({
      ...baseConfig,
      mappings: [
        {
          topic: 'sfdc-pushtopic-lead',
          sobject: 'Lead',
          externalIdField: 'CustomId__c',
          mode: 'bulk',
          unknownFields: 'ignore',
        },
      ],
    });
    const records = leadStream({ leads: 40, partitions: 2, updates: 2, deleteEvery: 4 });
    const report = await s.deliver(mskEvent(records), { maxInvocations: 500 });
    await s.settle();
    expect(report.uncommitted).toBe(0);
    expectOrgMatchesReplay(s, sequentialLeadState(records));
    expectOneOutcomePerRecord(s, records);
    expect(s.outcomes.outcomes.filter((o) => o.status !== 'succeeded')).toEqual([]);
  });

  it('never has more bulk jobs open than bulk.maxConcurrentJobs; the rest wait and are not dropped', async () => {
    // Jobs take a while, so they would overlap if the limit let them.
    const s = await start(
      { ...baseConfig, bulk: { ...baseConfig.bulk, batchSize: 100, maxConcurrentJobs: 1 } },
      { bulkProcessingDelayMs: 200 },
    );
    // Three partitions: without the limit, three jobs (one per partition) would run at once.
    const records = orderEvents({ count: 300, partitions: 3 });
    let open = 0;
    let maxOpen = 0;
    const jobs = s.salesforce.bulk;
    const create = jobs.create.bind(jobs);
    jobs.create = async (...args) => {
      const job = await create(...args);
      const running = s
        .emulator!.bulk.jobs()
        .filter((j) => !['JobComplete', 'Failed', 'Aborted'].includes(j.state));
      open = running.length;
      maxOpen = Math.max(maxOpen, open);
      return job;
    };
    const report = await s.deliver(mskEvent(records), { maxInvocations: 500 });
    await s.settle();
    expect(report.uncommitted).toBe(0);
    expect(maxOpen).toBe(1);
    expect(s.emulator!.org.list('Order_Event__c')).toHaveLength(300);
    expectOneOutcomePerRecord(s, records);
  });

  it('bad input never blocks: each bad record is rejected with its code, the rest are written', async () => {
    const s = await start({
      ...baseConfig,
      mappings: [
        ...baseConfig.mappings!,
        { topic: 'leads-by-id', sobject: 'Lead', operation: 'update', unknownFields: 'ignore' },
      ],
    });
    const event = mskEvent([
      { topic: 'sfdc-pushtopic-lead', partition: 0, offset: 0, value: 'not json {' },
      {
        topic: 'sfdc-pushtopic-lead',
        partition: 0,
        offset: 1,
        value: { _EventType: 'created', LastName: 'Ok', Company: 'A', CustomId__c: 'C-1' },
      },
      { topic: 'unmapped-topic', partition: 0, offset: 0, value: { a: 1 } },
      { topic: 'leads-by-id', partition: 0, offset: 0, value: { _EventType: 'updated', LastName: 'No Id' } },
      {
        topic: 'sfdc-pushtopic-lead',
        partition: 1,
        offset: 0,
        value: { _EventType: 'created', LastName: 'Ok2', Company: 'B', CustomId__c: 'C-2' },
      },
    ]);
    const result = await s.invoke(event);
    expect(result.batchItemFailures).toEqual([]);
    expect(result.summary.checkpointLag).toBe(0);
    expect(result.summary.byTarget).toEqual({
      'Lead|realtime': { succeeded: 2, failed: 0, rejected: 2 },
      '(unmapped)|': { succeeded: 0, failed: 0, rejected: 1 },
    });
    const codes = s.outcomes.outcomes
      .filter((o) => o.status === 'rejected')
      .map((o) => [o.topic, o.offset, o.errors[0]!.code])
      .sort();
    expect(codes).toEqual([
      ['leads-by-id', 0, 'MISSING_ID'],
      ['sfdc-pushtopic-lead', 0, 'INVALID_JSON'],
      ['unmapped-topic', 0, 'UNMAPPED_TOPIC'],
    ]);
    expect([...leadsInOrg(s).keys()].sort()).toEqual(['C-1', 'C-2']);
  });

  it('a 503 storm on one sObject hands back exactly the affected partitions from the first unapplied offset', async () => {
    const s = await start({
      ...baseConfig,
      mappings: [
        ...baseConfig.mappings!,
        { topic: 'accounts', sobject: 'Account', externalIdField: 'External_Id__c' },
      ],
    });
    s.emulator!.faults.add({
      fault: 'status',
      status: 503,
      route: 'collections',
      path: 'Account',
      times: 'always',
    });
    const event = mskEvent([
      {
        topic: 'accounts',
        partition: 0,
        offset: 5,
        value: { _EventType: 'created', Name: 'A', External_Id__c: 'A-1' },
      },
      {
        topic: 'accounts',
        partition: 0,
        offset: 6,
        value: { _EventType: 'created', Name: 'B', External_Id__c: 'A-2' },
      },
      {
        topic: 'accounts',
        partition: 1,
        offset: 9,
        value: { _EventType: 'created', Name: 'C', External_Id__c: 'A-3' },
      },
      {
        topic: 'sfdc-pushtopic-lead',
        partition: 0,
        offset: 3,
        value: { _EventType: 'created', LastName: 'L', Company: 'C', CustomId__c: 'C-9' },
      },
    ]);
    const result = await s.invoke(event);
    expect(
      result.batchItemFailures.sort((a, b) =>
        a.itemIdentifier.partition.localeCompare(b.itemIdentifier.partition),
      ),
    ).toEqual([
      { itemIdentifier: { partition: 'accounts-0', offset: 5 } },
      { itemIdentifier: { partition: 'accounts-1', offset: 9 } },
    ]);
    expect(leadsInOrg(s).has('C-9')).toBe(true);
    // accounts-1 got nothing done: its checkpoint is 10 offsets behind the last delivered one (9, from -1).
    expect(result.summary.checkpointLag).toBe(10);
    expect(s.outcomes.outcomes.map((o) => o.topic)).toEqual(['sfdc-pushtopic-lead']);
  });
});
