// The credentials secret: validated once, with errors that name the missing or malformed keys and
// never echo a value; and the rule that credentials only ever travel over https (plain http is allowed
// for the local emulator only).
import { CredentialsError, CredentialsNotSetError, InsecureUrlError } from './errors.ts';
import type { SalesforceCredentials } from './types.ts';

type AuthType = SalesforceCredentials['authType'];

const REQUIRED: Record<AuthType, readonly string[]> = {
  client_credentials: ['loginUrl', 'clientId', 'clientSecret'],
  jwt: ['loginUrl', 'clientId', 'username', 'privateKey'],
  password: ['loginUrl', 'clientId', 'clientSecret', 'username', 'password'],
};
const OPTIONAL: Record<AuthType, readonly string[]> = {
  client_credentials: [],
  jwt: ['audience'],
  password: ['securityToken'],
};
const AUTH_TYPES = Object.keys(REQUIRED) as AuthType[];
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
/** What the stack's placeholder secret holds (`https://REPLACE-ME.my.salesforce.com`, `REPLACE_ME`). */
const PLACEHOLDER = /replace[-_]me/i;

/**
 * Checks that a URL is absolute and https (http only for localhost, 127.0.0.1 and ::1) and returns
 * its origin plus path without a trailing slash.
 *
 * @example
 * checkedUrl('https://acme.my.salesforce.com/', 'login URL'); // 'https://acme.my.salesforce.com'
 * checkedUrl('http://acme.my.salesforce.com', 'login URL');   // throws InsecureUrlError
 */
export function checkedUrl(value: string, what: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InsecureUrlError(what, 'is not an absolute URL');
  }
  if (url.username || url.password) throw new InsecureUrlError(what, 'embeds user information');
  if (url.protocol === 'https:') return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
  if (url.protocol === 'http:' && LOCAL_HOSTS.has(url.hostname)) {
    return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
  }
  throw new InsecureUrlError(what, `uses ${url.protocol.replace(':', '')}:// on host ${url.hostname}`);
}

/**
 * Validates the credentials secret (an object or its JSON text). Errors name the keys that are
 * missing or not non-empty strings, and the keys that are present, never a value.
 *
 * @example
 * const credentials = parseCredentials(await secrets.getSecretValue('sfsink/salesforce'));
 * credentials.authType; // 'client_credentials'
 */
export function parseCredentials(input: unknown): SalesforceCredentials {
  let value = input;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      throw new CredentialsError(
        'The Salesforce credentials secret is not valid JSON: store a JSON object such as {"authType":"client_credentials","loginUrl":"https://<my-domain>.my.salesforce.com","clientId":"…","clientSecret":"…"}',
      );
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CredentialsError(
      'The Salesforce credentials secret is not a JSON object: store an object with authType, loginUrl and the keys its flow needs',
    );
  }
  const record = value as Record<string, unknown>;
  const present = Object.keys(record).sort();
  const authType = record.authType;
  if (typeof authType !== 'string' || !AUTH_TYPES.includes(authType as AuthType)) {
    throw new CredentialsError(
      `The Salesforce credentials secret ${authType === undefined ? 'lacks authType' : 'has an unknown authType'}: set authType to one of ${AUTH_TYPES.join(', ')} (keys present: ${present.join(', ') || 'none'})`,
      ['authType'],
    );
  }
  const type = authType as AuthType;
  const missing = REQUIRED[type].filter((key) => record[key] === undefined);
  const malformed = [...REQUIRED[type], ...OPTIONAL[type]].filter(
    (key) => record[key] !== undefined && (typeof record[key] !== 'string' || record[key].trim() === ''),
  );
  if (missing.length > 0 || malformed.length > 0) {
    const problems = [
      ...(missing.length > 0 ? [`lacks ${missing.join(', ')}`] : []),
      ...(malformed.length > 0 ? [`has ${malformed.join(', ')} empty or not a string`] : []),
    ];
    throw new CredentialsError(
      `The Salesforce credentials secret (authType ${type}) ${problems.join(' and ')}: add ${[...missing, ...malformed].join(', ')} as non-empty strings (keys present: ${present.join(', ')})`,
      [...missing, ...malformed],
    );
  }
  // The stack creates the secret with placeholders so it exists before anyone has the real values.
  const placeholders = [...REQUIRED[type], ...OPTIONAL[type]].filter(
    (key) => typeof record[key] === 'string' && PLACEHOLDER.test(record[key]),
  );
  if (placeholders.length > 0) throw new CredentialsNotSetError(placeholders);
  checkedUrl(record.loginUrl as string, 'loginUrl');
  if (type === 'jwt' && record.audience !== undefined) checkedUrl(record.audience as string, 'JWT audience');
  const pick = (keys: readonly string[]) =>
    Object.fromEntries(keys.filter((k) => record[k] !== undefined).map((k) => [k, record[k]]));
  return { authType: type, ...pick(REQUIRED[type]), ...pick(OPTIONAL[type]) } as SalesforceCredentials;
}

/**
 * Every secret value in the credentials, for the redactor (the password also with its security token
 * appended, as it is sent).
 *
 * @example
 * createRedactor(secretValues(credentials));
 */
export function secretValues(credentials: SalesforceCredentials): string[] {
  switch (credentials.authType) {
    case 'client_credentials':
      return [credentials.clientSecret];
    case 'jwt':
      // Secrets often store the PEM with its newlines escaped as \n; both forms must be masked.
      return [credentials.privateKey, credentials.privateKey.replace(/\\n/g, '\n')];
    case 'password':
      return [
        credentials.clientSecret,
        credentials.password,
        ...(credentials.securityToken
          ? [credentials.securityToken, credentials.password + credentials.securityToken]
          : []),
      ];
  }
}
