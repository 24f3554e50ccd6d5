// How one JSON value is written in a Bulk API 2.0 CSV cell. Salesforce reads an empty cell as "leave
// unchanged" and `#N/A` as "set to null", numbers in plain decimal only, booleans as true/false.
import { decimalOf, isExactNumber, plainText } from '../decode/exact-number.ts';
import type { JsonValue } from '../records.ts';

/** The cell that sets a field to null. */
export const CSV_NULL = '#N/A';

/**
 * Formats a finite number in plain decimal, never with an exponent (`1e21` → `1000000000000000000000`,
 * `1e-7` → `0.0000001`), keeping the shortest digits that round-trip.
 *
 * @example
 * plainDecimal(12345678.5); // '12345678.5'
 */
export function plainDecimal(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`${n} has no decimal form`);
  if (n === 0) return '0';
  const text = String(n);
  return text.includes('e') ? plainText(decimalOf(text)!) : text;
}

/**
 * Why a value cannot be a CSV cell, or undefined when it can. Arrays and objects have no cell form
 * (a relationship reference is flattened before this check), and the literal text `#N/A` would be
 * read back as null.
 */
export function csvCellProblem(value: JsonValue): string | undefined {
  if (value === CSV_NULL) return 'is the text #N/A, which Bulk API reads as null';
  if (typeof value === 'number' && !Number.isFinite(value)) return 'is not a finite number';
  if (typeof value === 'object' && value !== null && !isExactNumber(value))
    return Array.isArray(value) ? 'is an array' : 'is an object';
  return undefined;
}

/**
 * The cell text for a value. An empty string is written as `#N/A`: Collections clear a field sent as
 * "", and a bulk write of the same record must do the same rather than leave it unchanged.
 */
export function csvCell(value: JsonValue): string {
  if (value === null || value === '') return CSV_NULL;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return plainDecimal(value);
  // An exact number's own digits, in plain decimal: a double would round them.
  if (isExactNumber(value)) return plainText(decimalOf(value.rawJSON)!);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  throw new TypeError(`a value that ${csvCellProblem(value)} has no CSV cell`);
}
