import { stringify } from 'csv-stringify/sync';
import type { JsonObject, JsonValue } from '../records.ts';
import { csvCell, csvCellProblem } from './values.ts';

/** A relationship set by external id, `{ Account: { External_Id__c: 'A-1' } }`, is the column `Account.External_Id__c`. */
function flatten(fields: JsonObject): Map<string, JsonValue> {
  const out = new Map<string, JsonValue>();
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [inner, innerValue] of Object.entries(value)) out.set(`${name}.${inner}`, innerValue);
    } else out.set(name, value);
  }
  return out;
}

/**
 * Why a record's fields cannot be written as a CSV row (naming the fields), or undefined when they can.
 *
 * @example
 * csvRowProblem({ Tags: ['a', 'b'] }); // 'Tags is an array'
 */
export function csvRowProblem(fields: JsonObject): { message: string; fields: string[] } | undefined {
  const problems: string[] = [];
  const names: string[] = [];
  for (const [column, value] of flatten(fields)) {
    const problem = csvCellProblem(value);
    if (problem) {
      problems.push(`${column} ${problem}`);
      names.push(column);
    }
  }
  return problems.length > 0 ? { message: problems.join('; '), fields: names } : undefined;
}

/**
 * The cells a record has in the given columns, exactly as `encodeCsv` writes them (result files echo
 * them, so they identify the record's row).
 *
 * @example
 * csvCells({ LastName: 'Doe', Email: null }, ['LastName', 'Email', 'Phone']); // ['Doe', '#N/A', '']
 */
export function csvCells(fields: JsonObject, columns: readonly string[]): string[] {
  const flat = flatten(fields);
  return columns.map((column) => (flat.has(column) ? csvCell(flat.get(column)!) : ''));
}

export interface EncodedCsv {
  /** Column names in order: the union of every record's fields, in order of first appearance. */
  header: string[];
  /** RFC 4180 text with LF line endings (the job's `lineEnding` must be `LF`). */
  text: string;
}

/**
 * Encodes the records of one bulk unit as a Bulk API 2.0 CSV. The header covers every field of every
 * record (not just the first); a field a record lacks is an empty cell (unchanged), null is `#N/A`.
 *
 * @example
 * encodeCsv([{ LastName: 'Doe' }, { LastName: 'Roe', Email: null }]).text;
 * // 'LastName,Email\nDoe,\nRoe,#N/A\n'
 */
export function encodeCsv(records: readonly JsonObject[]): EncodedCsv {
  const columns = new Map<string, number>();
  const flat = records.map((fields) => {
    const row = flatten(fields);
    for (const column of row.keys()) if (!columns.has(column)) columns.set(column, columns.size);
    return row;
  });
  const header = [...columns.keys()];
  const rows: string[][] = [header];
  for (const row of flat) {
    const cells = new Array<string>(header.length).fill('');
    for (const [column, value] of row) cells[columns.get(column)!] = csvCell(value);
    rows.push(cells);
  }
  // With one column, an empty cell would be a blank line, which readers skip: quote it.
  const quoted_empty = header.length === 1;
  return { header, text: stringify(rows, { record_delimiter: 'unix', quoted_match: /\r/, quoted_empty }) };
}
