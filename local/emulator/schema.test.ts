// The schema file: defaults per field type, system fields added, and errors that name the problem.

import { describe, expect, it } from 'vitest';
import { buildSchema, loadSchema } from './schema.ts';

describe('schema', () => {
  it('ships Lead, Account, Contact and a custom object with their key prefixes', () => {
    const schema = loadSchema();
    expect(schema.sobjects.map((s) => [s.name, s.keyPrefix])).toEqual([
      ['Lead', '00Q'],
      ['Account', '001'],
      ['Contact', '003'],
      ['Order_Event__c', 'a0X'],
    ]);
    const orderEvent = schema.byName.get('order_event__c')!;
    expect(orderEvent.fieldsByName.get('event_key__c')).toMatchObject({
      externalId: true,
      unique: true,
      idLookup: true,
    });
    expect(schema.byName.get('account')!.fieldsByName.get('external_id__c')).toMatchObject({
      externalId: true,
      unique: true,
    });
  });

  it('adds system fields and per-type defaults to a terse sObject', () => {
    const schema = buildSchema({
      sobjects: [
        {
          name: 'Thing__c',
          keyPrefix: 'a01',
          fields: [
            { name: 'Done__c', type: 'boolean' },
            { name: 'Note__c', type: 'string' },
          ],
        },
      ],
    });
    const thing = schema.byName.get('thing__c')!;
    expect(thing.fields.map((f) => f.name)).toEqual([
      'Id',
      'IsDeleted',
      'CreatedDate',
      'CreatedById',
      'LastModifiedDate',
      'LastModifiedById',
      'SystemModstamp',
      'Done__c',
      'Note__c',
    ]);
    expect(thing.fieldsByName.get('done__c')).toMatchObject({
      nillable: false,
      defaultedOnCreate: true,
      defaultValue: false,
    });
    expect(thing.fieldsByName.get('note__c')).toMatchObject({
      length: 255,
      nillable: true,
      createable: true,
      custom: true,
    });
    expect(thing.fieldsByName.get('id')).toMatchObject({
      createable: false,
      updateable: false,
      idLookup: true,
    });
  });

  it('names every problem in an invalid file', () => {
    expect(() =>
      buildSchema({ sobjects: [{ name: 'X', keyPrefix: 'toolong', fields: [{ name: 'A', type: 'blob' }] }] }),
    ).toThrow(/sobjects\.0\.keyPrefix[\s\S]*sobjects\.0\.fields\.0\.type/);
    expect(() =>
      buildSchema({
        sobjects: [
          { name: 'A', keyPrefix: 'a01', fields: [] },
          { name: 'B', keyPrefix: 'a01', fields: [] },
        ],
      }),
    ).toThrow(/key prefix a01 used twice/);
  });
});
