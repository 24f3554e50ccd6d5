import { describe, expect, it } from 'vitest';
import { mskEvent } from '../local/events/build-event.ts';
import { pushTopicLead } from '../test/fixtures/index.ts';
import { leadDescribe } from '../test/fixtures/lead-describe.ts';
import { parseConfig } from './config/index.ts';
import { recordsOfEvent } from './decode/index.ts';
import { prepareBatch } from './pipeline.ts';
import { indexMappings } from './resolve/resolve.ts';
import { schemaFromDescribe } from './shape/sobject-schema.ts';

const config = parseConfig({
  mappings: [
    { topic: 'leads', sobject: 'Lead' },
    { topic: 'leads-bulk', sobject: 'Lead', mode: 'bulk', unknownFields: 'ignore' },
  ],
});
const options = {
  config,
  mappings: indexMappings(config),
  schemaOf: (sobject: string) => (sobject === 'Lead' ? schemaFromDescribe(leadDescribe) : undefined),
};

describe('prepareBatch', () => {
  it('runs a mixed MSK batch: envelopes and plain JSON across partitions, bad records rejected, order kept', () => {
    const { valueEnvelope, keyEnvelope } = pushTopicLead();
    const leadId = '00Q7R00001lsWLiUAM';
    const updated = structuredClone(valueEnvelope);
    (updated.payload as Record<string, unknown>)._EventType = 'updated';
    (updated.payload as Record<string, unknown>).LastName = 'Doe_renamed';
    const key = JSON.stringify(keyEnvelope);
    const event = mskEvent([
      { topic: 'leads', partition: 0, offset: 10, key, value: valueEnvelope },
      { topic: 'leads', partition: 0, offset: 11, key, value: updated },
      { topic: 'leads', partition: 1, offset: 3, key: 'x', value: 'not json' },
      {
        topic: 'leads',
        partition: 1,
        offset: 4,
        key: 'y',
        value: { _EventType: 'updated', LastName: 'no id' },
      },
      { topic: 'orders', partition: 0, offset: 1, value: { a: 1 } },
      {
        topic: 'leads-bulk',
        partition: 2,
        offset: 7,
        value: { _EventType: 'created', LastName: 'Bulk', Tags__c: ['a'] },
      },
      {
        topic: 'leads-bulk',
        partition: 2,
        offset: 8,
        value: { _EventType: 'created', LastName: 'Bulk2', Company: 'Acme' },
      },
    ]);
    const { plan, rejections, shaped } = prepareBatch(recordsOfEvent(event), options);

    expect(rejections.map((r) => [r.record.topic, r.record.partition, r.record.offset, r.code])).toEqual([
      ['leads', 1, 3, 'INVALID_JSON'],
      ['leads', 1, 4, 'MISSING_ID'],
      ['orders', 0, 1, 'UNMAPPED_TOPIC'],
    ]);
    // Tags__c is unknown to Lead and ignored by that mapping, so the bulk record is writable.
    expect(shaped.map((s) => s.offset)).toEqual([10, 11, 7, 8]);
    expect(plan.stages).toHaveLength(2);
    const [insert, bulk] = plan.stages[0]!;
    expect(insert!.group).toMatchObject({ sobject: 'Lead', operation: 'insert', mode: 'realtime' });
    expect(insert!.records[0]!.fields).toMatchObject({ LastName: 'Doe_28736', Company: 'Confluent' });
    expect(insert!.records[0]!.fields).not.toHaveProperty('Id');
    expect(bulk!.group).toMatchObject({ mode: 'bulk', operation: 'insert' });
    expect(bulk!.records.map((r) => r.fields.LastName)).toEqual(['Bulk', 'Bulk2']);
    const [update] = plan.stages[1]!;
    expect(update!.records[0]!.fields).toMatchObject({ Id: leadId, LastName: 'Doe_renamed' });
    expect(update!.records[0]!.key).toBe(key);
  });

  it('rejects bulk records whose values a CSV cannot carry, with VALUE_NOT_ENCODABLE', () => {
    const strict = parseConfig({ mappings: [{ topic: 'b', sobject: 'Lead', mode: 'bulk' }] });
    const event = mskEvent([
      { topic: 'b', partition: 0, offset: 0, value: { LastName: 'x', Code__c: '#N/A' } },
    ]);
    const { rejections } = prepareBatch(recordsOfEvent(event), {
      config: strict,
      mappings: indexMappings(strict),
    });
    expect(rejections[0]).toMatchObject({ code: 'VALUE_NOT_ENCODABLE', fields: ['Code__c'] });
  });
});

describe('record objects', () => {
  it('a polluted Object.prototype adds no field: the stages read own keys only', () => {
    const event = mskEvent([
      {
        topic: 'leads',
        partition: 0,
        offset: 1,
        value: { _EventType: 'updated', Id: '00Q7R00001lsWLiUAM', LastName: 'Doe' },
      },
    ]);
    Object.defineProperty(Object.prototype, 'Company', {
      value: 'Evil',
      enumerable: true,
      writable: true,
      configurable: true,
    });
    try {
      const { shaped, rejections } = prepareBatch(recordsOfEvent(event), options);
      expect(rejections).toEqual([]);
      expect(Object.keys(shaped[0]!.fields)).toEqual(['Id', 'LastName']);
    } finally {
      delete (Object.prototype as Record<string, unknown>).Company;
    }
  });
});
