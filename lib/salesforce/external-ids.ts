// External id values → Ids of existing records, by SOQL, and the addressing of update and delete by an
// external id built on it (one module for realtime and bulk, so both modes say the same): a value that
// matches no live record fails with NOT_FOUND (nothing is created, as an upsert would), one that matches
// several with DUPLICATE_EXTERNAL_ID, and a lookup that fails fails its records like a write would (its
// code, retryable as the error says; org-wide refusals are thrown). The query string is cut so every
// request URI stays under Salesforce's 16 KB limit.
import type { OutcomeError } from '../outcomes/outcome.ts';
import type { Api } from './api.ts';
import { isOrgWide, SalesforceApiError, SalesforceClientError, UnexpectedResponseError } from './errors.ts';
import type { CallContext } from './types.ts';

/** Salesforce's limit is 16,384 bytes for the URI and headers together; this leaves room for headers. */
export const MAX_QUERY_URI_BYTES = 14_000;
/** `,` URL-encoded. */
const SEPARATOR_BYTES = 3;

const SOQL_ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  "'": "\\'",
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
  '"': '\\"',
};

/**
 * A SOQL string literal for a value: quoted, with `\`, `'` and control characters escaped.
 *
 * @example
 * soqlString("O'Brien\\1"); // "'O\\'Brien\\\\1'"
 */
export function soqlString(value: string): string {
  return `'${value.replace(/[\\'"\n\r\t\b\f]/g, (c) => SOQL_ESCAPES[c]!)}'`;
}

/**
 * Builds `SELECT Id, <field> FROM <sobject> WHERE <field> IN (…)` queries over the values, as few as
 * possible with each full query URI (`{base}?q=…`, URL-encoded) at most `maxUriBytes` long.
 *
 * @example
 * externalIdQueries('Lead', 'CustomId__c', ['A-1', 'A-2'], '/services/data/v65.0/query');
 * // [{ soql: "SELECT Id, CustomId__c FROM Lead WHERE CustomId__c IN ('A-1','A-2')", values: ['A-1', 'A-2'] }]
 */
export function externalIdQueries(
  sobject: string,
  field: string,
  values: readonly string[],
  basePath: string,
  maxUriBytes: number = MAX_QUERY_URI_BYTES,
): Array<{ soql: string; values: string[] }> {
  // Looking records up by Id itself (to confirm a delete) selects Id once: SOQL refuses a field twice.
  const selected = field.toLowerCase() === 'id' ? 'Id' : `Id, ${field}`;
  const prefix = `SELECT ${selected} FROM ${sobject} WHERE ${field} IN (`;
  const fixed = Buffer.byteLength(`${basePath}?q=`) + encodedLength(`${prefix})`);
  const queries: Array<{ soql: string; values: string[] }> = [];
  let literals: string[] = [];
  let chunk: string[] = [];
  let length = fixed;
  const flush = () => {
    if (chunk.length === 0) return;
    queries.push({ soql: `${prefix}${literals.join(',')})`, values: chunk });
    literals = [];
    chunk = [];
    length = fixed;
  };
  for (const value of new Set(values)) {
    const literal = soqlString(value);
    const cost = encodedLength(literal);
    if (fixed + cost > maxUriBytes) {
      throw new RangeError(
        `An external id value of ${value.length} characters cannot fit in one query URI: external ids are at most 255 characters`,
      );
    }
    if (chunk.length > 0 && length + SEPARATOR_BYTES + cost > maxUriBytes) flush();
    length += (chunk.length > 0 ? SEPARATOR_BYTES : 0) + cost;
    literals.push(literal);
    chunk.push(value);
  }
  flush();
  return queries;
}

/**
 * Percent-encodes a query value completely (`encodeURIComponent` leaves `'` alone, which URL parsers
 * then encode themselves: the length we budget must be the length that is sent).
 *
 * @example
 * encodeQueryValue("IN ('a')"); // 'IN%20(%27a%27)'
 */
export function encodeQueryValue(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function encodedLength(text: string): number {
  return encodeQueryValue(text).length;
}

export interface Resolution {
  /** Value → Id, for values that match exactly one live record. */
  ids: Map<string, string>;
  /** Values that match more than one record (a non-unique external id field). */
  ambiguous: Set<string>;
  /** Query calls made. */
  queries: number;
}

interface QueryPage {
  records?: Array<Record<string, unknown>>;
  done?: boolean;
  nextRecordsUrl?: string;
}

/**
 * Resolves external id values to the Ids of existing records with as few SOQL queries as the URI
 * limit allows (one for a 200-record unit of ordinary values). Matching follows Salesforce: a
 * case-insensitive external id matches whatever case is stored.
 *
 * @example
 * const { ids } = await resolveExternalIds(api, 'Lead', 'CustomId__c', ['A-1', 'A-2'], { deadline }, '65.0');
 * ids.get('A-1'); // '00Q…'
 */
export async function resolveExternalIds(
  api: Api,
  sobject: string,
  field: string,
  values: readonly string[],
  context: CallContext,
  apiVersion: string,
  runAll: <T, R>(items: readonly T[], fn: (item: T) => Promise<R>) => Promise<R[]> = sequentially,
): Promise<Resolution> {
  const queries = externalIdQueries(sobject, field, values, `/services/data/v${apiVersion}/query`);
  const ids = new Map<string, string>();
  const ambiguous = new Set<string>();
  let calls = 0;
  await runAll(queries, async ({ soql, values: chunk }) => {
    const rows: Array<Record<string, unknown>> = [];
    let path: string | undefined = `/query?q=${encodeQueryValue(soql)}`;
    while (path) {
      calls++;
      const response = await api.call(
        { method: 'GET', path, idempotent: true, what: `the ${sobject} ${field} lookup query` },
        context,
      );
      let page: QueryPage;
      try {
        page = JSON.parse(response.body) as QueryPage;
      } catch {
        throw new UnexpectedResponseError(`the ${sobject} ${field} lookup query`, 'the body is not JSON');
      }
      rows.push(...(page.records ?? []));
      path = page.done === false && page.nextRecordsUrl ? page.nextRecordsUrl : undefined;
    }
    const exact = new Map<string, string[]>();
    const folded = new Map<string, string[]>();
    const lower = field.toLowerCase();
    for (const row of rows) {
      const id = row.Id;
      const key = Object.entries(row).find(([name]) => name.toLowerCase() === lower)?.[1];
      if (typeof id !== 'string' || key === null || key === undefined) continue;
      const text = String(key);
      exact.set(text, [...(exact.get(text) ?? []), id]);
      folded.set(text.toLowerCase(), [...(folded.get(text.toLowerCase()) ?? []), id]);
    }
    for (const value of chunk) {
      // A case-sensitive field only returns exact matches; a row in another case means Salesforce
      // matched case-insensitively, so the folded match is the one it would update.
      // Ids come back in their 18-character form; a 15-character Id is its case-sensitive prefix.
      const byId =
        lower === 'id' && value.length === 15 ? rows.filter((r) => String(r.Id).startsWith(value)) : [];
      const matches = exact.get(value) ?? folded.get(value.toLowerCase()) ?? byId.map((r) => r.Id as string);
      if (matches.length === 1) ids.set(value, matches[0]!);
      else if (matches.length > 1) ambiguous.add(value);
    }
  });
  return { ids, ambiguous, queries: calls };
}

async function sequentially<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (const item of items) out.push(await fn(item));
  return out;
}

/** Where one external id value addresses a write: the record's Id, or why there is none. */
export type Addressed = { id: string } | { error: OutcomeError; retryable: boolean };

/**
 * Addresses update/delete records by an external id: one answer per value, in order. A failing lookup
 * fails every value with its error (retryable as the error says); org-wide refusals are thrown.
 *
 * @example
 * const addressed = await addressByExternalId(resolve, { sobject: 'Lead', field: 'CustomId__c', operation: 'delete' }, ['A-1'], { deadline });
 * if ('id' in addressed[0]) … else fail(addressed[0].error, addressed[0].retryable);
 */
export async function addressByExternalId(
  resolve: (
    sobject: string,
    field: string,
    values: readonly string[],
    context: CallContext,
  ) => Promise<Resolution>,
  target: { sobject: string; field: string; operation: string },
  values: readonly string[],
  context: CallContext,
): Promise<Addressed[]> {
  const { sobject, field, operation } = target;
  let resolution: Resolution;
  try {
    resolution = await resolve(sobject, field, values, context);
  } catch (error) {
    if (isOrgWide(error) || !(error instanceof SalesforceClientError)) throw error;
    const failure: OutcomeError = {
      code: error.code,
      message: error.message,
      fields: error instanceof SalesforceApiError ? error.fields : [],
    };
    return values.map(() => ({ error: failure, retryable: error.retryable }));
  }
  return values.map((value) => {
    const id = resolution.ids.get(value);
    if (id) return { id };
    const error: OutcomeError = resolution.ambiguous.has(value)
      ? {
          code: 'DUPLICATE_EXTERNAL_ID',
          message: `More than one ${sobject} record has this ${field} value: nothing was ${operation}d; make ${field} unique`,
          fields: [field],
        }
      : {
          code: 'NOT_FOUND',
          message: `No ${sobject} record has this ${field} value: nothing was ${operation}d (an update or delete by external id never creates a record)`,
          fields: [field],
        };
    return { error, retryable: false };
  });
}
