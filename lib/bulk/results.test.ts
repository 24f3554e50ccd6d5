import { describe, expect, it } from 'vitest';
import { parseBulkError } from './results.ts';

describe('parseBulkError', () => {
  it.each([
    [
      'REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --',
      {
        code: 'REQUIRED_FIELD_MISSING',
        message: 'Required fields are missing: [LastName]',
        fields: ['LastName'],
      },
    ],
    [
      'DUPLICATE_VALUE:duplicate value found: External_Id__c duplicates value on record with id: 001000000000001:External_Id__c,Name --',
      {
        code: 'DUPLICATE_VALUE',
        message: 'duplicate value found: External_Id__c duplicates value on record with id: 001000000000001',
        fields: ['External_Id__c', 'Name'],
      },
    ],
    [
      'ENTITY_IS_DELETED:entity is deleted:--',
      { code: 'ENTITY_IS_DELETED', message: 'entity is deleted', fields: [] },
    ],
    ['something odd happened', { code: 'BULK_ERROR', message: 'something odd happened', fields: [] }],
  ])('parses %s', (cell, expected) => {
    expect(parseBulkError(cell)).toEqual(expected);
  });
});
