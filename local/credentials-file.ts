// The Salesforce credentials file the CLI's org commands read (`replay`, `emulator schema pull`): the
// Secrets Manager secret's JSON. Its mistakes, and an org that cannot be reached, are one-line
// UsageErrors that never quote the file.
import { readFileSync } from 'node:fs';
import {
  parseCredentials,
  SalesforceClientError,
  type SalesforceCredentials,
} from '../lib/salesforce/index.ts';
import { UsageError } from './usage-error.ts';

/**
 * Reads and validates a credentials file.
 *
 * @example
 * const credentials = readCredentialsFile('salesforce-credentials.json');
 */
export function readCredentialsFile(path: string): SalesforceCredentials {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT'
        ? `credentials file ${path} does not exist`
        : code
          ? `credentials file ${path} cannot be read (${code})`
          : `credentials file ${path} is not JSON: it holds the secret's JSON, e.g. {"authType":"client_credentials","loginUrl":"https://<my-domain>.my.salesforce.com","clientId":"…","clientSecret":"…"}`,
    );
  }
  try {
    return parseCredentials(raw);
  } catch (error) {
    if (error instanceof SalesforceClientError) throw new UsageError(`${path}: ${error.message}`);
    throw error;
  }
}

/**
 * An org-side failure of a CLI command said as one line: the client's own errors (they say what to
 * do), and an org that cannot be reached. Anything else is returned unchanged.
 *
 * @example
 * try { await pull(); } catch (error) { throw orgProblem(error, credentialsPath); }
 */
export function orgProblem(error: unknown, credentialsPath: string): unknown {
  if (error instanceof SalesforceClientError) return new UsageError(error.message);
  const code =
    (error as { code?: string; cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT')
    return new UsageError(`the org in ${credentialsPath} cannot be reached (${code}): check loginUrl`);
  return error;
}
