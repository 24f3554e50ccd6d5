// Secrets stay secret: every log line (at debug level), everything written to the console, and every
// error (message, inspection, record errors) of runs that log in, refresh, fail to log in, and get
// error bodies that echo the request back, is searched for every secret value the run used.
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, expect, test, vi } from 'vitest';
import { createJsforceSend, type Send } from '../../lib/salesforce/http.ts';
import type { SalesforceCredentials } from '../../lib/salesforce/types.ts';
import type { Emulator } from '../../local/emulator/server.ts';
import { capturingLogger, clientCredentials, deadlineIn, emulator, testClient, units } from './helpers.ts';

let emu: Emulator;
beforeAll(async () => {
  emu = await emulator();
});
afterAll(async () => {
  await emu.close();
});

const output: string[] = [];
const seenOnTheWire: string[] = [];
beforeEach(() => {
  emu.reset();
  output.length = 0;
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    vi.spyOn(stream, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
      output.push(String(chunk));
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write);
  }
});
afterEach(() => vi.restoreAllMocks());

/** A transport that records the tokens and assertions it sends, and can make errors echo the request. */
function recordingSend(echo: () => boolean): Send {
  const real = createJsforceSend();
  return async (request, timeout) => {
    const auth = request.headers.authorization;
    if (auth) seenOnTheWire.push(auth.replace(/^Bearer /, ''));
    const body = typeof request.body === 'string' ? request.body : '';
    const assertion = new URLSearchParams(body).get('assertion');
    if (assertion) seenOnTheWire.push(assertion);
    const response = await real(request, timeout);
    if (!echo() || response.status < 400) return response;
    // A misbehaving proxy that quotes the whole request in its error body.
    const quoted = `${request.method} ${request.url} Authorization: ${auth ?? ''} body: ${body}`;
    return {
      ...response,
      body: JSON.stringify([{ errorCode: 'UNKNOWN_EXCEPTION', message: quoted }]),
    };
  };
}

function credentialsOf(authType: SalesforceCredentials['authType']): SalesforceCredentials {
  const { clientId, clientSecret, username, password, securityToken } = emu.credentials;
  if (authType === 'jwt')
    return { authType, loginUrl: emu.url, clientId, username, privateKey: emu.jwtPrivateKey! };
  if (authType === 'password') {
    return { authType, loginUrl: emu.url, clientId, clientSecret, username, password, securityToken };
  }
  return clientCredentials(emu);
}

function secretsOf(credentials: SalesforceCredentials): string[] {
  const values = [...seenOnTheWire];
  if (credentials.authType === 'client_credentials') values.push(credentials.clientSecret);
  if (credentials.authType === 'password') {
    values.push(credentials.clientSecret, credentials.password, credentials.securityToken!);
  }
  if (credentials.authType === 'jwt') {
    values.push(
      ...credentials.privateKey.split('\n').filter((line) => line.length >= 16 && !line.startsWith('-----')),
    );
  }
  return values;
}

for (const authType of ['client_credentials', 'jwt', 'password'] as const) {
  test(`no secret reaches logs, console or errors (${authType})`, async () => {
    seenOnTheWire.length = 0;
    const credentials = credentialsOf(authType);
    const logger = capturingLogger();
    const errors: unknown[] = [];
    let echo = false;
    const { client } = testClient(emu, {
      credentials,
      logger,
      send: recordingSend(() => echo),
      config: { apiVersion: '65.0', requestTimeout: 5_000, maxRetries: 1, maxInFlight: 2 },
    });
    const insert = () =>
      units([{ LastName: 'S', Company: 'Acme' }], { sobject: 'Lead', operation: 'insert' })[0]!;
    const collect = async (work: Promise<unknown>) => {
      try {
        const value = await work;
        if (Array.isArray(value))
          errors.push(...value.flatMap((r: { errors?: unknown[] }) => r.errors ?? []));
      } catch (error) {
        errors.push(error);
      }
    };

    // A normal run, an expired token, an error body that quotes the request, a persistent 401.
    await collect(client.schemaOf('Lead', deadlineIn()));
    await collect(client.writeUnit(insert(), deadlineIn()));
    emu.expireTokens();
    await collect(client.writeUnit(insert(), deadlineIn()));
    echo = true;
    emu.faults.add({ route: 'collections', fault: 'status', status: 500, times: 2 });
    await collect(client.writeUnit(insert(), deadlineIn()));
    emu.faults.add({ route: 'query', fault: 'expireTokens', times: 'always' });
    await collect(client.resolveIds('Lead', 'CustomId__c', ['a'], deadlineIn()));
    emu.faults.clear();
    // A login refused with an error description that quotes the request.
    const refused = testClient(emu, { credentials, logger, send: recordingSend(() => true) }).client;
    emu.faults.add({ route: 'oauth', fault: 'status', status: 400 });
    await collect(refused.schemaOf('Lead', deadlineIn()));

    const texts = [
      ...logger.lines,
      ...output,
      ...errors.map((e) =>
        e instanceof Error ? `${e.message}\n${inspect(e, { depth: 6 })}` : JSON.stringify(e),
      ),
    ];
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect(logger.lines.length).toBeGreaterThan(5);
    expect(seenOnTheWire.length).toBeGreaterThan(2);
    const secrets = secretsOf(credentials);
    for (const secret of secrets) {
      const leaks = texts.filter((text) => text.includes(secret));
      expect(leaks, `secret of length ${secret.length} leaked`).toEqual([]);
    }
    // The echoing error bodies did reach the messages, masked.
    expect(texts.some((t) => t.includes('[REDACTED]'))).toBe(true);
  });
}
