// Describe results, cached per sObject for the life of the process: fresh for a TTL, then revalidated
// with If-Modified-Since (a 304 keeps the cached schema and restarts its TTL). Concurrent callers of
// one sObject share one request; a failed revalidation serves the stale schema rather than failing.
//
// Schema drift: a record carrying a field the cached describe lacks may mean the field was just added
// to the org. The caller then asks for a `refresh`, which revalidates at once, at most once a minute
// per sObject (a stream that keeps sending a field the org lacks costs one describe a minute). A field
// Salesforce says the org has no longer ("No such column") is dropped from the cached describe.

import {
  type SObjectDescribe,
  type SObjectSchema,
  schemaFromDescribe,
  schemaWithout,
} from '../shape/sobject-schema.ts';
import type { Api } from './api.ts';
import { SalesforceClientError, UnexpectedResponseError } from './errors.ts';
import type { SalesforceLogger } from './redact.ts';
import type { CallContext } from './types.ts';

export const DEFAULT_DESCRIBE_TTL_MS = 15 * 60_000;
/** The shortest time between two refreshes of one sObject's describe asked for by unknown fields. */
export const REFRESH_INTERVAL_MS = 60_000;

export interface DescribeEntry {
  schema: SObjectSchema;
  /** Epoch ms of the last 200 or 304. */
  checkedAt: number;
  /** The Last-Modified header of the describe, or the time it was fetched (HTTP date). */
  lastModified: string;
}

/** sObject (lower-cased) → cached schema or the request producing it. Shareable across clients of one org. */
export interface DescribeCache {
  schemas: Map<string, DescribeEntry>;
  pending: Map<string, Promise<SObjectSchema>>;
  /** Epoch ms of the last refresh an unknown field asked for, per sObject. */
  refreshedAt: Map<string, number>;
}

export interface SchemaOptions {
  /**
   * A record carries a field the cached describe lacks: revalidate now, unless a refresh of this
   * sObject happened in the last minute.
   */
  refresh?: boolean;
}

/**
 * An empty describe cache.
 *
 * @example
 * const describes = createDescribeCache();
 */
export function createDescribeCache(): DescribeCache {
  return { schemas: new Map(), pending: new Map(), refreshedAt: new Map() };
}

/**
 * Drops a field from an sObject's cached describe (Salesforce refused it as unknown to the org), so
 * later records carrying it are judged by the sink's own rules (UNKNOWN_FIELD, or ignored) before any
 * call; the next revalidation brings it back if the org has it again.
 *
 * @example
 * forgetCachedField(describes, 'Lead', 'Removed__c', logger);
 */
export function forgetCachedField(
  cache: DescribeCache,
  sobject: string,
  field: string,
  logger: SalesforceLogger,
): void {
  const cached = cache.schemas.get(sobject.toLowerCase());
  if (!cached?.schema.fields.has(field.toLowerCase())) return;
  cached.schema = schemaWithout(cached.schema, field);
  logger.warn('Salesforce does not know a field the cached describe has; forgetting it', {
    sobject,
    field,
  });
}

/**
 * Creates `schemaOf` over an API caller and a cache.
 *
 * @example
 * const schemaOf = createSchemaOf({ api, cache: createDescribeCache(), ttlMs: 900_000, now: Date.now, logger });
 * const lead = await schemaOf('Lead', { deadline });
 * const fresher = await schemaOf('Lead', { deadline }, { refresh: true }); // a record had an unknown field
 */
export function createSchemaOf(options: {
  api: Api;
  cache: DescribeCache;
  ttlMs: number;
  now: () => number;
  logger: SalesforceLogger;
}): (sobject: string, context: CallContext, schemaOptions?: SchemaOptions) => Promise<SObjectSchema> {
  const { api, cache, logger } = options;

  async function fetchSchema(sobject: string, key: string, context: CallContext): Promise<SObjectSchema> {
    const cached = cache.schemas.get(key);
    const what = `the describe of ${sobject}`;
    try {
      const response = await api.call(
        {
          method: 'GET',
          path: `/sobjects/${encodeURIComponent(sobject)}/describe`,
          idempotent: true,
          what,
          ...(cached ? { headers: { 'if-modified-since': cached.lastModified } } : {}),
        },
        context,
      );
      if (response.status === 304 && cached) {
        cached.checkedAt = options.now();
        return cached.schema;
      }
      let describe: SObjectDescribe;
      try {
        describe = JSON.parse(response.body) as SObjectDescribe;
      } catch {
        throw new UnexpectedResponseError(what, `HTTP ${response.status} without a JSON body`);
      }
      if (typeof describe?.name !== 'string' || !Array.isArray(describe.fields)) {
        throw new UnexpectedResponseError(what, 'no name or fields in the describe');
      }
      const schema = schemaFromDescribe(describe);
      cache.schemas.set(key, {
        schema,
        checkedAt: options.now(),
        lastModified: response.headers['last-modified'] ?? new Date(options.now()).toUTCString(),
      });
      return schema;
    } catch (error) {
      if (cached && error instanceof SalesforceClientError && error.retryable) {
        logger.warn('Describe revalidation failed; using the cached schema', { sobject, code: error.code });
        return cached.schema;
      }
      throw error;
    }
  }

  return (sobject, context, schemaOptions = {}) => {
    const key = sobject.toLowerCase();
    const cached = cache.schemas.get(key);
    const now = options.now();
    const refresh =
      schemaOptions.refresh === true &&
      cached !== undefined &&
      now - (cache.refreshedAt.get(key) ?? Number.NEGATIVE_INFINITY) >= REFRESH_INTERVAL_MS;
    if (cached && !refresh && now - cached.checkedAt < options.ttlMs) return Promise.resolve(cached.schema);
    if (refresh) cache.refreshedAt.set(key, now);
    const pending = cache.pending.get(key);
    if (pending) return pending;
    const request = fetchSchema(sobject, key, context).finally(() => cache.pending.delete(key));
    cache.pending.set(key, request);
    return request;
  };
}
