// Every documented error and response shape at the HTTP level: status, headers, body, error code.

import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeId } from './ids.ts';
import { type Emulator, startEmulator } from './server.ts';
import { jwtClaims, type RawApi, rawApi, rawRequest, signJwt } from './testing.ts';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const SESSION_EXPIRED = [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }];

let emulator: Emulator;
let api: RawApi;
let clock = Date.now();

beforeAll(async () => {
  emulator = await startEmulator({ now: () => new Date(clock) });
});
afterAll(() => emulator.close());
beforeEach(async () => {
  emulator.reset();
  emulator.config.dailyApiMax = 15_000;
  clock = Date.now();
  api = await rawApi(emulator);
});

function token(params: Record<string, string>, init: { chunked?: boolean } = {}) {
  const body = new URLSearchParams(params).toString();
  const stream = new ReadableStream({
    start(controller) {
      const bytes = new TextEncoder().encode(body);
      controller.enqueue(bytes.slice(0, 10));
      controller.enqueue(bytes.slice(10));
      controller.close();
    },
  });
  return fetch(`${emulator.url}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: init.chunked ? stream : body,
    ...(init.chunked ? { duplex: 'half' } : {}),
  } as RequestInit).then(async (r) => ({
    status: r.status,
    body: (await r.json()) as Record<string, string>,
  }));
}

const credentials = () => ({
  client_id: emulator.credentials.clientId,
  client_secret: emulator.credentials.clientSecret,
});

describe('OAuth token endpoint', () => {
  it('answers client credentials (sent chunked) with the full success body', async () => {
    const { status, body } = await token(
      { grant_type: 'client_credentials', ...credentials() },
      { chunked: true },
    );
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(
      ['access_token', 'id', 'instance_url', 'issued_at', 'scope', 'signature', 'token_type'].sort(),
    );
    expect(body).toMatchObject({
      instance_url: emulator.url,
      id: `${emulator.url}/id/${emulator.orgId}/${emulator.userId}`,
      token_type: 'Bearer',
      scope: 'api',
    });
    const expected = createHmac('sha256', emulator.credentials.clientSecret)
      .update(body.id! + body.issued_at!)
      .digest('base64');
    expect(body.signature).toBe(expected);
  });

  it.each([
    [
      'an unknown client id',
      { client_id: 'who', client_secret: 'x' },
      'invalid_client_id',
      'client identifier invalid',
    ],
    ['a wrong client secret', { client_secret: 'wrong' }, 'invalid_client', 'invalid client credentials'],
  ])('client credentials with %s → 400 %s', async (_, override, error, description) => {
    const { status, body } = await token({ grant_type: 'client_credentials', ...credentials(), ...override });
    expect(status).toBe(400);
    expect(body).toEqual({ error, error_description: description });
  });

  it('password flow needs password + security token; anything else is invalid_grant', async () => {
    const { username, password, securityToken } = emulator.credentials;
    const good = await token({
      grant_type: 'password',
      ...credentials(),
      username,
      password: password + securityToken,
    });
    expect(good.status).toBe(200);
    const bad = await token({ grant_type: 'password', ...credentials(), username, password });
    expect(bad).toEqual({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'authentication failure' },
    });
  });

  it('JWT bearer: a valid assertion gets a token', async () => {
    const assertion = signJwt(emulator.jwtPrivateKey!, jwtClaims(emulator));
    const { status, body } = await token({ grant_type: JWT_BEARER, assertion });
    expect(status).toBe(200);
    expect(body.instance_url).toBe(emulator.url);
  });

  it.each([
    ['expired', { exp: Math.floor(Date.now() / 1000) - 60 }, 'invalid_grant', 'expired authorization code'],
    [
      'exp more than 3 minutes ahead',
      { exp: Math.floor(Date.now() / 1000) + 600 },
      'invalid_grant',
      'invalid assertion',
    ],
    ['a foreign audience', { aud: 'https://example.com' }, 'invalid_grant', 'audience is invalid'],
    ['an unknown issuer', { iss: 'someone-else' }, 'invalid_client_id', 'client identifier invalid'],
    [
      'an unknown subject',
      { sub: 'nobody@example.com' },
      'invalid_grant',
      "user hasn't approved this consumer",
    ],
  ])('JWT bearer: %s → 400 %s', async (_, claims, error, description) => {
    const assertion = signJwt(emulator.jwtPrivateKey!, jwtClaims(emulator, claims));
    expect(await token({ grant_type: JWT_BEARER, assertion })).toEqual({
      status: 400,
      body: { error, error_description: description },
    });
  });

  it('JWT bearer: a signature from another key or another algorithm is an invalid assertion', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    const forged = signJwt(String(other), jwtClaims(emulator));
    const invalid = { status: 400, body: { error: 'invalid_grant', error_description: 'invalid assertion' } };
    expect(await token({ grant_type: JWT_BEARER, assertion: forged })).toEqual(invalid);
    const hs = signJwt(emulator.jwtPrivateKey!, jwtClaims(emulator), 'HS256');
    expect(await token({ grant_type: JWT_BEARER, assertion: hs })).toEqual(invalid);
    expect(await token({ grant_type: JWT_BEARER, assertion: 'not.a.jwt' })).toEqual(invalid);
  });

  it('an unknown grant type is unsupported_grant_type', async () => {
    expect(await token({ grant_type: 'authorization_code', code: 'x' })).toEqual({
      status: 400,
      body: { error: 'unsupported_grant_type', error_description: 'grant type not supported' },
    });
  });
});

describe('sessions', () => {
  it.each([
    ['no Authorization header', {}],
    ['an unknown token', { authorization: 'Bearer 00Dxx!nope' }],
  ])('%s → 401 INVALID_SESSION_ID', async (_, headers) => {
    const response = await rawRequest(`${emulator.url}/services/data/v65.0/limits`, { headers });
    expect(response.status).toBe(401);
    expect(response.body).toEqual(SESSION_EXPIRED);
  });

  it('a token past its TTL → 401, and is not counted', async () => {
    clock += emulator.config.tokenTtlSeconds * 1000 + 1;
    const response = await api.call('GET', '/limits');
    expect(response).toMatchObject({ status: 401, body: SESSION_EXPIRED });
    expect(emulator.counters.apiCalls).toBe(0);
  });

  it('expired at run time: by the handle and by POST /__emulator/tokens/expire', async () => {
    emulator.expireTokens();
    expect((await api.call('GET', '/limits')).status).toBe(401);
    api = await rawApi(emulator);
    expect((await api.call('POST', '/__emulator/tokens/expire')).status).toBe(204);
    expect((await api.call('GET', '/limits')).status).toBe(401);
  });

  it('a revoked token → 401', async () => {
    await rawRequest(`${emulator.url}/services/oauth2/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${encodeURIComponent(api.token)}`,
    });
    expect((await api.call('GET', '/limits')).status).toBe(401);
  });

  it('serves the identity URL to its token only', async () => {
    const identity = await rawRequest(
      `${emulator.url}/id/${emulator.orgId}/${emulator.userId}?oauth_token=${api.token}`,
    );
    expect(identity).toMatchObject({
      status: 200,
      body: { user_id: emulator.userId, organization_id: emulator.orgId },
    });
    const stranger = await rawRequest(
      `${emulator.url}/id/${emulator.orgId}/${emulator.userId}?oauth_token=nope`,
    );
    expect(stranger).toMatchObject({ status: 403, body: 'Bad_OAuth_Token' });
  });
});

describe('versions, resources, limits', () => {
  it('lists versions unauthenticated and serves the version root', async () => {
    const versions = await rawRequest(`${emulator.url}/services/data`);
    expect(versions.status).toBe(200);
    expect(versions.body).toContainEqual({
      label: "Winter '26",
      url: '/services/data/v65.0',
      version: '65.0',
    });
    const root = await api.call('GET', '');
    expect(root.body).toMatchObject({
      sobjects: '/services/data/v65.0/sobjects',
      query: '/services/data/v65.0/query',
    });
    expect((await api.call('GET', '/services/data/v99.0/limits')).status).toBe(404);
  });

  it('counts authenticated calls in Sforce-Limit-Info and /limits', async () => {
    const first = await api.call('GET', '/sobjects');
    expect(first.headers.get('sforce-limit-info')).toBe('api-usage=1/15000');
    const limits = await api.call('GET', '/limits');
    expect(limits.headers.get('sforce-limit-info')).toBe('api-usage=2/15000');
    expect(limits.body).toMatchObject({
      DailyApiRequests: { Max: 15_000, Remaining: 14_998 },
      DailyBulkApiBatches: { Max: 15_000, Remaining: 15_000 },
      DailyBulkV2QueryJobs: { Max: 10_000, Remaining: 10_000 },
    });
  });

  it('past the daily maximum → 403 REQUEST_LIMIT_EXCEEDED (TotalRequests)', async () => {
    emulator.config.dailyApiMax = 2;
    expect((await api.call('GET', '/limits')).status).toBe(200);
    expect((await api.call('GET', '/limits')).status).toBe(200);
    const over = await api.call('GET', '/limits');
    expect(over.status).toBe(403);
    expect(over.body).toEqual([
      { message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' },
    ]);
    expect(over.headers.get('sforce-limit-info')).toBe('api-usage=2/2');
  });
});

describe('describe', () => {
  it('unknown sObject → 404 NOT_FOUND', async () => {
    const response = await api.call('GET', '/sobjects/Nope__c/describe');
    expect(response.status).toBe(404);
    expect(response.body).toEqual([
      { message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' },
    ]);
  });

  it('If-Modified-Since at or after the schema date → 304; before → 200', async () => {
    const lastModified = emulator.org.schema.lastModified;
    const later = await api.call('GET', '/sobjects/Lead/describe', undefined, {
      'if-modified-since': new Date(lastModified.getTime() + 1000).toUTCString(),
    });
    expect(later.status).toBe(304);
    expect(later.body).toBe('');
    const earlier = await api.call('GET', '/sobjects/Lead/describe', undefined, {
      'if-modified-since': new Date(lastModified.getTime() - 1000).toUTCString(),
    });
    expect(earlier.status).toBe(200);
    expect(earlier.headers.get('last-modified')).toBe(lastModified.toUTCString());
  });
});

describe('sObject Collections errors', () => {
  const leads = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ attributes: { type: 'Lead' }, LastName: `L${i}`, Company: 'C' }));

  it('more than 200 records → 400 EXCEEDED_ID_LIMIT, for writes and for delete ids', async () => {
    const expected = {
      status: 400,
      body: [
        {
          message: 'record limit reached. cannot submit more than 200 records into this call',
          errorCode: 'EXCEEDED_ID_LIMIT',
        },
      ],
    };
    expect(await api.call('POST', '/composite/sobjects', { records: leads(201) })).toMatchObject(expected);
    const ids = Array.from({ length: 201 }, (_, i) => makeId('00Q', i + 1)).join(',');
    expect(await api.call('DELETE', `/composite/sobjects?ids=${ids}`)).toMatchObject(expected);
    expect(emulator.org.list('Lead')).toEqual([]);
    expect((await api.call('POST', '/composite/sobjects', { records: leads(200) })).status).toBe(200);
  });

  it('a record without attributes.type fails on its own; failed creates carry no id', async () => {
    const response = await api.call('POST', '/composite/sobjects', {
      records: [{ LastName: 'No type', Company: 'C' }, ...leads(1)],
    });
    expect(response.status).toBe(200);
    const [first, second] = response.body as Array<Record<string, unknown>>;
    expect(first).toEqual({
      success: false,
      errors: [{ statusCode: 'INVALID_TYPE', message: 'Must send a concrete entity type.', fields: [] }],
    });
    expect(second).toMatchObject({ success: true });
  });

  it('malformed JSON → 400 JSON_PARSER_ERROR', async () => {
    const response = await api.call('POST', '/composite/sobjects', '{"records": [');
    expect(response.status).toBe(400);
    expect((response.body as Array<{ errorCode: string }>)[0]!.errorCode).toBe('JSON_PARSER_ERROR');
  });

  it('upsert on a field that is no external id → 400 INVALID_FIELD', async () => {
    const response = await api.call('PATCH', '/composite/sobjects/Lead/Title', { records: leads(1) });
    expect(response).toMatchObject({
      status: 400,
      body: [
        {
          errorCode: 'INVALID_FIELD',
          message: 'Field name provided, Title is not an External ID or indexed field for Lead',
        },
      ],
    });
  });

  it.each([
    ['a datetime without seconds', { EmailBouncedDate: '2024-01-02T03:04Z' }, 'JSON_PARSER_ERROR'],
    ['month 13', { EmailBouncedDate: '2024-13-02T03:04:05Z' }, 'JSON_PARSER_ERROR'],
    ['hour 25', { EmailBouncedDate: '2024-01-02T25:04:05Z' }, 'JSON_PARSER_ERROR'],
    ['30 February', { ConvertedDate: '2024-02-30' }, 'JSON_PARSER_ERROR'],
    ['a datetime in a date field', { ConvertedDate: '2024-02-03T00:00:00Z' }, 'JSON_PARSER_ERROR'],
    ['the year 1699', { EmailBouncedDate: '1699-12-31T00:00:00Z' }, 'JSON_PARSER_ERROR'],
    ['12.5 in an int field', { NumberOfEmployees: 12.5 }, 'JSON_PARSER_ERROR'],
    ['an int beyond 32 bits', { NumberOfEmployees: 2 ** 31 }, 'JSON_PARSER_ERROR'],
    ['text in a number field', { AnnualRevenue: '5000' }, 'JSON_PARSER_ERROR'],
    ['an object in a text field', { Title: { a: 1 } }, 'JSON_PARSER_ERROR'],
    ['one field named twice', { Title: 'A', TITLE: 'B' }, 'JSON_PARSER_ERROR'],
    ['an unknown field', { Nope__c: 1 }, 'INVALID_FIELD'],
  ])(
    'a record Salesforce cannot deserialize (%s) fails the whole request: 400, nothing written',
    async (_, bad, code) => {
      for (const [method, path] of [
        ['POST', '/composite/sobjects'],
        ['PATCH', '/composite/sobjects/Lead/CustomId__c'],
      ] as const) {
        const records = leads(3).map((r, i) => ({ ...r, CustomId__c: `D-${i}` }));
        records[1] = { ...records[1]!, ...bad };
        const response = await api.call(method, path, { records });
        expect(response.status).toBe(400);
        expect((response.body as Array<{ errorCode: string }>)[0]!.errorCode).toBe(code);
      }
      const single = await api.call('POST', '/sobjects/Lead', { LastName: 'L', Company: 'C', ...bad });
      expect(single.status).toBe(400);
      expect((single.body as Array<{ errorCode: string }>)[0]!.errorCode).toBe(code);
      expect(emulator.org.list('Lead')).toHaveLength(0);
    },
  );

  it('the same record Id twice in one update or delete call (15 and 18 characters alike) fails the call', async () => {
    const created = (await api.call('POST', '/composite/sobjects', { records: leads(1) })).body as Array<{
      id: string;
    }>;
    const id = created[0]!.id;
    const update = await api.call('PATCH', '/composite/sobjects', {
      records: [
        { attributes: { type: 'Lead' }, Id: id, Title: 'A' },
        { attributes: { type: 'Lead' }, Id: id.slice(0, 15), Title: 'B' },
      ],
    });
    expect(update.status).toBe(400);
    const remove = await api.call('DELETE', `/composite/sobjects?ids=${id},${id.slice(0, 15)}`);
    expect(remove.status).toBe(400);
    expect(emulator.org.get(id)!.deleted).toBe(false);
    expect(emulator.org.get(id)!.fields.Title ?? null).toBeNull();
  });

  it('numbers keep their exact digits: 123456789012345678 is stored as sent', async () => {
    const response = await api.call(
      'POST',
      '/composite/sobjects',
      `{"records":[{"attributes":{"type":"Lead"},"LastName":"L","Company":"C","AnnualRevenue":123456789012345678}]}`,
    );
    const id = (response.body as Array<{ id: string }>)[0]!.id;
    const stored = emulator.org.get(id)!.fields.AnnualRevenue as { rawJSON: string };
    expect(stored.rawJSON).toBe('123456789012345678');
  });

  it('delete honours allOrNone from the query string', async () => {
    const created = (await api.call('POST', '/composite/sobjects', { records: leads(1) })).body as Array<{
      id: string;
    }>;
    const response = await api.call(
      'DELETE',
      `/composite/sobjects?ids=${created[0]!.id},bogus&allOrNone=true`,
    );
    expect(response.body).toEqual([
      {
        id: created[0]!.id,
        success: false,
        errors: [expect.objectContaining({ statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK' })],
      },
      { success: false, errors: [{ statusCode: 'MALFORMED_ID', message: 'malformed id bogus', fields: [] }] },
    ]);
    expect(emulator.org.list('Lead')).toHaveLength(1);
  });
});

describe('single-record sObject rows', () => {
  async function createLead(): Promise<string> {
    const response = await api.call('POST', '/sobjects/Lead', { LastName: 'Row', Company: 'C' });
    expect(response).toMatchObject({ status: 201, body: { success: true, errors: [] } });
    return (response.body as { id: string }).id;
  }

  it('create failure → 400 with errorCode and fields', async () => {
    const response = await api.call('POST', '/sobjects/Lead', { LastName: 'Row' });
    expect(response).toEqual({
      status: 400,
      headers: expect.anything(),
      body: [
        {
          message: 'Required fields are missing: [Company]',
          errorCode: 'REQUIRED_FIELD_MISSING',
          fields: ['Company'],
        },
      ],
    });
  });

  it('PATCH and DELETE answer 204 with no body', async () => {
    const id = await createLead();
    expect(await api.call('PATCH', `/sobjects/Lead/${id}`, { Title: 'T' })).toMatchObject({
      status: 204,
      body: '',
    });
    expect(await api.call('DELETE', `/sobjects/Lead/${id}`)).toMatchObject({ status: 204, body: '' });
  });

  it('404s: unknown id NOT_FOUND, malformed id NOT_FOUND, deleted ENTITY_IS_DELETED', async () => {
    expect(await api.call('PATCH', `/sobjects/Lead/${makeId('00Q', 9999)}`, { Title: 'T' })).toMatchObject({
      status: 404,
      body: [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }],
    });
    expect(await api.call('GET', '/sobjects/Lead/garbage')).toMatchObject({
      status: 404,
      body: [
        {
          errorCode: 'NOT_FOUND',
          message: 'Provided external ID field does not exist or is not accessible: garbage',
        },
      ],
    });
    const id = await createLead();
    await api.call('DELETE', `/sobjects/Lead/${id}`);
    for (const method of ['GET', 'PATCH', 'DELETE']) {
      expect(
        await api.call(method, `/sobjects/Lead/${id}`, method === 'PATCH' ? { Title: 'T' } : undefined),
      ).toMatchObject({
        status: 404,
        body: [{ errorCode: 'ENTITY_IS_DELETED', message: 'entity is deleted' }],
      });
    }
  });

  it('upsert by external id: 201 created, 200 updated (204 before API 46.0)', async () => {
    const created = await api.call('PATCH', '/sobjects/Lead/CustomId__c/X-1', {
      LastName: 'U',
      Company: 'C',
    });
    expect(created).toMatchObject({ status: 201, body: { success: true, created: true, errors: [] } });
    const updated = await api.call('PATCH', '/sobjects/Lead/CustomId__c/X-1', { Title: 'T' });
    expect(updated).toMatchObject({
      status: 200,
      body: { id: (created.body as { id: string }).id, created: false },
    });
    const old = await api.call('PATCH', '/services/data/v45.0/sobjects/Lead/CustomId__c/X-1', { Title: 'U' });
    expect(old).toMatchObject({ status: 204, body: '' });
    expect(await api.call('PATCH', '/sobjects/Lead/Title/X', {})).toMatchObject({
      status: 404,
      body: [
        {
          errorCode: 'NOT_FOUND',
          message: 'Provided external ID field does not exist or is not accessible: Title',
        },
      ],
    });
  });
});

describe('query errors and visibility', () => {
  const query = (soql: string, resource = 'query') =>
    api.call('GET', `/${resource}?q=${encodeURIComponent(soql)}`);

  it.each([
    ['SELECT FROM Lead'],
    ["SELECT Id FROM Lead WHERE LastName = 'open"],
    ["SELECT Id FROM Lead WHERE LastName = 'bad \\q escape'"],
    ['SELECT Id FROM Lead ORDER BY Name'],
    ['DELETE FROM Lead'],
  ])('%s → 400 MALFORMED_QUERY', async (soql) => {
    const response = await query(soql);
    expect(response.status).toBe(400);
    expect(response.body).toEqual([{ message: expect.any(String), errorCode: 'MALFORMED_QUERY' }]);
  });

  it('an unknown column → 400 INVALID_FIELD with the position, an unknown object → 400 INVALID_TYPE', async () => {
    const field = await query('SELECT Id, Nope FROM Lead');
    expect(field.status).toBe(400);
    const [error] = field.body as Array<{ message: string; errorCode: string }>;
    expect(error!.errorCode).toBe('INVALID_FIELD');
    expect(error!.message).toContain("ERROR at Row:1:Column:12\nNo such column 'Nope' on entity 'Lead'.");
    expect(await query('SELECT Id FROM Nope')).toMatchObject({
      status: 400,
      body: [{ errorCode: 'INVALID_TYPE' }],
    });
  });

  it('leaves deleted records out of query and in queryAll', async () => {
    const response = await api.call('POST', '/sobjects/Lead', { LastName: 'Gone', Company: 'C' });
    await api.call('DELETE', `/sobjects/Lead/${(response.body as { id: string }).id}`);
    expect((await query('SELECT Id FROM Lead')).body).toMatchObject({
      totalSize: 0,
      done: true,
      records: [],
    });
    expect((await query('SELECT Id, IsDeleted FROM Lead', 'queryAll')).body).toMatchObject({
      totalSize: 1,
      records: [{ IsDeleted: true }],
    });
  });
});

describe('inspection API', () => {
  it('lists records, calls and counters without counting itself', async () => {
    await api.call('POST', '/sobjects/Lead', { LastName: 'Seen', Company: 'C' });
    const before = emulator.counters.apiCalls;
    const records = await rawRequest(`${emulator.url}/__emulator/records/Lead`);
    expect(records.body).toMatchObject({
      sobject: 'Lead',
      totalSize: 1,
      records: [{ LastName: 'Seen', Email: null }],
    });
    const calls = (await rawRequest(`${emulator.url}/__emulator/calls`)).body as Array<
      Record<string, unknown>
    >;
    expect(calls.at(-1)).toMatchObject({
      method: 'POST',
      path: '/services/data/v65.0/sobjects/Lead',
      status: 201,
      route: 'sobject',
    });
    expect(calls.at(-1)!.timestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await rawRequest(`${emulator.url}/__emulator/counters`)).body).toMatchObject({
      apiCalls: before,
      bulkBatches: 0,
    });
    expect(emulator.counters.apiCalls).toBe(before);
  });

  it('resets records, counters, faults and the call log', async () => {
    await api.call('POST', '/sobjects/Lead', { LastName: 'Gone', Company: 'C' });
    emulator.faults.add({ route: 'query', fault: 'status', status: 500 });
    expect((await rawRequest(`${emulator.url}/__emulator/reset`, { method: 'POST' })).status).toBe(204);
    expect(emulator.org.list('Lead')).toEqual([]);
    expect(emulator.counters).toEqual({ apiCalls: 0, bulkBatches: 0 });
    expect(emulator.faults.list()).toEqual([]);
    expect(emulator.calls()).toEqual([]);
  });

  it('changes limits at run time with PATCH /__emulator/config', async () => {
    const response = await rawRequest(`${emulator.url}/__emulator/config`, {
      method: 'PATCH',
      body: JSON.stringify({ dailyApiMax: 1 }),
    });
    expect(response.body).toMatchObject({ dailyApiMax: 1 });
    await api.call('GET', '/limits');
    expect((await api.call('GET', '/limits')).status).toBe(403);
  });
});

describe('snapshots', () => {
  it('writes records on close and a later emulator starts from them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emulator-snapshot-'));
    const snapshotFile = join(dir, 'org.json');
    try {
      const first = await startEmulator({ snapshotFile });
      const firstApi = await rawApi(first);
      const created = await firstApi.call('POST', '/sobjects/Account', { Name: 'Kept' });
      await first.close();
      const second = await startEmulator({ snapshotFile });
      expect(second.org.list('Account').map((r) => r.fields.Name)).toEqual(['Kept']);
      expect(second.org.get((created.body as { id: string }).id)).toBeDefined();
      const onDemand = await rawRequest(`${second.url}/__emulator/snapshot`, { method: 'POST' });
      expect(onDemand.body).toEqual({ path: snapshotFile });
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
