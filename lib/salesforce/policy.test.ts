// The pure parts of the client: retry policy, backoff, credentials, URLs, JWT, SOQL, redaction,
// transport error classification and the stage runner.
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { checkedUrl, parseCredentials, secretValues } from './credentials.ts';
import { CredentialsError, InsecureUrlError, StageAbortedError } from './errors.ts';
import { encodeQueryValue, externalIdQueries, soqlString } from './external-ids.ts';
import { toTransportError } from './http.ts';
import { jwtAudience, signJwtAssertion } from './jwt.ts';
import { createRedactor } from './redact.ts';
import { backoffDelay, classifyResponse, parseErrorBody, parseRetryAfter } from './retry.ts';
import { runStage } from './stage.ts';

describe('backoff', () => {
  test('full jitter stays within the capped exponential ceiling, and never under Retry-After', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }),
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        fc.option(fc.integer({ min: 0, max: 120_000 }), { nil: undefined }),
        (retry, r, retryAfter) => {
          const options = { baseDelayMs: 500, maxDelayMs: 20_000, random: () => r };
          const delay = backoffDelay(retry, options, retryAfter);
          const ceiling = Math.min(20_000, 500 * 2 ** retry);
          if (retryAfter === undefined) return delay >= 0 && delay < ceiling;
          return delay >= retryAfter && delay <= Math.max(retryAfter, ceiling);
        },
      ),
    );
  });

  test('Retry-After is read as seconds or as an HTTP date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter('0.5', now)).toBe(500);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:03 GMT', now)).toBe(3000);
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

describe('classifyResponse', () => {
  const body = (errorCode: string, message: string) => JSON.stringify([{ errorCode, message }]);

  test.each([
    [200, '', 'ok'],
    [304, '', 'ok'],
    [401, body('INVALID_SESSION_ID', 'Session expired or invalid'), 'session'],
    [429, body('TOO_MANY_REQUESTS', 'slow down'), 'retry'],
    [503, '<html>Service Unavailable</html>', 'retry'],
    [500, body('UNKNOWN_EXCEPTION', 'oops'), 'retry'],
    [502, '', 'retry'],
    [504, '', 'retry'],
    [403, body('REQUEST_LIMIT_EXCEEDED', 'ConcurrentPerOrgLongTxn Limit exceeded.'), 'retry'],
    [403, body('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'), 'daily-limit'],
    [403, body('INSUFFICIENT_ACCESS', 'no'), 'fail'],
    [400, body('INVALID_TYPE', 'bad'), 'fail'],
    [404, body('NOT_FOUND', 'gone'), 'fail'],
  ])('HTTP %i %s → %s', (status, text, kind) => {
    expect(classifyResponse(status, text).kind).toBe(kind);
  });

  test('only 429, 503 and the concurrency limit are safe to resend when the call is not idempotent', () => {
    const unprocessed = (status: number, text = '') => {
      const verdict = classifyResponse(status, text);
      return verdict.kind === 'retry' && verdict.unprocessed;
    };
    expect([429, 503].map((s) => unprocessed(s))).toEqual([true, true]);
    expect([500, 502, 504].map((s) => unprocessed(s))).toEqual([false, false, false]);
    expect(unprocessed(403, body('REQUEST_LIMIT_EXCEEDED', 'ConcurrentPerOrgLongTxn Limit exceeded.'))).toBe(
      true,
    );
  });

  test('error bodies: REST arrays, OAuth objects, and anything else', () => {
    expect(parseErrorBody(400, '[{"errorCode":"X","message":"m","fields":["A"]}]')).toEqual({
      errorCode: 'X',
      message: 'm',
      fields: ['A'],
    });
    expect(parseErrorBody(400, '{"error":"invalid_grant","error_description":"bad"}').errorCode).toBe(
      'invalid_grant',
    );
    expect(parseErrorBody(502, '<html>\nBad Gateway</html>')).toEqual({
      errorCode: 'HTTP_502',
      message: '<html>',
      fields: [],
    });
  });
});

describe('transport errors', () => {
  const fetchFailed = (code: string) =>
    new TypeError('fetch failed', { cause: Object.assign(new Error(`connect ${code}`), { code }) });

  test('connect-phase failures were never sent; resets and timeouts may have been', () => {
    expect(toTransportError(fetchFailed('ECONNREFUSED'))).toMatchObject({
      code: 'CONNECTION_FAILED',
      sent: false,
    });
    expect(toTransportError(fetchFailed('ENOTFOUND'))).toMatchObject({ sent: false });
    expect(toTransportError(fetchFailed('UND_ERR_SOCKET'))).toMatchObject({
      code: 'CONNECTION_RESET',
      sent: true,
    });
    expect(toTransportError(fetchFailed('ECONNRESET'))).toMatchObject({ sent: true });
    expect(toTransportError(new DOMException('aborted', 'AbortError'))).toMatchObject({
      code: 'TIMEOUT',
      sent: true,
    });
  });
});

describe('credentials', () => {
  test('each flow needs its keys; unknown keys are dropped; optional keys are kept', () => {
    expect(
      parseCredentials({
        authType: 'password',
        loginUrl: 'https://login.salesforce.com',
        clientId: 'c',
        clientSecret: 's',
        username: 'u',
        password: 'p',
        securityToken: 't',
        note: 'ignored',
      }),
    ).toEqual({
      authType: 'password',
      loginUrl: 'https://login.salesforce.com',
      clientId: 'c',
      clientSecret: 's',
      username: 'u',
      password: 'p',
      securityToken: 't',
    });
    expect(() => parseCredentials('not json')).toThrow(/not valid JSON/);
    expect(() => parseCredentials([])).toThrow(CredentialsError);
  });

  test('error messages never contain a value, whatever the values are', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 8 }), fc.string({ minLength: 8 }), (secret, other) => {
        try {
          parseCredentials({
            authType: 'client_credentials',
            loginUrl: 'https://x.my.salesforce.com',
            clientSecret: secret,
            extra: other,
          });
          return false;
        } catch (error) {
          const message = (error as Error).message;
          return !message.includes(secret) && !message.includes(other);
        }
      }),
    );
  });

  test('URLs: https anywhere, http only on loopback, no embedded user info', () => {
    expect(checkedUrl('https://acme.my.salesforce.com/', 'login URL')).toBe('https://acme.my.salesforce.com');
    expect(checkedUrl('http://localhost:8080', 'login URL')).toBe('http://localhost:8080');
    expect(checkedUrl('http://[::1]:8080', 'login URL')).toBe('http://[::1]:8080');
    for (const bad of [
      'http://acme.my.salesforce.com',
      'ftp://x',
      'acme.my.salesforce.com',
      'https://u:p@x.com',
    ]) {
      expect(() => checkedUrl(bad, 'login URL')).toThrow(InsecureUrlError);
    }
  });

  test('the password is masked with and without its security token', () => {
    expect(
      secretValues({
        authType: 'password',
        loginUrl: '',
        clientId: '',
        clientSecret: 'cs',
        username: '',
        password: 'pw',
        securityToken: 'tok',
      }),
    ).toEqual(['cs', 'pw', 'tok', 'pwtok']);
  });
});

describe('JWT bearer assertion', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });

  test('RS256 over iss/sub/aud with exp at most 3 minutes ahead', () => {
    const now = Date.parse('2025-06-01T12:00:00Z');
    const jwt = signJwtAssertion({
      clientId: 'ck',
      username: 'u@x',
      audience: 'https://login.salesforce.com',
      privateKey,
      now,
      lifetimeSeconds: 3600,
    });
    const [header, claims, signature] = jwt.split('.') as [string, string, string];
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: 'RS256', typ: 'JWT' });
    expect(JSON.parse(Buffer.from(claims, 'base64url').toString())).toEqual({
      iss: 'ck',
      sub: 'u@x',
      aud: 'https://login.salesforce.com',
      exp: now / 1000 + 180,
    });
    expect(
      verify(
        'RSA-SHA256',
        Buffer.from(`${header}.${claims}`),
        createPublicKey(publicKey),
        Buffer.from(signature, 'base64url'),
      ),
    ).toBe(true);
  });

  test('an unreadable or non-RSA key is a CredentialsError that does not quote the key', () => {
    const ec = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    for (const key of ['-----BEGIN PRIVATE KEY-----\nnot-a-key\n-----END PRIVATE KEY-----', ec.privateKey]) {
      const error = (() => {
        try {
          signJwtAssertion({ clientId: 'c', username: 'u', audience: 'a', privateKey: key, now: 0 });
        } catch (e) {
          return e as Error;
        }
      })();
      expect(error).toBeInstanceOf(CredentialsError);
      expect(error!.message).not.toContain(key.split('\n')[1]!);
    }
  });

  test('the audience follows the login URL: test for sandboxes, login for production, else itself', () => {
    expect(jwtAudience('https://acme--uat.sandbox.my.salesforce.com')).toBe('https://test.salesforce.com');
    expect(jwtAudience('https://test.salesforce.com')).toBe('https://test.salesforce.com');
    expect(jwtAudience('https://acme.my.salesforce.com')).toBe('https://login.salesforce.com');
    expect(jwtAudience('https://login.salesforce.com')).toBe('https://login.salesforce.com');
    expect(jwtAudience('http://127.0.0.1:4000/')).toBe('http://127.0.0.1:4000');
  });
});

describe('SOQL', () => {
  test('string literals escape backslashes, quotes and control characters', () => {
    expect(soqlString("O'Brien")).toBe("'O\\'Brien'");
    expect(soqlString('a\\b')).toBe("'a\\\\b'");
    expect(soqlString('line\nbreak')).toBe("'line\\nbreak'");
  });

  test('external id queries cover every distinct value once and keep each URI under the limit', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 255 }), { maxLength: 300 }),
        fc.integer({ min: 2_000, max: 16_000 }),
        (values, max) => {
          const base = '/services/data/v65.0/query';
          const queries = externalIdQueries('Lead', 'Key__c', values, base, max);
          const covered = queries.flatMap((q) => q.values);
          const uriOk = queries.every((q) => `${base}?q=${encodeQueryValue(q.soql)}`.length <= max);
          return uriOk && covered.length === new Set(values).size && new Set(covered).size === covered.length;
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe('redaction', () => {
  test('known values and credential-shaped text are masked; ordinary prose is not', () => {
    const redactor = createRedactor(['s3cr3t value!', undefined, 'abc']);
    expect(redactor.redact('x s3cr3t value! y')).toBe('x [REDACTED] y');
    expect(redactor.redact(`q=${encodeURIComponent('s3cr3t value!')}&r=1`)).toBe('q=[REDACTED]&r=1');
    expect(redactor.redact('Authorization: Bearer 00D5E0000000001!AQ8AQabcdefghijklmnopqrstuvwxyz')).toBe(
      'Authorization: Bearer [REDACTED]',
    );
    expect(redactor.redact('client_secret=abc&x=1 "password": "hunter22"')).toBe(
      'client_secret=[REDACTED]&x=1 "password": "[REDACTED]"',
    );
    expect(redactor.redact('-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- tail')).toBe(
      '[REDACTED] tail',
    );
    expect(redactor.redact('the OAuth policies allow it; abc is short')).toBe(
      'the OAuth policies allow it; abc is short',
    );
  });
});

describe('runStage', () => {
  test('never more than maxInFlight at once; results in item order', async () => {
    let running = 0;
    let peak = 0;
    const settled = await runStage(
      Array.from({ length: 20 }, (_, i) => i),
      async (i) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, (i * 7) % 5));
        running--;
        return i * 2;
      },
      3,
    );
    expect(peak).toBe(3);
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : -1))).toEqual(
      Array.from({ length: 20 }, (_, i) => i * 2),
    );
  });

  test('after a failure no new unit starts; running ones keep their results', async () => {
    const started: number[] = [];
    const settled = await runStage(
      [0, 1, 2, 3, 4],
      async (i) => {
        started.push(i);
        await new Promise((r) => setTimeout(r, i === 0 ? 1 : 5));
        if (i === 0) throw new Error('org-wide');
        return i;
      },
      2,
    );
    expect(started).toEqual([0, 1]);
    expect(settled[0]).toMatchObject({ status: 'rejected' });
    expect(settled[1]).toEqual({ status: 'fulfilled', value: 1 });
    for (const s of settled.slice(2)) {
      expect(s.status).toBe('rejected');
      expect((s as PromiseRejectedResult).reason).toBeInstanceOf(StageAbortedError);
    }
  });
});
