// Describe results, cached per sObject for the life of the process: fresh for a TTL, then revalidated
// with If-Modified-Since (a 304 keeps the cached schema and restarts its TTL). Concurrent callers of
// one sObject share one request; a failed revalidation serves the stale schema rather than failing.

import { type SObjectDescribe, type SObjectSchema, schemaFromDescribe } from '../shape/sobject-schema.ts';
import type { Api } from './api.ts';
import { SalesforceClientError, UnexpectedResponseError } from './errors.ts';
import type { SalesforceLogger } from './redact.ts';
import type { CallContext } from './types.ts';

export const DEFAULT_DESCRIBE_TTL_MS = 15 * 60_000;

export interface DescribeEntry {
  schema: SObjectSchema;
  /** Epoch ms of the last 200 or 304. */
  checkedAt: number;
  /** The Last-Modified header of the describe, or the time it was fetched (HTTP date). */
  lastModified: string;
}

/** sObject (lower-cased) → cached schema or the request producing it. Shareable across clients of one org. */
export interface DescribeCache {
  entries: Map<string, DescribeEntry>;
  pending: Map<string, Promise<SObjectSchema>>;
}

/**
 * An empty describe cache.
 *
 * @example
 * const describes = createDescribeCache();
 */
export function createDescribeCache(): DescribeCache {
  return { entries: new Map(), pending: new Map() };
}

/**
 * Creates `schemaOf` over an API caller and a cache.
 *
 * @example
 * const schemaOf = createSchemaOf({ api, cache: createDescribeCache(), ttlMs: 900_000, now: Date.now, logger });
 * const lead = await schemaOf('Lead', { deadline });
 */
export function createSchemaOf(options: {
  api: Api;
  cache: DescribeCache;
  ttlMs: number;
  now: () => number;
  logger: SalesforceLogger;
}): (sobject: string, context: CallContext) => Promise<SObjectSchema> {
  const { api, cache, logger } = options;

  async function fetchSchema(sobject: string, key: string, context: CallContext): Promise<SObjectSchema> {
    const cached = cache.entries.get(key);
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
      cache.entries.set(key, {
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

  return (sobject, context) => {
    const key = sobject.toLowerCase();
    const cached = cache.entries.get(key);
    if (cached && options.now() - cached.checkedAt < options.ttlMs) return Promise.resolve(cached.schema);
    const pending = cache.pending.get(key);
    if (pending) return pending;
    const request = fetchSchema(sobject, key, context).finally(() => cache.pending.delete(key));
    cache.pending.set(key, request);
    return request;
  };
}
