// One HTTP exchange, nothing more: jsforce's transport (undici fetch underneath) for buffered calls,
// undici's fetch for streamed downloads. No retries here (jsforce's own are switched off: they resend
// after 5xx with fixed waits, ignore Retry-After, and cannot tell a call that is safe to resend), no
// auth policy: just a raw answer, or a TransportError that says whether the request left the process.
// Both go through the same HTTP(S) proxy when one applies (`proxyUrl`, else HTTPS_PROXY / HTTP_PROXY,
// minus NO_PROXY): token requests, REST calls and result downloads alike. jsforce alone would read
// HTTPS_PROXY but ignore NO_PROXY, and global fetch ignores both.
import { Readable } from 'node:stream';
import { Transport } from '@jsforce/jsforce-node/lib/transport.js';
import { type Dispatcher, ProxyAgent, fetch as undiciFetch } from 'undici';
import { TransportError } from './errors.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

export interface HttpResponse {
  status: number;
  /** Lower-cased names. */
  headers: Record<string, string>;
  body: string;
}

export interface StreamedResponse {
  status: number;
  headers: Record<string, string>;
  /** The body; for a non-2xx answer, already read (error bodies are small). */
  body: AsyncIterable<Uint8Array>;
  /** The whole body as text (only for error answers). */
  text(): Promise<string>;
}

/** Where the proxy settings come from: the configuration's `proxyUrl`, else the environment. */
export interface ProxySettings {
  proxyUrl?: string | undefined;
  /** HTTPS_PROXY, HTTP_PROXY, NO_PROXY (either case). Default: none. */
  env?: NodeJS.ProcessEnv;
}

function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  return env[name.toLowerCase()] || env[name] || undefined;
}

/** NO_PROXY: comma- or space-separated hosts, `.domain` / `*.domain` suffixes, optional `:port`, `*`. */
function bypassesProxy(url: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return noProxy
    .split(/[\s,]+/)
    .filter(Boolean)
    .some((raw) => {
      if (raw === '*') return true;
      const entry = raw.toLowerCase();
      const match = /^(.*?)(?::(\d+))?$/.exec(entry)!;
      const name = match[1]!.replace(/^\*?\./, '');
      if (match[2] && match[2] !== port) return false;
      return host === name || host.endsWith(`.${name}`);
    });
}

/**
 * The proxy a request to `url` goes through, or undefined to connect directly: `proxyUrl` when set,
 * else HTTPS_PROXY (https URLs) or HTTP_PROXY (http URLs); NO_PROXY exempts hosts either way.
 *
 * @example
 * proxyFor('https://acme.my.salesforce.com/services/data', { env: { HTTPS_PROXY: 'http://proxy:3128' } });
 * // 'http://proxy:3128'
 */
export function proxyFor(url: string, settings: ProxySettings = {}): string | undefined {
  const env = settings.env ?? {};
  const target = new URL(url);
  const proxy =
    settings.proxyUrl ||
    (target.protocol === 'https:' ? envValue(env, 'HTTPS_PROXY') : envValue(env, 'HTTP_PROXY'));
  if (!proxy || bypassesProxy(target, envValue(env, 'NO_PROXY'))) return undefined;
  return proxy;
}

/**
 * The parts of a proxy URL that must never reach a log line: its password, and the URL itself.
 *
 * @example
 * proxySecrets('http://sink:s3cret@proxy:3128'); // ['http://sink:s3cret@proxy:3128', 's3cret', …]
 */
export function proxySecrets(proxyUrl: string | undefined): string[] {
  if (!proxyUrl) return [];
  let password: string;
  try {
    password = new URL(proxyUrl).password;
  } catch {
    return [proxyUrl];
  }
  return password ? [proxyUrl, password, decodeURIComponent(password)] : [];
}

/** Sends one request; resolves with any HTTP answer, rejects only with a TransportError. */
export type Send = (request: HttpRequest, timeoutMs: number) => Promise<HttpResponse>;
/** Like Send, but leaves a successful body as a stream. */
export type SendStreamed = (request: HttpRequest, timeoutMs: number) => Promise<StreamedResponse>;

/** Errors thrown before a byte of the request could be written: resending is always safe. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
]);

function causeCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const nested = (current as { errors?: unknown[] }).errors?.[0];
    current = (current as { cause?: unknown }).cause ?? nested;
  }
  return undefined;
}

/**
 * Turns whatever fetch or jsforce threw into a TransportError that says whether the request may have
 * reached Salesforce. Only the code is kept from the original error: its message might quote a URL
 * or body.
 *
 * @example
 * toTransportError(new TypeError('fetch failed', { cause: Object.assign(new Error(), { code: 'ECONNREFUSED' }) })).sent; // false
 */
export function toTransportError(error: unknown, timedOut = false): TransportError {
  if (error instanceof TransportError) return error;
  const name = (error as { name?: unknown })?.name;
  if (timedOut || name === 'AbortError' || name === 'TimeoutError') {
    return new TransportError('TIMEOUT', 'no response within the request timeout', true);
  }
  const code = causeCode(error);
  if (code && NOT_SENT_CODES.has(code)) {
    return new TransportError('CONNECTION_FAILED', `could not connect (${code})`, false);
  }
  return new TransportError(
    'CONNECTION_RESET',
    `the connection failed after the request was sent (${code ?? 'connection closed'})`,
    true,
  );
}

function lowerCaseHeaders(headers: Record<string, string> | Headers): Record<string, string> {
  const out: Record<string, string> = {};
  // undici's Headers is not the global class: test for the method, not the constructor.
  const entries =
    typeof (headers as Headers).entries === 'function'
      ? [...(headers as Headers).entries()]
      : Object.entries(headers);
  for (const [name, value] of entries) out[name.toLowerCase()] = String(value);
  return out;
}

function withLength(request: HttpRequest): Record<string, string> {
  if (request.body === undefined) return request.headers;
  return { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) };
}

/**
 * The buffered sender: jsforce's Transport with its retries off and the given timeout; a second timer
 * also bounds reading the body (jsforce's timeout stops at the response headers). The proxy is chosen
 * per request (jsforce's own default from HTTPS_PROXY, which ignores NO_PROXY, is overridden).
 *
 * @example
 * const send = createJsforceSend({ proxyUrl: config.proxyUrl, env: process.env });
 * const res = await send({ method: 'GET', url: `${instanceUrl}/services/data/v65.0/limits`, headers }, 30_000);
 */
export function createJsforceSend(proxy: ProxySettings = {}): Send {
  const transport = new Transport();
  return async (request, timeoutMs) => {
    const pending = transport.httpRequest(
      {
        method: request.method,
        url: request.url,
        headers: withLength(request),
        ...(request.body === undefined ? {} : { body: request.body as string }),
      },
      {
        retry: { maxRetries: 0 },
        timeout: timeoutMs,
        followRedirect: false,
        httpProxy: proxyFor(request.url, proxy),
      },
    );
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        pending.stream().destroy();
        reject(new TransportError('TIMEOUT', 'no complete response within the request timeout', true));
      }, timeoutMs + 50);
    });
    try {
      const response = await Promise.race([pending, deadline]);
      return {
        status: response.statusCode,
        headers: lowerCaseHeaders(response.headers),
        body: response.body ?? '',
      };
    } catch (error) {
      throw toTransportError(error, timedOut);
    } finally {
      clearTimeout(timer);
      pending.catch(() => undefined);
    }
  };
}

/**
 * The streaming sender (undici's fetch, through the proxy that applies): the request timeout bounds
 * the wait for headers, then each chunk of the body (a stalled download fails instead of hanging).
 *
 * @example
 * const res = await createFetchSend({ proxyUrl })({ method: 'GET', url, headers }, 30_000);
 * for await (const row of parseCsvStream(res.body)) …
 */
export function createFetchSend(proxy: ProxySettings = {}): SendStreamed {
  const agents = new Map<string, Dispatcher>();
  const dispatcherFor = (url: string): Dispatcher | undefined => {
    const uri = proxyFor(url, proxy);
    if (!uri) return undefined;
    let agent = agents.get(uri);
    if (!agent) {
      agent = new ProxyAgent({ uri });
      agents.set(uri, agent);
    }
    return agent;
  };
  return async (request, timeoutMs) => {
    const controller = new AbortController();
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, timeoutMs);
    };
    arm();
    let response: Awaited<ReturnType<typeof undiciFetch>>;
    const dispatcher = dispatcherFor(request.url);
    try {
      response = await undiciFetch(request.url, {
        method: request.method,
        headers: withLength(request),
        ...(request.body === undefined ? {} : { body: request.body }),
        redirect: 'manual',
        signal: controller.signal,
        ...(dispatcher ? { dispatcher } : {}),
      });
    } catch (error) {
      clearTimeout(timer);
      throw toTransportError(error, timedOut);
    }
    const headers = lowerCaseHeaders(response.headers);
    if (response.status >= 300 || !response.body) {
      let text = '';
      try {
        text = await response.text();
      } catch (error) {
        throw toTransportError(error, timedOut);
      } finally {
        clearTimeout(timer);
      }
      return { status: response.status, headers, body: Readable.from([]), text: async () => text };
    }
    const source = response.body;
    async function* body(): AsyncGenerator<Uint8Array> {
      try {
        for await (const chunk of source) {
          arm();
          yield chunk;
        }
      } catch (error) {
        throw toTransportError(error, timedOut);
      } finally {
        clearTimeout(timer);
      }
    }
    return {
      status: response.status,
      headers,
      body: body(),
      text: async () => {
        throw new Error('text() is only available for error answers');
      },
    };
  };
}
