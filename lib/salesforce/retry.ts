// The retry policy, as pure functions: which answers are worth another attempt, whether another
// attempt is safe for a call that is not idempotent, and how long to wait (capped exponential backoff
// with full jitter, never less than Retry-After).
//
// | answer                                         | idempotent call | non-idempotent call        |
// | ---------------------------------------------- | --------------- | -------------------------- |
// | 429, 503, 403 REQUEST_LIMIT_EXCEEDED            | retry           | retry (refused unprocessed) |
// |   ConcurrentPerOrgLongTxn                      |                 |                            |
// | 500, 502, 504                                  | retry           | RESPONSE_LOST (may be applied) |
// | connection refused / DNS / connect timeout     | retry           | retry (never sent)         |
// | reset or timeout after sending                 | retry           | RESPONSE_LOST              |
// | 401 INVALID_SESSION_ID                         | refresh once, replay (never processed)       |
// | 403 REQUEST_LIMIT_EXCEEDED TotalRequests       | fail fast: DailyApiLimitError                |
// | other 4xx                                      | fail: SalesforceApiError                     |

export interface BackoffOptions {
  /** First retry waits up to this long (full jitter: uniformly 0…this). */
  baseDelayMs: number;
  /** No single wait is longer than this (unless Retry-After asks for more). */
  maxDelayMs: number;
  /** Uniform in [0, 1); injectable for tests. */
  random: () => number;
}

export const DEFAULT_BACKOFF = { baseDelayMs: 500, maxDelayMs: 20_000 } as const;

/**
 * The wait before retry number `retry` (0 for the first retry): full jitter over a capped exponential
 * ceiling, and at least `retryAfterMs` when the server asked for it.
 *
 * @example
 * backoffDelay(0, { baseDelayMs: 500, maxDelayMs: 20_000, random: () => 0.5 });       // 250
 * backoffDelay(3, { baseDelayMs: 500, maxDelayMs: 20_000, random: () => 0.5 }, 2000); // 2000
 */
export function backoffDelay(retry: number, options: BackoffOptions, retryAfterMs?: number): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, retry));
  const jittered = Math.floor(options.random() * ceiling);
  return retryAfterMs === undefined ? jittered : Math.max(retryAfterMs, jittered);
}

/**
 * `Retry-After` in milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable.
 *
 * @example
 * parseRetryAfter('2', Date.now()); // 2000
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** A Salesforce top-level error, or what stands in for one when the body is not Salesforce's shape. */
export interface ApiErrorBody {
  errorCode: string;
  message: string;
  fields: string[];
}

/**
 * Reads a REST error body (`[{message, errorCode, fields?}]`, or one object, or OAuth's
 * `{error, error_description}`); falls back to `HTTP_<status>` with the text's first line.
 *
 * @example
 * parseErrorBody(503, '[{"errorCode":"SERVER_UNAVAILABLE","message":"try later"}]');
 * // { errorCode: 'SERVER_UNAVAILABLE', message: 'try later', fields: [] }
 */
export function parseErrorBody(status: number, text: string): ApiErrorBody {
  try {
    const parsed: unknown = JSON.parse(text);
    const first = Array.isArray(parsed) ? parsed[0] : parsed;
    if (typeof first === 'object' && first !== null) {
      const e = first as Record<string, unknown>;
      const errorCode = e.errorCode ?? e.statusCode ?? e.error;
      const message = e.message ?? e.error_description;
      if (typeof errorCode === 'string' || typeof message === 'string') {
        return {
          errorCode: typeof errorCode === 'string' ? errorCode : `HTTP_${status}`,
          message: typeof message === 'string' ? message : '',
          fields: Array.isArray(e.fields) ? e.fields.filter((f): f is string => typeof f === 'string') : [],
        };
      }
    }
  } catch {
    // not JSON: described below from the text
  }
  const firstLine = text.split('\n', 1)[0]!.trim().slice(0, 200);
  return { errorCode: `HTTP_${status}`, message: firstLine || `HTTP ${status}`, fields: [] };
}

export type Verdict =
  /** A usable answer (2xx, 3xx such as 304). */
  | { kind: 'ok' }
  /** The session expired: refresh the token once and replay. */
  | { kind: 'session'; error: ApiErrorBody }
  /** The org's daily request limit: do not retry. */
  | { kind: 'daily-limit'; error: ApiErrorBody }
  /**
   * Worth another attempt. `unprocessed`: the server refused before doing anything, so even a
   * non-idempotent call may be resent.
   */
  | { kind: 'retry'; error: ApiErrorBody; unprocessed: boolean }
  /** A definitive refusal. */
  | { kind: 'fail'; error: ApiErrorBody };

const RETRY_UNPROCESSED = new Set([429, 503]);
const RETRY_MAYBE_PROCESSED = new Set([500, 502, 504]);

/**
 * Classifies an HTTP answer for the retry policy.
 *
 * @example
 * classifyResponse(403, '[{"errorCode":"REQUEST_LIMIT_EXCEEDED","message":"ConcurrentPerOrgLongTxn Limit exceeded."}]');
 * // { kind: 'retry', unprocessed: true, error: { … } }
 */
export function classifyResponse(status: number, text: string): Verdict {
  if (status < 400) return { kind: 'ok' };
  const error = parseErrorBody(status, text);
  if (status === 401) return { kind: 'session', error };
  if (status === 403 && error.errorCode === 'REQUEST_LIMIT_EXCEEDED') {
    return /ConcurrentPerOrgLongTxn|Concurrent/i.test(error.message)
      ? { kind: 'retry', error, unprocessed: true }
      : { kind: 'daily-limit', error };
  }
  if (RETRY_UNPROCESSED.has(status)) return { kind: 'retry', error, unprocessed: true };
  if (RETRY_MAYBE_PROCESSED.has(status)) return { kind: 'retry', error, unprocessed: false };
  return { kind: 'fail', error };
}

/** The record-level Salesforce codes that a later attempt may clear. */
export const RETRYABLE_RECORD_CODES: ReadonlySet<string> = new Set(['UNABLE_TO_LOCK_ROW']);
