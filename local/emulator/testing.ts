// Helpers for tests that talk to the emulator: JWT assertions signed with the emulator's test key, and
// a raw HTTP client for checking status codes, headers and bodies exactly.

import { sign } from 'node:crypto';
import type { Emulator } from './server.ts';

/**
 * Signs an RS256 JWT bearer assertion.
 *
 * @example
 * const assertion = signJwt(emulator.jwtPrivateKey!, jwtClaims(emulator));
 */
export function signJwt(privateKey: string, claims: Record<string, unknown>, alg = 'RS256'): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg, typ: 'JWT' })}.${encode(claims)}`;
  return `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), privateKey).toString('base64url')}`;
}

/** Claims the emulator accepts: its consumer key, user and URL, expiring in two minutes. */
export function jwtClaims(
  emulator: Emulator,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    iss: emulator.credentials.jwtConsumerKey,
    sub: emulator.credentials.username,
    aud: emulator.url,
    exp: Math.floor(Date.now() / 1000) + 120,
    ...overrides,
  };
}

export interface RawResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON when the response is JSON, else the text ('' when empty). */
  body: unknown;
}

/** Sends a request and reads the whole response. */
export async function rawRequest(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  const response = await fetch(url, init);
  const text = await response.text();
  const json = (response.headers.get('content-type') ?? '').includes('json') && text !== '';
  return { status: response.status, headers: response.headers, body: json ? JSON.parse(text) : text };
}

/** Gets an access token with the client-credentials flow. */
export async function accessToken(emulator: Emulator): Promise<string> {
  const response = await rawRequest(`${emulator.url}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: emulator.credentials.clientId,
      client_secret: emulator.credentials.clientSecret,
    }).toString(),
  });
  return (response.body as { access_token: string }).access_token;
}

export interface RawApi {
  token: string;
  /** A call below `/services/data/v{version}` (or an absolute path starting with /services or /__emulator). */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<RawResponse>;
}

/**
 * A raw client for the emulator's data API, logged in with client credentials.
 *
 * @example
 * const api = await rawApi(emulator);
 * const { status, body } = await api.call('POST', '/composite/sobjects', { records: [] });
 */
export async function rawApi(emulator: Emulator, version = '65.0'): Promise<RawApi> {
  const token = await accessToken(emulator);
  return {
    token,
    call(method, path, body, headers = {}) {
      const absolute = path.startsWith('/services') || path.startsWith('/__emulator');
      return rawRequest(`${emulator.url}${absolute ? '' : `/services/data/v${version}`}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
    },
  };
}
