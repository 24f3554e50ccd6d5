// OAuth 2.0 as a Salesforce org answers it: the token endpoint (client credentials, username-password,
// JWT bearer), access tokens that expire, and the session check every API call goes through.

import { createHmac, createPublicKey, type KeyObject, randomBytes, verify } from 'node:crypto';

/** The credentials the emulated org accepts. Every field has a default (see DEFAULT_CREDENTIALS). */
export interface Credentials {
  /** Connected app consumer key (also the JWT `iss` unless jwtConsumerKey is set). */
  clientId: string;
  clientSecret: string;
  /** The integration user: username-password login, JWT `sub`, client-credentials run-as user. */
  username: string;
  password: string;
  /** Appended to the password for the username-password flow; empty means none is needed. */
  securityToken: string;
  /** Consumer key JWT assertions must carry as `iss`. */
  jwtConsumerKey: string;
}

export const DEFAULT_CREDENTIALS: Credentials = {
  clientId: 'emulator-client-id',
  clientSecret: 'emulator-client-secret',
  username: 'integration@emulator.local',
  password: 'emulator-password',
  securityToken: 'EMULATORTOKEN',
  jwtConsumerKey: 'emulator-client-id',
};

export interface AuthOptions {
  credentials: Credentials;
  /** PEM public key that verifies JWT bearer assertions (RS256). */
  jwtPublicKey: string;
  /** Extra accepted JWT `aud` values besides the emulator's own URL. */
  jwtAudiences: string[];
  orgId: string;
  userId: string;
  /** Read at each issue, so a test can change it at run time. */
  tokenTtlSeconds: () => number;
  now: () => Date;
}

export interface TokenResponse {
  status: number;
  body: Record<string, string>;
}

export interface Session {
  userId: string;
  orgId: string;
  expiresAt: number;
}

export interface Auth {
  /** Handles `POST /services/oauth2/token` with its form parameters. */
  token(params: URLSearchParams, baseUrl: string): TokenResponse;
  /** Invalidates one token (`/services/oauth2/revoke`). */
  revoke(token: string): void;
  /** The live session for an `Authorization` header value, or undefined if unknown or expired. */
  session(authorization: string | undefined): Session | undefined;
  /** Expires every issued token (fault: token expiry). */
  expireAll(): void;
}

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const MAX_JWT_LIFETIME_SECONDS = 180;
/** Clock skew Salesforce tolerates on `exp`. */
const SKEW_SECONDS = 5;

const oauthError = (error: string, description: string): TokenResponse => ({
  status: 400,
  body: { error, error_description: description },
});

const base64url = (value: string): Buffer => Buffer.from(value, 'base64url');

function decodeJson(part: string | undefined): Record<string, unknown> | undefined {
  if (!part) return undefined;
  try {
    const parsed: unknown = JSON.parse(base64url(part).toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Creates the org's OAuth endpoint and session store.
 *
 * @example
 * const auth = createAuth({ credentials: DEFAULT_CREDENTIALS, jwtPublicKey, jwtAudiences: [], orgId, userId,
 *   tokenTtlSeconds: () => 7200, now: () => new Date() });
 * auth.token(new URLSearchParams({ grant_type: 'client_credentials', client_id, client_secret }), url);
 */
export function createAuth(options: AuthOptions): Auth {
  const { credentials, orgId, userId, now } = options;
  const publicKey: KeyObject = createPublicKey(options.jwtPublicKey);
  const sessions = new Map<string, Session>();

  function issue(baseUrl: string, scope: string): TokenResponse {
    const issuedAt = now().getTime();
    const accessToken = `${orgId.slice(0, 15)}!${randomBytes(72).toString('base64url')}`;
    sessions.set(accessToken, { userId, orgId, expiresAt: issuedAt + options.tokenTtlSeconds() * 1000 });
    const id = `${baseUrl}/id/${orgId}/${userId}`;
    const signature = createHmac('sha256', credentials.clientSecret)
      .update(id + String(issuedAt))
      .digest('base64');
    return {
      status: 200,
      body: {
        access_token: accessToken,
        signature,
        scope,
        instance_url: baseUrl,
        id,
        token_type: 'Bearer',
        issued_at: String(issuedAt),
      },
    };
  }

  function checkClient(params: URLSearchParams): TokenResponse | undefined {
    if (params.get('client_id') !== credentials.clientId) {
      return oauthError('invalid_client_id', 'client identifier invalid');
    }
    if (params.get('client_secret') !== credentials.clientSecret) {
      return oauthError('invalid_client', 'invalid client credentials');
    }
    return undefined;
  }

  function jwtBearer(assertion: string | null, baseUrl: string): TokenResponse {
    const invalid = oauthError('invalid_grant', 'invalid assertion');
    const parts = (assertion ?? '').split('.');
    if (parts.length !== 3) return invalid;
    const [headerPart, claimsPart, signaturePart] = parts as [string, string, string];
    const header = decodeJson(headerPart);
    const claims = decodeJson(claimsPart);
    if (!header || !claims || header.alg !== 'RS256') return invalid;
    const signed = verify(
      'RSA-SHA256',
      Buffer.from(`${headerPart}.${claimsPart}`),
      publicKey,
      base64url(signaturePart),
    );
    if (!signed) return invalid;
    if (claims.iss !== credentials.jwtConsumerKey)
      return oauthError('invalid_client_id', 'client identifier invalid');
    const audiences = [baseUrl, ...options.jwtAudiences].map((a) => a.replace(/\/$/, ''));
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.some((a) => typeof a === 'string' && audiences.includes(a.replace(/\/$/, '')))) {
      return oauthError('invalid_grant', 'audience is invalid');
    }
    const nowSeconds = now().getTime() / 1000;
    if (typeof claims.exp !== 'number' || claims.exp <= nowSeconds - SKEW_SECONDS) {
      return oauthError('invalid_grant', 'expired authorization code');
    }
    if (claims.exp > nowSeconds + MAX_JWT_LIFETIME_SECONDS + SKEW_SECONDS) return invalid;
    if (claims.sub !== credentials.username)
      return oauthError('invalid_grant', "user hasn't approved this consumer");
    return issue(baseUrl, 'api');
  }

  return {
    token(params, baseUrl) {
      const grantType = params.get('grant_type');
      switch (grantType) {
        case 'client_credentials':
          return checkClient(params) ?? issue(baseUrl, 'api');
        case 'password': {
          const clientError = checkClient(params);
          if (clientError) return clientError;
          const expected = credentials.password + credentials.securityToken;
          if (params.get('username') !== credentials.username || params.get('password') !== expected) {
            return oauthError('invalid_grant', 'authentication failure');
          }
          return issue(baseUrl, 'api');
        }
        case JWT_BEARER:
          return jwtBearer(params.get('assertion'), baseUrl);
        case 'refresh_token':
          return oauthError('invalid_grant', 'expired access/refresh token');
        default:
          return oauthError('unsupported_grant_type', 'grant type not supported');
      }
    },
    revoke(token) {
      sessions.delete(token);
    },
    session(authorization) {
      const match = /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(authorization ?? '');
      const session = match ? sessions.get(match[1]!) : undefined;
      if (!session) return undefined;
      if (session.expiresAt <= now().getTime()) {
        sessions.delete(match![1]!);
        return undefined;
      }
      return session;
    },
    expireAll() {
      sessions.clear();
    },
  };
}
