// Field values as Salesforce checks them on write: JSON values must already have the field's type,
// Bulk CSV strings are converted per type. Errors carry Salesforce's status codes and messages.

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
  'time',
]);
const NUMBER_TYPES = new Set(['int', 'double', 'currency', 'percent']);
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const CSV_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Salesforce's dateTime output form, e.g. `2024-05-01T10:00:00.000+0000`. */
export const formatDateTime = (date: Date): string => date.toISOString().replace('Z', '+0000');

const ok = (value: unknown): Conversion => ({ ok: true, value });
const fail = (statusCode: string, message: string, fields: string[]): Conversion => ({
  ok: false,
  error: { statusCode, message, fields },
});

const show = (raw: unknown): string => (typeof raw === 'string' ? raw : JSON.stringify(raw));

const wrongType = (field: FieldSchema, raw: unknown): Conversion =>
  fail('INVALID_TYPE_ON_FIELD_IN_RECORD', `${field.label}: value not of required type: ${show(raw)}`, [
    field.name,
  ]);

function parseDate(field: FieldSchema, raw: string): Conversion {
  const match = DATE.exec(raw) ?? DATETIME.exec(raw);
  if (!match) return wrongType(field, raw);
  const day = raw.slice(0, 10);
  const parsed = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== day)
    return wrongType(field, raw);
  return ok(day);
}

function parseDateTime(field: FieldSchema, raw: string): Conversion {
  const match = DATETIME.exec(raw);
  if (!match) return wrongType(field, raw);
  const [, day, hm = '00:00', ss = '00', fraction = '', zone = 'Z'] = match;
  const offset = zone === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
  const millis = fraction ? fraction.slice(0, 4).padEnd(4, '0') : '.000';
  const parsed = new Date(`${day}T${hm}:${ss}${millis}${offset}`);
  if (Number.isNaN(parsed.getTime()) || Number(hm.slice(0, 2)) > 23) return wrongType(field, raw);
  return ok(formatDateTime(parsed));
}

function checkNumber(field: FieldSchema, value: number, raw: unknown): Conversion {
  if (!Number.isFinite(value)) return wrongType(field, raw);
  if (field.type === 'int' && !Number.isInteger(value)) return wrongType(field, raw);
  const integerDigits = Math.trunc(Math.abs(value)).toString().length;
  if (field.precision > 0 && integerDigits > field.precision - field.scale && Math.trunc(value) !== 0) {
    return fail(
      'NUMBER_OUTSIDE_VALID_RANGE',
      `${field.label}: value outside of valid range on numeric field: ${show(raw)}`,
      [field.name],
    );
  }
  return ok(field.type === 'int' ? value : Number(value.toFixed(field.scale)));
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

function fromJson(field: FieldSchema, raw: unknown): Conversion {
  if (field.type === 'boolean') return typeof raw === 'boolean' ? ok(raw) : wrongType(field, raw);
  if (NUMBER_TYPES.has(field.type)) {
    return typeof raw === 'number' ? checkNumber(field, raw, raw) : wrongType(field, raw);
  }
  if (field.type === 'date') return typeof raw === 'string' ? parseDate(field, raw) : wrongType(field, raw);
  if (field.type === 'datetime')
    return typeof raw === 'string' ? parseDateTime(field, raw) : wrongType(field, raw);
  if (TEXT_TYPES.has(field.type)) {
    // Salesforce's JSON reader turns scalars into text; objects and arrays it refuses.
    if (typeof raw === 'string') return checkText(field, raw);
    if (typeof raw === 'number' || typeof raw === 'boolean') return checkText(field, String(raw));
    return wrongType(field, raw);
  }
  return wrongType(field, raw);
}

function fromCsv(field: FieldSchema, raw: unknown): Conversion {
  if (typeof raw !== 'string') return fromJson(field, raw);
  if (field.type === 'boolean') {
    const lower = raw.toLowerCase();
    if (lower === 'true' || lower === '1') return ok(true);
    if (lower === 'false' || lower === '0') return ok(false);
    return wrongType(field, raw);
  }
  if (NUMBER_TYPES.has(field.type)) {
    return CSV_NUMBER.test(raw) ? checkNumber(field, Number(raw), raw) : wrongType(field, raw);
  }
  if (field.type === 'date') return parseDate(field, raw);
  if (field.type === 'datetime') return parseDateTime(field, raw);
  return checkText(field, raw);
}

/**
 * Converts and checks one non-null value for a field. `source` says whether it came from Collections
 * JSON (must already have the right JSON type) or a Bulk CSV cell (a string converted per type).
 *
 * @example
 * convertValue(numberOfEmployees, '12', 'csv'); // { ok: true, value: 12 }
 * convertValue(numberOfEmployees, '12', 'json'); // { ok: false, error: { statusCode: 'INVALID_TYPE_ON_FIELD_IN_RECORD', … } }
 */
export function convertValue(field: FieldSchema, raw: unknown, source: 'json' | 'csv'): Conversion {
  return source === 'csv' ? fromCsv(field, raw) : fromJson(field, raw);
}
