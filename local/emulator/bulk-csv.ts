// The CSV side of the Bulk API 2.0 ingest engine: reading an uploaded job file the way Salesforce
// does (header of field API names, empty = leave unchanged, `#N/A` = null, `Rel.ExtId__c` lookups),
// and writing result files (sf__ columns first, every value quoted, rows in no particular order).

import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { RecordError, RecordFields, WriteOperation } from './contracts.ts';

export type LineEnding = 'LF' | 'CRLF';
export type ColumnDelimiter = 'BACKQUOTE' | 'CARET' | 'COMMA' | 'PIPE' | 'SEMICOLON' | 'TAB';

export const COLUMN_DELIMITERS: Record<ColumnDelimiter, string> = {
  BACKQUOTE: '`',
  CARET: '^',
  COMMA: ',',
  PIPE: '|',
  SEMICOLON: ';',
  TAB: '\t',
};

export const LINE_ENDINGS: Record<LineEnding, string> = { LF: '\n', CRLF: '\r\n' };

/** The value that sets a field to null; an empty value leaves the field as it is. */
export const NULL_VALUE = '#N/A';

/** How one CSV column maps onto the record handed to the org. */
export type Column =
  | { kind: 'field'; field: string }
  | { kind: 'relationship'; relationship: string; lookupField: string; externalIdField: string };

export interface CsvFormat {
  lineEnding: LineEnding;
  columnDelimiter: ColumnDelimiter;
}

export interface ParsedUpload {
  header: string[];
  rows: string[][];
}

/**
 * Finds a line break that does not match the job's `lineEnding` (outside quoted values, where line
 * breaks are data). Salesforce fails the whole job on such a file.
 *
 * @example lineEndingError('Name\r\nAcme\r\n', 'LF') // 'ClientInputError : LineEnding is invalid …'
 */
export function lineEndingError(text: string, lineEnding: LineEnding): string | undefined {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 34) quoted = !quoted;
    else if (code === 10 && !quoted) {
      const crlf = i > 0 && text.charCodeAt(i - 1) === 13;
      if (crlf !== (lineEnding === 'CRLF')) {
        return `ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is ${lineEnding}`;
      }
    }
  }
  return undefined;
}

/**
 * Parses an uploaded job file (RFC 4180, the job's delimiter and line ending, UTF-8 with or without
 * BOM). Returns the reason Salesforce would give when the file cannot be read.
 *
 * @example parseUpload('Name\nAcme\n', { lineEnding: 'LF', columnDelimiter: 'COMMA' })
 */
export function parseUpload(text: string, format: CsvFormat): ParsedUpload | { error: string } {
  let records: string[][];
  try {
    records = parse(text, {
      delimiter: COLUMN_DELIMITERS[format.columnDelimiter],
      record_delimiter: LINE_ENDINGS[format.lineEnding],
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
    }) as string[][];
  } catch (error) {
    return { error: `ClientInputError : ${(error as Error).message}` };
  }
  const [header, ...rows] = records;
  if (!header) return { error: 'ClientInputError : No data was uploaded for this job' };
  const width = header.length;
  const ragged = rows.findIndex((row) => row.length !== width);
  if (ragged >= 0) {
    const row = rows[ragged] as string[];
    return {
      error: `ClientInputError : Row ${ragged + 2} has ${row.length} columns, the header row has ${width}`,
    };
  }
  return { header, rows };
}

/** What the header check needs to know of the job's sObject. */
export interface ColumnSchema {
  /** The canonical name of a field, looked up case-insensitively. */
  field(name: string): string | undefined;
  /**
   * The lookup field behind a relationship name (`Account` → `AccountId`), case-insensitively, and
   * whether a field of the referenced sObject can address its records (`undefined` when the schema
   * does not model that sObject).
   */
  relationship(
    name: string,
  ): { relationshipName: string; lookupField: string; addresses?: (field: string) => boolean } | undefined;
}

/**
 * Maps header cells to fields of the sObject. A column `Account.External_Id__c` addresses the
 * lookup behind the relationship by the parent's external id. An unknown column fails the whole job
 * with Salesforce's message; so does a relationship column naming a field the referenced sObject
 * (when modeled) has not, or that is no external id.
 *
 * @example planColumns(['LastName'], schema) // { columns: [{ kind: 'field', field: 'LastName' }] }
 */
export function planColumns(
  header: string[],
  schema: ColumnSchema,
): { columns: Column[] } | { error: string } {
  const columns: Column[] = [];
  const seen = new Set<string>();
  for (const cell of header) {
    const name = cell.trim();
    const lower = name.toLowerCase();
    if (seen.has(lower)) return { error: `InvalidBatch : Duplicate field name found : ${name}` };
    seen.add(lower);
    const field = schema.field(name);
    if (field) {
      columns.push({ kind: 'field', field });
      continue;
    }
    const dot = name.indexOf('.');
    const relationship = dot > 0 ? schema.relationship(name.slice(0, dot)) : undefined;
    const externalIdField = name.slice(dot + 1);
    if (
      !relationship ||
      externalIdField === '' ||
      externalIdField.includes('.') ||
      relationship.addresses?.(externalIdField) === false
    ) {
      return { error: `InvalidBatch : Field name not found : ${name}` };
    }
    columns.push({
      kind: 'relationship',
      relationship: relationship.relationshipName,
      lookupField: relationship.lookupField,
      externalIdField,
    });
  }
  return { columns };
}

/**
 * A `ColumnSchema` from field names alone: relationship names follow Salesforce's naming rules
 * (`Account` → `AccountId`, `Parent__r` → `Parent__c`).
 *
 * @example columnSchemaFromFieldNames(['Id', 'AccountId']).relationship('account') // { relationshipName: 'Account', lookupField: 'AccountId' }
 */
export function columnSchemaFromFieldNames(fieldNames: readonly string[]): ColumnSchema {
  const byLowerName = new Map(fieldNames.map((name) => [name.toLowerCase(), name]));
  return {
    field: (name) => byLowerName.get(name.toLowerCase()),
    relationship(name) {
      const lower = name.toLowerCase();
      const custom = lower.endsWith('__r');
      const lookupField = byLowerName.get(custom ? `${lower.slice(0, -3)}__c` : `${lower}id`);
      if (!lookupField) return undefined;
      const relationshipName = custom ? `${lookupField.slice(0, -3)}__r` : lookupField.slice(0, -2);
      return { relationshipName, lookupField };
    },
  };
}

/**
 * Turns one CSV row into the record the org applies. Empty values are left out (the field keeps its
 * value), `#N/A` becomes null; delete and hardDelete carry only `Id`.
 *
 * @example toRecord(['Smith', '', '#N/A'], columns, 'update') // { LastName: 'Smith', Phone: null }
 */
export function toRecord(row: string[], columns: Column[], operation: WriteOperation): RecordFields {
  const record: RecordFields = {};
  columns.forEach((column, index) => {
    const value = row[index] ?? '';
    if (value === '') return;
    if (column.kind === 'field') {
      record[column.field] = value === NULL_VALUE ? null : value;
    } else if (value === NULL_VALUE) {
      record[column.lookupField] = null;
    } else {
      record[column.relationship] = { [column.externalIdField]: value };
    }
  });
  if (operation === 'delete' || operation === 'hardDelete') {
    return 'Id' in record ? { Id: record.Id } : {};
  }
  return record;
}

/**
 * Formats a row's errors as the `sf__Error` column does: `CODE:message:Field1,Field2 --`, or
 * `CODE:message:--` when no field is named. Only the first error is reported, like Salesforce.
 *
 * @example formatErrors([{ statusCode: 'REQUIRED_FIELD_MISSING', message: 'Required fields are missing: [LastName]', fields: ['LastName'] }])
 * // 'REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --'
 */
export function formatErrors(errors: RecordError[]): string {
  const [first] = errors;
  if (!first) return 'UNKNOWN_EXCEPTION:unknown error:--';
  const fields = first.fields.length > 0 ? `${first.fields.join(',')} ` : '';
  return `${first.statusCode}:${first.message}:${fields}--`;
}

/**
 * Writes a result file: the header cells as Salesforce writes them (its own `sf__` columns quoted,
 * the uploaded column names as uploaded), then every value quoted.
 *
 * @example renderResults(['sf__Id', 'Name'], [['001…', 'Acme']], format) // '"sf__Id",Name\n"001…","Acme"\n'
 */
export function renderResults(header: string[], rows: string[][], format: CsvFormat): string {
  const options = {
    delimiter: COLUMN_DELIMITERS[format.columnDelimiter],
    record_delimiter: LINE_ENDINGS[format.lineEnding],
  };
  const head = stringify([header], { ...options, quoted_match: /^sf__/ });
  return head + stringify(rows, { ...options, quoted: true, quoted_empty: true });
}

/**
 * A copy of `items` in a random order that is never the original one (for two or more items), so a
 * consumer relying on upload order fails its tests every time rather than by chance.
 *
 * @example shuffled([1, 2, 3], Math.random) // e.g. [3, 1, 2]
 */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  if (copy.length > 1 && copy.every((item, index) => item === items[index])) copy.push(copy.shift() as T);
  return copy;
}
