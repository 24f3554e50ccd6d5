// Sample streams for local runs, tests and the benchmark: PushTopic-style Lead changes (what Confluent's
// PushTopic source connector writes) and a bulk topic of order events. Deterministic for a seed.
import type { JsonObject } from '../../lib/records.ts';
import { seededRandom } from '../random.ts';

export { seededRandom };

import type { EventRecordInput } from './build-event.ts';

const STATUSES = [
  'Open - Not Contacted',
  'Working - Contacted',
  'Closed - Converted',
  'Closed - Not Converted',
];
const SOURCES = ['Web', 'Phone Inquiry', 'Partner Referral', 'Purchased List'];

/** A source-org Lead Id (18 characters, prefix 00Q). */
export function sourceLeadId(n: number): string {
  return `00Q7R${String(n).padStart(10, '0')}AAA`;
}

function leadFields(n: number, version: number, random: () => number): JsonObject {
  return {
    Id: sourceLeadId(n),
    IsDeleted: false,
    LastName: `Doe_${n}_${version}`,
    FirstName: `John_${Math.floor(random() * 10_000)}`,
    Salutation: null,
    Title: version > 0 ? 'VP Engineering' : null,
    Company: `Company ${n % 97}`,
    City: 'Seattle',
    State: 'WA',
    Country: 'US',
    Address: { City: 'Seattle', State: 'WA', Country: 'US', Street: null, PostalCode: null },
    Phone: `+1-206-555-${String(n % 10_000).padStart(4, '0')}`,
    Email: `lead${n}.v${version}@example.com`,
    Website: 'https://example.com',
    Description: 'Interested in the enterprise plan; follow up after the quarterly review. '.repeat(4),
    LeadSource: SOURCES[n % SOURCES.length]!,
    Status: STATUSES[version % STATUSES.length]!,
    NumberOfEmployees: 10 + (n % 5000),
    AnnualRevenue: 1_000_000 + n * 10,
    OwnerId: '0052X00000AJGNCQA5',
    CreatedDate: 1_670_582_776_000 + n * 1000,
    LastModifiedDate: 1_670_582_776_000 + n * 1000 + version,
    SystemModstamp: 1_670_582_776_000 + n * 1000 + version,
    CustomId__c: `CUST-${n}`,
    _ObjectType: 'Lead',
  };
}

export interface LeadStreamOptions {
  topic?: string;
  leads: number;
  partitions?: number;
  /** Updates per lead after its creation. */
  updates?: number;
  /** Every n-th lead is deleted at the end of its changes (0: none). */
  deleteEvery?: number;
  seed?: number;
}

/**
 * A PushTopic Lead stream: each lead is created, updated and maybe deleted, its changes in one
 * partition (keyed by Id, as the source connector does), leads interleaved across partitions.
 *
 * @example
 * const records = leadStream({ leads: 30, partitions: 3, updates: 1, deleteEvery: 3 });
 */
export function leadStream(options: LeadStreamOptions): EventRecordInput[] {
  const {
    leads,
    partitions = 3,
    updates = 1,
    deleteEvery = 0,
    seed = 7,
    topic = 'sfdc-pushtopic-lead',
  } = options;
  const random = seededRandom(seed);
  const queues: JsonObject[][] = Array.from({ length: leads }, (_, n) => {
    const changes: JsonObject[] = [{ ...leadFields(n, 0, random), _EventType: 'created' }];
    for (let v = 1; v <= updates; v++) changes.push({ ...leadFields(n, v, random), _EventType: 'updated' });
    if (deleteEvery > 0 && n % deleteEvery === 0)
      changes.push({
        Id: sourceLeadId(n),
        CustomId__c: `CUST-${n}`,
        _ObjectType: 'Lead',
        _EventType: 'deleted',
      });
    return changes;
  });
  // Interleave: repeatedly take the next change of a random lead that still has some.
  const offsets = new Array<number>(partitions).fill(0);
  const out: EventRecordInput[] = [];
  const active = queues.map((_, n) => n);
  while (active.length > 0) {
    const pick = Math.floor(random() * active.length);
    const n = active[pick]!;
    const value = queues[n]!.shift()!;
    if (queues[n]!.length === 0) active.splice(pick, 1);
    const partition = n % partitions;
    out.push({
      topic,
      partition,
      offset: offsets[partition]!++,
      key: JSON.stringify({ Id: sourceLeadId(n) }),
      value,
    });
  }
  return out;
}

/**
 * What a lead stream leaves in the target org when applied one change at a time in Kafka order:
 * external id → the fields of the last change, for leads not deleted.
 */
export function sequentialLeadState(records: readonly EventRecordInput[]): Map<string, JsonObject> {
  const state = new Map<string, JsonObject>();
  const ordered = [...records].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  for (const r of ordered) {
    const value = r.value as JsonObject;
    const id = value.CustomId__c as string;
    if (value._EventType === 'deleted') state.delete(id);
    else state.set(id, value);
  }
  return state;
}

/** Order events for a bulk topic: `count` inserts across partitions, each with a unique Event_Key__c. */
export function orderEvents(options: {
  count: number;
  partitions?: number;
  topic?: string;
  /** Prefix of Event_Key__c, which is `<prefix><partition>-<offset>`. */
  keyPrefix?: string;
}): EventRecordInput[] {
  const { count, partitions = 2, topic = 'order-events', keyPrefix = 'E-' } = options;
  const offsets = new Array<number>(partitions).fill(0);
  return Array.from({ length: count }, (_, n) => {
    const partition = n % partitions;
    const offset = offsets[partition]!++;
    return {
      topic,
      partition,
      offset,
      key: `order-${n}`,
      value: {
        Event_Key__c: `${keyPrefix}${partition}-${offset}`,
        Amount__c: Math.round(n * 13.37 * 100) / 100,
        Status__c: n % 10 === 0 ? 'Cancelled' : 'Placed',
      },
    };
  });
}
