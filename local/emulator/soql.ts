// The SOQL subset the emulator answers: SELECT fields (or COUNT()) FROM one sObject, an optional WHERE
// of `field = literal`, `field != literal` and `field IN (…)` joined by AND, an optional LIMIT.
// Fields may follow one relationship (`Account.Name`). Anything else is MALFORMED_QUERY, as Salesforce
// would say for syntax it cannot parse.

import { normalizeId } from './ids.ts';
import type { EmulatorOrg, StoredRecord } from './org.ts';
import type { FieldSchema, SObjectSchema } from './schema.ts';

/** A query Salesforce would refuse: HTTP 400 with this errorCode and message. */
export class QueryError extends Error {
  override name = 'QueryError';
  readonly errorCode: string;
  constructor(errorCode: string, message: string) {
    super(message);
    this.errorCode = errorCode;
  }
}

type Token =
  | { kind: 'word'; text: string; at: number }
  | { kind: 'string'; value: string; at: number }
  | { kind: 'number'; value: number; text: string; at: number }
  | { kind: 'symbol'; text: string; at: number };

type Literal = string | number | boolean | null;

interface FieldPath {
  text: string;
  at: number;
}

interface Condition {
  path: FieldPath;
  negate: boolean;
  values: Literal[];
}

interface ParsedQuery {
  count: boolean;
  fields: FieldPath[];
  from: { name: string; at: number };
  where: Condition[];
  limit: number | undefined;
}

const ESCAPES: Record<string, string> = {
  n: '\n',
  r: '\r',
  t: '\t',
  b: '\b',
  f: '\f',
  '"': '"',
  "'": "'",
  '\\': '\\',
  _: '\\_',
  '%': '\\%',
};

function tokenize(soql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < soql.length) {
    const c = soql.charAt(i);
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      const at = i;
      let value = '';
      i++;
      for (;;) {
        if (i >= soql.length) throw new QueryError('MALFORMED_QUERY', `unexpected token: ${soql.slice(at)}`);
        const d = soql.charAt(i);
        if (d === "'") break;
        if (d === '\\') {
          const escaped = ESCAPES[soql.charAt(i + 1)];
          if (escaped === undefined) {
            throw new QueryError(
              'MALFORMED_QUERY',
              `Invalid string literal '${soql.slice(at + 1, i + 2)}'. Illegal character sequence '\\${soql.charAt(i + 1)}' in string literal.`,
            );
          }
          value += escaped;
          i += 2;
        } else {
          value += d;
          i++;
        }
      }
      i++;
      tokens.push({ kind: 'string', value, at });
    } else if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(soql.charAt(i + 1)))) {
      const match = /^-?\d+(\.\d+)?/.exec(soql.slice(i))!;
      tokens.push({ kind: 'number', value: Number(match[0]), text: match[0], at: i });
      i += match[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const match = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(soql.slice(i))!;
      tokens.push({ kind: 'word', text: match[0], at: i });
      i += match[0].length;
    } else if (soql.startsWith('!=', i)) {
      tokens.push({ kind: 'symbol', text: '!=', at: i });
      i += 2;
    } else if ('(),='.includes(c)) {
      tokens.push({ kind: 'symbol', text: c, at: i });
      i++;
    } else {
      throw new QueryError('MALFORMED_QUERY', `unexpected token: '${c}'`);
    }
  }
  return tokens;
}

function parse(soql: string): ParsedQuery {
  const tokens = tokenize(soql);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const describe = (t: Token | undefined): string =>
    t === undefined ? '<EOF>' : t.kind === 'string' ? `'${t.value}'` : t.kind === 'number' ? t.text : t.text;
  const unexpected = (): QueryError =>
    new QueryError('MALFORMED_QUERY', `unexpected token: ${describe(peek())}`);
  const isWord = (t: Token | undefined, word: string): boolean =>
    t?.kind === 'word' && t.text.toLowerCase() === word;
  const isSymbol = (t: Token | undefined, symbol: string): boolean =>
    t?.kind === 'symbol' && t.text === symbol;
  const expectWord = (word: string): void => {
    if (!isWord(peek(), word)) throw unexpected();
    pos++;
  };
  const expectSymbol = (symbol: string): void => {
    if (!isSymbol(peek(), symbol)) throw unexpected();
    pos++;
  };
  const fieldPath = (): FieldPath => {
    const t = peek();
    if (
      t?.kind !== 'word' ||
      ['from', 'where', 'limit', 'and', 'in', 'select'].includes(t.text.toLowerCase())
    ) {
      throw unexpected();
    }
    pos++;
    return { text: t.text, at: t.at };
  };
  const literal = (): Literal => {
    const t = peek();
    pos++;
    if (t?.kind === 'string' || t?.kind === 'number') return t.value;
    if (isWord(t, 'true')) return true;
    if (isWord(t, 'false')) return false;
    if (isWord(t, 'null')) return null;
    pos--;
    throw unexpected();
  };

  expectWord('select');
  let count = false;
  const fields: FieldPath[] = [];
  if (isWord(peek(), 'count') && isSymbol(tokens[pos + 1], '(')) {
    pos++;
    expectSymbol('(');
    expectSymbol(')');
    count = true;
  } else {
    fields.push(fieldPath());
    while (isSymbol(peek(), ',')) {
      pos++;
      fields.push(fieldPath());
    }
  }
  expectWord('from');
  const fromToken = peek();
  if (fromToken?.kind !== 'word') throw unexpected();
  pos++;
  const where: Condition[] = [];
  if (isWord(peek(), 'where')) {
    pos++;
    for (;;) {
      const path = fieldPath();
      const op = peek();
      if (isWord(op, 'in')) {
        pos++;
        expectSymbol('(');
        const values = [literal()];
        while (isSymbol(peek(), ',')) {
          pos++;
          values.push(literal());
        }
        expectSymbol(')');
        where.push({ path, negate: false, values });
      } else if (op?.kind === 'symbol' && (op.text === '=' || op.text === '!=')) {
        pos++;
        where.push({ path, negate: op.text === '!=', values: [literal()] });
      } else {
        throw unexpected();
      }
      if (!isWord(peek(), 'and')) break;
      pos++;
    }
  }
  let limit: number | undefined;
  if (isWord(peek(), 'limit')) {
    pos++;
    const t = peek();
    if (t?.kind !== 'number' || !Number.isInteger(t.value) || t.value < 0) throw unexpected();
    limit = t.value;
    pos++;
  }
  if (pos < tokens.length) throw unexpected();
  return { count, fields, from: { name: fromToken.text, at: fromToken.at }, where, limit };
}

function locationOf(soql: string, at: number): string {
  const before = soql.slice(0, at);
  const row = before.split('\n').length;
  const column = at - before.lastIndexOf('\n');
  const line = soql.split('\n')[row - 1] ?? '';
  return `\n${line}\n${' '.repeat(column - 1)}^\nERROR at Row:${row}:Column:${column}\n`;
}

interface ResolvedPath {
  /** The field read on the queried record (the reference field, for a relationship path). */
  field: FieldSchema;
  /** For `Relationship.Field`: the target sObject and field. */
  related?: { sobject: SObjectSchema; field: FieldSchema };
}

function resolvePath(org: EmulatorOrg, sobject: SObjectSchema, path: FieldPath, soql: string): ResolvedPath {
  const noSuchColumn = (): QueryError =>
    new QueryError(
      'INVALID_FIELD',
      `${locationOf(soql, path.at)}No such column '${path.text}' on entity '${sobject.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
    );
  const parts = path.text.split('.');
  if (parts.length === 1) {
    const field = sobject.fieldsByName.get(path.text.toLowerCase());
    if (!field) throw noSuchColumn();
    return { field };
  }
  const [relationshipName, fieldName, ...rest] = parts;
  const reference = sobject.relationships.get(relationshipName!.toLowerCase());
  const target = reference ? org.sobjectSchema(reference.referenceTo[0] ?? '') : undefined;
  const field = target?.fieldsByName.get(fieldName!.toLowerCase());
  if (!reference || !target || !field || rest.length > 0) {
    throw new QueryError(
      'INVALID_FIELD',
      `${locationOf(soql, path.at)}Didn't understand relationship '${relationshipName}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`,
    );
  }
  return { field: reference, related: { sobject: target, field } };
}

function matches(field: FieldSchema, stored: unknown, literal: Literal): boolean {
  if (literal === null) return stored === null || stored === undefined;
  if (stored === null || stored === undefined) return false;
  if (field.type === 'id' || field.type === 'reference') {
    return typeof literal === 'string' && normalizeId(literal) === stored;
  }
  if (typeof stored === 'string' && typeof literal === 'string') {
    return field.caseSensitive ? stored === literal : stored.toLowerCase() === literal.toLowerCase();
  }
  return stored === literal;
}

/** The value a path reads on a record: a plain field, or the related record's field. */
function read(org: EmulatorOrg, record: StoredRecord, path: ResolvedPath): unknown {
  const value = record.fields[path.field.name] ?? null;
  if (!path.related || value === null) return value;
  const related = org.get(String(value));
  return related && !related.deleted ? (related.fields[path.related.field.name] ?? null) : null;
}

const attributesOf = (record: StoredRecord, apiVersion: string) => ({
  type: record.sobject,
  url: `/services/data/v${apiVersion}/sobjects/${record.sobject}/${record.id}`,
});

export interface QueryResult {
  totalSize: number;
  done: true;
  records: Array<Record<string, unknown>>;
}

/**
 * Runs a query against the org, in Salesforce's response shape. Deleted records are left out unless
 * `includeDeleted` (the queryAll resource).
 *
 * @example
 * runQuery(org, "SELECT Id, Name FROM Account WHERE External_Id__c = 'A-1'", { apiVersion: '65.0' });
 * // { totalSize: 1, done: true, records: [{ attributes: { type: 'Account', url: '…' }, Id: '001…', Name: 'Acme' }] }
 */
export function runQuery(
  org: EmulatorOrg,
  soql: string,
  options: { apiVersion: string; includeDeleted?: boolean },
): QueryResult {
  const query = parse(soql);
  const sobject = org.sobjectSchema(query.from.name);
  if (!sobject) {
    throw new QueryError(
      'INVALID_TYPE',
      `${locationOf(soql, query.from.at)}sObject type '${query.from.name}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
    );
  }
  const selected = query.fields.map((path) => ({ path, resolved: resolvePath(org, sobject, path, soql) }));
  const conditions = query.where.map((c) => ({ ...c, resolved: resolvePath(org, sobject, c.path, soql) }));
  const rows = org.list(sobject.name, { includeDeleted: options.includeDeleted === true }).filter((record) =>
    conditions.every((c) => {
      const value = read(org, record, c.resolved);
      const field = c.resolved.related?.field ?? c.resolved.field;
      return c.values.some((literal) => matches(field, value, literal)) !== c.negate;
    }),
  );
  const limited = query.limit === undefined ? rows : rows.slice(0, query.limit);
  if (query.count) return { totalSize: limited.length, done: true, records: [] };
  const records = limited.map((record) => {
    const out: Record<string, unknown> = { attributes: attributesOf(record, options.apiVersion) };
    for (const { resolved } of selected) {
      if (!resolved.related) {
        out[resolved.field.name] = record.fields[resolved.field.name] ?? null;
        continue;
      }
      const name = resolved.field.relationshipName!;
      const relatedId = record.fields[resolved.field.name];
      const related = typeof relatedId === 'string' ? org.get(relatedId) : undefined;
      if (!related || related.deleted) {
        out[name] = null;
        continue;
      }
      const nested = (out[name] as Record<string, unknown> | undefined) ?? {
        attributes: attributesOf(related, options.apiVersion),
      };
      nested[resolved.related.field.name] = related.fields[resolved.related.field.name] ?? null;
      out[name] = nested;
    }
    return out;
  });
  return { totalSize: records.length, done: true, records };
}
