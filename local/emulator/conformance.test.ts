// Conformance: the emulator driven only through jsforce, the way the sink uses it. If jsforce is happy
// here, it is happy with the requests and responses as Salesforce shapes them.

import { Connection } from '@jsforce/jsforce-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from './server.ts';
import { jwtClaims, signJwt } from './testing.ts';

const VERSION = '65.0';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

let emulator: Emulator;
let clock = Date.now();

beforeAll(async () => {
  emulator = await startEmulator({ now: () => new Date(clock), tokenTtlSeconds: 600 });
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.reset();
  clock = Date.now();
});

function clientCredentialsConnection(): Connection {
  const { clientId, clientSecret } = emulator.credentials;
  return new Connection({
    version: VERSION,
    oauth2: { clientId, clientSecret, loginUrl: emulator.url },
    // jsforce has no built-in refresh for client credentials: re-authorize with the same grant.
    refreshFn: (conn, callback) => {
      conn.oauth2
        .requestToken({ grant_type: 'client_credentials' })
        .then((res) => callback(null, res.access_token, res))
        .catch((err: Error) => callback(err));
    },
  });
}

async function connect(): Promise<Connection> {
  const conn = clientCredentialsConnection();
  await conn.authorize({ grant_type: 'client_credentials' });
  return conn;
}

describe('OAuth logins through jsforce', () => {
  it('client credentials: authorize() establishes the session on the emulator URL', async () => {
    const conn = clientCredentialsConnection();
    const user = await conn.authorize({ grant_type: 'client_credentials' });
    expect(user).toMatchObject({ id: emulator.userId, organizationId: emulator.orgId });
    expect(conn.instanceUrl).toBe(emulator.url);
    expect(conn.accessToken).toMatch(/^00D\w{12}!/);
    expect((await conn.query('SELECT COUNT() FROM Lead')).totalSize).toBe(0);
    expect(await conn.identity()).toMatchObject({
      user_id: emulator.userId,
      organization_id: emulator.orgId,
    });
  });

  it('username-password: login() with password + security token', async () => {
    const { clientId, clientSecret, username, password, securityToken } = emulator.credentials;
    const conn = new Connection({
      version: VERSION,
      oauth2: { clientId, clientSecret, loginUrl: emulator.url },
    });
    const user = await conn.login(username, password + securityToken);
    expect(user.organizationId).toBe(emulator.orgId);
    expect(conn.instanceUrl).toBe(emulator.url);
  });

  it('JWT bearer: authorize() with an RS256 assertion signed by the test key', async () => {
    const conn = new Connection({ version: VERSION, loginUrl: emulator.url });
    const assertion = signJwt(emulator.jwtPrivateKey!, jwtClaims(emulator));
    const user = await conn.authorize({ grant_type: JWT_BEARER, assertion });
    expect(user.id).toBe(emulator.userId);
    expect((await conn.describeGlobal()).sobjects.map((s) => s.name)).toContain('Lead');
  });

  it('rejects a wrong client secret with invalid_client, which jsforce raises as the error name', async () => {
    const conn = new Connection({
      version: VERSION,
      oauth2: { clientId: emulator.credentials.clientId, clientSecret: 'nope', loginUrl: emulator.url },
    });
    await expect(conn.authorize({ grant_type: 'client_credentials' })).rejects.toMatchObject({
      name: 'invalid_client',
      message: 'invalid client credentials',
    });
  });
});

describe('describe through jsforce', () => {
  it('describes Lead with the PushTopic fields and their write attributes', async () => {
    const conn = await connect();
    const lead = await conn.describe('Lead');
    const field = (name: string) => lead.fields.find((f) => f.name === name)!;
    expect(lead).toMatchObject({ name: 'Lead', keyPrefix: '00Q', createable: true });
    expect(field('Id')).toMatchObject({ type: 'id', createable: false, updateable: false, idLookup: true });
    expect(field('Address')).toMatchObject({ type: 'address', createable: false, updateable: false });
    expect(field('City')).toMatchObject({ compoundFieldName: 'Address', createable: true });
    expect(field('LastName')).toMatchObject({ nillable: false, createable: true, defaultedOnCreate: false });
    expect(field('Email')).toMatchObject({ type: 'email', length: 80 });
    expect(field('ConvertedDate')).toMatchObject({ type: 'date' });
    expect(field('CreatedDate')).toMatchObject({ type: 'datetime', createable: false });
    expect(field('CustomId__c')).toMatchObject({ externalId: true, idLookup: true, custom: true });
  });

  it('describes Contact.AccountId as a reference to Account named Account', async () => {
    const conn = await connect();
    const contact = await conn.describe('Contact');
    expect(contact.fields.find((f) => f.name === 'AccountId')).toMatchObject({
      type: 'reference',
      referenceTo: ['Account'],
      relationshipName: 'Account',
    });
  });

  it('raises NOT_FOUND for an unknown sObject', async () => {
    const conn = await connect();
    await expect(conn.describe('Nope__c')).rejects.toMatchObject({ errorCode: 'NOT_FOUND' });
  });
});

describe('sObject Collections through jsforce', () => {
  it('creates many records with a partial failure in request order', async () => {
    const conn = await connect();
    const results = await conn
      .sobject('Lead')
      .create([
        { LastName: 'One', Company: 'Acme' },
        { LastName: 'Two' },
        { LastName: 'Three', Company: 'Acme', Email: 'three@example.com' },
      ]);
    expect(results[0]).toMatchObject({ success: true, errors: [] });
    expect(results[0]!.id).toMatch(/^00Q\w{15}$/);
    expect(results[1]).toEqual({
      success: false,
      errors: [
        {
          statusCode: 'REQUIRED_FIELD_MISSING',
          message: 'Required fields are missing: [Company]',
          fields: ['Company'],
        },
      ],
    });
    expect(results[2]!.success).toBe(true);
    expect(emulator.org.list('Lead')).toHaveLength(2);
  });

  it('rolls everything back with allOrNone when one record fails', async () => {
    const conn = await connect();
    const results = await conn
      .sobject('Lead')
      .create([{ LastName: 'Good', Company: 'Acme' }, { LastName: 'Bad' }], { allOrNone: true });
    expect(results[0]).toMatchObject({
      success: false,
      errors: [{ statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK' }],
    });
    expect(results[1]).toMatchObject({ success: false, errors: [{ statusCode: 'REQUIRED_FIELD_MISSING' }] });
    expect((await conn.query('SELECT COUNT() FROM Lead')).totalSize).toBe(0);
  });

  it('updates records, and reports ENTITY_IS_DELETED for a deleted one', async () => {
    const conn = await connect();
    const [a, b] = await conn.sobject('Lead').create([
      { LastName: 'A', Company: 'Acme' },
      { LastName: 'B', Company: 'Acme' },
    ]);
    await conn.sobject('Lead').destroy(b!.id!);
    const results = await conn.sobject('Lead').update([
      { Id: a!.id!, Title: 'CTO' },
      { Id: b!.id!, Title: 'CEO' },
    ]);
    expect(results[0]).toEqual({ id: a!.id, success: true, errors: [] });
    expect(results[1]).toMatchObject({ success: false, errors: [{ statusCode: 'ENTITY_IS_DELETED' }] });
    const [row] = (await conn.query(`SELECT Title FROM Lead WHERE Id = '${a!.id}'`)).records;
    expect(row).toMatchObject({ Title: 'CTO' });
  });

  it('upserts by external id: created, then updated', async () => {
    const conn = await connect();
    const first = await conn
      .sobject('Lead')
      .upsert([{ CustomId__c: 'K-1', LastName: 'Key', Company: 'Acme' }], 'CustomId__c');
    expect(first[0]).toMatchObject({ success: true, created: true });
    const second = await conn.sobject('Lead').upsert([{ CustomId__c: 'k-1', Title: 'Boss' }], 'CustomId__c');
    expect(second[0]).toEqual({ id: first[0]!.id, success: true, errors: [], created: false });
    expect(emulator.org.list('Lead')).toHaveLength(1);
  });

  it('resolves a relationship by external id on upsert', async () => {
    const conn = await connect();
    const [account] = await conn.sobject('Account').create([{ Name: 'Acme', External_Id__c: 'A-1' }]);
    const results = await conn.sobject('Contact').upsert(
      [
        { External_Id__c: 'C-1', LastName: 'Doe', Account: { External_Id__c: 'A-1' } },
        {
          External_Id__c: 'C-2',
          LastName: 'Roe',
          Account: { External_Id__c: 'A-404' },
        },
      ],
      'External_Id__c',
    );
    expect(results[0]).toMatchObject({ success: true, created: true });
    expect(results[1]).toMatchObject({
      success: false,
      errors: [
        {
          statusCode: 'INVALID_FIELD',
          message: 'Foreign key external ID: A-404 not found for field External_Id__c in entity Account',
        },
      ],
    });
    const { records } = await conn.query(
      "SELECT AccountId, Account.Name FROM Contact WHERE External_Id__c = 'C-1'",
    );
    expect(records[0]).toMatchObject({ AccountId: account!.id, Account: { Name: 'Acme' } });
  });

  it('deletes many records; deleting again reports ENTITY_IS_DELETED', async () => {
    const conn = await connect();
    const created = await conn.sobject('Account').create([{ Name: 'X' }, { Name: 'Y' }]);
    const ids = created.map((r) => r.id!);
    expect(await conn.sobject('Account').destroy(ids)).toEqual(
      ids.map((id) => ({ id, success: true, errors: [] })),
    );
    const again = await conn.sobject('Account').destroy(ids);
    expect(again[0]).toMatchObject({
      id: ids[0],
      success: false,
      errors: [{ statusCode: 'ENTITY_IS_DELETED' }],
    });
    expect(emulator.org.list('Account', { includeDeleted: true }).every((r) => r.fields.IsDeleted)).toBe(
      true,
    );
  });

  it('retrieves many records through the Collections retrieve resource', async () => {
    const conn = await connect();
    const [created] = await conn.sobject('Lead').create([{ LastName: 'R', Company: 'Acme' }]);
    const [record, missing] = await conn.sobject('Lead').retrieve([created!.id!, '00Q5E00000000ZZ'], {
      fields: ['Id', 'LastName'],
    });
    expect(record).toMatchObject({ Id: created!.id, LastName: 'R' });
    expect(missing).toBeNull();
  });
});

describe('single-record sObject rows through jsforce', () => {
  it('creates, reads, updates and deletes one record', async () => {
    const conn = await connect();
    const created = await conn.sobject('Lead').create({ LastName: 'Solo', Company: 'Acme' });
    expect(created).toMatchObject({ success: true });
    const read = await conn.sobject('Lead').retrieve(created.id!);
    expect(read).toMatchObject({
      LastName: 'Solo',
      Name: 'Solo',
      Status: 'Open - Not Contacted',
      IsDeleted: false,
    });
    expect(await conn.sobject('Lead').update({ Id: created.id!, FirstName: 'Han' })).toEqual({
      id: created.id,
      success: true,
      errors: [],
    });
    expect((await conn.sobject('Lead').retrieve(created.id!)).Name).toBe('Han Solo');
    expect(await conn.sobject('Lead').destroy(created.id!)).toMatchObject({ success: true });
    await expect(conn.sobject('Lead').retrieve(created.id!)).rejects.toMatchObject({
      errorCode: 'ENTITY_IS_DELETED',
    });
  });

  it('upserts one record by external id (PATCH /sobjects/Lead/CustomId__c/{value})', async () => {
    const conn = await connect();
    const created = await conn
      .sobject('Lead')
      .upsert({ CustomId__c: 'S-1', LastName: 'S', Company: 'C' }, 'CustomId__c');
    expect(created).toMatchObject({ success: true, created: true });
    const updated = await conn.sobject('Lead').upsert({ CustomId__c: 'S-1', Title: 'T' }, 'CustomId__c');
    expect(updated).toEqual({ id: created.id, success: true, errors: [], created: false });
  });
});

describe('query through jsforce', () => {
  it('answers SELECT … WHERE … IN … LIMIT with the real response shape', async () => {
    const conn = await connect();
    await conn.sobject('Lead').create([
      { LastName: "O'Brien", Company: 'Acme' },
      { LastName: 'Back\\slash', Company: 'Acme' },
      { LastName: 'Other', Company: 'Beta' },
    ]);
    const result = await conn.query<{ LastName: string }>(
      "SELECT Id, LastName FROM Lead WHERE LastName IN ('O\\'Brien', 'Back\\\\slash') LIMIT 5",
    );
    expect(result.done).toBe(true);
    expect(result.totalSize).toBe(2);
    expect(result.records.map((r) => r.LastName).sort()).toEqual(['Back\\slash', "O'Brien"]);
    expect(result.records[0]).toMatchObject({
      attributes: {
        type: 'Lead',
        url: expect.stringMatching(/^\/services\/data\/v65\.0\/sobjects\/Lead\/00Q/),
      },
    });
  });

  it('raises INVALID_FIELD for an unknown column', async () => {
    const conn = await connect();
    await expect(conn.query('SELECT Nope FROM Lead')).rejects.toMatchObject({ errorCode: 'INVALID_FIELD' });
  });
});

describe('session expiry through jsforce', () => {
  it('re-authorizes client credentials through refreshFn after the tokens are expired', async () => {
    const conn = await connect();
    const before = conn.accessToken;
    emulator.expireTokens();
    expect((await conn.query('SELECT COUNT() FROM Lead')).totalSize).toBe(0);
    expect(conn.accessToken).not.toBe(before);
    const statuses = emulator.calls().map((c) => `${c.route}:${c.status}`);
    expect(statuses.slice(-3)).toEqual(['query:401', 'oauth:200', 'query:200']);
  });

  it('logs in again with username-password when a token outlives its TTL', async () => {
    const { clientId, clientSecret, username, password, securityToken } = emulator.credentials;
    const conn = new Connection({
      version: VERSION,
      oauth2: { clientId, clientSecret, loginUrl: emulator.url },
    });
    await conn.login(username, password + securityToken);
    const before = conn.accessToken;
    clock += 601_000;
    const created = await conn.sobject('Account').create({ Name: 'After expiry' });
    expect(created.success).toBe(true);
    expect(conn.accessToken).not.toBe(before);
  });

  it('keeps jsforce limitInfo current from Sforce-Limit-Info', async () => {
    const conn = await connect();
    await conn.query('SELECT COUNT() FROM Lead');
    await conn.query('SELECT COUNT() FROM Lead');
    expect(conn.limitInfo).toEqual({ apiUsage: { used: 2, limit: 15_000 } });
  });
});
