// The SOQL subset: what it answers, and the errors Salesforce gives for what it does not understand.

import { beforeAll, describe, expect, it } from 'vitest';
import { makeId } from './ids.ts';
import { createOrg, type EmulatorOrg } from './org.ts';
import { loadSchema } from './schema.ts';
import { QueryError, runQuery } from './soql.ts';

let org: EmulatorOrg;
let accountId: string;

beforeAll(() => {
  org = createOrg({ schema: loadSchema(), userId: makeId('005', 1) });
  const options = { allOrNone: false, source: 'json' } as const;
  accountId = org.apply('insert', 'Account', [{ Name: 'Acme', External_Id__c: 'A-1' }], options)[0]!.id!;
  org.apply(
    'insert',
    'Contact',
    [
      { LastName: "O'Hara", AccountId: accountId, Email: 'o@example.com' },
      { LastName: 'Back\\slash', HasOptedOutOfEmail: true },
      { LastName: 'Plain' },
    ],
    options,
  );
});

const query = (soql: string, includeDeleted = false) =>
  runQuery(org, soql, { apiVersion: '65.0', includeDeleted });
const names = (soql: string) => query(soql).records.map((r) => r.LastName);

function errorOf(soql: string): { errorCode: string; message: string } {
  try {
    query(soql);
  } catch (err) {
    if (err instanceof QueryError) return { errorCode: err.errorCode, message: err.message };
    throw err;
  }
  throw new Error(`no error for ${soql}`);
}

describe('runQuery', () => {
  it('selects fields in Salesforce shape with attributes', () => {
    const result = query("SELECT Id, LastName FROM Contact WHERE LastName = 'Plain'");
    expect(result).toEqual({
      totalSize: 1,
      done: true,
      records: [
        {
          attributes: {
            type: 'Contact',
            url: expect.stringMatching(/^\/services\/data\/v65\.0\/sobjects\/Contact\/003/),
          },
          Id: expect.any(String),
          LastName: 'Plain',
        },
      ],
    });
  });

  it("unescapes \\' and \\\\ in string literals and compares text case-insensitively", () => {
    expect(names("SELECT LastName FROM Contact WHERE LastName = 'o\\'hara'")).toEqual(["O'Hara"]);
    expect(names("SELECT LastName FROM Contact WHERE LastName IN ('back\\\\slash', 'nobody')")).toEqual([
      'Back\\slash',
    ]);
  });

  it('supports AND, !=, booleans, null and LIMIT; keywords in any case', () => {
    expect(names('select LastName from Contact where HasOptedOutOfEmail = true')).toEqual(['Back\\slash']);
    expect(names("SELECT LastName FROM Contact WHERE Email = null AND LastName != 'Plain'")).toEqual([
      'Back\\slash',
    ]);
    expect(names('SELECT LastName FROM Contact LIMIT 2')).toHaveLength(2);
    expect(query('SELECT COUNT() FROM Contact')).toEqual({ totalSize: 3, done: true, records: [] });
  });

  it('matches ids in 15- and 18-char form and reads one relationship hop', () => {
    expect(names(`SELECT LastName FROM Contact WHERE AccountId = '${accountId.slice(0, 15)}'`)).toEqual([
      "O'Hara",
    ]);
    const [row] = query("SELECT Account.External_Id__c FROM Contact WHERE Account.Name = 'acme'").records;
    expect(row).toEqual({
      attributes: expect.any(Object),
      Account: { attributes: { type: 'Account', url: expect.any(String) }, External_Id__c: 'A-1' },
    });
    expect(query("SELECT Account.Name FROM Contact WHERE LastName = 'Plain'").records[0]!.Account).toBeNull();
  });

  it.each([
    'SELECT FROM Contact',
    'SELECT Id Contact',
    'SELECT Id FROM Contact WHERE',
    "SELECT Id FROM Contact WHERE LastName = 'unterminated",
    "SELECT Id FROM Contact WHERE LastName = 'bad \\x'",
    "SELECT Id FROM Contact WHERE LastName LIKE 'a%'",
    'SELECT Id FROM Contact LIMIT -1',
    'SELECT Id FROM Contact ORDER BY LastName',
    'SELECT Id FROM Contact; DROP',
  ])('MALFORMED_QUERY: %s', (soql) => {
    expect(errorOf(soql).errorCode).toBe('MALFORMED_QUERY');
  });

  it('INVALID_FIELD for unknown columns and relationships, INVALID_TYPE for unknown objects', () => {
    expect(errorOf('SELECT Nope__c FROM Contact')).toMatchObject({
      errorCode: 'INVALID_FIELD',
      message: expect.stringContaining("No such column 'Nope__c' on entity 'Contact'"),
    });
    expect(errorOf('SELECT Owner2.Name FROM Contact')).toMatchObject({
      errorCode: 'INVALID_FIELD',
      message: expect.stringContaining("Didn't understand relationship 'Owner2'"),
    });
    expect(errorOf('SELECT Id FROM Nope__c')).toMatchObject({
      errorCode: 'INVALID_TYPE',
      message: expect.stringContaining("sObject type 'Nope__c' is not supported."),
    });
  });

  it('leaves deleted records out unless includeDeleted', () => {
    const id = org.apply('insert', 'Contact', [{ LastName: 'Deleted' }], {
      allOrNone: false,
      source: 'json',
    })[0]!.id!;
    org.apply('delete', 'Contact', [{ Id: id }], { allOrNone: false, source: 'json' });
    expect(names("SELECT LastName FROM Contact WHERE LastName = 'Deleted'")).toEqual([]);
    expect(query("SELECT LastName FROM Contact WHERE LastName = 'Deleted'", true).totalSize).toBe(1);
  });
});
