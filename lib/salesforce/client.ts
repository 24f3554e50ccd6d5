// The Salesforce client: validated credentials → authenticator → REST caller → Collections writer,
// Bulk API 2.0 steps, external id resolution and the describe cache. State that should outlive one
// invocation (the session, describes) lives in a cache shared by every client of the same credentials
// in the process, so a handler may build its client per invocation. Fields Salesforce refuses are
// left out of that one write only, never remembered.
import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { SinkConfig } from '../config/index.ts';
import { createApi } from './api.ts';
import { createAuthenticator, type SessionSlot } from './auth.ts';
import { createBulkJobs } from './bulk.ts';
import { createUnitWriter } from './collections.ts';
import { parseCredentials, secretValues } from './credentials.ts';
import {
  createDescribeCache,
  createSchemaOf,
  DEFAULT_DESCRIBE_TTL_MS,
  type DescribeCache,
  forgetCachedField,
} from './describe.ts';
import { UnexpectedResponseError } from './errors.ts';
import { addressByExternalId, resolveExternalIds } from './external-ids.ts';
import { createFetchSend, createJsforceSend, proxySecrets, type Send, type SendStreamed } from './http.ts';
import { createRedactor, type SalesforceLogger, safeLogger } from './redact.ts';
import { DEFAULT_BACKOFF } from './retry.ts';
import { runStage } from './stage.ts';
import type { OrgLimits, SalesforceClient, SalesforceCredentials } from './types.ts';

/** Per-credentials state kept across invocations: sessions and describes. */
export interface ClientCache {
  sessions: Map<string, SessionSlot>;
  describes: Map<string, DescribeCache>;
}

/**
 * An empty cache (tests, or a handler that wants isolation); clients share the process's by default.
 *
 * @example
 * const client = createSalesforceClient({ credentials, config, cache: createClientCache() });
 */
export function createClientCache(): ClientCache {
  return { sessions: new Map(), describes: new Map() };
}

const processCache = createClientCache();

export interface SalesforceClientOptions {
  /** The credentials secret: its JSON text or the parsed object (validated either way). */
  credentials: SalesforceCredentials | string;
  config: Pick<SinkConfig, 'apiVersion' | 'requestTimeout' | 'maxRetries' | 'maxInFlight'> &
    Partial<Pick<SinkConfig, 'apiUsageThreshold' | 'proxyUrl'>>;
  /** HTTPS_PROXY / HTTP_PROXY / NO_PROXY come from here (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Receives redacted messages only. Powertools' Logger fits. */
  logger?: SalesforceLogger;
  /** Uniform in [0, 1), for backoff jitter. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Epoch ms. */
  now?: () => number;
  /** How long a describe is used before it is revalidated (default 15 minutes). */
  describeTtlMs?: number;
  backoff?: { baseDelayMs?: number; maxDelayMs?: number };
  /** Default: one cache per process, keyed by the credentials. */
  cache?: ClientCache;
  /** Transport overrides (tests). */
  send?: Send;
  sendStreamed?: SendStreamed;
}

/** A key for the credentials that does not reveal them (rotating the secret starts a new session). */
function identityOf(credentials: SalesforceCredentials, apiVersion: string): string {
  const canonical = JSON.stringify(Object.entries(credentials).sort(([a], [b]) => a.localeCompare(b)));
  return `${createHash('sha256').update(canonical).digest('hex')}:${apiVersion}`;
}

function entry<V>(map: Map<string, V>, key: string, create: () => V): V {
  const existing = map.get(key);
  if (existing !== undefined) return existing;
  const created = create();
  map.set(key, created);
  return created;
}

/**
 * Creates the Salesforce client the handlers use.
 *
 * @example
 * const client = createSalesforceClient({ credentials: secretJson, config, logger });
 * const schema = await client.schemaOf('Lead', { deadline });
 * const results = await client.writeUnit(unit, { deadline });
 */
export function createSalesforceClient(options: SalesforceClientOptions): SalesforceClient {
  const credentials = parseCredentials(options.credentials);
  const proxy = { proxyUrl: options.config.proxyUrl, env: options.env ?? process.env };
  const redactor = createRedactor([
    ...secretValues(credentials),
    ...proxySecrets(proxy.proxyUrl),
    ...proxySecrets(proxy.env.HTTPS_PROXY ?? proxy.env.https_proxy),
    ...proxySecrets(proxy.env.HTTP_PROXY ?? proxy.env.http_proxy),
  ]);
  const logger = safeLogger(options.logger, redactor);
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => delay(ms).then(() => undefined));
  const { apiVersion, requestTimeout, maxRetries, maxInFlight } = options.config;
  const backoff = {
    baseDelayMs: options.backoff?.baseDelayMs ?? DEFAULT_BACKOFF.baseDelayMs,
    maxDelayMs: options.backoff?.maxDelayMs ?? DEFAULT_BACKOFF.maxDelayMs,
    random: options.random ?? Math.random,
  };
  const cache = options.cache ?? processCache;
  const identity = identityOf(credentials, apiVersion);
  const send = options.send ?? createJsforceSend(proxy);

  const auth = createAuthenticator({
    credentials,
    send,
    slot: entry(cache.sessions, identity, (): SessionSlot => ({})),
    redactor,
    logger,
    requestTimeout,
    maxRetries,
    backoff,
    sleep,
    now,
  });
  const api = createApi({
    auth,
    send,
    sendStreamed: options.sendStreamed ?? createFetchSend(proxy),
    apiVersion,
    requestTimeout,
    maxRetries,
    backoff,
    redactor,
    logger,
    sleep,
    now,
  });
  const inParallel = <T, R>(items: readonly T[], fn: (item: T) => Promise<R>) =>
    runStage(items, (item) => fn(item), maxInFlight).then((settled) =>
      settled.map((s) => {
        if (s.status === 'rejected') throw s.reason;
        return s.value;
      }),
    );
  const resolve = (
    sobject: string,
    field: string,
    values: readonly string[],
    context: { deadline: number },
  ) => resolveExternalIds(api, sobject, field, values, context, apiVersion, inParallel);

  /**
   * Past `apiUsageThreshold` % of the org's daily API allowance, each realtime write waits a moment
   * first (longer the closer the org is to its limit), so the sink leaves room for the org's other
   * integrations; a warning is logged once each time usage crosses the threshold.
   */
  const threshold = options.config.apiUsageThreshold ?? 90;
  let warned = false;
  const paced =
    (write: SalesforceClient['writeUnit']): SalesforceClient['writeUnit'] =>
    async (unit, context) => {
      const usage = api.apiUsage();
      const percent = usage && usage.max > 0 ? (100 * usage.used) / usage.max : 0;
      if (percent >= threshold && threshold < 100) {
        if (!warned) {
          warned = true;
          logger.warn('Salesforce API usage past the threshold: realtime writes slowed down', {
            usedPercent: Math.round(percent),
            threshold,
          });
        }
        const pause = Math.min(10_000, 1_000 * (1 + (9 * (percent - threshold)) / (100 - threshold)));
        if (now() + pause < context.deadline) await sleep(pause);
      } else warned = false;
      return write(unit, context);
    };

  const describes = entry(cache.describes, identity, createDescribeCache);
  return {
    schemaOf: createSchemaOf({
      api,
      cache: describes,
      ttlMs: options.describeTtlMs ?? DEFAULT_DESCRIBE_TTL_MS,
      now,
      logger,
    }),
    writeUnit: paced(
      createUnitWriter({
        api,
        maxRetries,
        backoff,
        sleep,
        now,
        logger,
        redact: redactor.redact,
        forgetField: (sobject, field) => forgetCachedField(describes, sobject, field, logger),
        resolve,
      }),
    ),
    async resolveIds(sobject, externalIdField, values, context) {
      return (await resolve(sobject, externalIdField, values, context)).ids;
    },
    address: (target, values, context) => addressByExternalId(resolve, target, values, context),
    bulk: createBulkJobs({ api, logger }),
    async limits(context) {
      const response = await api.call(
        { method: 'GET', path: '/limits', idempotent: true, what: 'the org limits' },
        context,
      );
      return limitsOf(response.body);
    },
    apiUsage: api.apiUsage,
    callCount: api.callCount,
  };
}

/** Reads `/limits`' allowances the sink spends. */
function limitsOf(body: string): OrgLimits {
  let raw: Record<string, { Max?: unknown; Remaining?: unknown } | undefined>;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new UnexpectedResponseError('the org limits', 'the body is not JSON');
  }
  const quota = (name: string) => {
    const entry = raw[name];
    return entry && typeof entry.Max === 'number' && typeof entry.Remaining === 'number'
      ? { max: entry.Max, remaining: entry.Remaining }
      : undefined;
  };
  const api = quota('DailyApiRequests');
  if (!api) throw new UnexpectedResponseError('the org limits', 'no DailyApiRequests');
  const bulk = quota('DailyBulkApiBatches');
  return { dailyApiRequests: api, ...(bulk ? { dailyBulkApiBatches: bulk } : {}) };
}
