// Errors the Salesforce client raises. Each says what happened and what to do; none carries a token,
// password, client secret, private key or record value (messages from Salesforce pass the redactor).
//
// `code` is what a record's outcome carries when the error settles records (`errors[].code`), and
// `retryable` says whether the same call may succeed later without anyone changing anything.

/** The base of every error below: a stable `code` and whether a later attempt may succeed. */
export class SalesforceClientError extends Error {
  override name = 'SalesforceClientError';
  readonly code: string;
  readonly retryable: boolean;
  /**
   * An earlier attempt of the call that failed may have taken effect (its answer was lost: a 5xx after
   * processing, a reset after sending). Set by the REST caller on whatever error ends the call.
   */
  maybeApplied = false;
  constructor(code: string, message: string, retryable: boolean) {
    super(message);
    this.code = code;
    this.retryable = retryable;
  }
}

/** The credentials secret is malformed: a key is missing, empty or of the wrong type. */
export class CredentialsError extends SalesforceClientError {
  override name = 'CredentialsError';
  /** The offending keys (names only, never values). */
  readonly keys: string[];
  constructor(message: string, keys: string[] = []) {
    super('INVALID_CREDENTIALS', message, false);
    this.keys = keys;
  }
}

/** The credentials secret still holds the stack's placeholder values: nobody has filled it in yet. */
export class CredentialsNotSetError extends CredentialsError {
  override name = 'CredentialsNotSetError';
  constructor(keys: string[]) {
    super(
      `The Salesforce credentials secret still holds placeholder values (${keys.join(', ')}): put the connected app's credentials in it (aws secretsmanager put-secret-value, see the README's "The Salesforce secret")`,
      keys,
    );
  }
}

/** A login or instance URL that would send credentials in clear text (or is not a URL). */
export class InsecureUrlError extends SalesforceClientError {
  override name = 'InsecureUrlError';
  constructor(what: string, problem: string) {
    super(
      'INSECURE_URL',
      `The Salesforce ${what} ${problem}: use an https:// URL (plain http is accepted only for localhost, 127.0.0.1 and ::1, i.e. the local emulator)`,
      false,
    );
  }
}

/** The token endpoint refused the credentials (OAuth `invalid_grant`, `invalid_client`, …). */
export class AuthenticationError extends SalesforceClientError {
  override name = 'AuthenticationError';
  readonly oauthError: string;
  constructor(authType: string, oauthError: string, description: string, hint: string) {
    super(
      'AUTHENTICATION_FAILED',
      `Salesforce refused the ${authType} login (${oauthError}${description ? `: ${description}` : ''}): ${hint}`,
      false,
    );
    this.oauthError = oauthError;
  }
}

/** A fresh token was refused too (two 401s in a row): the session cannot be used for this API. */
export class SessionRejectedError extends SalesforceClientError {
  override name = 'SessionRejectedError';
  constructor(message: string) {
    super(
      'INVALID_SESSION_ID',
      `Salesforce rejected a freshly issued access token (${message}): check that the integration user is active, has "API Enabled", and that the connected app's OAuth policies allow it`,
      false,
    );
  }
}

/** The org's rolling 24-hour API request limit is spent (403 REQUEST_LIMIT_EXCEEDED TotalRequests). */
export class DailyApiLimitError extends SalesforceClientError {
  override name = 'DailyApiLimitError';
  constructor(message: string) {
    super(
      'REQUEST_LIMIT_EXCEEDED',
      `The org's daily API request limit is exhausted (${message}): calls are not retried; they succeed again once the rolling 24-hour usage drops (see Setup → System Overview), or ask Salesforce for a higher limit`,
      true,
    );
  }
}

/**
 * Throttling, 5xx, connection failures or timeouts outlasted the retries (or the deadline). The
 * records were not written; a later attempt may succeed.
 */
export class SalesforceUnavailableError extends SalesforceClientError {
  override name = 'SalesforceUnavailableError';
  readonly attempts: number;
  constructor(code: string, message: string, attempts: number, maybeApplied = false) {
    super(
      code,
      `${message} (gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}): retry later; if it persists, check Salesforce's status page and the org's concurrent request usage`,
      true,
    );
    this.attempts = attempts;
    this.maybeApplied = maybeApplied;
  }
}

/**
 * A non-idempotent call (Collections insert, bulk job create) was sent but its response was lost
 * (connection reset, timeout, gateway error): it may or may not have been applied, so it was not
 * resent. The layer above decides (e.g. by checking what exists before writing again).
 */
export class ResponseLostError extends SalesforceClientError {
  override name = 'ResponseLostError';
  constructor(what: string, reason: string) {
    super(
      'RESPONSE_LOST',
      `The response to ${what} was lost (${reason}): Salesforce may or may not have applied it, so it was not resent blindly; reconcile before writing these records again`,
      true,
    );
  }
}

/** No connection could be made to the org's host at all (DNS, refused, unreachable), after the retries. */
export class UnreachableError extends SalesforceClientError {
  override name = 'UnreachableError';
  readonly host: string;
  readonly login: boolean;
  constructor(host: string, login: boolean, reason: string) {
    super(
      'CONNECTION_FAILED',
      login
        ? `The Salesforce login host ${host} cannot be reached (${reason}): check loginUrl in the credentials secret (your My Domain URL, e.g. https://acme.my.salesforce.com) and that the functions can reach it (VPC egress, proxy)`
        : `The Salesforce instance ${host} cannot be reached (${reason}): check the functions' network egress (NAT, proxy) and Salesforce's status page`,
      true,
    );
    this.host = host;
    this.login = login;
  }
}

/** The token endpoint kept answering 5xx or 429 through the retries: nobody can log in right now. */
export class LoginUnavailableError extends SalesforceUnavailableError {
  override name = 'LoginUnavailableError';
}

/** The login URL answered, but not as Salesforce's token endpoint does (a wrong host, a portal page). */
export class LoginAnswerError extends SalesforceClientError {
  override name = 'LoginAnswerError';
  constructor(problem: string) {
    super(
      'UNEXPECTED_RESPONSE',
      `The login URL did not answer as Salesforce's token endpoint (${problem}): check loginUrl in the credentials secret (your My Domain URL, e.g. https://acme.my.salesforce.com)`,
      true,
    );
  }
}

/** The org or the integration user may not use the API at all (API_DISABLED_FOR_ORG, API_CURRENTLY_DISABLED). */
export class ApiDisabledError extends SalesforceClientError {
  override name = 'ApiDisabledError';
  constructor(errorCode: string, message: string) {
    super(
      errorCode,
      `Salesforce refuses API access (${errorCode}: ${message}): give the integration user the "API Enabled" permission, or use an edition with API access`,
      false,
    );
  }
}

/** The org's concurrent long-running request limit (ConcurrentPerOrgLongTxn) kept refusing calls. */
export class ConcurrencyLimitError extends SalesforceClientError {
  override name = 'ConcurrencyLimitError';
  constructor(message: string) {
    super(
      'REQUEST_LIMIT_EXCEEDED',
      `The org refused calls for its concurrent request limit (${message}): other integrations hold the org's 25 concurrent long requests; lower maxInFlight or wait for them`,
      true,
    );
  }
}

/** The org is in maintenance (read-only, or down): nothing can be written until it ends. */
export class MaintenanceError extends SalesforceClientError {
  override name = 'MaintenanceError';
  constructor(message: string) {
    super(
      'INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE',
      `The org is in maintenance (${message}): writes succeed again when it ends (see Salesforce's status page, trust.salesforce.com)`,
      true,
    );
  }
}

/** The caller's deadline passed before an attempt could start. */
export class DeadlineExceededError extends SalesforceClientError {
  override name = 'DeadlineExceededError';
  constructor(what: string) {
    super(
      'DEADLINE_EXCEEDED',
      `No time was left before the invocation's deadline to ${what}: nothing was sent; the records can be retried in a later invocation`,
      true,
    );
  }
}

/** Salesforce answered a whole call with an error that retrying will not fix (4xx other than 401/429). */
export class SalesforceApiError extends SalesforceClientError {
  override name = 'SalesforceApiError';
  readonly status: number;
  /** Salesforce's `errorCode` (same as `code`). */
  readonly errorCode: string;
  readonly fields: string[];
  constructor(status: number, errorCode: string, message: string, fields: string[], what: string) {
    super(errorCode, `Salesforce refused ${what} with HTTP ${status} ${errorCode}: ${message}`, false);
    this.status = status;
    this.errorCode = errorCode;
    this.fields = fields;
  }
}

/** A response Salesforce would never send (not JSON, wrong number of results): a proxy or bug in between. */
export class UnexpectedResponseError extends SalesforceClientError {
  override name = 'UnexpectedResponseError';
  constructor(what: string, problem: string) {
    super(
      'UNEXPECTED_RESPONSE',
      `Salesforce's answer to ${what} was not understood (${problem}): check that the login URL points at a Salesforce org and no proxy rewrites responses`,
      true,
    );
  }
}

/** `runStage` stopped starting units after one failed; this unit was never run. */
export class StageAbortedError extends SalesforceClientError {
  override name = 'StageAbortedError';
  constructor(cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      cause instanceof SalesforceClientError ? cause.code : 'STAGE_ABORTED',
      `Not run: another unit of the stage failed first (${reason}); nothing was sent for this unit, so its records can be retried`,
      true,
    );
    this.cause = cause;
  }
}

/**
 * A failure below HTTP (connection refused or reset, DNS, timeout). Internal to the client: the retry
 * policy turns it into one of the errors above.
 */
export class TransportError extends Error {
  override name = 'TransportError';
  /** CONNECTION_FAILED (never reached the server), CONNECTION_RESET, TIMEOUT. */
  readonly code: 'CONNECTION_FAILED' | 'CONNECTION_RESET' | 'TIMEOUT';
  /** False only when the request provably never left this process (connect-phase failures). */
  readonly sent: boolean;
  constructor(code: TransportError['code'], message: string, sent: boolean) {
    super(message);
    this.code = code;
    this.sent = sent;
  }
}

/** What an org-wide condition is, for logs, metrics (the `reason` dimension) and the CLI. */
export type OrgConditionReason =
  | 'CREDENTIALS_NOT_SET'
  | 'CREDENTIALS_INVALID'
  | 'AUTHENTICATION_FAILED'
  | 'SESSION_REJECTED'
  | 'LOGIN_HOST_UNREACHABLE'
  | 'LOGIN_URL_INVALID'
  | 'API_DISABLED'
  | 'LOGIN_UNAVAILABLE'
  | 'ORG_UNREACHABLE'
  | 'DAILY_API_LIMIT'
  | 'CONCURRENCY_LIMIT'
  | 'MAINTENANCE';

export interface OrgCondition {
  reason: OrgConditionReason;
  /** What happened and what to do (the error's own message: it names the fix). */
  message: string;
}

/** The errors that stand for an org-wide condition, the more specific first. */
const ORG_WIDE: ReadonlyArray<
  [abstract new (...args: never[]) => SalesforceClientError, OrgConditionReason]
> = [
  [CredentialsNotSetError, 'CREDENTIALS_NOT_SET'],
  [CredentialsError, 'CREDENTIALS_INVALID'],
  [InsecureUrlError, 'CREDENTIALS_INVALID'],
  [AuthenticationError, 'AUTHENTICATION_FAILED'],
  [SessionRejectedError, 'SESSION_REJECTED'],
  [UnreachableError, 'LOGIN_HOST_UNREACHABLE'],
  [LoginUnavailableError, 'LOGIN_UNAVAILABLE'],
  [LoginAnswerError, 'LOGIN_URL_INVALID'],
  [ApiDisabledError, 'API_DISABLED'],
  [DailyApiLimitError, 'DAILY_API_LIMIT'],
  [ConcurrencyLimitError, 'CONCURRENCY_LIMIT'],
  [MaintenanceError, 'MAINTENANCE'],
];

/** Record-level codes that stand for an org-wide condition when a call of a unit reports them. */
export const ORG_WIDE_RECORD_CODES: ReadonlySet<string> = new Set([
  'INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE',
  'API_DISABLED_FOR_ORG',
  'API_CURRENTLY_DISABLED',
  'REQUEST_LIMIT_EXCEEDED',
  'INVALID_SESSION_ID',
  'AUTHENTICATION_FAILED',
]);

/**
 * The org-wide condition an error stands for: refusals that concern the whole org or its credentials
 * rather than one record — none of them clears by retrying a record, all of them clear once an
 * operator (or time) acts.
 *
 * @example
 * const condition = orgConditionOf(error);
 * if (condition) hold(condition); // never fail records for it
 */
export function orgConditionOf(error: unknown): OrgCondition | undefined {
  if (!(error instanceof SalesforceClientError)) return undefined;
  const reason = ORG_WIDE.find(([type]) => error instanceof type)?.[1];
  if (!reason) return undefined;
  const unreachable = error instanceof UnreachableError && !error.login ? 'ORG_UNREACHABLE' : undefined;
  return { reason: unreachable ?? reason, message: error.message };
}

/**
 * Whether an error is an org-wide condition (see `orgConditionOf`): nothing was processed, and no
 * record is at fault.
 *
 * @example
 * if (isOrgWide(error)) throw error; // no point writing anything else
 */
export function isOrgWide(error: unknown): boolean {
  return orgConditionOf(error) !== undefined;
}
