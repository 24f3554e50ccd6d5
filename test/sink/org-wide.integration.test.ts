// Conditions of the whole org — refused credentials, an unset secret, an unreachable login host, a spent
// daily allowance, the concurrency limit, maintenance — hold the stream: no record fails or spends its
// redelivery budget, concurrent invocations share the pacing, and everything resumes once it clears.
// Mappings that cannot work with the org (no such sObject or external id field) fail at once instead.
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig, type SinkConfigInput } from '../../lib/config/index.ts';
import type { LambdaKafkaEvent } from '../../lib/decode/index.ts';
import { createClientCache, createSalesforceClient } from '../../lib/salesforce/index.ts';
import type { FaultRuleInput } from '../../local/emulator/faults.ts';
import { mskEvent } from '../../local/events/build-event.ts';
import { type Embedded, startEmbedded } from '../../local/runtime/embedded.ts';

let sink: Embedded | undefined;
afterEach(async () => {
  await sink?.close();
  sink = undefined;
});

const base: SinkConfigInput = {
  maxRetries: 1,
  maxRedeliveries: 1,
  apiUsageThreshold: 100,
  mappings: [{ topic: 'leads', sobject: 'Lead', externalIdField: 'CustomId__c' }],
};

async function start(config: SinkConfigInput = base, hold: Parameters<typeof startEmbedded>[0]['hold'] = {}) {
  sink = await startEmbedded({
    config: parseConfig(config),
    waitMs: 2,
    backoff: { baseDelayMs: 5, maxDelayMs: 20 },
    hold: { pacing: { firstMs: 50, maxMs: 200 }, ...hold },
  });
  return sink;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const leads = (count: number, from = 0): LambdaKafkaEvent =>
  mskEvent(
    Array.from({ length: count }, (_, i) => ({
      topic: 'leads',
      partition: i % 2,
      offset: from + i,
      value: { CustomId__c: `L-${from + i}`, LastName: `Doe ${i}`, Company: 'Acme' },
    })),
  );

const refuseLogins: FaultRuleInput = {
  route: 'oauth',
  fault: 'status',
  status: 400,
  body: { error: 'invalid_client', error_description: 'invalid client credentials' },
  times: 10_000,
};

/** Delivers while the condition lasts, then clears it and delivers again: nothing lost or failed. */
async function heldThenResumed(s: Embedded, event: LambdaKafkaEvent, clear: () => void, reason: string) {
  for (let i = 0; i < 4; i++) {
    const result = await s.invoke(event);
    expect(result.held?.reason).toBe(reason);
    expect(result.batchItemFailures.length).toBeGreaterThan(0);
  }
  expect(s.outcomes.outcomes).toEqual([]);
  clear();
  // The pacing says when the next try is due: wait for it, as the next redelivery would.
  await new Promise((resolve) => setTimeout(resolve, 250));
  const report = await s.deliver(event);
  expect(report.uncommitted).toBe(0);
  const count = Object.values(event.records).flat().length;
  expect(s.outcomes.outcomes.map((o) => o.status)).toEqual(Array(count).fill('succeeded'));
  // Held deliveries spent nothing of the budget (maxRedeliveries 1): one attempt each.
  expect(s.outcomes.outcomes.every((o) => o.attempts === 1)).toBe(true);
  const written = new Set(s.emulator!.org.list('Lead').map((l) => l.fields.CustomId__c));
  const ids = Object.values(event.records)
    .flat()
    .map((r) => JSON.parse(Buffer.from(r.value!, 'base64').toString('utf8')).CustomId__c);
  expect(ids.filter((id) => !written.has(id))).toEqual([]);
}

describe('org-wide conditions hold the stream', () => {
  it('a refused login at the first call (wrong client secret): held, then resumed', async () => {
    const s = await start();
    const rule = s.emulator!.faults.add(refuseLogins);
    await heldThenResumed(s, leads(6), () => s.emulator!.faults.remove(rule.id), 'AUTHENTICATION_FAILED');
  });

  it('a login refused only when a write needs a new session: held, then resumed', async () => {
    const s = await start();
    await s.deliver(leads(2));
    s.outcomes.clear();
    s.emulator!.expireTokens();
    const rule = s.emulator!.faults.add(refuseLogins);
    await heldThenResumed(s, leads(4, 2), () => s.emulator!.faults.remove(rule.id), 'AUTHENTICATION_FAILED');
  });

  it('the daily API allowance spent at the describe: held, then resumed', async () => {
    const s = await start();
    s.emulator!.config.dailyApiMax = s.emulator!.counters.apiCalls;
    await heldThenResumed(
      s,
      leads(4),
      () => {
        s.emulator!.config.dailyApiMax = 1_000_000;
      },
      'DAILY_API_LIMIT',
    );
  });

  it('the daily API allowance spent at a write: held, then resumed', async () => {
    const s = await start();
    await s.deliver(leads(2));
    s.outcomes.clear();
    s.emulator!.config.dailyApiMax = s.emulator!.counters.apiCalls;
    await heldThenResumed(
      s,
      leads(4, 2),
      () => {
        s.emulator!.config.dailyApiMax = 1_000_000;
      },
      'DAILY_API_LIMIT',
    );
  });

  it('the org refusing calls for its concurrency limit: held, then resumed', async () => {
    const s = await start();
    const rule = s.emulator!.faults.add({
      route: 'collections',
      fault: 'limit',
      limit: 'ConcurrentPerOrgLongTxn',
      times: 10_000,
    });
    await heldThenResumed(s, leads(4), () => s.emulator!.faults.remove(rule.id), 'CONCURRENCY_LIMIT');
  });

  it('Salesforce down for maintenance: held, then resumed', async () => {
    const s = await start();
    const rule = s.emulator!.faults.add({
      route: 'collections',
      fault: 'status',
      status: 503,
      body: [{ errorCode: 'SERVER_UNAVAILABLE', message: 'The instance is down for scheduled maintenance' }],
      times: 10_000,
    });
    await heldThenResumed(s, leads(4), () => s.emulator!.faults.remove(rule.id), 'MAINTENANCE');
  });

  it('records refused during read-only maintenance (a record error, not a status): held, then resumed', async () => {
    const s = await start();
    const rule = s.emulator!.faults.add({
      route: 'collections',
      fault: 'refuseRecord',
      code: 'INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE',
      message: 'Updates can’t be performed during read-only maintenance.',
      times: 'always',
    });
    await heldThenResumed(s, leads(4), () => s.emulator!.faults.remove(rule.id), 'MAINTENANCE');
  });

  it("the stack's placeholder secret: held without a call to Salesforce, resumed once the secret is filled", async () => {
    const s = await start();
    const config = parseConfig(base);
    const placeholder = async () =>
      createSalesforceClient({
        credentials: {
          authType: 'client_credentials',
          loginUrl: 'https://REPLACE-ME.my.salesforce.com',
          clientId: 'REPLACE_ME',
          clientSecret: 'REPLACE_ME',
        },
        config,
      });
    const calls = s.emulator!.calls().length;
    for (let i = 0; i < 3; i++) {
      const result = await s.invoke(leads(4), { overrides: { salesforce: placeholder } });
      expect(result.held?.reason).toBe('CREDENTIALS_NOT_SET');
      expect(result.held?.message).toMatch(/placeholder/);
    }
    expect(s.emulator!.calls().length).toBe(calls);
    await new Promise((resolve) => setTimeout(resolve, 250));
    await s.deliver(leads(4));
    expect(s.outcomes.outcomes.map((o) => o.status)).toEqual(Array(4).fill('succeeded'));
  });

  it.each([
    ['refuses connections', async () => `http://127.0.0.1:${await closedPort()}`],
    ['does not resolve', async () => 'https://no-such-org.invalid'],
    ['uses a port fetch refuses', async () => 'http://127.0.0.1:1'],
  ])('a login URL that %s: held within seconds, the message naming loginUrl', async (_, loginUrl) => {
    const s = await start();
    const config = parseConfig({ ...base, maxRetries: 5 });
    const unreachable = createSalesforceClient({
      credentials: {
        authType: 'client_credentials',
        loginUrl: await loginUrl(),
        clientId: 'x',
        clientSecret: 'y',
      },
      config,
      cache: createClientCache(),
    });
    const started = Date.now();
    const result = await s.invoke(leads(4), { overrides: { salesforce: unreachable } });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result.held?.reason).toBe('LOGIN_HOST_UNREACHABLE');
    expect(result.held?.message).toMatch(/loginUrl/);
    expect(s.outcomes.outcomes).toEqual([]);
  });

  it('concurrent invocations share the pacing: one probe per try, not one per invocation', async () => {
    const s = await start(base, { maxWaitMs: 700, pacing: { firstMs: 100, maxMs: 300 } });
    s.emulator!.faults.add(refuseLogins);
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        s.invoke(
          mskEvent([
            {
              topic: 'leads',
              partition: i,
              offset: 0,
              value: { CustomId__c: `L-${i}`, LastName: 'X', Company: 'Y' },
            },
          ]),
        ),
      ),
    );
    expect(results.every((r) => r.held?.reason === 'AUTHENTICATION_FAILED')).toBe(true);
    const logins = s.emulator!.calls().filter((c) => c.route === 'oauth').length;
    // Five first attempts, then one probe per try while they wait (each alone would probe ~3 more times).
    expect(logins).toBeLessThanOrEqual(5 + 3);
    const health = await s.health.get('local');
    expect(health?.reason).toBe('AUTHENTICATION_FAILED');
    expect(health?.attempts).toBeGreaterThan(1);
  });
});

describe('the org health item', () => {
  it('is cleared only by an invocation Salesforce answered, not by one that needed no call', async () => {
    const s = await start();
    await s.health.report(
      'local',
      { reason: 'DAILY_API_LIMIT', message: 'TotalRequests Limit exceeded.' },
      0,
    );
    const unmapped = mskEvent([{ topic: 'unmapped', partition: 0, offset: 0, value: 'x' }]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await s.invoke(unmapped)).held).toBeUndefined();
    expect((await s.health.get('local'))?.reason).toBe('DAILY_API_LIMIT');
    await new Promise((resolve) => setTimeout(resolve, 250));
    await s.deliver(leads(2));
    expect(await s.health.get('local')).toBeUndefined();
    expect(s.outcomes.outcomes.filter((o) => o.topic === 'leads').map((o) => o.status)).toEqual([
      'succeeded',
      'succeeded',
    ]);
  });

  it('a probe Salesforce answered clears the condition although another probe (no call) claimed meanwhile', async () => {
    sink = await startEmbedded({
      config: parseConfig(base),
      waitMs: 2,
      backoff: { baseDelayMs: 5, maxDelayMs: 20 },
      hold: { maxWaitMs: 5_000, pacing: { firstMs: 60, maxMs: 60 } },
      emulator: { latencyMs: 150 },
    });
    const s = sink;
    await s.health.report(
      'local',
      { reason: 'DAILY_API_LIMIT', message: 'TotalRequests Limit exceeded.' },
      0,
    );
    const written = s.invoke(leads(1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const noCall = s.invoke(mskEvent([{ topic: 'unmapped', partition: 0, offset: 0, value: 'x' }]));
    const [a, b] = await Promise.all([written, noCall]);
    expect([a.held, b.held]).toEqual([undefined, undefined]);
    expect(s.outcomes.outcomes.filter((o) => o.topic === 'leads').map((o) => o.status)).toEqual([
      'succeeded',
    ]);
    expect(await s.health.get('local')).toBeUndefined();
  }, 60_000);
});

describe('mappings that cannot work with the org fail at once', () => {
  it('an sObject the org does not have: UNKNOWN_SOBJECT for every record, one describe, no redelivery', async () => {
    const s = await start({
      ...base,
      mappings: [{ topic: 'leads', sobject: 'Leed', externalIdField: 'CustomId__c' }],
    });
    const report = await s.deliver(leads(4));
    expect(report.invocations).toBe(1);
    expect(s.outcomes.outcomes.map((o) => [o.status, o.errors[0]?.code])).toEqual(
      Array(4).fill(['failed', 'UNKNOWN_SOBJECT']),
    );
    expect(s.outcomes.outcomes[0]!.errors[0]!.message).toMatch(/mapping of topic leads.*Leed/);
    expect(s.emulator!.calls().filter((c) => c.route === 'describe')).toHaveLength(1);
  });

  it.each([
    ['Company', /not an External ID field/],
    ['Nope__c', /has no such field/],
  ])(
    'an external id field %s that is not one: INVALID_EXTERNAL_ID_FIELD, no redelivery',
    async (field, message) => {
      const s = await start({
        ...base,
        mappings: [{ topic: 'leads', sobject: 'Lead', externalIdField: field }],
      });
      const event = mskEvent([
        { topic: 'leads', partition: 0, offset: 0, value: { [field]: 'x@y.z', LastName: 'X', Company: 'Y' } },
      ]);
      const report = await s.deliver(event);
      expect(report.invocations).toBe(1);
      expect(s.outcomes.outcomes.map((o) => [o.status, o.errors[0]?.code])).toEqual([
        ['failed', 'INVALID_EXTERNAL_ID_FIELD'],
      ]);
      expect(s.outcomes.outcomes[0]!.errors[0]!.message).toMatch(message);
    },
  );
});

describe('an org-wide refusal in the middle of a write', () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const accounts = {
    topic: 'accounts',
    sobject: 'Account',
    operation: 'delete' as const,
    eventType: 'override' as const,
  };
  /** An Account in the org, and the event deleting it; the delete is answered 500 after it took effect. */
  const lostDelete = (s: Embedded) => {
    const [created] = s.emulator!.org.apply('insert', 'Account', [{ Name: 'Acme' }], {
      allOrNone: false,
      source: 'json',
    });
    s.emulator!.faults.add({
      route: 'collections',
      method: 'DELETE',
      fault: 'status',
      status: 500,
      when: 'after',
    });
    return mskEvent([{ topic: 'accounts', partition: 0, offset: 0, value: { Id: created!.id } }]);
  };

  it('a delete answered 500 after it took effect, whose retry meets the daily limit: held, then succeeded', async () => {
    const s = await start({ ...base, mappings: [accounts] });
    const event = lostDelete(s);
    const limit = s.emulator!.faults.add({ route: 'collections', fault: 'limit', nth: 2, times: 10_000 });
    const result = await s.invoke(event);
    expect(result.held?.reason).toBe('DAILY_API_LIMIT');
    expect(s.outcomes.outcomes).toEqual([]);
    s.emulator!.faults.remove(limit.id);
    await sleep(250);
    const report = await s.deliver(event);
    expect(report.uncommitted).toBe(0);
    expect(s.emulator!.org.list('Account')).toHaveLength(0);
    expect(s.outcomes.outcomes.map((o) => [o.status, o.errors])).toEqual([['succeeded', []]]);
  });

  it('a delete whose answer was lost, held within one invocation until the limit clears: that invocation finishes it', async () => {
    const s = await start({ ...base, mappings: [accounts] }, { maxWaitMs: 20_000 });
    const event = lostDelete(s);
    s.emulator!.faults.add({ route: 'collections', fault: 'limit', nth: 2, times: 2 });
    const result = await s.invoke(event);
    expect(result.held).toBeUndefined();
    expect(result.batchItemFailures).toEqual([]);
    expect(s.emulator!.org.list('Account')).toHaveLength(0);
    expect(s.outcomes.outcomes.map((o) => [o.status, o.errors])).toEqual([['succeeded', []]]);
  });

  it('a split call whose first half was written (answer lost) and whose second half met the daily limit: no duplicate', async () => {
    const s = await start({
      ...base,
      maxRedeliveries: 3,
      mappings: [{ topic: 'orders', sobject: 'Order_Event__c', operation: 'insert' }],
    });
    // The whole call refused for its content: it is split in halves. The first half is written but its
    // answer lost; the second meets the daily limit.
    s.emulator!.faults.add({
      route: 'collections',
      fault: 'status',
      status: 400,
      body: [{ errorCode: 'JSON_PARSER_ERROR', message: 'Unexpected character' }],
    });
    s.emulator!.faults.add({ route: 'collections', fault: 'reset', when: 'after', nth: 2 });
    const limit = s.emulator!.faults.add({ route: 'collections', fault: 'limit', nth: 3, times: 10_000 });
    const event = mskEvent(
      Array.from({ length: 4 }, (_, i) => ({
        topic: 'orders',
        partition: 0,
        offset: i,
        value: { Event_Key__c: `K-${i}`, Amount__c: i },
      })),
    );
    const result = await s.invoke(event);
    expect(result.held?.reason).toBe('DAILY_API_LIMIT');
    expect(s.emulator!.org.list('Order_Event__c')).toHaveLength(2);
    s.emulator!.faults.remove(limit.id);
    await sleep(250);
    const report = await s.deliver(event);
    expect(report.uncommitted).toBe(0);
    const keys = s.emulator!.org.list('Order_Event__c').map((r) => r.fields.Event_Key__c);
    expect(keys.sort()).toEqual(['K-0', 'K-1', 'K-2', 'K-3']);
    expect(s.outcomes.outcomes.map((o) => o.status)).toEqual(Array(4).fill('succeeded'));
  });

  it('a locked row whose retry needs a new session while the login host answers 503: held, never failed', async () => {
    const s = await start();
    await s.deliver(leads(2));
    s.outcomes.clear();
    s.emulator!.faults.add({ fault: 'lockRow', match: { sobject: 'Lead', fields: { CustomId__c: 'L-10' } } });
    s.emulator!.faults.add({ route: 'collections', fault: 'expireTokens', nth: 2 });
    const logins = s.emulator!.faults.add({ route: 'oauth', fault: 'status', status: 503, times: 10_000 });
    const event = mskEvent(
      [10, 11, 12].map((i) => ({
        topic: 'leads',
        partition: 0,
        offset: i,
        value: { CustomId__c: `L-${i}`, LastName: `Doe ${i}`, Company: 'Acme' },
      })),
    );
    const result = await s.invoke(event);
    expect(result.held?.reason).toBe('LOGIN_UNAVAILABLE');
    expect(result.batchItemFailures.length).toBeGreaterThan(0);
    expect(s.outcomes.outcomes.filter((o) => o.status !== 'succeeded')).toEqual([]);
    s.emulator!.faults.remove(logins.id);
    await sleep(250);
    const report = await s.deliver(event);
    expect(report.uncommitted).toBe(0);
    expect(s.outcomes.outcomes.map((o) => [o.offset, o.status]).sort()).toEqual([
      [10, 'succeeded'],
      [11, 'succeeded'],
      [12, 'succeeded'],
    ]);
  });

  it('a login URL answering 200 with a web page: held, the message naming loginUrl', async () => {
    const s = await start();
    const portal = createHttpServer((_, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<html><body>Welcome to our portal</body></html>');
    });
    await new Promise<void>((resolve) => portal.listen(0, '127.0.0.1', () => resolve()));
    try {
      const { port } = portal.address() as AddressInfo;
      const misdirected = createSalesforceClient({
        credentials: {
          authType: 'client_credentials',
          loginUrl: `http://127.0.0.1:${port}`,
          clientId: 'x',
          clientSecret: 'y',
        },
        config: parseConfig(base),
        cache: createClientCache(),
      });
      const result = await s.invoke(leads(4), { overrides: { salesforce: misdirected } });
      expect(result.held?.reason).toBe('LOGIN_URL_INVALID');
      expect(result.held?.message).toMatch(/loginUrl/);
      expect(s.outcomes.outcomes).toEqual([]);
    } finally {
      await new Promise((resolve) => portal.close(resolve));
    }
  });
});
