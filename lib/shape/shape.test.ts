import { describe, expect, it } from 'vitest';
import { pushTopicLead } from '../../test/fixtures/index.ts';
import { leadDescribe } from '../../test/fixtures/lead-describe.ts';
import { parseConfig } from '../config/index.ts';
import { parseJsonExact } from '../decode/exact-number.ts';
import { unwrapConnectEnvelope } from '../decode/index.ts';
import type { DecodedRecord, JsonObject, Rejection } from '../records.ts';
import { isRejection } from '../records.ts';
import { indexMappings, type ResolvedRecord, resolveRecord } from '../resolve/resolve.ts';
import { type ShapedRecord, shapeRecord } from './shape.ts';
import { schemaFromDescribe } from './sobject-schema.ts';

const lead = schemaFromDescribe(leadDescribe);

function decoded(value: JsonObject, topic = 'leads'): DecodedRecord {
  return { topic, partition: 0, offset: 9, timestamp: 0, key: 'k', headers: [], value };
}

function resolve(value: JsonObject, mapping: object = {}): ResolvedRecord | Rejection {
  const config = parseConfig({ mappings: [{ topic: 'leads', sobject: 'Lead', ...mapping }] });
  return resolveRecord(decoded(value), indexMappings(config));
}

function shaped(value: JsonObject, mapping: object = {}, withSchema = true): ShapedRecord {
  const resolved = resolve(value, mapping);
  if (isRejection(resolved)) throw new Error(`${resolved.code}: ${resolved.message}`);
  const result = shapeRecord(resolved, withSchema ? lead : undefined);
  if (isRejection(result)) throw new Error(`${result.code}: ${result.message}`);
  return result;
}

function rejection(value: JsonObject, mapping: object = {}, withSchema = true): Rejection {
  const resolved = resolve(value, mapping);
  const result = isRejection(resolved) ? resolved : shapeRecord(resolved, withSchema ? lead : undefined);
  if (!isRejection(result)) throw new Error('expected a rejection');
  return result;
}

describe('resolve: operation from _EventType', () => {
  it.each([
    ['created', {}, 'insert'],
    ['updated', {}, 'update'],
    ['deleted', {}, 'delete'],
    ['undeleted', {}, 'insert'],
    ['created', { externalIdField: 'CustomId__c' }, 'upsert'],
    ['updated', { externalIdField: 'CustomId__c' }, 'upsert'],
    ['undeleted', { externalIdField: 'CustomId__c' }, 'upsert'],
    ['deleted', { externalIdField: 'CustomId__c' }, 'delete'],
    ['deleted', { mode: 'bulk', operation: 'hardDelete' }, 'hardDelete'],
  ])('%s with %o → %s', (eventType, mapping, operation) => {
    const resolved = resolve(
      { Id: '00Q7R00001lsWLiUAM', CustomId__c: 'C-1', _EventType: eventType },
      mapping,
    );
    expect(isRejection(resolved) ? resolved.code : resolved.operation).toBe(operation);
  });

  it('uses the mapping operation for every record when overridden, and when _EventType is absent', () => {
    const value = { Id: '00Q7R00001lsWLiUAM', _EventType: 'deleted' };
    expect((resolve(value, { eventType: 'override', operation: 'update' }) as ResolvedRecord).operation).toBe(
      'update',
    );
    expect((resolve({ Id: '00Q7R00001lsWLiUAM' }, { operation: 'update' }) as ResolvedRecord).operation).toBe(
      'update',
    );
  });

  it('rejects unknown event types, unmapped topics and a mismatched _ObjectType', () => {
    expect(rejection({ _EventType: 'merged' }).code).toBe('UNKNOWN_EVENT_TYPE');
    expect(rejection({ _EventType: 7 }).code).toBe('UNKNOWN_EVENT_TYPE');
    const config = parseConfig({ mappings: [{ topic: 'leads', sobject: 'Lead' }] });
    const unmapped = resolveRecord(decoded({}, 'contacts'), indexMappings(config));
    expect(isRejection(unmapped) && unmapped.code).toBe('UNMAPPED_TOPIC');
    expect(isRejection(unmapped) && unmapped.message).toContain('topic "contacts" has no mapping');
    expect(rejection({ _ObjectType: 'Contact' }).code).toBe('OBJECT_TYPE_MISMATCH');
  });

  it('needs an Id for update and delete, and the external id for upsert or when one is configured', () => {
    expect(rejection({ _EventType: 'updated', LastName: 'x' }).code).toBe('MISSING_ID');
    expect(rejection({ _EventType: 'deleted', Id: '' }).code).toBe('MISSING_ID');
    const missingExt = rejection(
      { _EventType: 'created', Id: '00Q7R00001lsWLiUAM' },
      { externalIdField: 'CustomId__c' },
    );
    expect(missingExt).toMatchObject({ code: 'MISSING_EXTERNAL_ID', fields: ['CustomId__c'] });
    expect(
      rejection({ _EventType: 'deleted', Id: '00Q7R00001lsWLiUAM' }, { externalIdField: 'CustomId__c' }).code,
    ).toBe('MISSING_EXTERNAL_ID');
  });
});

describe('shape', () => {
  it('drops metadata, Id, compound and non-createable fields from an insert of the PushTopic Lead', () => {
    const payload = unwrapConnectEnvelope(pushTopicLead().valueEnvelope as never) as JsonObject;
    const { fields } = shaped(payload);
    expect(fields).not.toHaveProperty('Id');
    expect(fields).not.toHaveProperty('_EventType');
    expect(fields).not.toHaveProperty('_ObjectType');
    expect(fields).not.toHaveProperty('Address');
    expect(fields).not.toHaveProperty('Name');
    expect(fields).not.toHaveProperty('CreatedDate');
    expect(fields).toMatchObject({
      LastName: 'Doe_28736',
      Company: 'Confluent',
      Status: 'Open - Not Contacted',
    });
    expect(fields.OwnerId).toBe('0052X00000AJGNCQA5');
  });

  it('without a schema, drops compound objects but keeps everything else', () => {
    const { fields } = shaped(
      {
        _EventType: 'created',
        Id: '00Q7R00001lsWLiUAM',
        LastName: 'Doe',
        Address: { City: null, Street: null },
        X: 1,
      },
      {},
      false,
    );
    expect(fields).toEqual({ LastName: 'Doe', X: 1 });
  });

  it('keeps Id for update and delete even though describe says it is not updateable', () => {
    const update = shaped({ _EventType: 'updated', Id: '00Q7R00001lsWLiUAM', LastName: 'New', Name: 'calc' });
    expect(update.fields).toEqual({ Id: '00Q7R00001lsWLiUAM', LastName: 'New' });
    const del = shaped({ _EventType: 'deleted', Id: '00Q7R00001lsWLiUAM', LastName: 'New' });
    expect(del.fields).toEqual({ Id: '00Q7R00001lsWLiUAM' });
  });

  it('keeps the external id for upsert and drops the source-org Id', () => {
    const upsert = shaped(
      { _EventType: 'updated', Id: '00Q7R00001lsWLiUAM', CustomId__c: 'C-1', LastName: 'A' },
      {
        externalIdField: 'CustomId__c',
      },
    );
    expect(upsert.fields).toEqual({ CustomId__c: 'C-1', LastName: 'A' });
    expect(upsert.address).toEqual({ field: 'CustomId__c', value: 'C-1' });
  });

  it('addresses update and delete by external id when one is configured (cross-org)', () => {
    const update = shaped(
      { Id: '00Q7R00001lsWLiUAM', CustomId__c: 'C-1', LastName: 'A' },
      {
        externalIdField: 'CustomId__c',
        operation: 'update',
      },
    );
    expect(update.fields).toEqual({ CustomId__c: 'C-1', LastName: 'A' });
    const del = shaped(
      { _EventType: 'deleted', Id: '00Q7R00001lsWLiUAM', CustomId__c: 'C-1' },
      { externalIdField: 'CustomId__c' },
    );
    expect(del.fields).toEqual({ CustomId__c: 'C-1' });
  });

  it('filters per operation: createable-only fields are sent on insert but not on update', () => {
    expect(shaped({ _EventType: 'created', LastName: 'A', Created_Once__c: 'x' }).fields).toHaveProperty(
      'Created_Once__c',
    );
    expect(
      shaped({ _EventType: 'updated', Id: '00Q7R00001lsWLiUAM', Created_Once__c: 'x' }).fields,
    ).not.toHaveProperty('Created_Once__c');
  });

  it('drops ignored fields case-insensitively', () => {
    const { fields } = shaped(
      { _EventType: 'created', LastName: 'A', company: 'Acme' },
      { ignoreFields: ['Company'] },
    );
    expect(fields).toEqual({ LastName: 'A' });
  });

  it('keeps relationship references by external id nested, with describe casing', () => {
    const { fields } = shaped({
      _EventType: 'created',
      LastName: 'A',
      account__r: { External_Id__c: 'A-1' },
    });
    expect(fields).toEqual({ LastName: 'A', Account__r: { External_Id__c: 'A-1' } });
    const noSchema = shaped({ _EventType: 'created', Account: { External_Id__c: 'A-1' } }, {}, false);
    expect(noSchema.fields).toEqual({ Account: { External_Id__c: 'A-1' } });
  });

  it('converts epoch numbers for date and datetime fields (Connect JSON without schemas)', () => {
    const { fields } = shaped({
      _EventType: 'created',
      LastName: 'A',
      Visit_Date__c: 19335,
      Last_Seen__c: 1670582776000,
    });
    expect(fields).toMatchObject({ Visit_Date__c: '2022-12-09', Last_Seen__c: '2022-12-09T10:46:16.000Z' });
  });

  it('rejects unknown fields, invalid names and wrongly typed values, naming the fields', () => {
    expect(rejection({ _EventType: 'created', LastName: 'A', Shoe_Size__c: 9 })).toMatchObject({
      code: 'UNKNOWN_FIELD',
      fields: ['Shoe_Size__c'],
    });
    expect(rejection({ _EventType: 'created', 'Last Name': 'A' }, {}, false)).toMatchObject({
      code: 'INVALID_FIELD_NAME',
      fields: ['Last Name'],
    });
    const typed = rejection({
      _EventType: 'created',
      LastName: 'A',
      NumberOfEmployees: 'many',
      IsUnreadByOwner: 'maybe',
    });
    expect(typed).toMatchObject({
      code: 'INVALID_FIELD_VALUE',
      fields: ['NumberOfEmployees', 'IsUnreadByOwner'],
    });
    expect(typed.message).not.toContain('many');
    expect(rejection({ _EventType: 'created', Tags: ['a'] }, {}, false).code).toBe('INVALID_FIELD_VALUE');
  });

  it('ignores unknown fields instead when the mapping says so', () => {
    const { fields } = shaped(
      { _EventType: 'created', LastName: 'A', Shoe_Size__c: 9 },
      { unknownFields: 'ignore' },
    );
    expect(fields).toEqual({ LastName: 'A' });
  });

  it('accepts numeric and boolean text for number and boolean fields', () => {
    const { fields } = shaped({
      _EventType: 'created',
      LastName: 'A',
      AnnualRevenue: '1000.5',
      IsUnreadByOwner: 'true',
    });
    expect(fields).toMatchObject({ AnnualRevenue: 1000.5, IsUnreadByOwner: true });
  });
});

describe('values checked by describe type, as Salesforce would', () => {
  const typed = schemaFromDescribe({
    name: 'Lead',
    fields: [
      { name: 'Id', type: 'id', createable: false, updateable: false },
      {
        name: 'CustomId__c',
        type: 'string',
        createable: true,
        updateable: true,
        externalId: true,
        length: 20,
      },
      { name: 'Title', type: 'string', createable: true, updateable: true, length: 10 },
      { name: 'Visit__c', type: 'date', createable: true, updateable: true },
      { name: 'Seen__c', type: 'datetime', createable: true, updateable: true },
      { name: 'Start__c', type: 'time', createable: true, updateable: true },
      { name: 'NumberOfEmployees', type: 'int', createable: true, updateable: true, digits: 8 },
      {
        name: 'AnnualRevenue',
        type: 'currency',
        createable: true,
        updateable: true,
        precision: 18,
        scale: 0,
      },
      { name: 'Score__c', type: 'double', createable: true, updateable: true, precision: 5, scale: 2 },
      { name: 'Active__c', type: 'boolean', createable: true, updateable: true },
    ],
  });
  const mapping = { externalIdField: 'CustomId__c' };
  const shape = (value: JsonObject) => {
    const resolved = resolve({ CustomId__c: 'C-1', ...value }, mapping);
    if (isRejection(resolved)) return resolved;
    return shapeRecord(resolved, typed);
  };
  const fieldsOf = (value: JsonObject) => {
    const result = shape(value);
    if (isRejection(result)) throw new Error(`${result.code}: ${result.message}`);
    return { ...result.fields };
  };
  const codeOf = (value: JsonObject) => {
    const result = shape(value);
    return isRejection(result) ? result.code : 'accepted';
  };

  it.each<[string, JsonObject, string]>([
    ['epoch milliseconds in a date field', { Visit__c: 1_704_067_200_000 }, 'INVALID_FIELD_VALUE'],
    ['epoch microseconds in a datetime field', { Seen__c: 1_704_067_200_000_000 }, 'INVALID_FIELD_VALUE'],
    ['epoch milliseconds in a time field', { Start__c: 1_704_067_200_000 }, 'INVALID_FIELD_VALUE'],
    ['a datetime without seconds', { Seen__c: '2024-01-02T03:04Z' }, 'INVALID_FIELD_VALUE'],
    ['a datetime without a zone', { Seen__c: '2024-01-02T03:04:05' }, 'INVALID_FIELD_VALUE'],
    ['month 13', { Visit__c: '2024-13-01' }, 'INVALID_FIELD_VALUE'],
    ['30 February', { Visit__c: '2024-02-30' }, 'INVALID_FIELD_VALUE'],
    ['hour 25', { Seen__c: '2024-01-02T25:04:05Z' }, 'INVALID_FIELD_VALUE'],
    ['the year 1699', { Visit__c: '1699-12-31' }, 'INVALID_FIELD_VALUE'],
    ['the year 4001', { Seen__c: '4001-01-01T00:00:00Z' }, 'INVALID_FIELD_VALUE'],
    ['a time without seconds', { Start__c: '10:30' }, 'INVALID_FIELD_VALUE'],
    ['12.5 in an int field', { NumberOfEmployees: 12.5 }, 'INVALID_FIELD_VALUE'],
    ['an int beyond its digits', { NumberOfEmployees: 123_456_789 }, 'NUMBER_OUTSIDE_VALID_RANGE'],
    ['an int beyond 32 bits', { NumberOfEmployees: 2 ** 31 }, 'NUMBER_OUTSIDE_VALID_RANGE'],
    ['digits beyond precision − scale', { Score__c: 1234.5 }, 'NUMBER_OUTSIDE_VALID_RANGE'],
    ['hexadecimal text in a number field', { AnnualRevenue: '0x10' }, 'INVALID_FIELD_VALUE'],
    ['a string over the field length', { Title: 'x'.repeat(11) }, 'STRING_TOO_LONG'],
    ['an external id over its field length', { CustomId__c: 'x'.repeat(21) }, 'STRING_TOO_LONG'],
    ['two spellings of one field that disagree', { Title: 'A', TITLE: 'B' }, 'DUPLICATE_FIELD'],
  ])('%s is rejected before any call', (_, value, code) => {
    expect(codeOf(value)).toBe(code);
  });

  it('1e400 is rejected, never nulled', () => {
    const { AnnualRevenue } = parseJsonExact('{"AnnualRevenue":1e400}') as JsonObject;
    expect(codeOf({ AnnualRevenue: AnnualRevenue! })).toBe('NUMBER_OUTSIDE_VALID_RANGE');
    expect(codeOf({ AnnualRevenue: Number.POSITIVE_INFINITY })).toBe('NUMBER_OUTSIDE_VALID_RANGE');
    expect(codeOf({ AnnualRevenue: '1e400' })).toBe('NUMBER_OUTSIDE_VALID_RANGE');
  });

  it('converts exactly what converts exactly: days, epoch ms, ms of the day, numeric text, decimals beyond the scale', () => {
    expect(
      fieldsOf({
        Visit__c: 19_723,
        Seen__c: 1_704_164_645_000,
        Start__c: 37_800_000,
        AnnualRevenue: ' 5000 ',
        Score__c: 123.456,
        NumberOfEmployees: 1e3,
        Active__c: 'true',
        Title: 42,
      }),
    ).toEqual({
      CustomId__c: 'C-1',
      Visit__c: '2024-01-01',
      Seen__c: '2024-01-02T03:04:05.000Z',
      Start__c: '10:30:00.000Z',
      AnnualRevenue: 5000,
      Score__c: 123.456,
      NumberOfEmployees: 1000,
      Active__c: true,
      Title: '42',
    });
  });

  it('keeps datetimes with offsets and fractions as they are', () => {
    expect(fieldsOf({ Seen__c: '2024-01-02T03:04:05.123456+05:30' }).Seen__c).toBe(
      '2024-01-02T03:04:05.123456+05:30',
    );
  });

  it('a number external id in a text field is sent as its text', () => {
    const resolved = resolve({ CustomId__c: 42 }, mapping) as ResolvedRecord;
    const result = shapeRecord(resolved, typed) as ShapedRecord;
    expect(result.fields.CustomId__c).toBe('42');
  });
});

describe('resolve: meta fields, Ids and external ids', () => {
  it.each(['_EventType', '_EVENTTYPE', '_eventtype', '_EventTYPE'])('%s deleted picks delete', (name) => {
    const resolved = resolve({ [name]: 'deleted', CustomId__c: 'C-1' }, { externalIdField: 'CustomId__c' });
    expect(isRejection(resolved) ? resolved.code : resolved.operation).toBe('delete');
  });

  it.each(['_ObjectType', '_OBJECTTYPE', '_objecttype'])('%s of another sObject is a mismatch', (name) => {
    const resolved = resolve({ [name]: 'Account', _EventType: 'created' });
    expect(isRejection(resolved) && resolved.code).toBe('OBJECT_TYPE_MISMATCH');
  });

  it('two spellings of _EventType that disagree are rejected DUPLICATE_FIELD', () => {
    const resolved = resolve({ _EventType: 'created', _EVENTTYPE: 'deleted', Id: '00Q7R00001lsWLiUAM' });
    expect(isRejection(resolved) && resolved.code).toBe('DUPLICATE_FIELD');
  });

  it('a malformed Id for update or delete is MALFORMED_ID (an insert ignores it)', () => {
    const insert = resolve({ _EventType: 'created', Id: 'not an id', LastName: 'Doe' });
    expect(isRejection(insert)).toBe(false);
    const malformed = resolve({ _EventType: 'updated', Id: 'not an id' });
    expect(isRejection(malformed) && malformed.code).toBe('MALFORMED_ID');
  });

  it('an external id over 255 characters is STRING_TOO_LONG, even without a describe', () => {
    const resolved = resolve(
      { _EventType: 'deleted', CustomId__c: 'x'.repeat(15_000) },
      { externalIdField: 'CustomId__c' },
    );
    expect(isRejection(resolved) && resolved.code).toBe('STRING_TOO_LONG');
  });
});
