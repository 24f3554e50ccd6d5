// The describe cache: TTL, If-Modified-Since revalidation, one request for concurrent callers.
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { createClientCache, SalesforceApiError } from '../../lib/salesforce/index.ts';
import { withField } from '../../local/emulator/schema.ts';
import type { Emulator } from '../../local/emulator/server.ts';
import { callsOf, deadlineIn, emulator, testClient } from './helpers.ts';

let emu: Emulator;
beforeAll(async () => {
  emu = await emulator();
});
afterAll(async () => {
  await emu.close();
});
beforeEach(() => emu.reset());

function clock() {
  let now = Date.now();
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

test('a describe is fetched once, served from cache within the TTL, and revalidated with If-Modified-Since after it', async () => {
  const time = clock();
  const { client } = testClient(emu, { now: time.now, describeTtlMs: 60_000 });

  const context = () => ({ deadline: time.now() + 60_000 });

  const first = await client.schemaOf('Lead', context());
  time.advance(30_000);
  const cached = await client.schemaOf('lead', context());
  time.advance(31_000);
  const revalidated = await client.schemaOf('Lead', context());

  expect(cached).toBe(first);
  expect(revalidated).toBe(first);
  expect(callsOf(emu, 'describe').map((c) => c.status)).toEqual([200, 304]);
  expect(first.fields.get('customid__c')).toMatchObject({ externalId: true, createable: true });
});

test('concurrent callers of one sObject share one request', async () => {
  const { client } = testClient(emu);
  const schemas = await Promise.all(
    Array.from({ length: 5 }, () => client.schemaOf('Account', deadlineIn())),
  );
  expect(new Set(schemas).size).toBe(1);
  expect(callsOf(emu, 'describe')).toHaveLength(1);
});

test('the cache is shared by clients of the same credentials (across invocations)', async () => {
  const cache = createClientCache();
  await testClient(emu, { cache }).client.schemaOf('Contact', deadlineIn());
  await testClient(emu, { cache }).client.schemaOf('Contact', deadlineIn());
  expect(callsOf(emu, 'describe')).toHaveLength(1);
});

test('when revalidation fails with a retryable error, the stale schema is served', async () => {
  const time = clock();
  const { client } = testClient(emu, {
    now: time.now,
    describeTtlMs: 1_000,
    config: { apiVersion: '65.0', requestTimeout: 5_000, maxRetries: 1, maxInFlight: 1 },
  });
  const first = await client.schemaOf('Lead', deadlineIn());
  time.advance(2_000);
  emu.faults.add({ route: 'describe', fault: 'status', status: 503, times: 'always' });

  await expect(client.schemaOf('Lead', { deadline: time.now() + 60_000 })).resolves.toBe(first);
  expect(callsOf(emu, 'describe').map((c) => c.status)).toEqual([200, 503, 503]);
});

test('an unknown sObject fails with NOT_FOUND', async () => {
  const { client } = testClient(emu);
  const error = await client.schemaOf('Nope__c', deadlineIn()).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(SalesforceApiError);
  expect((error as SalesforceApiError).errorCode).toBe('NOT_FOUND');
  expect((error as SalesforceApiError).retryable).toBe(false);
});

test('a refresh (a record carried a field the describe lacks) revalidates at once, at most once a minute per sObject, and brings a new field', async () => {
  const time = clock();
  const { client } = testClient(emu, { now: time.now });
  const context = () => ({ deadline: time.now() + 60_000 });
  const original = emu.org.schema;
  try {
    const first = await client.schemaOf('Lead', context());
    emu.org.setSchema(withField(emu.org.schema, 'Lead', { name: 'Tier__c', type: 'string' }));

    const refreshed = await client.schemaOf('Lead', context(), { refresh: true });
    time.advance(30_000);
    await client.schemaOf('Lead', context(), { refresh: true });
    time.advance(31_000);
    await client.schemaOf('Lead', context(), { refresh: true });

    expect(first.fields.has('tier__c')).toBe(false);
    expect(refreshed.fields.get('tier__c')).toMatchObject({ name: 'Tier__c' });
    expect(callsOf(emu, 'describe').map((c) => c.status)).toEqual([200, 200, 304]);
  } finally {
    emu.org.setSchema(original);
  }
});
