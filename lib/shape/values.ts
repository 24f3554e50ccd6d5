// A value checked against its field's describe type, as Salesforce checks it: what it cannot
// deserialize (a datetime without seconds, 30 February, 12.5 in an int field) would fail a whole
// Collections request, and what it would refuse per record (a string over the field's length, a number
// over its precision) costs a call. Both are caught here, before any call, and nothing is changed
// silently: a value is converted only where the conversion is exact (epoch numbers to ISO-8601 within
// Salesforce's years 1700–4000, numeric strings to numbers, scalars to text).
import { type Decimal, exactOrNumber, isExactNumber, numberDecimal } from '../decode/exact-number.ts';
import type { ExactNumber, JsonValue, RejectionCode } from '../records.ts';
import type { FieldDescribe } from './sobject-schema.ts';

/** Why a value cannot be sent: the rejection code and a text that names the field, never the value. */
export class ValueProblem {
  readonly code: RejectionCode;
  readonly text: string;
  constructor(code: RejectionCode, text: string) {
    this.code = code;
    this.text = text;
  }
}

const DAY_MS = 86_400_000;
const MIN_YEAR = 1700;
const MAX_YEAR = 4000;
const MIN_MS = Date.UTC(MIN_YEAR, 0, 1);
const MAX_MS = Date.UTC(MAX_YEAR + 1, 0, 1) - 1;

const NUMBER_TYPES = new Set(['double', 'currency', 'percent', 'int', 'long']);
export const TEXT_TYPES = new Set([
  'string',
  'textarea',
  'email',
  'phone',
  'url',
  'picklist',
  'multipicklist',
  'combobox',
  'encryptedstring',
]);
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|([+-])(\d{2}):?(\d{2}))$/;
const TIME = /^(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,3})?Z?$/;
const NUMERIC = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
const INT32 = { min: -2_147_483_648n, max: 2_147_483_647n };
const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };

const invalid = (text: string) => new ValueProblem('INVALID_FIELD_VALUE', text);

/**
 * The value to send for a field, or why it cannot be sent. Null passes (clearing is the write's own
 * business).
 *
 * @example
 * checkValue({ name: 'Visit__c', type: 'date', createable: true, updateable: true }, 19723); // '2024-01-01'
 * checkValue({ name: 'Due__c', type: 'datetime', createable: true, updateable: true }, '2024-01-02T03:04Z');
 * // ValueProblem INVALID_FIELD_VALUE (seconds are required)
 */
export function checkValue(field: FieldDescribe, value: JsonValue): JsonValue | ValueProblem {
  if (value === null) return value;
  const type = field.type;
  const exact = isExactNumber(value);
  if (typeof value === 'object' && !exact) {
    return invalid(`${field.name} (${type}) got ${Array.isArray(value) ? 'an array' : 'an object'}`);
  }
  if (type === 'boolean') {
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    return invalid(`${field.name} (boolean) got a ${kind(value)} that is not true or false`);
  }
  if (NUMBER_TYPES.has(type)) return checkNumber(field, value as string | number | boolean | ExactNumber);
  if (type === 'date') return checkDate(field, value);
  if (type === 'datetime') return checkDateTime(field, value);
  if (type === 'time') return checkTime(field, value);
  const text = typeof value === 'string' ? value : exact ? (value as ExactNumber).rawJSON : String(value);
  if (TEXT_TYPES.has(type)) return checkLength(field, text);
  return text;
}

/**
 * A text value against the field's describe `length` (characters): STRING_TOO_LONG beyond it.
 *
 * @example
 * checkLength({ name: 'CustomId__c', type: 'string', length: 255, createable: true, updateable: true }, 'x'.repeat(300));
 */
export function checkLength(field: FieldDescribe, text: string): string | ValueProblem {
  if (field.length && field.length > 0 && text.length > field.length) {
    return new ValueProblem(
      'STRING_TOO_LONG',
      `${field.name} has ${text.length} characters; the field holds at most ${field.length}`,
    );
  }
  return text;
}

function kind(value: unknown): string {
  return isExactNumber(value) ? 'number' : typeof value;
}

function checkNumber(
  field: FieldDescribe,
  value: string | number | boolean | ExactNumber,
): JsonValue | ValueProblem {
  let number: number | ExactNumber | undefined;
  if (typeof value === 'number' || isExactNumber(value)) number = value;
  else if (typeof value === 'string' && NUMERIC.test(value)) number = exactOrNumber(value.trim());
  if (number === undefined) {
    return invalid(`${field.name} (${field.type}) got a ${kind(value)} that is not a decimal number`);
  }
  if (typeof number === 'number' && !Number.isFinite(number)) {
    return new ValueProblem(
      'NUMBER_OUTSIDE_VALID_RANGE',
      `${field.name} (${field.type}) got a number beyond any range`,
    );
  }
  const { whole, fraction, decimal } = digitsOf(number);
  const outside = (limit: string) =>
    new ValueProblem(
      'NUMBER_OUTSIDE_VALID_RANGE',
      `${field.name} (${field.type}) holds ${limit}; the value has ${whole} digit(s) before the decimal point`,
    );
  if (field.type === 'int' || field.type === 'long') {
    if (fraction) return invalid(`${field.name} (${field.type}) needs a whole number`);
    const range = field.type === 'int' ? INT32 : INT64;
    const inRange =
      typeof number === 'number' && Number.isSafeInteger(number)
        ? number >= Number(range.min) && number <= Number(range.max)
        : whole <= 19 && within(decimal(), range);
    if (!inRange) {
      return outside(`${field.type === 'int' ? '32' : '64'}-bit integers`);
    }
    if (field.digits && field.digits > 0 && whole > field.digits) return outside(`${field.digits} digits`);
    return number;
  }
  const precision = field.precision ?? 0;
  const scale = field.scale ?? 0;
  // Salesforce refuses digits before the point beyond precision − scale; extra decimals it keeps.
  if (precision > 0 && whole > precision - scale) {
    return outside(
      `${precision - scale} digit(s) before the decimal point (precision ${precision}, scale ${scale})`,
    );
  }
  if (!Number.isFinite(Number(isExactNumber(number) ? number.rawJSON : number))) {
    return outside('numbers a double can hold');
  }
  return number;
}

/**
 * Digits before the point and whether there is a fraction; the full decimal only when asked (a
 * double below 1e21 needs no text for the first two).
 */
function digitsOf(number: number | ExactNumber): {
  whole: number;
  fraction: boolean;
  decimal: () => Decimal;
} {
  if (typeof number === 'number' && Math.abs(number) < 1e21) {
    const integer = Math.trunc(Math.abs(number));
    return {
      whole: integer === 0 ? 0 : String(integer).length,
      fraction: !Number.isInteger(number),
      decimal: () => numberDecimal(number),
    };
  }
  const decimal = numberDecimal(number);
  return {
    whole: decimal.digits === '' ? 0 : Math.max(0, decimal.exponent),
    fraction: decimal.digits.length > decimal.exponent,
    decimal: () => decimal,
  };
}

function within(decimal: Decimal, range: { min: bigint; max: bigint }): boolean {
  if (decimal.digits === '') return true;
  const digits = decimal.digits + '0'.repeat(Math.max(0, decimal.exponent - decimal.digits.length));
  const n = BigInt(decimal.negative ? `-${digits}` : digits);
  return n >= range.min && n <= range.max;
}

function inRange(ms: number): boolean {
  return ms >= MIN_MS && ms <= MAX_MS;
}

function validCalendar(year: number, month: number, day: number): boolean {
  if (year < MIN_YEAR || year > MAX_YEAR || month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function checkDate(field: FieldDescribe, value: JsonValue): JsonValue | ValueProblem {
  if (typeof value === 'number' || isExactNumber(value)) {
    // Kafka Connect's Date without a schema: days since 1970-01-01.
    if (typeof value === 'number' && Number.isInteger(value) && inRange(value * DAY_MS)) {
      return new Date(value * DAY_MS).toISOString().slice(0, 10);
    }
    return invalid(
      `${field.name} (date) got a number that is not a whole number of days since 1970-01-01 within the years ${MIN_YEAR}–${MAX_YEAR} (epoch milliseconds belong in datetime fields)`,
    );
  }
  const match = typeof value === 'string' ? DATE.exec(value) : null;
  if (match && validCalendar(Number(match[1]), Number(match[2]), Number(match[3]))) return value;
  return invalid(
    `${field.name} (date) needs a calendar date yyyy-MM-dd within the years ${MIN_YEAR}–${MAX_YEAR}, or days since 1970-01-01`,
  );
}

function checkDateTime(field: FieldDescribe, value: JsonValue): JsonValue | ValueProblem {
  if (typeof value === 'number' || isExactNumber(value)) {
    if (typeof value === 'number' && Number.isInteger(value) && inRange(value)) {
      return new Date(value).toISOString();
    }
    return invalid(
      `${field.name} (datetime) got a number that is not whole epoch milliseconds within the years ${MIN_YEAR}–${MAX_YEAR} (epoch microseconds or nanoseconds are out of range)`,
    );
  }
  const match = typeof value === 'string' ? DATETIME.exec(value) : null;
  if (match) {
    const [, year, month, day, hour, minute, second, , offsetHours, offsetMinutes] = match;
    if (
      validCalendar(Number(year), Number(month), Number(day)) &&
      Number(hour) <= 23 &&
      Number(minute) <= 59 &&
      Number(second) <= 59 &&
      (offsetHours === undefined || (Number(offsetHours) <= 18 && Number(offsetMinutes) <= 59))
    ) {
      return value;
    }
  }
  return invalid(
    `${field.name} (datetime) needs yyyy-MM-ddTHH:mm:ss(.SSS)Z or ±HH:mm, seconds included, a real calendar date and time within the years ${MIN_YEAR}–${MAX_YEAR}, or epoch milliseconds`,
  );
}

function checkTime(field: FieldDescribe, value: JsonValue): JsonValue | ValueProblem {
  if (typeof value === 'number' || isExactNumber(value)) {
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < DAY_MS) {
      return `${new Date(value).toISOString().slice(11, 23)}Z`;
    }
    return invalid(`${field.name} (time) got a number that is not milliseconds of one day (0–86,399,999)`);
  }
  const match = typeof value === 'string' ? TIME.exec(value) : null;
  if (match && Number(match[1]) <= 23 && Number(match[2]) <= 59 && Number(match[3]) <= 59) return value;
  return invalid(`${field.name} (time) needs HH:mm:ss(.SSS)Z, seconds included, or milliseconds of the day`);
}
