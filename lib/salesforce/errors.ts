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
  constructor(code: string, message: string, attempts: number) {
    super(
      code,
      `${message} (gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}): retry later; if it persists, check Salesforce's status page and the org's concurrent request usage`,
      true,
    );
    this.attempts = attempts;
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

/**
 * Refusals that concern the whole org or the credentials rather than one request: the daily API
 * limit, a refused login, a rejected session, bad or insecure credentials. Nothing was processed.
 *
 * @example
 * if (isOrgWide(error)) throw error; // no point writing anything else
 */
export function isOrgWide(error: unknown): boolean {
  return (
    error instanceof DailyApiLimitError ||
    error instanceof AuthenticationError ||
    error instanceof SessionRejectedError ||
    error instanceof CredentialsError ||
    error instanceof InsecureUrlError
  );
}
