import { parseConfig } from '../../lib/config/index.ts';
import { parseJsonExact } from '../../lib/decode/exact-number.ts';
import { decodeValue, recordsOfEvent } from '../../lib/decode/index.ts';
import { indexMappings, resolveRecord } from '../../lib/resolve/resolve.ts';
import { shapeRecord } from '../../lib/shape/shape.ts';
import { schemaFromDescribe } from '../../lib/shape/sobject-schema.ts';
import { mskEvent } from '../../local/events/build-event.ts';
import { leadStream } from '../../local/events/generate.ts';
import { leadDescribe } from '../fixtures/lead-describe.ts';

const config = parseConfig({
  mappings: [
    {
      topic: 'sfdc-pushtopic-lead',
      sobject: 'Lead',
      externalIdField: 'CustomId__c',
      unknownFields: 'ignore',
      mode: 'bulk',
    },
  ],
});
const mappings = indexMappings(config);
const schema = schemaFromDescribe(leadDescribe);
const records = recordsOfEvent(mskEvent(leadStream({ leads: 10000, partitions: 3, updates: 0 })));
const texts = records.map((r) => r.value!.toString('utf8'));
const R = /[:,[][\s-]*\d[\d.]*(?:[\d.]{15}|[eE][+-]?\d{3})/;
console.log('regex matches', texts.filter((t) => R.test(t)).length);
for (let round = 0; round < 3; round++) {
  let t = performance.now();
  for (const x of texts) JSON.parse(x);
  const a = performance.now() - t;
  t = performance.now();
  for (const x of texts) parseJsonExact(x);
  const b = performance.now() - t;
  t = performance.now();
  const decoded = records.map((r) => decodeValue(r) as any);
  const c = performance.now() - t;
  t = performance.now();
  const resolved = decoded.map((d) => resolveRecord(d, mappings) as any);
  const d = performance.now() - t;
  t = performance.now();
  for (const r of resolved) shapeRecord(r, schema);
  const e = performance.now() - t;
  console.log({
    parse: a.toFixed(0),
    exact: b.toFixed(0),
    decode: c.toFixed(0),
    resolve: d.toFixed(0),
    shape: e.toFixed(0),
  });
}
