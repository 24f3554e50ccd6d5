// Bad values through the whole handler on the local stand-ins (the strict emulator, dynalite, the bulk
// state machine): they never block a batch, never change data silently, and never take good records
// down with them.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig, type SinkConfigInput } from '../../lib/config/index.ts';
import type { Outcome } from '../../lib/outcomes/index.ts';
import { withField } from '../../local/emulator/schema.ts';
import { type EventRecordInput, mskEvent } from '../../local/events/build-event.ts';
import { type Embedded, startEmbedded } from '../../local/runtime/embedded.ts';

const LEADS = 'leads';
const LEADS_BULK = 'leads-bulk';
const ORDERS = 'orders';
const ORDERS_BULK = 'orders-bulk';
const LEAD_UPDATES = 'lead-updates';
const LEAD_IDS = 'lead-ids';

const config: SinkConfigInput = {
  maxRetries: 1,
  maxRedeliveries: 1,
  bulk: { pollInterval: '1s', maxPollInterval: '5s' },
  mappings: [
    { topic: LEADS, sobject: 'Lead', externalIdField: 'CustomId__c' },
    { topic: LEADS_BULK, sobject: 'Lead', externalIdField: 'CustomId__c', mode: 'bulk' },
    { topic: ORDERS, sobject: 'Order_Event__c', operation: 'insert' },
    { topic: ORDERS_BULK, sobject: 'Order_Event__c', operation: 'insert', mode: 'bulk' },
    {
      topic: LEAD_UPDATES,
      sobject: 'Lead',
      externalIdField: 'CustomId__c',
      operation: 'update',
      eventType: 'override',
    },
    { topic: LEAD_IDS, sobject: 'Lead', operation: 'update', eventType: 'override' },
  ],
};

let sink: Embedded | undefined;
afterEach(async () => {
  await sink?.close();
  sink = undefined;
});

async function start(): Promise<Embedded> {
  sink = await startEmbedded({
    config: parseConfig(config),
    emulator: { bulkProcessingDelayMs: 5 },
    waitMs: 5,
  });
  return sink;
}

const offsets = new Map<string, number>();
/** Records with offsets that continue per topic-partition across the test. */
function records(inputs: Array<Omit<EventRecordInput, 'offset'>>): EventRecordInput[] {
  return inputs.map((r) => {
    const key = `${r.topic}-${r.partition}`;
    const offset = offsets.get(key) ?? 0;
    offsets.set(key, offset + 1);
    return { ...r, offset };
  });
}

async function deliver(s: Embedded, batch: EventRecordInput[]) {
  const before = s.outcomes.outcomes.length;
  const report = await s.deliver(mskEvent(batch), { maxInvocations: 50 });
  await s.settle();
  const outcomes = s.outcomes.outcomes.slice(before);
  const of = (r: EventRecordInput): Outcome[] =>
    outcomes.filter((o) => o.topic === r.topic && o.partition === r.partition && o.offset === r.offset);
  return { report, outcomes, of };
}

const lead = (customId: string, extra: Record<string, unknown> = {}) => ({
  _EventType: 'created',
  CustomId__c: customId,
  LastName: `Doe ${customId}`,
  Company: 'Acme',
  ...extra,
});

const leadInOrg = (s: Embedded, customId: string) => s.emulator!.org.findBy('Lead', 'CustomId__c', customId);

describe('bad values never block, never change silently, never take good records down', () => {
  it('epoch milliseconds in a date field are rejected (INVALID_FIELD_VALUE); good records on the other partition are written', async () => {
    const s = await start();
    const batch = records([
      { topic: ORDERS, partition: 0, value: { Event_Key__c: 'O-1', Event_Date__c: 19_723 } },
      { topic: ORDERS, partition: 1, value: { Event_Key__c: 'O-2', Event_Date__c: 1_704_067_200_000 } },
      { topic: ORDERS_BULK, partition: 0, value: { Event_Key__c: 'O-3', Event_Date__c: 1_704_067_200_000 } },
      { topic: ORDERS_BULK, partition: 1, value: { Event_Key__c: 'O-4', Event_Date__c: '2024-01-01' } },
    ]);

    const { report, of } = await deliver(s, batch);

    expect(report.crashes).toBe(0);
    expect(report.uncommitted).toBe(0);
    expect(of(batch[0]!)).toMatchObject([{ status: 'succeeded' }]);
    expect(of(batch[1]!)).toMatchObject([{ status: 'rejected', errors: [{ code: 'INVALID_FIELD_VALUE' }] }]);
    expect(of(batch[2]!)).toMatchObject([{ status: 'rejected', errors: [{ code: 'INVALID_FIELD_VALUE' }] }]);
    expect(of(batch[3]!)).toMatchObject([{ status: 'succeeded' }]);
    const dates = s.emulator!.org.list('Order_Event__c').map((r) => r.fields.Event_Date__c);
    expect(dates.sort()).toEqual(['2024-01-01', '2024-01-01']);
  });

  it('1e400 is rejected, never nulled: AnnualRevenue 5000 stays, realtime and bulk', async () => {
    const s = await start();
    await deliver(s, records([{ topic: LEADS, partition: 0, value: lead('R-1', { AnnualRevenue: 5000 }) }]));
    const text = (id: string) =>
      `{"_EventType":"updated","CustomId__c":"${id}","LastName":"Doe","Company":"Acme","AnnualRevenue":1e400}`;
    const batch = records([
      { topic: LEADS, partition: 0, value: text('R-1') },
      { topic: LEADS_BULK, partition: 0, value: text('R-1') },
      { topic: LEADS_BULK, partition: 1, value: lead('R-2', { AnnualRevenue: 7 }) },
    ]);

    const { report, of } = await deliver(s, batch);

    expect(report.crashes).toBe(0);
    for (const r of batch.slice(0, 2)) {
      expect(of(r)).toMatchObject([{ status: 'rejected', errors: [{ code: 'NUMBER_OUTSIDE_VALID_RANGE' }] }]);
    }
    expect(of(batch[2]!)).toMatchObject([{ status: 'succeeded' }]);
    expect(leadInOrg(s, 'R-1')[0]!.fields.AnnualRevenue).toBe(5000);
  });

  it('integers beyond 2^53 keep their digits: external ids …993 and …992 are two records; a Connect Decimal 123456789012345678 is written exactly, in JSON and in CSV', async () => {
    const s = await start();
    const unscaled = 123456789012345678n;
    const bytes = Buffer.from(unscaled.toString(16).padStart(16, '0'), 'hex').toString('base64');
    const envelope = (customId: string) => ({
      schema: {
        type: 'struct',
        fields: [
          { field: 'CustomId__c', type: 'string' },
          { field: 'LastName', type: 'string' },
          { field: 'Company', type: 'string' },
          {
            field: 'AnnualRevenue',
            type: 'bytes',
            name: 'org.apache.kafka.connect.data.Decimal',
            parameters: { scale: '0' },
          },
        ],
      },
      payload: { CustomId__c: customId, LastName: 'Doe', Company: 'Acme', AnnualRevenue: bytes },
    });
    const batch = records([
      {
        topic: LEADS,
        partition: 0,
        value: '{"CustomId__c":9007199254740993,"LastName":"A","Company":"Acme"}',
      },
      {
        topic: LEADS,
        partition: 1,
        value: '{"CustomId__c":9007199254740992,"LastName":"B","Company":"Acme"}',
      },
      { topic: LEADS, partition: 2, value: envelope('D-1') },
      { topic: LEADS_BULK, partition: 0, value: envelope('D-2') },
    ]);

    const { report, outcomes } = await deliver(s, batch);

    expect(report.crashes).toBe(0);
    expect(outcomes.map((o) => o.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(leadInOrg(s, '9007199254740993')[0]!.fields.LastName).toBe('A');
    expect(leadInOrg(s, '9007199254740992')[0]!.fields.LastName).toBe('B');
    for (const id of ['D-1', 'D-2']) {
      const revenue = leadInOrg(s, id)[0]!.fields.AnnualRevenue as { rawJSON: string };
      expect(revenue.rawJSON).toBe('123456789012345678');
    }
  });

  it('meta fields in any letter case: _EVENTTYPE deleted deletes the record', async () => {
    const s = await start();
    await deliver(s, records([{ topic: LEADS, partition: 0, value: lead('M-1') }]));
    const batch = records([
      { topic: LEADS, partition: 0, value: { _EVENTTYPE: 'deleted', CustomId__c: 'M-1' } },
      { topic: LEADS, partition: 1, value: lead('M-2', { _eventtype: 'created', _OBJECTTYPE: 'Lead' }) },
      { topic: LEADS, partition: 2, value: { _ObjectType: 'Account', CustomId__c: 'M-3' } },
    ]);

    const { of } = await deliver(s, batch);

    expect(of(batch[0]!)).toMatchObject([{ status: 'succeeded', operation: 'delete' }]);
    expect(leadInOrg(s, 'M-1')).toEqual([]);
    expect(of(batch[1]!)).toMatchObject([{ status: 'succeeded', operation: 'upsert' }]);
    expect(of(batch[2]!)).toMatchObject([{ status: 'rejected', errors: [{ code: 'OBJECT_TYPE_MISMATCH' }] }]);
  });

  it('a 15,000-character external id for update or delete is rejected STRING_TOO_LONG; its neighbours are written', async () => {
    const s = await start();
    await deliver(s, records([{ topic: LEADS, partition: 0, value: lead('U-1') }]));
    const long = 'x'.repeat(15_000);
    const batch = records([
      { topic: LEAD_UPDATES, partition: 0, value: { CustomId__c: long, Title: 'CEO' } },
      { topic: LEAD_UPDATES, partition: 1, value: { CustomId__c: 'U-1', Title: 'CTO' } },
      { topic: LEADS, partition: 1, value: { _EventType: 'deleted', CustomId__c: long } },
      { topic: LEADS_BULK, partition: 0, value: { _EventType: 'deleted', CustomId__c: long } },
    ]);

    const { report, of } = await deliver(s, batch);

    expect(report.crashes).toBe(0);
    for (const r of [batch[0]!, batch[2]!, batch[3]!]) {
      expect(of(r)).toMatchObject([{ status: 'rejected', errors: [{ code: 'STRING_TOO_LONG' }] }]);
    }
    expect(of(batch[1]!)).toMatchObject([{ status: 'succeeded' }]);
    expect(leadInOrg(s, 'U-1')[0]!.fields.Title).toBe('CTO');
  });

  it('a ~750 KB Kafka key in a bulk unit: all 10 records on 2 partitions are written, the key is stored as its digest', async () => {
    const s = await start();
    const huge = randomBytes(562_500).toString('base64');
    const batch = records(
      Array.from({ length: 10 }, (_, i) => ({
        topic: ORDERS_BULK,
        partition: i % 2,
        key: i === 3 ? huge : `k-${i}`,
        value: { Event_Key__c: `K-${i}` },
      })),
    );

    const { report, outcomes, of } = await deliver(s, batch);

    expect(report.crashes).toBe(0);
    expect(report.uncommitted).toBe(0);
    expect(outcomes.filter((o) => o.status === 'succeeded')).toHaveLength(10);
    expect(s.emulator!.org.list('Order_Event__c')).toHaveLength(10);
    expect(of(batch[3]!)[0]!.key).toMatch(/^sha256:[0-9a-f]{64} \(750000 bytes\)$/);
  });

  it('15- and 18-character forms of one Id are one ordering key: two updates of one record land in two calls, in Kafka order', async () => {
    const s = await start();
    await deliver(s, records([{ topic: LEADS, partition: 0, value: lead('I-1') }]));
    const id = leadInOrg(s, 'I-1')[0]!.id;
    const batch = records([
      { topic: LEAD_IDS, partition: 0, value: { Id: id.slice(0, 15), Title: 'first' } },
      { topic: LEAD_IDS, partition: 0, value: { Id: id, Title: 'second' } },
    ]);

    const { outcomes } = await deliver(s, batch);

    expect(outcomes.map((o) => o.status)).toEqual(['succeeded', 'succeeded']);
    expect(leadInOrg(s, 'I-1')[0]!.fields.Title).toBe('second');
  });

  it('values that pass no check of Salesforce fail no neighbour: a datetime without seconds, 30 February, hour 25, 12.5 in an int field are rejected before the call; the 196 others are written in one call', async () => {
    const s = await start();
    const bad = [
      { EmailBouncedDate: '2024-01-02T03:04Z' },
      { EmailBouncedDate: '2024-02-30T03:04:05Z' },
      { EmailBouncedDate: '2024-01-02T25:04:05Z' },
      { NumberOfEmployees: 12.5 },
    ];
    const batch = records(
      Array.from({ length: 200 }, (_, i) => ({
        topic: LEADS,
        partition: 0,
        value: lead(`B-${i}`, i % 50 === 7 ? bad[(i - 7) / 50] : {}),
      })),
    );
    const calls = s.emulator!.calls().filter((c) => c.route === 'collections').length;

    const { outcomes } = await deliver(s, batch);

    const rejected = outcomes.filter((o) => o.status === 'rejected');
    expect(rejected.map((o) => o.errors[0]!.code)).toEqual(Array(4).fill('INVALID_FIELD_VALUE'));
    expect(outcomes.filter((o) => o.status === 'succeeded')).toHaveLength(196);
    expect(s.emulator!.calls().filter((c) => c.route === 'collections').length - calls).toBe(1);
  });

  it('a bulk record whose relationship column Salesforce cannot resolve fails its own job only: the others are written', async () => {
    const s = await start();
    const batch = records([
      ...Array.from({ length: 5 }, (_, i) => ({
        topic: ORDERS_BULK,
        partition: 0,
        value: { Event_Key__c: `J-${i}` },
      })),
      { topic: ORDERS_BULK, partition: 0, value: { Event_Key__c: 'J-bad', Account__r: { Nope__c: 'x' } } },
    ]);

    const { report, of } = await deliver(s, batch);

    expect(report.uncommitted).toBe(0);
    for (const r of batch.slice(0, 5)) expect(of(r)).toMatchObject([{ status: 'succeeded' }]);
    expect(of(batch[5]!)).toMatchObject([{ status: 'failed' }]);
    expect(s.emulator!.org.list('Order_Event__c')).toHaveLength(5);
  });

  it('a field refused on an updating upsert is left out of that write only, and the outcome names it; the next creating upsert writes it', async () => {
    const s = await start();
    await deliver(s, records([{ topic: LEADS, partition: 0, value: lead('F-1') }]));
    const batch = records([
      { topic: LEADS, partition: 0, value: lead('F-1', { _EventType: 'updated', IsConverted: true }) },
    ]);
    const next = records([{ topic: LEADS, partition: 0, value: lead('F-2', { IsConverted: true }) }]);

    const first = await deliver(s, batch);
    const second = await deliver(s, next);

    expect(first.of(batch[0]!)).toMatchObject([
      { status: 'succeeded', errors: [{ code: 'INVALID_FIELD_FOR_INSERT_UPDATE', fields: ['IsConverted'] }] },
    ]);
    expect(second.of(next[0]!)).toMatchObject([{ status: 'succeeded', created: true, errors: [] }]);
    expect(leadInOrg(s, 'F-2')[0]!.fields.IsConverted).toBe(true);
  });

  it('schema drift: a field added to the org while the sink runs is written by the next record carrying it', async () => {
    const s = await start();
    await deliver(s, records([{ topic: LEADS, partition: 0, value: lead('S-1') }]));
    const org = s.emulator!.org;
    org.setSchema(withField(org.schema, 'Lead', { name: 'Tier__c', type: 'string', length: 20 }));

    const batch = records([{ topic: LEADS, partition: 0, value: lead('S-2', { Tier__c: 'gold' }) }]);
    const { of } = await deliver(s, batch);

    expect(of(batch[0]!)).toMatchObject([{ status: 'succeeded' }]);
    expect(leadInOrg(s, 'S-2')[0]!.fields.Tier__c).toBe('gold');
  });
});
