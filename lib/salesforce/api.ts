// Every REST call goes through here: the session (refreshed once per expiry on 401), the retry policy
// of retry.ts (bounded by attempts and by the caller's deadline), the per-request timeout, the call
// counter and the latest Sforce-Limit-Info reading.
import type { Authenticator, Session } from './auth.ts';
import {
  ApiDisabledError,
  ConcurrencyLimitError,
  DailyApiLimitError,
  DeadlineExceededError,
  MaintenanceError,
  ResponseLostError,
  SalesforceApiError,
  SalesforceClientError,
  SalesforceUnavailableError,
  SessionRejectedError,
  TransportError,
  UnreachableError,
} from './errors.ts';
import type { HttpMethod, HttpRequest, Send, SendStreamed, StreamedResponse } from './http.ts';
import type { Redactor, SalesforceLogger } from './redact.ts';
import { type BackoffOptions, backoffDelay, classifyResponse, parseRetryAfter } from './retry.ts';
import type { ApiUsage, CallContext } from './types.ts';

export interface ApiRequest {
  method: HttpMethod;
  /** Below `/services/data/vXX.X` (e.g. `/composite/sobjects?ids=…`), or absolute from `/services/`. */
  path: string;
  body?: string | Buffer;
  /** Default `application/json` when there is a body. */
  contentType?: string;
  accept?: string;
  /** Extra headers (e.g. If-Modified-Since). */
  headers?: Record<string, string>;
  /** True when sending it twice leaves Salesforce as sending it once would. */
  idempotent: boolean;
  /** For messages: "a Collections insert of 200 Lead records". */
  what: string;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** HTTP requests this call took (retries and the replay after a refresh included). */
  attempts: number;
  /** An earlier attempt was sent and its response lost: it may have been applied (idempotent calls only). */
  maybeAppliedBefore: boolean;
}

export interface Api {
  /** Sends a call, retrying as the policy allows; resolves with a 2xx/3xx answer, or throws. */
  call(request: ApiRequest, context: CallContext): Promise<ApiResponse>;
  /** Like call, for a GET whose successful body is streamed (bulk result files). */
  stream(
    request: ApiRequest,
    context: CallContext,
  ): Promise<{ response: StreamedResponse; attempts: number }>;
  callCount(): number;
  apiUsage(): ApiUsage | undefined;
}

export interface ApiOptions {
  auth: Authenticator;
  send: Send;
  sendStreamed: SendStreamed;
  apiVersion: string;
  requestTimeout: number;
  maxRetries: number;
  backoff: BackoffOptions;
  redactor: Redactor;
  logger: SalesforceLogger;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}

interface Problem {
  code: string;
  message: string;
  retryAfterMs?: number;
  /** Problems that concern the whole org once the retries run out. */
  kind?: 'unreachable' | 'concurrency' | 'maintenance';
  host?: string;
}

const MAINTENANCE_CODE = 'INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE';
const API_DISABLED = new Set(['API_DISABLED_FOR_ORG', 'API_CURRENTLY_DISABLED']);
const isMaintenance = (errorCode: string, message: string) =>
  errorCode === MAINTENANCE_CODE || /maintenance/i.test(message);

const LIMIT_INFO = /api-usage=(\d+)\/(\d+)/;

/**
 * Creates the REST caller over an authenticator and a transport.
 *
 * @example
 * const api = createApi({ auth, send, sendStreamed, apiVersion: '65.0', requestTimeout: 30_000, maxRetries: 5,
 *   backoff, redactor, logger, sleep, now: Date.now });
 * const res = await api.call({ method: 'GET', path: '/limits', idempotent: true, what: 'the limits' }, { deadline });
 */
export function createApi(options: ApiOptions): Api {
  const { auth, redactor, logger } = options;
  let calls = 0;
  let usage: ApiUsage | undefined;

  function url(session: Session, path: string): string {
    return path.startsWith('/services/')
      ? `${session.instanceUrl}${path}`
      : `${session.instanceUrl}/services/data/v${options.apiVersion}${path}`;
  }

  function track(headers: Record<string, string>): void {
    const match = LIMIT_INFO.exec(headers['sforce-limit-info'] ?? '');
    if (match) usage = { used: Number(match[1]), max: Number(match[2]) };
  }

  /** The retries ran out: an org-wide condition if the problem is one, else the call's own failure. */
  function unavailable(
    request: ApiRequest,
    problem: Problem,
    attempts: number,
    why = '',
    maybeApplied = false,
  ): never {
    const message = `${request.what} failed: ${problem.message}${why}`;
    if (problem.kind === 'unreachable')
      throw new UnreachableError(problem.host ?? 'the org', false, problem.message);
    if (problem.kind === 'concurrency') throw new ConcurrencyLimitError(message);
    if (problem.kind === 'maintenance') throw new MaintenanceError(message);
    throw new SalesforceUnavailableError(problem.code, message, attempts, maybeApplied);
  }

  async function execute<R extends { status: number; headers: Record<string, string> }>(
    request: ApiRequest,
    context: CallContext,
    sendOnce: (http: HttpRequest, timeoutMs: number) => Promise<R>,
    errorText: (response: R) => Promise<string>,
  ): Promise<{ response: R; attempts: number; maybeAppliedBefore: boolean }> {
    let attempts = 0;
    let retry = 0;
    let maybeAppliedBefore = false;
    let replayedAfterRefresh = false;
    let problem: Problem | undefined;
    const pathOnly = request.path.split('?')[0];
    try {
      for (;;) {
        const startedAt = options.now();
        if (startedAt >= context.deadline) {
          if (!problem) throw new DeadlineExceededError(`send ${request.what}`);
          unavailable(
            request,
            problem,
            attempts,
            "; the invocation's deadline passed before another attempt",
            maybeAppliedBefore,
          );
        }
        const session = await auth.session(context.deadline);
        // The session may come from another client sharing the process cache: mask it here too.
        redactor.add(session.accessToken);
        // An idempotent attempt is cut at the deadline (a retry is harmless); a non-idempotent one gets
        // its full timeout, since cutting it short would leave its outcome unknown.
        const timeout = request.idempotent
          ? Math.max(1, Math.min(options.requestTimeout, context.deadline - startedAt))
          : options.requestTimeout;
        const headers: Record<string, string> = {
          authorization: `Bearer ${session.accessToken}`,
          accept: request.accept ?? 'application/json',
          ...request.headers,
        };
        if (request.body !== undefined) headers['content-type'] = request.contentType ?? 'application/json';
        attempts++;
        calls++;
        let response: R | undefined;
        try {
          response = await sendOnce(
            {
              method: request.method,
              url: url(session, request.path),
              headers,
              ...(request.body === undefined ? {} : { body: request.body }),
            },
            timeout,
          );
        } catch (error) {
          if (!(error instanceof TransportError)) throw error;
          logger.debug('Salesforce call failed below HTTP', {
            method: request.method,
            path: pathOnly,
            code: error.code,
            attempt: attempts,
          });
          if (error.sent && !request.idempotent) throw new ResponseLostError(request.what, error.message);
          if (error.sent) maybeAppliedBefore = true;
          problem = {
            code: error.code,
            message: error.message,
            ...(error.code === 'CONNECTION_FAILED'
              ? { kind: 'unreachable' as const, host: new URL(session.instanceUrl).host }
              : {}),
          };
        }
        if (response) {
          track(response.headers);
          logger.debug('Salesforce call', {
            method: request.method,
            path: pathOnly,
            status: response.status,
            attempt: attempts,
            ms: options.now() - startedAt,
          });
          const text = response.status >= 400 ? await errorText(response) : '';
          const verdict = classifyResponse(response.status, text);
          switch (verdict.kind) {
            case 'ok':
              return { response, attempts, maybeAppliedBefore };
            case 'session':
              if (replayedAfterRefresh)
                throw new SessionRejectedError(redactor.redact(verdict.error.message));
              await auth.refresh(session, context.deadline);
              replayedAfterRefresh = true;
              continue;
            case 'daily-limit':
              throw new DailyApiLimitError(redactor.redact(verdict.error.message));
            case 'fail': {
              const { errorCode, message, fields } = verdict.error;
              if (errorCode === MAINTENANCE_CODE) throw new MaintenanceError(redactor.redact(message));
              if (API_DISABLED.has(errorCode))
                throw new ApiDisabledError(errorCode, redactor.redact(message));
              throw new SalesforceApiError(
                response.status,
                errorCode,
                redactor.redact(message),
                fields,
                request.what,
              );
            }
            case 'retry': {
              const { errorCode, message } = verdict.error;
              const safeMessage = redactor.redact(message);
              // 500/502/504: Salesforce may have applied the request before answering so.
              if (!verdict.unprocessed) maybeAppliedBefore = true;
              if (!verdict.unprocessed && !request.idempotent) {
                throw new ResponseLostError(
                  request.what,
                  `Salesforce answered HTTP ${response.status} ${errorCode}${safeMessage ? `: ${safeMessage}` : ''}`,
                );
              }
              const code = errorCode.startsWith('HTTP_')
                ? response.status === 429
                  ? 'TOO_MANY_REQUESTS'
                  : 'SERVER_UNAVAILABLE'
                : errorCode;
              const kind =
                errorCode === 'REQUEST_LIMIT_EXCEEDED'
                  ? ('concurrency' as const)
                  : response.status === 503 && isMaintenance(errorCode, safeMessage)
                    ? ('maintenance' as const)
                    : undefined;
              problem = {
                code,
                message: `Salesforce answered HTTP ${response.status} ${errorCode}${safeMessage ? `: ${safeMessage}` : ''}`,
                retryAfterMs: parseRetryAfter(response.headers['retry-after'], options.now()),
                ...(kind ? { kind } : {}),
              };
            }
          }
        }
        replayedAfterRefresh = false;
        const failed = problem!;
        if (retry >= options.maxRetries) unavailable(request, failed, attempts, '', maybeAppliedBefore);
        const delay = backoffDelay(retry, options.backoff, failed.retryAfterMs);
        if (options.now() + delay >= context.deadline) {
          unavailable(
            request,
            failed,
            attempts,
            `; the next attempt (in ${delay} ms) would start after the invocation's deadline`,
            maybeAppliedBefore,
          );
        }
        logger.warn('Salesforce call failed; retrying', {
          method: request.method,
          path: pathOnly,
          code: failed.code,
          attempt: attempts,
          delayMs: delay,
        });
        await options.sleep(delay);
        retry++;
      }
    } catch (error) {
      // Whatever ends the call, its caller must know if an earlier attempt may have taken effect.
      if (maybeAppliedBefore && error instanceof SalesforceClientError) error.maybeApplied = true;
      throw error;
    }
  }

  return {
    async call(request, context) {
      const { response, attempts, maybeAppliedBefore } = await execute(
        request,
        context,
        options.send,
        async (r) => r.body,
      );
      return { ...response, attempts, maybeAppliedBefore };
    },
    async stream(request, context) {
      const { response, attempts } = await execute(request, context, options.sendStreamed, (r) => r.text());
      return { response, attempts };
    },
    callCount: () => calls,
    apiUsage: () => (usage ? { ...usage } : undefined),
  };
}
