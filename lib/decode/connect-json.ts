// Kafka Connect's JSON converter with schemas enabled wraps each value as {schema, payload}. Logical
// types arrive as their physical encoding (Timestamp as epoch ms, Date as days since the epoch, Decimal
// as base64 big-endian bytes); Salesforce wants ISO-8601 dates and plain numbers. Decimals keep their
// exact digits (an exact number when a double cannot hold them); dates outside Salesforce's years
// 1700–4000 are refused rather than sent. Converted structs and maps are null-prototype objects.
import { fieldObject, type JsonObject, type JsonValue } from '../records.ts';
import { exactOrNumber, isExactNumber } from './exact-number.ts';

interface ConnectSchema {
  type: string;
  name?: string;
  field?: string;
  fields?: ConnectSchema[];
  items?: ConnectSchema;
  values?: ConnectSchema;
  parameters?: Record<string, string>;
}

const TIMESTAMP = 'org.apache.kafka.connect.data.Timestamp';
const DATE = 'org.apache.kafka.connect.data.Date';
const TIME = 'org.apache.kafka.connect.data.Time';
const DECIMAL = 'org.apache.kafka.connect.data.Decimal';
const DAY_MS = 86_400_000;

/**
 * Whether a parsed JSON value is a Connect envelope: exactly `schema` (with a `type`, or null: the
 * JsonConverter writes `"schema": null` for schemaless values) and `payload`.
 */
export function isConnectEnvelope(
  value: unknown,
): value is { schema: ConnectSchema | null; payload: JsonValue } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  if (!('schema' in value) || !('payload' in value) || Object.keys(value).length !== 2) return false;
  const schema = (value as { schema: unknown }).schema;
  if (schema === null) return true;
  return typeof schema === 'object' && typeof (schema as ConnectSchema).type === 'string';
}

/**
 * Thrown (and turned into a rejection by the caller) when a payload does not fit its schema, or a
 * logical value (a date) lies outside what Salesforce stores (`outOfRange`).
 */
export class LogicalTypeError extends Error {
  override name = 'LogicalTypeError';
  /** The payload path of the offending value, e.g. `payload.CreatedDate`. */
  readonly field: string;
  readonly outOfRange: boolean;
  constructor(message: string, field: string, outOfRange = false) {
    super(message);
    this.field = field.replace(/^payload\.?/, '') || 'payload';
    this.outOfRange = outOfRange;
  }
}

/** Salesforce stores dates and datetimes from 1700-01-01 to 4000-12-31 (UTC). */
export const MIN_DATE_MS = Date.UTC(1700, 0, 1);
export const MAX_DATE_MS = Date.UTC(4001, 0, 1) - 1;

function isoDateTime(ms: number, path: string, what: string): string {
  if (!Number.isFinite(ms) || ms < MIN_DATE_MS || ms > MAX_DATE_MS) {
    throw new LogicalTypeError(
      `${path} is a ${what} outside the years 1700–4000 that Salesforce stores (check its unit: Connect sends epoch milliseconds for Timestamp, days for Date)`,
      path,
      true,
    );
  }
  return new Date(ms).toISOString();
}

/** Decodes a Connect Decimal (base64 of a big-endian two's-complement unscaled integer), digits intact. */
function decimal(base64: string, scale: number, path: string): number | JsonValue {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length === 0) throw new LogicalTypeError(`${path} is a Decimal without bytes`, path);
  if (!Number.isInteger(scale) || scale < 0 || scale > 1000)
    throw new LogicalTypeError(`${path} is a Decimal with an invalid scale`, path);
  let unscaled = 0n;
  for (const byte of bytes) unscaled = (unscaled << 8n) | BigInt(byte);
  if (bytes[0]! & 0x80) unscaled -= 1n << BigInt(bytes.length * 8);
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const text = scale > 0 ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return exactOrNumber(negative ? `-${text}` : text)!;
}

/** The integer a Timestamp, Date or Time carries; one too large for a double is out of range. */
function integerOf(value: JsonValue, path: string, what: string): number {
  if (Number.isInteger(value)) return value as number;
  if (isExactNumber(value)) {
    throw new LogicalTypeError(`${path} is a ${what} far outside the years 1700–4000`, path, true);
  }
  throw new LogicalTypeError(`${path} is a ${what} but not an integer`, path);
}

const isPlainObject = (value: JsonValue): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !isExactNumber(value);

function convert(schema: ConnectSchema, value: JsonValue, path: string): JsonValue {
  if (value === null) return null;
  switch (schema.name) {
    case TIMESTAMP:
      return isoDateTime(integerOf(value, path, 'Timestamp'), path, 'Timestamp');
    case DATE:
      return isoDateTime(integerOf(value, path, 'Date') * DAY_MS, path, 'Date').slice(0, 10);
    case TIME: {
      const ms = integerOf(value, path, 'Time');
      if (ms < 0 || ms >= DAY_MS) {
        throw new LogicalTypeError(
          `${path} is a Time outside one day (0 to 86,399,999 milliseconds)`,
          path,
          true,
        );
      }
      return `${new Date(ms).toISOString().slice(11, 23)}Z`;
    }
    case DECIMAL:
      if (typeof value === 'number' || isExactNumber(value)) return value;
      if (typeof value !== 'string')
        throw new LogicalTypeError(`${path} is a Decimal but not base64 text`, path);
      return decimal(value, Number(schema.parameters?.scale ?? 0), path);
  }
  if (schema.type === 'struct' && schema.fields && isPlainObject(value)) {
    const out = fieldObject();
    const typed = new Map(schema.fields.map((f) => [f.field, f]));
    for (const [name, fieldValue] of Object.entries(value)) {
      const fieldSchema = typed.get(name);
      out[name] = fieldSchema ? convert(fieldSchema, fieldValue, `${path}.${name}`) : fieldValue;
    }
    return out;
  }
  if (schema.type === 'array' && schema.items && Array.isArray(value)) {
    return value.map((item, i) => convert(schema.items!, item, `${path}[${i}]`));
  }
  if (schema.type === 'map' && schema.values && isPlainObject(value)) {
    const out = fieldObject();
    for (const [k, v] of Object.entries(value)) out[k] = convert(schema.values, v, `${path}.${k}`);
    return out;
  }
  return value;
}

/**
 * Unwraps a Connect JSON envelope and converts its logical types to what Salesforce accepts.
 *
 * @example
 * unwrapConnectEnvelope({
 *   schema: { type: 'struct', fields: [{ field: 'CreatedDate', type: 'int64', name: 'org.apache.kafka.connect.data.Timestamp' }] },
 *   payload: { CreatedDate: 1670582776000 },
 * }); // { CreatedDate: '2022-12-09T10:46:16.000Z' }
 */
export function unwrapConnectEnvelope(envelope: {
  schema: ConnectSchema | null;
  payload: JsonValue;
}): JsonValue {
  return envelope.schema === null ? envelope.payload : convert(envelope.schema, envelope.payload, 'payload');
}
