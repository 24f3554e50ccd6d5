// Numbers whose digits a double cannot hold (integers beyond 2^53, more than 15 significant digits,
// magnitudes beyond ±1.8e308 or below the smallest normal double) stay as their source text, so the
// digits a producer wrote are the digits Salesforce receives. They are JSON "raw" values
// (`JSON.rawJSON`, Node ≥ 21): `JSON.stringify` writes them verbatim in a Collections body, and the CSV
// encoder writes their plain decimal form.
import type { ExactNumber } from '../records.ts';

const json = JSON as unknown as {
  rawJSON(text: string): ExactNumber;
  isRawJSON(value: unknown): boolean;
  parse(
    text: string,
    reviver: (key: string, value: unknown, context?: { source?: string }) => unknown,
  ): unknown;
};

/** A number's decimal digits without leading or trailing zeros, and where the point sits. */
export interface Decimal {
  negative: boolean;
  /** Significant digits, no leading or trailing zeros; '' for zero. */
  digits: string;
  /** The value is `0.digits × 10^exponent`. */
  exponent: number;
}

const DECIMAL_SYNTAX = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * The decimal value of number text (JSON or plain decimal syntax), or undefined when it is not a
 * finite decimal literal.
 *
 * @example
 * decimalOf('-0012.3400e1'); // { negative: true, digits: '1234', exponent: 3 }
 */
export function decimalOf(text: string): Decimal | undefined {
  const match = DECIMAL_SYNTAX.exec(text);
  if (!match) return undefined;
  const [, sign = '', whole = '', fraction = '', exp = '0'] = match;
  if (whole === '' && fraction === '') return undefined;
  const all = whole + fraction;
  let start = 0;
  while (start < all.length && all.charCodeAt(start) === 48) start++;
  let end = all.length;
  while (end > start && all.charCodeAt(end - 1) === 48) end--;
  const digits = all.slice(start, end);
  if (digits === '') return { negative: false, digits: '', exponent: 0 };
  const exponent = whole.length - start + Number(exp);
  return { negative: sign === '-', digits, exponent };
}

/**
 * A decimal in plain notation, never with an exponent (`1e21` → `1000000000000000000000`).
 *
 * @example
 * plainText({ negative: false, digits: '15', exponent: -2 }); // '0.0015'
 */
export function plainText(decimal: Decimal): string {
  const { digits, exponent } = decimal;
  if (digits === '') return '0';
  let out: string;
  if (exponent <= 0) out = `0.${'0'.repeat(-exponent)}${digits}`;
  else if (exponent >= digits.length) out = digits + '0'.repeat(exponent - digits.length);
  else out = `${digits.slice(0, exponent)}.${digits.slice(exponent)}`;
  return decimal.negative ? `-${out}` : out;
}

/**
 * The digits of a number: a finite double, or an exact number's source text.
 *
 * @example
 * numberDecimal(1e21).exponent; // 22
 */
export function numberDecimal(value: number | ExactNumber): Decimal {
  return decimalOf(typeof value === 'number' ? String(value) : value.rawJSON)!;
}

/** Whether a value is an exact number (a JSON raw value). */
export function isExactNumber(value: unknown): value is ExactNumber {
  return typeof value === 'object' && value !== null && json.isRawJSON(value);
}

const SMALLEST_NORMAL = 2.2250738585072014e-308;

/**
 * The number for decimal text: a double when it holds the exact value, else an exact number (the
 * text in JSON syntax). Undefined for text that is not a decimal literal.
 *
 * @example
 * exactOrNumber('12.5'); // 12.5
 * exactOrNumber('9007199254740993'); // JSON.rawJSON('9007199254740993')
 */
export function exactOrNumber(text: string): number | ExactNumber | undefined {
  const decimal = decimalOf(text);
  if (!decimal) return undefined;
  const value = Number(text);
  if (holdsExactly(value, decimal)) return value;
  return json.rawJSON(jsonText(decimal));
}

/** Whether a double has exactly the decimal's value (as its shortest round-trip text says). */
function holdsExactly(value: number, decimal: Decimal): boolean {
  if (!Number.isFinite(value)) return false;
  if (decimal.digits === '') return true;
  // Up to 15 significant digits always round-trip through a normal double.
  if (decimal.digits.length <= 15 && Math.abs(value) >= SMALLEST_NORMAL) return true;
  const back = decimalOf(String(value))!;
  return back.digits === decimal.digits && back.exponent === decimal.exponent;
}

function jsonText(decimal: Decimal): string {
  const { digits, exponent } = decimal;
  const sign = decimal.negative ? '-' : '';
  // Plain notation while it stays short; else one digit, a point and an exponent.
  if (exponent >= -20 && exponent <= 40) return plainText(decimal);
  const rest = digits.length > 1 ? `.${digits.slice(1)}` : '';
  return `${sign}${digits[0]}${rest}e${exponent - 1}`;
}

/**
 * Whether the text has a numeric value a double may not hold exactly: after `:`, `,` or `[`, 16 or more
 * digits (points included) in a row, or a three-digit exponent. Text without one parses exactly with
 * plain `JSON.parse`; a match inside a string only costs the slower exact parse. A scan from each
 * separator (found with `indexOf`) costs a third of a regular expression over every character.
 */
function maybeInexact(text: string): boolean {
  // A value follows `:` in an object; `,` and `[` lead to values only in arrays.
  const separators = text.includes('[') ? [':', ',', '['] : [':'];
  for (const separator of separators) {
    for (let i = text.indexOf(separator); i !== -1; i = text.indexOf(separator, i + 1)) {
      if (longNumberAt(text, i + 1)) return true;
    }
  }
  return false;
}

const isDigit = (c: number) => c >= 48 && c <= 57;

function longNumberAt(text: string, from: number): boolean {
  let j = from;
  let c = text.charCodeAt(j);
  while (c === 32 || c === 9 || c === 10 || c === 13) c = text.charCodeAt(++j);
  if (c === 45) c = text.charCodeAt(++j);
  if (!isDigit(c)) return false;
  const start = j;
  while (isDigit(c) || c === 46) c = text.charCodeAt(++j);
  if (j - start >= 16) return true;
  if (c !== 101 && c !== 69) return false;
  c = text.charCodeAt(++j);
  if (c === 43 || c === 45) c = text.charCodeAt(++j);
  const exponent = j;
  while (isDigit(c)) c = text.charCodeAt(++j);
  return j - exponent >= 3;
}

/**
 * `JSON.parse` that keeps the exact digits of every number a double cannot hold (as exact numbers).
 * Throws `SyntaxError` like `JSON.parse`.
 *
 * @example
 * parseJsonExact('{"Id":9007199254740993}').Id; // JSON.rawJSON('9007199254740993')
 */
export function parseJsonExact(text: string): unknown {
  if (!maybeInexact(text)) return JSON.parse(text);
  return json.parse(text, (_key, value, context) => {
    if (typeof value !== 'number' || context?.source === undefined) return value;
    const decimal = decimalOf(context.source);
    return decimal && holdsExactly(value, decimal) ? value : json.rawJSON(jsonText(decimal!));
  });
}
