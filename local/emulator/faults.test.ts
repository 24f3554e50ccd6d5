// Fault injection end to end: each fault kind, before and after the request takes effect, by route,
// count and seeded probability, set at start-up, through the handle and through /__emulator/faults.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFaults, parseFaultRules } from './faults.ts';
import { type Emulator, startEmulator } from './server.ts';
import { type RawApi, rawApi, rawRequest } from './testing.ts';

let emulator: Emulator;
let api: RawApi;

beforeAll(async () => {
  emulator = await startEmulator({ bulkProcessingDelayMs: 1 });
});
afterAll(() => emulator.close());
beforeEach(async () => {
  emulator.reset();
  api = await rawApi(emulator);
});

const lead = (lastName: string) => ({ attributes: { type: 'Lead' }, LastName: lastName, Company: 'Acme' });
const insert = (...names: string[]) => api.call('POST', '/composite/sobjects', { records: names.map(lead) });
const leadNames = () => emulator.org.list('Lead').map((r) => r.fields.LastName);

describe('HTTP status faults', () => {
  it('429 with Retry-After, before the write: nothing is written', async () => {
    emulator.faults.add({ route: 'collections', fault: 'status', status: 429, retryAfter: 2 });
    const response = await insert('A');
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('2');
    expect(response.body).toEqual([{ message: expect.any(String), errorCode: 'TOO_MANY_REQUESTS' }]);
    expect(leadNames()).toEqual([]);
    expect((await insert('B')).status).toBe(200);
  });

  it('503 on the nth matching call only', async () => {
    emulator.faults.add({ route: 'collections', fault: 'status', status: 503, nth: 2 });
    const statuses = [];
    for (const name of ['A', 'B', 'C']) statuses.push((await insert(name)).status);
    expect(statuses).toEqual([200, 503, 200]);
    expect(leadNames()).toEqual(['A', 'C']);
    const collections = emulator.calls().filter((c) => c.route === 'collections');
    expect(collections.map((c) => c.fault)).toEqual([undefined, 'fault-1', undefined]);
  });

  it('500 after the write: the write happened, the response is lost', async () => {
    emulator.faults.add({ route: 'collections', fault: 'status', status: 500, when: 'after' });
    const response = await insert('A');
    expect(response).toMatchObject({ status: 500, body: [{ errorCode: 'UNKNOWN_EXCEPTION' }] });
    expect(leadNames()).toEqual(['A']);
  });

  it('times: the next N matching calls; other routes and methods are untouched', async () => {
    emulator.faults.add({ route: 'collections', method: 'POST', fault: 'status', status: 503, times: 2 });
    expect((await api.call('GET', '/limits')).status).toBe(200);
    expect((await api.call('DELETE', '/composite/sobjects?ids=001000000000001')).status).toBe(200);
    expect([(await insert('A')).status, (await insert('B')).status, (await insert('C')).status]).toEqual([
      503, 503, 200,
    ]);
  });

  it('403 REQUEST_LIMIT_EXCEEDED in both variants', async () => {
    emulator.faults.set([
      { route: 'query', fault: 'limit' },
      { route: 'query', fault: 'limit', limit: 'ConcurrentPerOrgLongTxn', nth: 2 },
    ]);
    const query = () => api.call('GET', '/query?q=SELECT+Id+FROM+Lead');
    expect(await query()).toMatchObject({
      status: 403,
      body: [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }],
    });
    expect(await query()).toMatchObject({
      status: 403,
      body: [{ message: 'ConcurrentPerOrgLongTxn Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }],
    });
    expect((await query()).status).toBe(200);
  });
});

describe('connection reset', () => {
  it('before the write: the client sees a reset and nothing was written', async () => {
    emulator.faults.add({ route: 'collections', fault: 'reset' });
    await expect(insert('A')).rejects.toThrow();
    expect(leadNames()).toEqual([]);
    expect(emulator.calls().at(-1)).toMatchObject({ status: 0, fault: 'fault-1' });
  });

  it('after the write: the client sees a reset but the record exists', async () => {
    emulator.faults.add({ route: 'collections', fault: 'reset', when: 'after' });
    await expect(insert('A')).rejects.toThrow();
    expect(leadNames()).toEqual(['A']);
  });
});

describe('latency', () => {
  it('delays matching calls by the rule’s milliseconds', async () => {
    emulator.faults.add({ route: 'query', fault: 'latency', ms: 120, times: 'always' });
    const started = Date.now();
    await api.call('GET', '/query?q=SELECT+Id+FROM+Lead');
    expect(Date.now() - started).toBeGreaterThanOrEqual(115);
    const fast = Date.now();
    await api.call('GET', '/limits');
    expect(Date.now() - fast).toBeLessThan(100);
  });

  it('adds the configured base latency to every API call', async () => {
    emulator.config.latencyMs = 60;
    const started = Date.now();
    await api.call('GET', '/limits');
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    emulator.config.latencyMs = 0;
  });
});

describe('token expiry', () => {
  it('before: this call is refused with 401', async () => {
    emulator.faults.add({ route: 'collections', fault: 'expireTokens' });
    expect((await insert('A')).status).toBe(401);
    expect(leadNames()).toEqual([]);
  });

  it('after: this call succeeds and the next one is refused', async () => {
    emulator.faults.add({ route: 'collections', fault: 'expireTokens', when: 'after' });
    expect((await insert('A')).status).toBe(200);
    expect((await api.call('GET', '/limits')).status).toBe(401);
  });
});

describe('UNABLE_TO_LOCK_ROW', () => {
  it('fails the records a rule matches inside a Collections result; the rest are written', async () => {
    emulator.faults.add({
      route: 'collections',
      fault: 'lockRow',
      match: { fields: { LastName: 'Locked' } },
    });
    const response = await insert('Free', 'Locked');
    expect(response.body).toEqual([
      { id: expect.any(String), success: true, errors: [] },
      {
        success: false,
        errors: [
          {
            statusCode: 'UNABLE_TO_LOCK_ROW',
            message: 'unable to obtain exclusive access to this record or 1 records: ',
            fields: [],
          },
        ],
      },
    ]);
    expect(leadNames()).toEqual(['Free']);
  });

  it('matches an existing record by id on update', async () => {
    const ids = ((await insert('A', 'B')).body as Array<{ id: string }>).map((r) => r.id);
    emulator.faults.add({ route: 'collections', fault: 'lockRow', match: { ids: [ids[1]!.slice(0, 15)] } });
    const response = await api.call('PATCH', '/composite/sobjects', {
      records: ids.map((id) => ({ attributes: { type: 'Lead' }, id, Title: 'T' })),
    });
    expect((response.body as Array<{ success: boolean }>).map((r) => r.success)).toEqual([true, false]);
    expect((response.body as Array<{ id: string; errors: Array<{ message: string }> }>)[1]).toMatchObject({
      id: ids[1],
      errors: [{ message: `unable to obtain exclusive access to this record or 1 records: ${ids[1]}` }],
    });
  });

  it('matches with a predicate given through the handle, and not on other routes', async () => {
    emulator.faults.add({
      route: 'collections',
      fault: 'lockRow',
      times: 'always',
      predicate: (record) => String(record.fields.LastName).startsWith('L'),
    });
    expect((await api.call('POST', '/sobjects/Lead', { LastName: 'Lone', Company: 'C' })).status).toBe(201);
    const results = (await insert('Lx', 'Mx', 'Ly')).body as Array<{ success: boolean }>;
    expect(results.map((r) => r.success)).toEqual([false, true, false]);
  });

  it('with a probability, faults the same records on every run with the same seed', async () => {
    const runPattern = async () => {
      emulator.reset();
      emulator.faults.add({ route: 'collections', fault: 'lockRow', probability: 0.5 });
      const names = Array.from({ length: 20 }, (_, i) => `L${i}`);
      const results = (await insert(...names)).body as Array<{ success: boolean }>;
      return results.map((r) => (r.success ? '.' : 'x')).join('');
    };
    const first = await runPattern();
    expect(first).toContain('x');
    expect(first).toContain('.');
    expect(await runPattern()).toBe(first);
  });
});

describe('bulk job failure', () => {
  async function runJob(): Promise<Record<string, unknown>> {
    const job = (
      await api.call('POST', '/jobs/ingest', { object: 'Lead', operation: 'insert', lineEnding: 'LF' })
    ).body as { id: string };
    await api.call('PUT', `/jobs/ingest/${job.id}/batches`, 'LastName,Company\nA,Acme\nB,Acme\n', {
      'content-type': 'text/csv',
    });
    await api.call('PATCH', `/jobs/ingest/${job.id}`, { state: 'UploadComplete' });
    for (;;) {
      const info = (await api.call('GET', `/jobs/ingest/${job.id}`)).body as Record<string, unknown>;
      if (['JobComplete', 'Failed', 'Aborted'].includes(String(info.state))) return info;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  it('fails the job a failJob rule picks, with its errorMessage', async () => {
    emulator.faults.add({
      route: 'bulk',
      fault: 'failJob',
      match: { object: 'Lead' },
      errorMessage: 'InvalidBatch : boom',
    });
    expect(await runJob()).toMatchObject({ state: 'Failed', errorMessage: 'InvalidBatch : boom' });
    expect(leadNames()).toEqual([]);
    expect(await runJob()).toMatchObject({ state: 'JobComplete', numberRecordsProcessed: 2 });
  });

  it('keeps the records processed before an afterRecords failure', async () => {
    emulator.faults.add({ fault: 'failJob', afterRecords: 1 });
    expect(await runJob()).toMatchObject({ state: 'Failed' });
    expect(leadNames()).toEqual(['A']);
  });
});

describe('configuring faults', () => {
  it('at start-up, from options', async () => {
    const other = await startEmulator({ faults: [{ route: 'limits', fault: 'status', status: 503 }] });
    try {
      const otherApi = await rawApi(other);
      expect((await otherApi.call('GET', '/limits')).status).toBe(503);
    } finally {
      await other.close();
    }
  });

  it('at run time through /__emulator/faults: add, list with counts, remove', async () => {
    const added = await rawRequest(`${emulator.url}/__emulator/faults`, {
      method: 'POST',
      body: JSON.stringify([
        { id: 'slow-query', route: 'query', fault: 'status', status: 503, times: 'always' },
      ]),
    });
    expect(added).toMatchObject({
      status: 201,
      body: [{ id: 'slow-query', fault: 'status', when: 'before', nth: 1 }],
    });
    await api.call('GET', '/query?q=SELECT+Id+FROM+Lead');
    const listed = await rawRequest(`${emulator.url}/__emulator/faults`);
    expect(listed.body).toMatchObject([{ rule: { id: 'slow-query' }, seen: 1, fired: 1 }]);
    expect(
      (await rawRequest(`${emulator.url}/__emulator/faults/slow-query`, { method: 'DELETE' })).status,
    ).toBe(204);
    expect((await api.call('GET', '/query?q=SELECT+Id+FROM+Lead')).status).toBe(200);
  });

  it('rejects an invalid rule with every problem named', async () => {
    const response = await rawRequest(`${emulator.url}/__emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ route: 'nowhere', fault: 'status' }),
    });
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body)).toMatch(/route/);
    expect(() => parseFaultRules('{"fault":"explode"}')).toThrow(/Invalid fault rule/);
  });

  it('one terminal fault per phase: a second rule that is due gets the next call', () => {
    const faults = createFaults({ seed: 1 });
    faults.set([
      { fault: 'status', status: 503 },
      { fault: 'status', status: 429 },
    ]);
    const request = {
      route: 'collections' as const,
      method: 'POST',
      path: '/services/data/v65.0/composite/sobjects',
    };
    expect(faults.forRequest(request).terminal.before).toMatchObject({ status: 503 });
    expect(faults.forRequest(request).terminal.before).toMatchObject({ status: 429 });
    expect(faults.forRequest(request).terminal.before).toBeUndefined();
  });
});
