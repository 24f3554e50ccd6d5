// Field values as Salesforce checks them on write, in two steps. Reading: a JSON value must already
// have the field's type (Salesforce's JSON reader refuses a whole request it cannot deserialize, see
// deserialize.ts), a Bulk CSV string is converted per type (a row error when it cannot be). Then DML
// checks: text length, number precision, email syntax (per record). Errors carry Salesforce's status
// codes and messages. Numbers keep their exact digits: one a double cannot hold stays a JSON raw value.

import type { RecordError } from './contracts.ts';
import type { FieldSchema } from './schema.ts';

export type Conversion = { ok: true; value: unknown } | { ok: false; error: RecordError };

const TEXT_TYPES = new Set([
  'string',
  'textarea',
  'email',
  'phone',
  'url',
  'picklist',
  'multipicklist',
  'combobox',
  'encryptedstring',
  'id',
  'reference',
]);
const NUMBER_TYPES = new Set(['int', 'double', 'currency', 'percent']);
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** Seconds and a zone are required: `2024-01-02T03:04Z` is not a dateTime Salesforce reads. */
const DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;
const TIME = /^(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?Z?$/;
const CSV_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MIN_YEAR = 1700;
const MAX_YEAR = 4000;

const raw = JSON as unknown as { rawJSON(text: string): object; isRawJSON(value: unknown): boolean };

/** Whether a value is a number kept as its exact digits (a JSON raw value). */
export const isExactNumber = (value: unknown): value is { rawJSON: string } =>
  typeof value === 'object' && value !== null && raw.isRawJSON(value);

/** Salesforce's dateTime output form, e.g. `2024-05-01T10:00:00.000+0000`. */
export const formatDateTime = (date: Date): string => date.toISOString().replace('Z', '+0000');

const ok = (value: unknown): Conversion => ({ ok: true, value });
const fail = (statusCode: string, message: string, fields: string[]): Conversion => ({
  ok: false,
  error: { statusCode, message, fields },
});

const show = (value: unknown): string =>
  typeof value === 'string' ? value : isExactNumber(value) ? value.rawJSON : JSON.stringify(value);

const wrongType = (field: FieldSchema, value: unknown): Conversion =>
  fail('INVALID_TYPE_ON_FIELD_IN_RECORD', `${field.label}: value not of required type: ${show(value)}`, [
    field.name,
  ]);

function validDay(year: number, month: number, day: number): boolean {
  if (year < MIN_YEAR || year > MAX_YEAR || month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function parseDate(field: FieldSchema, text: string): Conversion {
  const match = DATE.exec(text);
  if (!match || !validDay(Number(match[1]), Number(match[2]), Number(match[3]))) {
    return wrongType(field, text);
  }
  return ok(text);
}

function parseDateTime(field: FieldSchema, text: string): Conversion {
  const match = DATETIME.exec(text);
  if (!match) return wrongType(field, text);
  const [, year, month, day, hour, minute, second, fraction = '', zone = 'Z'] = match;
  if (
    !validDay(Number(year), Number(month), Number(day)) ||
    Number(hour) > 23 ||
    Number(minute) > 59 ||
    Number(second) > 59
  ) {
    return wrongType(field, text);
  }
  const offset = zone === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
  const millis = fraction ? fraction.slice(0, 4).padEnd(4, '0') : '.000';
  const parsed = new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}${millis}${offset}`);
  if (Number.isNaN(parsed.getTime())) return wrongType(field, text);
  return ok(formatDateTime(parsed));
}

function parseTime(field: FieldSchema, text: string): Conversion {
  const match = TIME.exec(text);
  if (!match || Number(match[1]) > 23 || Number(match[2]) > 59 || Number(match[3]) > 59) {
    return wrongType(field, text);
  }
  return ok(`${match[1]}:${match[2]}:${match[3]}${(match[4] ?? '.000').padEnd(4, '0')}Z`);
}

interface Digits {
  negative: boolean;
  /** Significant digits, no leading or trailing zeros ('' for zero). */
  digits: string;
  /** Where the decimal point sits, counted from the first significant digit. */
  point: number;
}

const NUMBER_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

function digitsOf(text: string): Digits {
  const [, sign = '', intPart = '', fracPart = '', exp = '0'] = NUMBER_TEXT.exec(text)!;
  const all = intPart + fracPart;
  const first = all.search(/[1-9]/);
  if (first === -1) return { negative: false, digits: '', point: 0 };
  const digits = all.slice(first).replace(/0+$/, '');
  return { negative: sign === '-', digits, point: intPart.length + Number(exp) - first };
}

const sameNumber = (a: Digits, b: Digits) =>
  a.negative === b.negative && a.digits === b.digits && a.point === b.point;

/** The number for number text: a double when it holds the exact value, else the digits as a raw value. */
function exactValue(text: string): number | { rawJSON: string } {
  const number = Number(text);
  const digits = digitsOf(text);
  if (Number.isFinite(number) && sameNumber(digitsOf(String(number)), digits)) return number;
  return raw.rawJSON(jsonText(digits)) as { rawJSON: string };
}

function jsonText({ negative, digits, point }: Digits): string {
  if (digits === '') return '0';
  const sign = negative ? '-' : '';
  if (point > 40 || point < -20)
    return `${sign}${digits[0]}${digits.length > 1 ? `.${digits.slice(1)}` : ''}e${point - 1}`;
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** Reading a number into its field's Java type: an int must be whole and fit 32 bits. */
function readNumber(field: FieldSchema, value: number | { rawJSON: string }, input: unknown): Conversion {
  if (typeof value === 'number' && !Number.isFinite(value)) return wrongType(field, input);
  if (field.type !== 'int') return ok(value);
  const { digits, point, negative } = digitsOf(typeof value === 'number' ? String(value) : value.rawJSON);
  if (digits.length > Math.max(0, point)) return wrongType(field, input);
  if (point > 10) return wrongType(field, input);
  const n = BigInt(`${negative ? '-' : ''}${digits === '' ? '0' : digits.padEnd(point, '0')}`);
  return n < -2_147_483_648n || n > 2_147_483_647n ? wrongType(field, input) : ok(value);
}

/** The DML check of a number: digits before the point within the field's precision. */
function checkNumber(field: FieldSchema, value: number | { rawJSON: string }, input: unknown): Conversion {
  const { digits, point } = digitsOf(typeof value === 'number' ? String(value) : value.rawJSON);
  const whole = digits === '' ? 0 : Math.max(0, point);
  const limit = field.type === 'int' ? field.precision : field.precision - field.scale;
  if (field.precision > 0 && whole > limit) {
    return fail(
      'NUMBER_OUTSIDE_VALID_RANGE',
      `${field.label}: value outside of valid range on numeric field: ${show(input)}`,
      [field.name],
    );
  }
  // Salesforce keeps the digits it was sent (decimals beyond the field's scale included).
  return ok(value);
}

function checkText(field: FieldSchema, value: string): Conversion {
  if (field.length > 0 && value.length > field.length) {
    return fail(
      'STRING_TOO_LONG',
      `${field.label}: data value too large: ${value.slice(0, 80)} (max length=${field.length})`,
      [field.name],
    );
  }
  if (field.type === 'email' && value !== '' && !EMAIL.test(value)) {
    return fail('INVALID_EMAIL_ADDRESS', `${field.label}: invalid email address: ${value}`, [field.name]);
  }
  return ok(value);
}

/**
 * Reads one non-null JSON value as its field's type, as Salesforce's JSON reader does before any DML:
 * no coercion of strings to numbers or booleans, dates and datetimes by the calendar (seconds
 * required), whole numbers in int fields. Text fields take any scalar as text.
 *
 * @example
 * readJson(numberOfEmployees, 12.5); // { ok: false, error: { statusCode: 'INVALID_TYPE_ON_FIELD_IN_RECORD', … } }
 */
export function readJson(field: FieldSchema, value: unknown): Conversion {
  if (field.type === 'boolean') return typeof value === 'boolean' ? ok(value) : wrongType(field, value);
  if (NUMBER_TYPES.has(field.type)) {
    if (typeof value !== 'number' && !isExactNumber(value)) return wrongType(field, value);
    return readNumber(field, value, value);
  }
  if (field.type === 'date')
    return typeof value === 'string' ? parseDate(field, value) : wrongType(field, value);
  if (field.type === 'datetime')
    return typeof value === 'string' ? parseDateTime(field, value) : wrongType(field, value);
  if (field.type === 'time')
    return typeof value === 'string' ? parseTime(field, value) : wrongType(field, value);
  if (TEXT_TYPES.has(field.type)) {
    // Salesforce's JSON reader turns scalars into text; objects and arrays it refuses.
    if (typeof value === 'string') return ok(value);
    if (typeof value === 'number' || typeof value === 'boolean') return ok(String(value));
    if (isExactNumber(value)) return ok(value.rawJSON);
    return wrongType(field, value);
  }
  return wrongType(field, value);
}

function fromJson(field: FieldSchema, value: unknown): Conversion {
  const read = readJson(field, value);
  if (!read.ok) return read;
  if (NUMBER_TYPES.has(field.type)) return checkNumber(field, read.value as number, value);
  if (TEXT_TYPES.has(field.type)) return checkText(field, read.value as string);
  return read;
}

function fromCsv(field: FieldSchema, value: unknown): Conversion {
  if (typeof value !== 'string') return fromJson(field, value);
  if (field.type === 'boolean') {
    const lower = value.toLowerCase();
    if (lower === 'true' || lower === '1') return ok(true);
    if (lower === 'false' || lower === '0') return ok(false);
    return wrongType(field, value);
  }
  if (NUMBER_TYPES.has(field.type)) {
    if (!CSV_NUMBER.test(value)) return wrongType(field, value);
    const read = readNumber(field, exactValue(value), value);
    return read.ok ? checkNumber(field, read.value as number, value) : read;
  }
  if (field.type === 'date') return parseDate(field, value);
  if (field.type === 'datetime') return parseDateTime(field, value);
  if (field.type === 'time') return parseTime(field, value);
  return checkText(field, value);
}

/**
 * Converts and checks one non-null value for a field. `source` says whether it came from Collections
 * JSON (must already have the right JSON type) or a Bulk CSV cell (a string converted per type).
 *
 * @example
 * convertValue(numberOfEmployees, '12', 'csv'); // { ok: true, value: 12 }
 * convertValue(numberOfEmployees, '12', 'json'); // { ok: false, error: { statusCode: 'INVALID_TYPE_ON_FIELD_IN_RECORD', … } }
 */
export function convertValue(field: FieldSchema, value: unknown, source: 'json' | 'csv'): Conversion {
  return source === 'csv' ? fromCsv(field, value) : fromJson(field, value);
}

/**
 * `JSON.parse` keeping the exact digits of numbers a double cannot hold (as JSON raw values), as
 * Salesforce's reader keeps them.
 *
 * @example
 * parseExactJson('{"AnnualRevenue":123456789012345678}').AnnualRevenue.rawJSON; // '123456789012345678'
 */
export function parseExactJson(text: string): unknown {
  const parse = JSON.parse as (
    text: string,
    reviver: (key: string, value: unknown, context?: { source?: string }) => unknown,
  ) => unknown;
  return parse(text, (_key, value, context) => {
    if (typeof value !== 'number' || context?.source === undefined) return value;
    const source = context.source;
    return Number.isFinite(value) && sameNumber(digitsOf(String(value)), digitsOf(source))
      ? value
      : exactValue(source);
  });
}
