// Logging in, and staying logged in: one token per process (shared by every caller), replaced at most
// once per expiry however many callers notice the expiry at the same time.
//
// The token request is posted through the same transport as every call (jsforce's), not jsforce's
// OAuth2 helpers: those have no timeout, lose the HTTP status (so a 503 looks like a bad password),
// and jsforce's session refresh loops forever when a fresh token is refused again.
import { checkedUrl } from './credentials.ts';
import {
  AuthenticationError,
  LoginAnswerError,
  LoginUnavailableError,
  TransportError,
  UnreachableError,
} from './errors.ts';
import type { HttpResponse, Send } from './http.ts';
import { jwtAudience, signJwtAssertion } from './jwt.ts';
import type { Redactor, SalesforceLogger } from './redact.ts';
import { type BackoffOptions, backoffDelay, parseErrorBody, parseRetryAfter } from './retry.ts';
import type { SalesforceCredentials } from './types.ts';

export interface Session {
  accessToken: string;
  /** `https://<my-domain>.my.salesforce.com` (checked: https, or http on localhost). */
  instanceUrl: string;
  /** Epoch ms. */
  issuedAt: number;
}

/** Where the current session (or the login producing it) lives; shareable across clients of one org. */
export interface SessionSlot {
  current?: Promise<Session>;
}

export interface AuthOptions {
  credentials: SalesforceCredentials;
  send: Send;
  slot: SessionSlot;
  redactor: Redactor;
  logger: SalesforceLogger;
  requestTimeout: number;
  maxRetries: number;
  backoff: BackoffOptions;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}

export interface Authenticator {
  /** The current session, logging in first if there is none. */
  session(deadline: number): Promise<Session>;
  /**
   * A session newer than `stale`: joins a refresh already under way, or returns the session another
   * caller already obtained, or logs in again. One token request per expiry, however many callers.
   */
  refresh(stale: Session, deadline: number): Promise<Session>;
}

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

const HINTS: Record<SalesforceCredentials['authType'], string> = {
  client_credentials:
    'check clientId and clientSecret, that loginUrl is the My Domain URL, and that the connected app enables the client credentials flow with a run-as user',
  jwt: 'check clientId (consumer key), username, that the private key matches the certificate uploaded to the connected app, and that the user is pre-authorized (admin-approved users, profile or permission set)',
  password:
    'check clientId, clientSecret, username, password and securityToken (the username-password flow is legacy and may be disabled in the org: prefer client_credentials or jwt)',
};

function tokenForm(credentials: SalesforceCredentials, now: number, redactor: Redactor): URLSearchParams {
  switch (credentials.authType) {
    case 'client_credentials':
      return new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: credentials.clientId,
        client_secret: credentials.clientSecret,
      });
    case 'jwt': {
      const assertion = signJwtAssertion({
        clientId: credentials.clientId,
        username: credentials.username,
        audience: credentials.audience ?? jwtAudience(credentials.loginUrl),
        privateKey: credentials.privateKey,
        now,
      });
      redactor.add(assertion);
      return new URLSearchParams({ grant_type: JWT_BEARER, assertion });
    }
    case 'password':
      return new URLSearchParams({
        grant_type: 'password',
        client_id: credentials.clientId,
        client_secret: credentials.clientSecret,
        username: credentials.username,
        password: credentials.password + (credentials.securityToken ?? ''),
      });
  }
}

/**
 * Creates the authenticator for one set of credentials.
 *
 * @example
 * const auth = createAuthenticator({ credentials, send, slot: {}, redactor, logger, requestTimeout: 30_000,
 *   maxRetries: 5, backoff: { baseDelayMs: 500, maxDelayMs: 20_000, random: Math.random }, sleep, now: Date.now });
 * const { accessToken, instanceUrl } = await auth.session(Date.now() + 60_000);
 */
export function createAuthenticator(options: AuthOptions): Authenticator {
  const { credentials, send, slot, redactor, logger } = options;
  const loginUrl = checkedUrl(credentials.loginUrl, 'loginUrl');
  const tokenUrl = `${loginUrl}/services/oauth2/token`;

  function parseSession(response: HttpResponse): Session {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(response.body) as Record<string, unknown>;
    } catch {
      throw new LoginAnswerError(`HTTP ${response.status} without a JSON body`);
    }
    const { access_token: accessToken, instance_url: instanceUrl } = body;
    if (typeof accessToken !== 'string' || typeof instanceUrl !== 'string') {
      throw new LoginAnswerError('no access_token or instance_url in the answer');
    }
    redactor.add(accessToken);
    return {
      accessToken,
      instanceUrl: checkedUrl(instanceUrl, 'instance URL (from the token response)'),
      issuedAt: options.now(),
    };
  }

  /** One login, retried on 5xx/429/connection failures (a token request is safe to repeat). */
  async function login(deadline: number): Promise<Session> {
    for (let retry = 0; ; retry++) {
      const form = tokenForm(credentials, options.now(), redactor);
      let failure: { code: string; message: string; retryAfterMs?: number };
      try {
        const timeout = Math.max(1, Math.min(options.requestTimeout, deadline - options.now()));
        const response = await send(
          {
            method: 'POST',
            url: tokenUrl,
            headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
            body: form.toString(),
          },
          timeout,
        );
        if (response.status === 200) {
          logger.info('Salesforce login succeeded', { authType: credentials.authType, attempt: retry + 1 });
          return parseSession(response);
        }
        const error = parseErrorBody(response.status, response.body);
        if (response.status !== 429 && response.status < 500) {
          throw new AuthenticationError(
            credentials.authType,
            error.errorCode,
            redactor.redact(error.message),
            HINTS[credentials.authType],
          );
        }
        failure = {
          code: response.status === 429 ? 'TOO_MANY_REQUESTS' : 'SERVER_UNAVAILABLE',
          message: `the token endpoint answered HTTP ${response.status} ${redactor.redact(error.message)}`,
          retryAfterMs: parseRetryAfter(response.headers['retry-after'], options.now()),
        };
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        failure = { code: error.code, message: `the token request failed: ${error.message}` };
      }
      const delay = backoffDelay(retry, options.backoff, failure.retryAfterMs);
      // A host that does not resolve or refuses connections will not within seconds: one more try.
      const unreachable = failure.code === 'CONNECTION_FAILED';
      if (
        retry >= (unreachable ? Math.min(1, options.maxRetries) : options.maxRetries) ||
        options.now() + delay >= deadline
      ) {
        if (unreachable) throw new UnreachableError(new URL(tokenUrl).host, true, failure.message);
        throw new LoginUnavailableError(
          failure.code,
          `Salesforce login failed: ${failure.message}`,
          retry + 1,
        );
      }
      logger.warn('Salesforce login failed; retrying', {
        code: failure.code,
        delayMs: delay,
        attempt: retry + 1,
      });
      await options.sleep(delay);
    }
  }

  /** Starts a login in the slot; a failed login leaves the slot empty so the next caller tries again. */
  function start(deadline: number): Promise<Session> {
    const attempt: Promise<Session> = login(deadline).catch((error: unknown) => {
      if (slot.current === attempt) slot.current = undefined;
      throw error;
    });
    slot.current = attempt;
    return attempt;
  }

  return {
    session(deadline) {
      return slot.current ?? start(deadline);
    },
    async refresh(stale, deadline) {
      const active = slot.current;
      if (active) {
        const current = await active.catch(() => undefined);
        if (current && current.accessToken !== stale.accessToken) return current;
        // While we waited, another caller may have started the refresh: join it.
        if (slot.current && slot.current !== active) return slot.current;
      }
      logger.info('Salesforce session expired; logging in again', { authType: credentials.authType });
      return start(deadline);
    },
  };
}
