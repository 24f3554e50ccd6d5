// The JWT bearer assertion Salesforce's token endpoint takes: RS256, signed with node:crypto.
import { createPrivateKey, sign } from 'node:crypto';
import { CredentialsError } from './errors.ts';

/** Salesforce refuses assertions whose `exp` is more than 3 minutes ahead. */
const MAX_LIFETIME_SECONDS = 180;

/**
 * The `aud` Salesforce expects for a login URL. The token request itself goes to the login URL (My
 * Domain or not); the audience is `https://test.salesforce.com` for sandboxes and
 * `https://login.salesforce.com` for production, as Salesforce documents for the JWT bearer flow.
 * Other hosts (an Experience Cloud site, the local emulator) are their own audience.
 *
 * @example
 * jwtAudience('https://acme--uat.sandbox.my.salesforce.com'); // 'https://test.salesforce.com'
 * jwtAudience('https://acme.my.salesforce.com');              // 'https://login.salesforce.com'
 */
export function jwtAudience(loginUrl: string): string {
  const host = new URL(loginUrl).hostname.toLowerCase();
  if (host === 'test.salesforce.com' || host.endsWith('.sandbox.my.salesforce.com')) {
    return 'https://test.salesforce.com';
  }
  if (host === 'salesforce.com' || host.endsWith('.salesforce.com')) return 'https://login.salesforce.com';
  return loginUrl.replace(/\/+$/, '');
}

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/**
 * Signs a JWT bearer assertion (RS256) for the integration user; it expires within 3 minutes.
 *
 * @example
 * const assertion = signJwtAssertion({ clientId, username, audience: jwtAudience(loginUrl), privateKey, now: Date.now() });
 * // POST {loginUrl}/services/oauth2/token grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=…
 */
export function signJwtAssertion(options: {
  clientId: string;
  username: string;
  audience: string;
  privateKey: string;
  /** Epoch ms. */
  now: number;
  lifetimeSeconds?: number;
}): string {
  const lifetime = Math.min(options.lifetimeSeconds ?? MAX_LIFETIME_SECONDS, MAX_LIFETIME_SECONDS);
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(options.privateKey.replace(/\\n/g, '\n'));
  } catch {
    throw new CredentialsError(
      'The privateKey in the Salesforce credentials secret is not a readable PEM private key: store the PKCS#8 or PKCS#1 PEM text (with its BEGIN/END lines; newlines may be written as \\n)',
      ['privateKey'],
    );
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new CredentialsError(
      `The privateKey in the Salesforce credentials secret is a ${key.asymmetricKeyType ?? 'non-RSA'} key: the JWT bearer flow needs the RSA key of the certificate uploaded to the connected app`,
      ['privateKey'],
    );
  }
  const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const claims = base64url(
    JSON.stringify({
      iss: options.clientId,
      sub: options.username,
      aud: options.audience,
      exp: Math.floor(options.now / 1000) + lifetime,
    }),
  );
  const signature = sign('RSA-SHA256', Buffer.from(`${header}.${claims}`), key);
  return `${header}.${claims}.${base64url(signature)}`;
}
