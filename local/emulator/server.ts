// The emulator's HTTP server: OAuth, the REST API, Bulk API 2.0 ingest and the /__emulator/ inspection
// API on one port. Every API request passes the same steps: fault rules (before), session check,
// daily limit, counting, the route module, fault rules (after), Sforce-Limit-Info.

import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Auth, type Credentials, createAuth, DEFAULT_CREDENTIALS } from './auth.ts';
import { type BulkIngest, createBulkIngest } from './bulk.ts';
import type { Counters, EmulatorRequest, EmulatorResponse } from './contracts.ts';
import { createFaults, type FaultRule, type FaultRuleInput, type Faults, type RouteName } from './faults.ts';
import { makeId } from './ids.ts';
import { type CallLogEntry, createInspectionApi, type RuntimeConfig } from './inspect.ts';
import { createOrg, type EmulatorOrg, type OrgSnapshot } from './org.ts';
import { createRestApi, restError } from './rest.ts';
import { loadSchema, type Schema } from './schema.ts';

export interface EmulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** A schema file path or a built schema; default `default-schema.json`. */
  schema?: string | Schema;
  credentials?: Partial<Credentials>;
  /** PEM public key for JWT bearer assertions; without it a key pair is generated (see `jwtPrivateKey`). */
  jwtPublicKey?: string;
  /** JWT `aud` values accepted besides the emulator's URL. */
  jwtAudiences?: string[];
  tokenTtlSeconds?: number;
  /** DailyApiRequests Max; past it, calls get 403 REQUEST_LIMIT_EXCEEDED. */
  dailyApiMax?: number;
  /** DailyBulkApiBatches Max, as /limits reports it. */
  dailyBulkBatchMax?: number;
  /** Latency added to every API call, in ms. */
  latencyMs?: number;
  faults?: FaultRuleInput[];
  /** Seed of the RNG behind probabilistic faults. */
  faultSeed?: number;
  /** Bulk job pacing: before a closed job starts, between internal batches, before it ends. */
  bulkProcessingDelayMs?: number;
  /** Loaded at start when it exists, written on close and on demand. */
  snapshotFile?: string;
  /** Highest API version served (versions 20.0 up to it are). */
  maxApiVersion?: string;
  /** How many calls the call log keeps (oldest dropped first). */
  callLogLimit?: number;
  now?: () => Date;
}

export interface Emulator {
  /** Base URL: the login URL and the instance URL. */
  url: string;
  org: EmulatorOrg;
  counters: Counters;
  faults: Faults;
  /** Limits and latency, changeable at run time. */
  config: RuntimeConfig;
  credentials: Credentials;
  orgId: string;
  userId: string;
  jwtPublicKey: string;
  /** The private key of a generated JWT key pair (test-only); undefined when a public key was given. */
  jwtPrivateKey: string | undefined;
  bulk: BulkIngest;
  /** Expires every access token now (what the expireTokens fault does). */
  expireTokens(): void;
  /** The API calls so far (not /__emulator/ ones), oldest first. */
  calls(): CallLogEntry[];
  /** Clears records, counters, fault rules, bulk jobs and the call log. */
  reset(): void;
  /** Writes the snapshot (to `path` or the configured file) and returns where. */
  saveSnapshot(path?: string): string;
  /** Stops the server and its timers; writes the snapshot when a snapshot file is configured. */
  close(): Promise<void>;
}

const DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  tokenTtlSeconds: 7200,
  dailyApiMax: 15_000,
  dailyBulkBatchMax: 15_000,
  latencyMs: 0,
  faultSeed: 1,
  bulkProcessingDelayMs: 50,
  maxApiVersion: '65.0',
  callLogLimit: 10_000,
  jwtAudiences: ['https://login.salesforce.com', 'https://test.salesforce.com'],
};

const MIN_API_VERSION = 20;
const SEASONS = ['Winter', 'Spring', 'Summer'];

interface SnapshotFile {
  version: 1;
  savedAt: string;
  org: OrgSnapshot;
  counters: Counters;
}

let generatedKeys: { publicKey: string; privateKey: string } | undefined;

/** One RSA key pair per process: generating one costs tens of milliseconds. */
function testKeyPair(): { publicKey: string; privateKey: string } {
  generatedKeys ??= generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return generatedKeys;
}

/** Which fault route a request path belongs to. */
export function classifyRoute(method: string, path: string): RouteName {
  if (path.startsWith('/services/oauth2/')) return 'oauth';
  if (path.startsWith('/id/')) return 'identity';
  const match = /^\/services\/data(?:\/v\d+\.\d+)?(\/.*)?$/.exec(path);
  if (!match) return 'other';
  const rest = (match[1] ?? '').replace(/\/$/, '');
  if (rest === '') return 'versions';
  if (/^\/sobjects(\/[^/]+\/describe)?$/.test(rest)) return 'describe';
  if (/^\/sobjects\/[^/]+$/.test(rest) && method === 'GET') return 'describe';
  if (rest.startsWith('/sobjects/')) return 'sobject';
  if (rest.startsWith('/composite/')) return 'collections';
  if (/^\/query(All)?(\/|$)/.test(rest)) return 'query';
  if (rest === '/limits') return 'limits';
  if (rest.startsWith('/jobs/')) return 'bulk';
  return 'other';
}

function versionList(max: number): Array<{ label: string; url: string; version: string }> {
  const versions = [];
  for (let v = MIN_API_VERSION; v <= max; v++) {
    const k = v - MIN_API_VERSION;
    const year = String(11 + Math.floor(k / 3)).padStart(2, '0');
    versions.push({ label: `${SEASONS[k % 3]} '${year}`, url: `/services/data/v${v}.0`, version: `${v}.0` });
  }
  return versions;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function faultResponse(rule: FaultRule): EmulatorResponse | 'reset' {
  switch (rule.fault) {
    case 'reset':
      return 'reset';
    case 'limit':
      return restError(403, 'REQUEST_LIMIT_EXCEEDED', `${rule.limit} Limit exceeded.`);
    case 'status': {
      const retryAfter = rule.retryAfter ?? (rule.status === 429 ? 1 : undefined);
      const headers: Record<string, string> =
        retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) };
      if (rule.body !== undefined) return { status: rule.status, headers, body: rule.body };
      const [errorCode, message] =
        rule.status === 429
          ? ['TOO_MANY_REQUESTS', 'Too many requests: retry later']
          : rule.status === 503
            ? ['SERVER_UNAVAILABLE', 'Server temporarily unavailable']
            : rule.status >= 500
              ? [
                  'UNKNOWN_EXCEPTION',
                  'An unexpected error occurred. Please include this ErrorId if you contact support: 0-0 (emulated)',
                ]
              : ['UNKNOWN_EXCEPTION', `Emulated HTTP ${rule.status}`];
      return { ...restError(rule.status, errorCode, message), headers };
    }
    default:
      throw new Error(`Fault ${rule.fault} does not replace a response`);
  }
}

function send(res: ServerResponse, response: EmulatorResponse, extraHeaders: Record<string, string>): void {
  for (const [name, value] of Object.entries({ ...extraHeaders, ...response.headers }))
    res.setHeader(name, value);
  const { body } = response;
  if (body === undefined || response.status === 204 || response.status === 304) {
    res.writeHead(response.status).end();
    return;
  }
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    if (!res.hasHeader('content-type')) res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.writeHead(response.status).end(body);
    return;
  }
  res.setHeader('Content-Type', 'application/json;charset=UTF-8');
  res.writeHead(response.status).end(JSON.stringify(body));
}

/**
 * Starts an emulated Salesforce org on a local port.
 *
 * @example
 * const emulator = await startEmulator({ faults: [{ route: 'collections', fault: 'status', status: 503 }] });
 * const conn = new Connection({ loginUrl: emulator.url, oauth2: { clientId, clientSecret, loginUrl: emulator.url } });
 * await emulator.close();
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const now = options.now ?? (() => new Date());
  const schema =
    typeof options.schema === 'object' ? options.schema : loadSchema(options.schema ?? undefined);
  const credentials: Credentials = { ...DEFAULT_CREDENTIALS, ...options.credentials };
  if (!options.credentials?.jwtConsumerKey) credentials.jwtConsumerKey = credentials.clientId;
  const keys = options.jwtPublicKey
    ? { publicKey: options.jwtPublicKey, privateKey: undefined }
    : testKeyPair();
  const config: RuntimeConfig = {
    dailyApiMax: options.dailyApiMax ?? DEFAULTS.dailyApiMax,
    dailyBulkBatchMax: options.dailyBulkBatchMax ?? DEFAULTS.dailyBulkBatchMax,
    latencyMs: options.latencyMs ?? DEFAULTS.latencyMs,
    tokenTtlSeconds: options.tokenTtlSeconds ?? DEFAULTS.tokenTtlSeconds,
  };
  const maxApiVersion = Number(options.maxApiVersion ?? DEFAULTS.maxApiVersion);
  const callLogLimit = options.callLogLimit ?? DEFAULTS.callLogLimit;
  const orgId = makeId('00D', 1);
  const userId = makeId('005', 1);
  const counters: Counters = { apiCalls: 0, bulkBatches: 0 };
  const faults = createFaults({ seed: options.faultSeed ?? DEFAULTS.faultSeed, rules: options.faults });

  /** The route a synchronous org write runs under, for per-record fault rules. */
  let writingRoute: RouteName | undefined;
  const org = createOrg({
    schema,
    userId,
    now,
    recordFault: (context) =>
      faults.forRecord({
        ...context,
        route: writingRoute ?? (context.source === 'csv' ? 'bulk' : 'collections'),
      }),
  });
  const auth: Auth = createAuth({
    credentials,
    jwtPublicKey: keys.publicKey,
    jwtAudiences: options.jwtAudiences ?? DEFAULTS.jwtAudiences,
    orgId,
    userId,
    tokenTtlSeconds: () => config.tokenTtlSeconds,
    now,
  });
  const rest = createRestApi({
    org,
    counters,
    limits: () => ({ dailyApiRequests: config.dailyApiMax, dailyBulkBatches: config.dailyBulkBatchMax }),
    writeAs: (route, write) => {
      writingRoute = route;
      try {
        return write();
      } finally {
        writingRoute = undefined;
      }
    },
  });
  const bulk = createBulkIngest({
    org,
    counters,
    processingDelayMs: options.bulkProcessingDelayMs ?? DEFAULTS.bulkProcessingDelayMs,
    failJob: (job) => faults.forJob(job),
    now,
    userId,
  });

  const snapshotFile = options.snapshotFile;
  if (snapshotFile && existsSync(snapshotFile)) {
    const saved = JSON.parse(readFileSync(snapshotFile, 'utf8')) as SnapshotFile;
    org.restore(saved.org);
    Object.assign(counters, saved.counters);
  }

  let callLog: CallLogEntry[] = [];
  let baseUrl = '';

  function saveSnapshot(path = snapshotFile): string {
    if (!path) throw new Error('No snapshot file: pass a path or start the emulator with snapshotFile');
    const file: SnapshotFile = { version: 1, savedAt: now().toISOString(), org: org.snapshot(), counters };
    writeFileSync(path, `${JSON.stringify(file)}\n`);
    return path;
  }

  function reset(): void {
    org.reset();
    counters.apiCalls = 0;
    counters.bulkBatches = 0;
    faults.reset();
    bulk.reset();
    callLog = [];
  }

  const inspect = createInspectionApi({
    org,
    counters,
    faults,
    config,
    calls: () => callLog,
    jobs: () => bulk.jobs(),
    reset,
    expireTokens: () => auth.expireAll(),
    saveSnapshot,
    info: () => ({
      url: baseUrl,
      orgId,
      userId,
      credentials: {
        clientId: credentials.clientId,
        clientSecret: credentials.clientSecret,
        username: credentials.username,
        password: credentials.password,
        securityToken: credentials.securityToken,
        jwtConsumerKey: credentials.jwtConsumerKey,
      },
      apiVersions: `${MIN_API_VERSION}.0 to ${maxApiVersion.toFixed(1)}`,
      config,
    }),
  });

  /** The versioned data API: session, daily limit, counting, then REST or Bulk. */
  async function dataApi(req: IncomingMessage, url: URL, body: Buffer): Promise<EmulatorResponse> {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    if (/^\/services\/data\/?$/.test(path)) {
      return method === 'GET'
        ? { status: 200, body: versionList(maxApiVersion) }
        : restError(405, 'METHOD_NOT_ALLOWED', 'Use GET');
    }
    const match = /^\/services\/data\/v(\d+)\.0(\/.*)?$/.exec(path);
    const major = Number(match?.[1]);
    if (!match || !(major >= MIN_API_VERSION && major <= maxApiVersion)) {
      return restError(404, 'NOT_FOUND', 'The requested resource does not exist');
    }
    if (!auth.session(req.headers.authorization)) {
      return restError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
    }
    if (counters.apiCalls >= config.dailyApiMax) {
      return restError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
    }
    counters.apiCalls++;
    const request: EmulatorRequest = {
      method,
      path: match[2] ?? '',
      query: url.searchParams,
      headers: req.headers,
      body,
      apiVersion: `${major}.0`,
      baseUrl,
    };
    const response = (await rest(request)) ?? (await bulk(request));
    return response ?? restError(404, 'NOT_FOUND', 'The requested resource does not exist');
  }

  function identity(req: IncomingMessage, url: URL): EmulatorResponse {
    const token = url.searchParams.get('oauth_token');
    const session = auth.session(token ? `Bearer ${token}` : req.headers.authorization);
    const [, , idOrg, idUser] = url.pathname.split('/');
    if (!session || idOrg !== orgId || idUser !== userId) return { status: 403, body: 'Bad_OAuth_Token' };
    return {
      status: 200,
      body: {
        id: `${baseUrl}/id/${orgId}/${userId}`,
        asserted_user: true,
        user_id: userId,
        organization_id: orgId,
        username: credentials.username,
        nick_name: credentials.username.split('@')[0],
        display_name: 'Integration User',
        email: credentials.username,
        active: true,
        user_type: 'STANDARD',
        language: 'en_US',
        locale: 'en_US',
        utcOffset: 0,
        urls: {
          rest: `${baseUrl}/services/data/v{version}/`,
          sobjects: `${baseUrl}/services/data/v{version}/sobjects/`,
          query: `${baseUrl}/services/data/v{version}/query/`,
          profile: `${baseUrl}/${userId}`,
        },
      },
    };
  }

  async function oauth(req: IncomingMessage, url: URL, body: Buffer): Promise<EmulatorResponse> {
    if (req.method !== 'POST')
      return { status: 405, body: { error: 'invalid_request', error_description: 'must use HTTP POST' } };
    const params = new URLSearchParams(url.search);
    for (const [key, value] of new URLSearchParams(body.toString('utf8'))) params.set(key, value);
    if (url.pathname === '/services/oauth2/token') return auth.token(params, baseUrl);
    if (url.pathname === '/services/oauth2/revoke') {
      auth.revoke(params.get('token') ?? '');
      return { status: 200 };
    }
    return { status: 404, body: { error: 'not_found', error_description: 'unknown OAuth endpoint' } };
  }

  async function dispatch(
    route: RouteName,
    req: IncomingMessage,
    url: URL,
    body: Buffer,
  ): Promise<EmulatorResponse> {
    if (route === 'oauth') return oauth(req, url, body);
    if (route === 'identity') return identity(req, url);
    if (url.pathname.startsWith('/services/data')) return dataApi(req, url, body);
    return restError(404, 'NOT_FOUND', 'The requested resource does not exist');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrived = Date.now();
    const url = new URL(req.url ?? '/', baseUrl);
    const body = await readBody(req);
    const method = req.method ?? 'GET';
    if (url.pathname === '/__emulator' || url.pathname.startsWith('/__emulator/')) {
      const response = inspect({
        method,
        path: url.pathname.slice('/__emulator'.length),
        query: url.searchParams,
        body,
      });
      send(res, response, {});
      return;
    }
    const routeName = classifyRoute(method, url.pathname);
    const plan = faults.forRequest({ route: routeName, method, path: url.pathname });
    const entry: CallLogEntry = {
      method,
      path: url.pathname + url.search,
      route: routeName,
      status: 0,
      timestamp: new Date(arrived).toISOString(),
      durationMs: 0,
    };
    const before = config.latencyMs + plan.latencyMs.before;
    if (before > 0) await sleep(before);
    if (plan.expireTokens.before) auth.expireAll();
    let response: EmulatorResponse | 'reset';
    const terminal = plan.terminal.before ?? plan.terminal.after;
    if (plan.terminal.before) {
      response = faultResponse(plan.terminal.before);
    } else {
      try {
        response = await dispatch(routeName, req, url, body);
      } catch (err) {
        response = restError(500, 'UNKNOWN_EXCEPTION', `Emulator error: ${(err as Error).message}`);
      }
      if (plan.latencyMs.after > 0) await sleep(plan.latencyMs.after);
      if (plan.expireTokens.after) auth.expireAll();
      if (plan.terminal.after) response = faultResponse(plan.terminal.after);
    }
    if (terminal) entry.fault = terminal.id;
    entry.durationMs = Date.now() - arrived;
    callLog.push(entry);
    if (callLog.length > callLogLimit) callLog.splice(0, callLog.length - callLogLimit);
    if (response === 'reset') {
      req.socket.destroy();
      return;
    }
    entry.status = response.status;
    send(res, response, { 'Sforce-Limit-Info': `api-usage=${counters.apiCalls}/${config.dailyApiMax}` });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, restError(500, 'UNKNOWN_EXCEPTION', String(err)), {});
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULTS.port, options.host ?? DEFAULTS.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  baseUrl = `http://${host}:${address.port}`;

  return {
    url: baseUrl,
    org,
    counters,
    faults,
    config,
    credentials,
    orgId,
    userId,
    jwtPublicKey: keys.publicKey,
    jwtPrivateKey: keys.privateKey,
    bulk,
    expireTokens: () => auth.expireAll(),
    calls: () => [...callLog],
    reset,
    saveSnapshot,
    async close() {
      bulk.reset();
      if (snapshotFile) saveSnapshot();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
