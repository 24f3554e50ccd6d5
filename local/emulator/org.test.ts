// The org's per-record write semantics, without HTTP: each Salesforce statusCode it produces, CSV
// value conversion for the bulk engine, allOrNone rollback, tombstones and snapshots.

import { beforeEach, describe, expect, it } from 'vitest';
import type { ApplyOptions, RecordFields, SaveResult, WriteOperation } from './contracts.ts';
import { makeId } from './ids.ts';
import { createOrg, type EmulatorOrg, type RecordFaultHook } from './org.ts';
import { loadSchema } from './schema.ts';

const schema = loadSchema();
const USER = makeId('005', 1);
const json: ApplyOptions = { allOrNone: false, source: 'json' };
const csv: ApplyOptions = { allOrNone: false, source: 'csv' };

let org: EmulatorOrg;
let recordFault: RecordFaultHook | undefined;

beforeEach(() => {
  recordFault = undefined;
  org = createOrg({ schema, userId: USER, recordFault: (context) => recordFault?.(context) });
});

const apply = (op: WriteOperation, sobject: string, records: RecordFields[], options: ApplyOptions = json) =>
  org.apply(op, sobject, records, options);

function one(
  op: WriteOperation,
  sobject: string,
  record: RecordFields,
  options: ApplyOptions = json,
): SaveResult {
  return apply(op, sobject, [record], options)[0]!;
}

const lead = (extra: RecordFields = {}): RecordFields => ({ LastName: 'Doe', Company: 'Acme', ...extra });

function insertedId(sobject: string, record: RecordFields): string {
  const result = one('insert', sobject, record);
  expect(result.success).toBe(true);
  return result.id!;
}

const errorOf = (result: SaveResult) => result.errors[0];

describe('insert', () => {
  it('gives 18-char ids with the object key prefix and fills system fields and defaults', () => {
    const id = insertedId('Lead', lead({ FirstName: 'Jane' }));
    expect(id).toMatch(/^00Q\w{15}$/);
    const record = org.get(id)!;
    expect(record.fields).toMatchObject({
      Id: id,
      IsDeleted: false,
      Name: 'Jane Doe',
      Status: 'Open - Not Contacted',
      OwnerId: USER,
      CreatedById: USER,
      IsConverted: false,
    });
    expect(record.fields.CreatedDate).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    expect(insertedId('Order_Event__c', { Event_Key__c: 'E1' })).toMatch(/^a0X/);
  });

  it('defaults a custom object Name to the record id', () => {
    const id = insertedId('Order_Event__c', { Event_Key__c: 'E1' });
    expect(org.get(id)!.fields.Name).toBe(id);
  });

  it('REQUIRED_FIELD_MISSING names every missing required field', () => {
    expect(errorOf(one('insert', 'Lead', { FirstName: 'x' }))).toEqual({
      statusCode: 'REQUIRED_FIELD_MISSING',
      message: 'Required fields are missing: [LastName, Company]',
      fields: ['LastName', 'Company'],
    });
    expect(errorOf(one('insert', 'Lead', lead({ Company: null })))?.fields).toEqual(['Company']);
  });

  it('INVALID_FIELD_FOR_INSERT_UPDATE for fields the profile cannot write, with Salesforce wording', () => {
    expect(errorOf(one('insert', 'Lead', lead({ Name: 'x', CreatedDate: '2024-01-01T00:00:00Z' })))).toEqual({
      statusCode: 'INVALID_FIELD_FOR_INSERT_UPDATE',
      message:
        'Unable to create/update fields: Name, CreatedDate. Please check the security settings of this field and verify that it is read/write for your profile or permission set.',
      fields: ['Name', 'CreatedDate'],
    });
    expect(errorOf(one('insert', 'Lead', lead({ Address: { City: 'Paris' } })))?.fields).toEqual(['Address']);
    expect(errorOf(one('insert', 'Lead', lead({ Id: '00Q5E0000000001UAA' })))).toMatchObject({
      statusCode: 'INVALID_FIELD_FOR_INSERT_UPDATE',
      message: 'cannot specify Id in an insert call',
    });
  });

  it('INVALID_FIELD for an unknown field (PushTopic metadata is not a field)', () => {
    expect(errorOf(one('insert', 'Lead', lead({ _EventType: 'created' })))).toEqual({
      statusCode: 'INVALID_FIELD',
      message: "No such column '_EventType' on sobject of type Lead",
      fields: [],
    });
  });

  it('matches field names case-insensitively and stores them canonically', () => {
    const id = insertedId('Lead', { lastname: 'doe', COMPANY: 'Acme' });
    expect(org.get(id)!.fields).toMatchObject({ LastName: 'doe', Company: 'Acme' });
  });

  it.each([
    ['NumberOfEmployees', '12', 'Number Of Employees: value not of required type: 12'],
    ['NumberOfEmployees', 1.5, 'Number Of Employees: value not of required type: 1.5'],
    ['IsUnreadByOwner', 'true', 'Is Unread By Owner: value not of required type: true'],
    ['EmailBouncedDate', 1670582776000, 'Email Bounced Date: value not of required type: 1670582776000'],
    ['EmailBouncedDate', '12/09/2022', 'Email Bounced Date: value not of required type: 12/09/2022'],
    ['Title', { nested: true }, 'Title: value not of required type: {"nested":true}'],
  ])('INVALID_TYPE_ON_FIELD_IN_RECORD for %s = %j', (field, value, message) => {
    expect(errorOf(one('insert', 'Lead', lead({ [field]: value })))).toEqual({
      statusCode: 'INVALID_TYPE_ON_FIELD_IN_RECORD',
      message,
      fields: [field],
    });
  });

  it('accepts ISO dates and datetimes, normalizes datetimes to Salesforce form, and keeps decimals beyond the scale', () => {
    const id = insertedId('Order_Event__c', {
      Event_Key__c: 'E',
      Occurred_At__c: '2024-05-01T12:30:00+02:00',
      Event_Date__c: '2024-05-01',
      Amount__c: 10.456,
    });
    expect(org.get(id)!.fields).toMatchObject({
      Occurred_At__c: '2024-05-01T10:30:00.000+0000',
      Event_Date__c: '2024-05-01',
      Amount__c: 10.456,
    });
    expect(one('insert', 'Order_Event__c', { Event_Key__c: 'F', Event_Date__c: '2024-02-30' }).success).toBe(
      false,
    );
  });

  it('STRING_TOO_LONG past the field length', () => {
    expect(errorOf(one('insert', 'Lead', lead({ LastName: 'x'.repeat(81) })))).toEqual({
      statusCode: 'STRING_TOO_LONG',
      message: `Last Name: data value too large: ${'x'.repeat(80)} (max length=80)`,
      fields: ['LastName'],
    });
  });

  it('INVALID_EMAIL_ADDRESS for an email field that is not an address', () => {
    expect(errorOf(one('insert', 'Lead', lead({ Email: 'not-an-email' })))).toEqual({
      statusCode: 'INVALID_EMAIL_ADDRESS',
      message: 'Email: invalid email address: not-an-email',
      fields: ['Email'],
    });
  });

  it('DUPLICATE_VALUE on a unique field, against stored records and within the same call', () => {
    const first = insertedId('Account', { Name: 'A', External_Id__c: 'A-1' });
    expect(errorOf(one('insert', 'Account', { Name: 'B', External_Id__c: 'a-1' }))).toEqual({
      statusCode: 'DUPLICATE_VALUE',
      message: `duplicate value found: External_Id__c duplicates value on record with id: ${first}`,
      fields: ['External_Id__c'],
    });
    const results = apply('insert', 'Account', [
      { Name: 'C', External_Id__c: 'C-1' },
      { Name: 'D', External_Id__c: 'C-1' },
    ]);
    expect(results[0]!.success).toBe(true);
    expect(errorOf(results[1]!)?.message).toBe(
      'duplicate value found: <unknown> duplicates value on record with id: <unknown>',
    );
  });

  it('checks reference ids: MALFORMED_ID for the wrong object, INVALID_CROSS_REFERENCE_KEY for none', () => {
    const leadId = insertedId('Lead', lead());
    expect(errorOf(one('insert', 'Contact', { LastName: 'x', AccountId: leadId }))).toEqual({
      statusCode: 'MALFORMED_ID',
      message: `Account ID: id value of incorrect type: ${leadId}`,
      fields: ['AccountId'],
    });
    expect(errorOf(one('insert', 'Contact', { LastName: 'x', AccountId: makeId('001', 999) }))).toMatchObject(
      {
        statusCode: 'INVALID_CROSS_REFERENCE_KEY',
      },
    );
    const accountId = insertedId('Account', { Name: 'A' });
    expect(one('insert', 'Contact', { LastName: 'x', AccountId: accountId.slice(0, 15) }).success).toBe(true);
  });

  it('resolves a relationship by external id, or fails with INVALID_FIELD', () => {
    const accountId = insertedId('Account', { Name: 'A', External_Id__c: 'A-1' });
    const id = insertedId('Contact', { LastName: 'x', Account: { External_Id__c: 'A-1' } });
    expect(org.get(id)!.fields.AccountId).toBe(accountId);
    expect(
      errorOf(one('insert', 'Order_Event__c', { Event_Key__c: 'E', Account__r: { External_Id__c: 'nope' } })),
    ).toEqual({
      statusCode: 'INVALID_FIELD',
      message: 'Foreign key external ID: nope not found for field External_Id__c in entity Account',
      fields: [],
    });
  });
});

describe('update', () => {
  it('changes only the given fields and bumps LastModifiedDate', () => {
    const id = insertedId('Lead', lead({ Title: 'A' }));
    expect(one('update', 'Lead', { Id: id, Title: 'B' })).toEqual({ id, success: true, errors: [] });
    expect(org.get(id)!.fields).toMatchObject({ Title: 'B', LastName: 'Doe' });
  });

  it('sets null, but REQUIRED_FIELD_MISSING when nulling a required field', () => {
    const id = insertedId('Lead', lead({ Title: 'A' }));
    expect(one('update', 'Lead', { Id: id, Title: null }).success).toBe(true);
    expect(org.get(id)!.fields.Title).toBeNull();
    expect(errorOf(one('update', 'Lead', { Id: id, Company: null }))).toMatchObject({
      statusCode: 'REQUIRED_FIELD_MISSING',
      fields: ['Company'],
    });
  });

  it('addresses records by id: MISSING_ARGUMENT, MALFORMED_ID, INVALID_CROSS_REFERENCE_KEY, ENTITY_IS_DELETED', () => {
    const id = insertedId('Lead', lead());
    one('delete', 'Lead', { Id: id });
    expect(errorOf(one('update', 'Lead', { Title: 'x' }))?.statusCode).toBe('MISSING_ARGUMENT');
    expect(errorOf(one('update', 'Lead', { Id: 'garbage', Title: 'x' }))).toEqual({
      statusCode: 'MALFORMED_ID',
      message: 'malformed id garbage',
      fields: ['Id'],
    });
    const accountId = insertedId('Account', { Name: 'A' });
    expect(errorOf(one('update', 'Lead', { Id: accountId, Title: 'x' }))).toEqual({
      statusCode: 'MALFORMED_ID',
      message: `Lead ID: id value of incorrect type: ${accountId}`,
      fields: ['Id'],
    });
    expect(errorOf(one('update', 'Lead', { Id: makeId('00Q', 424242), Title: 'x' }))).toEqual({
      statusCode: 'INVALID_CROSS_REFERENCE_KEY',
      message: 'invalid cross reference id',
      fields: [],
    });
    expect(one('update', 'Lead', { Id: id, Title: 'x' })).toEqual({
      id,
      success: false,
      errors: [{ statusCode: 'ENTITY_IS_DELETED', message: 'entity is deleted', fields: [] }],
    });
  });

  it('INVALID_FIELD_FOR_INSERT_UPDATE for a createable but not updateable field', () => {
    const id = insertedId('Lead', lead());
    expect(errorOf(one('update', 'Lead', { Id: id, IsConverted: true }))?.fields).toEqual(['IsConverted']);
  });
});

describe('upsert', () => {
  const upsert = (records: RecordFields[], externalIdField = 'CustomId__c', options = json) =>
    org.apply('upsert', 'Lead', records, { ...options, externalIdField });

  it('creates when no record matches and updates the one that does', () => {
    const [created] = upsert([lead({ CustomId__c: 'K' })]);
    expect(created).toMatchObject({ success: true, created: true });
    const [updated] = upsert([{ CustomId__c: 'K', Title: 'T' }]);
    expect(updated).toEqual({ id: created!.id, success: true, errors: [], created: false });
  });

  it('REQUIRED_FIELD_MISSING when the upsert creates', () => {
    expect(errorOf(upsert([{ CustomId__c: 'K', LastName: 'x' }])[0]!)?.statusCode).toBe(
      'REQUIRED_FIELD_MISSING',
    );
  });

  it('MISSING_ARGUMENT without the external id value; DUPLICATE_EXTERNAL_ID when a call repeats one', () => {
    expect(errorOf(upsert([lead()])[0]!)).toEqual({
      statusCode: 'MISSING_ARGUMENT',
      message: 'CustomId__c not specified',
      fields: [],
    });
    const results = upsert([
      lead({ CustomId__c: 'D' }),
      lead({ CustomId__c: 'd' }),
      lead({ CustomId__c: 'E' }),
    ]);
    expect(results.map((r) => errorOf(r)?.statusCode)).toEqual([
      'DUPLICATE_EXTERNAL_ID',
      'DUPLICATE_EXTERNAL_ID',
      undefined,
    ]);
  });

  it('INVALID_FIELD for a key that is no external id', () => {
    expect(errorOf(upsert([lead({ Title: 'x' })], 'Title')[0]!)).toEqual({
      statusCode: 'INVALID_FIELD',
      message: 'Field name provided, Title is not an External ID or indexed field for Lead',
      fields: [],
    });
  });
});

describe('delete and hardDelete', () => {
  it('keeps a tombstone that later calls see as ENTITY_IS_DELETED', () => {
    const id = insertedId('Lead', lead());
    expect(one('delete', 'Lead', { Id: id })).toEqual({ id, success: true, errors: [] });
    expect(org.get(id)).toMatchObject({ deleted: true, fields: { IsDeleted: true } });
    expect(org.list('Lead')).toEqual([]);
    expect(errorOf(one('delete', 'Lead', { Id: id }))?.statusCode).toBe('ENTITY_IS_DELETED');
  });

  it('frees a deleted record’s unique value', () => {
    const id = insertedId('Account', { Name: 'A', External_Id__c: 'A-1' });
    one('delete', 'Account', { Id: id });
    expect(one('insert', 'Account', { Name: 'B', External_Id__c: 'A-1' }).success).toBe(true);
  });

  it('hardDelete removes the record entirely', () => {
    const id = insertedId('Lead', lead());
    expect(one('hardDelete', 'Lead', { Id: id }).success).toBe(true);
    expect(org.get(id)).toBeUndefined();
  });

  it('MALFORMED_ID for an id that is not one (checksum included)', () => {
    expect(errorOf(one('delete', 'Lead', { Id: '00Q5E0000000001000' }))).toEqual({
      statusCode: 'MALFORMED_ID',
      message: 'malformed id 00Q5E0000000001000',
      fields: [],
    });
  });
});

describe('allOrNone', () => {
  it('rolls back every write of the call and marks the good records ALL_OR_NONE_OPERATION_ROLLED_BACK', () => {
    const keep = insertedId('Lead', lead({ Title: 'before' }));
    const results = org.apply(
      'update',
      'Lead',
      [
        { Id: keep, Title: 'after' },
        { Id: keep, Company: null },
      ],
      { allOrNone: true, source: 'json' },
    );
    expect(results[0]).toEqual({
      id: keep,
      success: false,
      errors: [
        {
          statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
          message:
            'Record rolled back because not all records were valid and the request was using AllOrNone header',
          fields: [],
        },
      ],
    });
    expect(results[1]).toMatchObject({
      id: keep,
      success: false,
      errors: [{ statusCode: 'REQUIRED_FIELD_MISSING' }],
    });
    expect(org.get(keep)!.fields.Title).toBe('before');
  });

  it('undoes inserts and deletes, indexes included', () => {
    const doomed = insertedId('Account', { Name: 'Doomed', External_Id__c: 'X' });
    const results = org.apply('insert', 'Account', [{ Name: 'New', External_Id__c: 'Y' }, { Name: null }], {
      allOrNone: true,
      source: 'json',
    });
    expect(results[0]).toMatchObject({ id: null, success: false });
    expect(org.list('Account').map((r) => r.id)).toEqual([doomed]);
    expect(one('insert', 'Account', { Name: 'Again', External_Id__c: 'Y' }).success).toBe(true);
    const deleted = org.apply('delete', 'Account', [{ Id: doomed }, { Id: 'bad' }], {
      allOrNone: true,
      source: 'json',
    });
    expect(deleted[0]).toMatchObject({ id: doomed, success: false });
    expect(org.get(doomed)!.deleted).toBe(false);
  });
});

describe('CSV values from the bulk engine', () => {
  it('converts strings per field type; a missing key leaves a field unchanged, null clears it', () => {
    const [created] = org.apply(
      'upsert',
      'Order_Event__c',
      [
        {
          Event_Key__c: 'E-1',
          Processed__c: 'true',
          Quantity__c: '12',
          Amount__c: '19.99',
          Occurred_At__c: '2024-05-01T10:00:00.000Z',
          Event_Date__c: '2024-05-01',
          'Account__r.External_Id__c': null,
        },
      ],
      { ...csv, externalIdField: 'Event_Key__c' },
    );
    expect(created).toMatchObject({ success: true, created: true });
    const id = created!.id!;
    expect(org.get(id)!.fields).toMatchObject({
      Processed__c: true,
      Quantity__c: 12,
      Amount__c: 19.99,
      Occurred_At__c: '2024-05-01T10:00:00.000+0000',
      Event_Date__c: '2024-05-01',
    });
    one('update', 'Order_Event__c', { Id: id, Amount__c: null }, csv);
    expect(org.get(id)!.fields).toMatchObject({ Amount__c: null, Quantity__c: 12 });
  });

  it('rejects numbers with exponents and unknown booleans', () => {
    expect(
      errorOf(one('insert', 'Order_Event__c', { Event_Key__c: 'a', Quantity__c: '1e3' }, csv))?.statusCode,
    ).toBe('INVALID_TYPE_ON_FIELD_IN_RECORD');
    expect(
      errorOf(one('insert', 'Order_Event__c', { Event_Key__c: 'b', Processed__c: 'maybe' }, csv))?.statusCode,
    ).toBe('INVALID_TYPE_ON_FIELD_IN_RECORD');
  });

  it('resolves `Relationship.ExternalIdField` columns', () => {
    const accountId = insertedId('Account', { Name: 'A', External_Id__c: 'A-1' });
    const id = one('insert', 'Contact', { LastName: 'x', 'Account.External_Id__c': 'A-1' }, csv).id!;
    expect(org.get(id)!.fields.AccountId).toBe(accountId);
  });
});

describe('per-record faults', () => {
  it('fails the records the hook picks with its error and writes the others', () => {
    recordFault = ({ fields }) =>
      fields.LastName === 'Locked'
        ? { statusCode: 'UNABLE_TO_LOCK_ROW', message: 'locked', fields: [] }
        : undefined;
    const results = apply('insert', 'Lead', [lead({ LastName: 'Locked' }), lead()]);
    expect(results.map((r) => errorOf(r)?.statusCode)).toEqual(['UNABLE_TO_LOCK_ROW', undefined]);
    expect(org.list('Lead')).toHaveLength(1);
  });
});

describe('snapshots', () => {
  it('restores records, tombstones and the id sequence into a fresh org', () => {
    const live = insertedId('Account', { Name: 'Live', External_Id__c: 'L' });
    const gone = insertedId('Account', { Name: 'Gone' });
    one('delete', 'Account', { Id: gone });
    const copy = createOrg({ schema, userId: USER });
    copy.restore(JSON.parse(JSON.stringify(org.snapshot())));
    expect(copy.list('Account').map((r) => r.id)).toEqual([live]);
    expect(copy.get(gone)?.deleted).toBe(true);
    expect(copy.findBy('Account', 'External_Id__c', 'l').map((r) => r.id)).toEqual([live]);
    const next = copy.apply('insert', 'Account', [{ Name: 'Next' }], json)[0]!.id!;
    expect([live, gone]).not.toContain(next);
  });
});
