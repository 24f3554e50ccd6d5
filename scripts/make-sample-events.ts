// Regenerates the sample events in events/ (deterministic): `node scripts/make-sample-events.ts`.
import { writeFileSync } from 'node:fs';
import { mskEvent } from '../local/events/build-event.ts';
import { leadStream, orderEvents } from '../local/events/generate.ts';

const write = (name: string, value: unknown) => {
  writeFileSync(`events/${name}`, `${JSON.stringify(value, null, 1)}\n`);
  console.log(`wrote events/${name}`);
};

write(
  '01-pushtopic-leads.json',
  mskEvent(leadStream({ leads: 120, partitions: 3, updates: 2, deleteEvery: 5 })),
);
write('02-order-events-bulk.json', mskEvent(orderEvents({ count: 10_000, partitions: 2 })));
write(
  '03-bad-records.json',
  mskEvent([
    { topic: 'sfdc-pushtopic-lead', partition: 3, offset: 0, key: 'bad-1', value: 'this is not JSON' },
    { topic: 'sfdc-pushtopic-lead', partition: 3, offset: 1, key: 'bad-2', value: [1, 2, 3] },
    {
      topic: 'sfdc-pushtopic-lead',
      partition: 3,
      offset: 2,
      key: 'bad-3',
      value: { _EventType: 'created', LastName: 'No external id', Company: 'Acme' },
    },
    {
      topic: 'sfdc-pushtopic-lead',
      partition: 3,
      offset: 3,
      key: 'bad-4',
      value: { _EventType: 'merged', CustomId__c: 'CUST-X' },
    },
    {
      topic: 'sfdc-pushtopic-lead',
      partition: 3,
      offset: 4,
      key: 'bad-5',
      value: {
        _EventType: 'created',
        CustomId__c: 'CUST-Y',
        LastName: 'Typed',
        Company: 'Acme',
        NumberOfEmployees: 'many',
      },
    },
    { topic: 'inventory-changes', partition: 0, offset: 0, key: 'bad-6', value: { sku: 'A-1' } },
  ]),
);
