// The retry policy against the emulator over HTTP: what is retried, how long it waits, where it stops.
// Sleeps are recorded instead of waited (and advance the client's clock), so the assertions are on the
// delays the client asked for.
import { createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { createJsforceSend, type Send } from '../../lib/salesforce/http.ts';
import { DailyApiLimitError, SalesforceUnavailableError } from '../../lib/salesforce/index.ts';
import type { Emulator } from '../../local/emulator/server.ts';
import { CONFIG, callsOf, deadlineIn, emulator, testClient, units } from './helpers.ts';

let emu: Emulator;
beforeAll(async () => {
  emu = await emulator();
});
afterAll(async () => {
  await emu.close();
});
beforeEach(() => emu.reset());

const leads = (n: number, prefix = 'R') =>
  units(
    Array.from({ length: n }, (_, i) => ({ LastName: `${prefix}${i}`, Company: 'Acme' })),
    { sobject: 'Lead', operation: 'insert' },
  )[0]!;

describe('throttling and 5xx', () => {
  test('a 503 storm is retried with growing backoff and then succeeds', async () => {
    emu.faults.add({ route: 'collections', fault: 'status', status: 503, times: 3 });
    const { client, sleeps } = testClient(emu);

    const results = await client.writeUnit(leads(5), deadlineIn());

    expect(results.every((r) => r.status === 'succeeded' && r.attempts === 4)).toBe(true);
    // Full jitter with random() = 0.5 over 500 ms × 2^n.
    expect(sleeps).toEqual([250, 500, 1000]);
    expect(callsOf(emu, 'collections').map((c) => c.status)).toEqual([503, 503, 503, 200]);
    expect(emu.org.list('Lead')).toHaveLength(5);
  });

  test('a storm that outlasts the deadline stops before it, and the records are retryable', async () => {
    emu.faults.add({ route: 'collections', fault: 'status', status: 503, times: 'always' });
    const { client, slept } = testClient(emu, { config: { ...CONFIG, maxRetries: 20 } });

    const results = await client.writeUnit(leads(3), deadlineIn(5_000));

    expect(slept()).toBeLessThan(5_000);
    // 250 + 500 + 1000 + 2000 = 3750; the next wait (4000) would end past the deadline.
    expect(callsOf(emu, 'collections')).toHaveLength(5);
    for (const r of results) {
      expect(r).toMatchObject({ status: 'failed', retryable: true, attempts: 5 });
      expect(r.errors[0]!.code).toBe('SERVER_UNAVAILABLE');
      expect(r.errors[0]!.message).toContain('Server temporarily unavailable');
    }
  });

  test('retries stop after maxRetries', async () => {
    emu.faults.add({ route: 'collections', fault: 'status', status: 500, times: 'always' });
    const { client } = testClient(emu, { config: { ...CONFIG, maxRetries: 2 } });

    const [result] = await client.writeUnit(
      units([{ Id: '00Q5E0000000009AAA', LastName: 'X' }], { sobject: 'Lead', operation: 'update' })[0]!,
      deadlineIn(),
    );

    expect(callsOf(emu, 'collections')).toHaveLength(3);
    expect(result).toMatchObject({ status: 'failed', retryable: true, attempts: 3 });
    expect(result!.errors[0]!.code).toBe('UNKNOWN_EXCEPTION');
  });

  test('429 with Retry-After: 2 waits at least 2 s before the next attempt', async () => {
    emu.faults.add({ route: 'collections', fault: 'status', status: 429, retryAfter: 2 });
    const { client, sleeps } = testClient(emu);

    const results = await client.writeUnit(leads(2), deadlineIn());

    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(2_000);
    expect(results.every((r) => r.status === 'succeeded')).toBe(true);
  });

  test('403 REQUEST_LIMIT_EXCEEDED ConcurrentPerOrgLongTxn is retried', async () => {
    emu.faults.add({ route: 'collections', fault: 'limit', limit: 'ConcurrentPerOrgLongTxn' });
    const { client, sleeps } = testClient(emu);

    const results = await client.writeUnit(leads(1), deadlineIn());

    expect(results[0]!.status).toBe('succeeded');
    expect(sleeps).toHaveLength(1);
    expect(callsOf(emu, 'collections').map((c) => c.status)).toEqual([403, 200]);
  });

  test('403 TotalRequests (the daily limit) is not retried and fails fast with a clear error', async () => {
    emu.faults.add({ route: 'collections', fault: 'limit', limit: 'TotalRequests' });
    const { client, sleeps } = testClient(emu);

    const error = await client.writeUnit(leads(1), deadlineIn()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DailyApiLimitError);
    expect((error as Error).message).toMatch(/daily API request limit.*TotalRequests Limit exceeded/);
    expect(sleeps).toEqual([]);
    expect(callsOf(emu, 'collections')).toHaveLength(1);
  });
});

describe('deadline and timeouts', () => {
  test('nothing is sent once the deadline has passed', async () => {
    const { client } = testClient(emu);
    const results = await client.writeUnit(leads(2), { deadline: Date.now() - 1 });
    expect(results.map((r) => [r.status, r.retryable, r.errors[0]!.code])).toEqual([
      ['failed', true, 'DEADLINE_EXCEEDED'],
      ['failed', true, 'DEADLINE_EXCEEDED'],
    ]);
    expect(callsOf(emu, 'collections')).toHaveLength(0);
  });

  test('a timed-out idempotent call is retried', async () => {
    const { client } = testClient(emu, { config: { ...CONFIG, requestTimeout: 200 } });
    await client.schemaOf('Account', deadlineIn());
    emu.faults.add({ route: 'describe', fault: 'latency', ms: 600 });

    const schema = await client.schemaOf('Lead', deadlineIn());

    expect(schema.name).toBe('Lead');
    // Account, the Lead attempt that timed out, the Lead retry.
    expect(client.callCount()).toBe(3);
  });

  test('a timed-out insert is not resent: RESPONSE_LOST, and the record exists once', async () => {
    const { client } = testClient(emu, { config: { ...CONFIG, requestTimeout: 200 } });
    await client.schemaOf('Lead', deadlineIn());
    emu.faults.add({ route: 'collections', fault: 'latency', ms: 400 });

    const [result] = await client.writeUnit(leads(1), deadlineIn());

    expect(result).toMatchObject({ status: 'failed', retryable: true });
    expect(result!.errors[0]!.code).toBe('RESPONSE_LOST');
    await new Promise((r) => setTimeout(r, 400));
    expect(emu.org.list('Lead')).toHaveLength(1);
    expect(callsOf(emu, 'collections')).toHaveLength(1);
  });

  test('near the deadline an idempotent attempt is cut at it, but an insert is not (that would lose its outcome)', async () => {
    const { client } = testClient(emu);
    await client.schemaOf('Account', deadlineIn());
    emu.faults.add({ route: ['describe', 'collections'], fault: 'latency', ms: 300, times: 2 });

    const describe = await client.schemaOf('Lead', deadlineIn(100)).catch((e: unknown) => e);
    const [inserted] = await client.writeUnit(leads(1), deadlineIn(100));

    expect(describe).toBeInstanceOf(SalesforceUnavailableError);
    expect((describe as SalesforceUnavailableError).code).toBe('TIMEOUT');
    expect(inserted).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  test('an insert whose connection was refused before sending is retried (it cannot have been applied)', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const real = createJsforceSend();
    let refused = 0;
    const send: Send = (request, timeout) => {
      if (request.url.includes('/composite/') && refused++ === 0) {
        return real({ ...request, url: request.url.replace(/:\d+\//, `:${closedPort}/`) }, timeout);
      }
      return real(request, timeout);
    };
    const { client, sleeps } = testClient(emu, { send });

    const results = await client.writeUnit(leads(2), deadlineIn());

    expect(results.map((r) => [r.status, r.attempts])).toEqual([
      ['succeeded', 2],
      ['succeeded', 2],
    ]);
    expect(sleeps).toHaveLength(1);
    expect(emu.org.list('Lead')).toHaveLength(2);
  });
});
