// Logging in with each flow, sharing one token, refreshing it once per expiry, and refusing to loop.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import {
  AuthenticationError,
  CredentialsError,
  createClientCache,
  createSalesforceClient,
  InsecureUrlError,
  SessionRejectedError,
} from '../../lib/salesforce/index.ts';
import type { Emulator } from '../../local/emulator/server.ts';
import { CONFIG, callsOf, clientCredentials, deadlineIn, emulator, testClient, units } from './helpers.ts';

let emu: Emulator;
beforeAll(async () => {
  emu = await emulator();
});
afterAll(async () => {
  await emu.close();
});
beforeEach(() => emu.reset());

describe('login flows', () => {
  test('client credentials, JWT bearer and username-password all reach the API', async () => {
    const flows = [
      clientCredentials(emu),
      {
        authType: 'jwt' as const,
        loginUrl: emu.url,
        clientId: emu.credentials.clientId,
        username: emu.credentials.username,
        privateKey: emu.jwtPrivateKey!,
      },
      {
        authType: 'password' as const,
        loginUrl: emu.url,
        clientId: emu.credentials.clientId,
        clientSecret: emu.credentials.clientSecret,
        username: emu.credentials.username,
        password: emu.credentials.password,
        securityToken: emu.credentials.securityToken,
      },
    ];
    for (const credentials of flows) {
      const { client } = testClient(emu, { credentials });
      const ids = await client.resolveIds('Lead', 'CustomId__c', ['none'], deadlineIn());
      expect(ids.size, credentials.authType).toBe(0);
    }
    expect(callsOf(emu, 'oauth').map((c) => c.status)).toEqual([200, 200, 200]);
  });

  test('a JWT private key stored with escaped newlines (as JSON secrets often are) still signs', async () => {
    const { client } = testClient(emu, {
      credentials: JSON.stringify({
        authType: 'jwt',
        loginUrl: emu.url,
        clientId: emu.credentials.clientId,
        username: emu.credentials.username,
        privateKey: emu.jwtPrivateKey!.replace(/\n/g, '\\n'),
      }),
    });
    await expect(client.resolveIds('Lead', 'CustomId__c', ['x'], deadlineIn())).resolves.toBeInstanceOf(Map);
  });

  test('refused credentials fail with AuthenticationError naming the OAuth error, without retrying', async () => {
    const { client } = testClient(emu, {
      credentials: { ...clientCredentials(emu), clientSecret: 'wrong-secret-value' },
    });
    const error = await client.schemaOf('Lead', deadlineIn()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as AuthenticationError).oauthError).toBe('invalid_client');
    expect(callsOf(emu, 'oauth')).toHaveLength(1);
  });

  test('a 503 from the token endpoint is retried, then the login succeeds', async () => {
    emu.faults.add({ route: 'oauth', fault: 'status', status: 503, times: 2 });
    const { client, sleeps } = testClient(emu);
    await client.schemaOf('Lead', deadlineIn());
    expect(callsOf(emu, 'oauth').map((c) => c.status)).toEqual([503, 503, 200]);
    expect(sleeps).toHaveLength(2);
  });
});

describe('session refresh', () => {
  test('a token that expires mid-run is refreshed exactly once for 10 concurrent calls', async () => {
    const { client } = testClient(emu);
    await client.schemaOf('Lead', deadlineIn());
    expect(callsOf(emu, 'oauth')).toHaveLength(1);

    emu.expireTokens();
    const batch = Array.from({ length: 10 }, (_, i) =>
      units([{ LastName: `L${i}`, Company: 'Acme' }], { sobject: 'Lead', operation: 'insert' }),
    ).flat();
    const results = await Promise.all(batch.map((unit) => client.writeUnit(unit, deadlineIn())));

    expect(results.flat().every((r) => r.status === 'succeeded')).toBe(true);
    expect(callsOf(emu, 'oauth')).toHaveLength(2);
    // Every call was answered 401 once at most, then replayed with the one new token.
    const collections = callsOf(emu, 'collections');
    expect(collections.filter((c) => c.status === 401)).toHaveLength(10);
    expect(collections.filter((c) => c.status === 200)).toHaveLength(10);
    expect(emu.org.list('Lead')).toHaveLength(10);
  });

  test('clients of the same credentials share one token through the process cache', async () => {
    const cache = createClientCache();
    const a = testClient(emu, { cache }).client;
    const b = testClient(emu, { cache }).client;
    await a.schemaOf('Lead', deadlineIn());
    await b.schemaOf('Account', deadlineIn());
    expect(callsOf(emu, 'oauth')).toHaveLength(1);
  });

  test('a persistent 401 ends in SessionRejectedError after exactly one refresh', async () => {
    const { client } = testClient(emu);
    await client.schemaOf('Lead', deadlineIn());
    emu.faults.add({ route: 'query', fault: 'expireTokens', times: 'always' });

    const error = await client
      .resolveIds('Lead', 'CustomId__c', ['a'], deadlineIn())
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SessionRejectedError);
    expect(callsOf(emu, 'oauth')).toHaveLength(2);
    expect(callsOf(emu, 'query').map((c) => c.status)).toEqual([401, 401]);
  });
});

describe('credentials validation', () => {
  const base = { config: CONFIG, cache: createClientCache() };

  test('a missing key is named, and no value is echoed', () => {
    const secret = {
      authType: 'password',
      loginUrl: 'https://acme.my.salesforce.com',
      clientId: 'id-123',
      clientSecret: 'top-secret-456',
      username: 'u@x',
    };
    const error = (() => {
      try {
        createSalesforceClient({ ...base, credentials: JSON.stringify(secret) });
      } catch (e) {
        return e as CredentialsError;
      }
    })();
    expect(error).toBeInstanceOf(CredentialsError);
    expect(error!.keys).toEqual(['password']);
    expect(error!.message).toContain('lacks password');
    expect(error!.message).not.toContain('top-secret-456');
    expect(error!.message).not.toContain('id-123');
  });

  test('an unknown authType lists the accepted ones and the keys present', () => {
    expect(() =>
      createSalesforceClient({
        ...base,
        credentials: '{"authType":"saml","loginUrl":"https://x.my.salesforce.com"}',
      }),
    ).toThrow(/one of client_credentials, jwt, password \(keys present: authType, loginUrl\)/);
  });

  test('a non-string or empty value is named', () => {
    expect(() =>
      createSalesforceClient({
        ...base,
        credentials: JSON.stringify({
          authType: 'client_credentials',
          loginUrl: 'https://x.my.salesforce.com',
          clientId: 7,
          clientSecret: ' ',
        }),
      }),
    ).toThrow(/has clientId, clientSecret empty or not a string/);
  });

  test('plain http is refused except on localhost', () => {
    const credentials = { authType: 'client_credentials' as const, clientId: 'a', clientSecret: 'b' };
    expect(() =>
      createSalesforceClient({
        ...base,
        credentials: { ...credentials, loginUrl: 'http://acme.my.salesforce.com' },
      }),
    ).toThrow(InsecureUrlError);
    for (const loginUrl of [
      'http://localhost:1234',
      'http://127.0.0.1:1',
      'http://[::1]:80',
      'https://acme.my.salesforce.com',
    ]) {
      expect(() =>
        createSalesforceClient({ ...base, credentials: { ...credentials, loginUrl } }),
      ).not.toThrow();
    }
  });
});
