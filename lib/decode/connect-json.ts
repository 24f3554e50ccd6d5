// Kafka Connect's JSON converter with schemas enabled wraps each value as {schema, payload}. Logical
// types arrive as their physical encoding (Timestamp as epoch ms, Date as days since the epoch, Decimal
// as base64 big-endian bytes); Salesforce wants ISO-8601 dates and plain numbers.
import type { JsonObject, JsonValue } from '../records.ts';

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

/** Thrown (and turned into a rejection by the caller) when a payload does not fit its schema. */
export class LogicalTypeError extends Error {
  override name = 'LogicalTypeError';
}

function isoDateTime(ms: number): string {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) throw new LogicalTypeError(`timestamp ${ms} is out of range`);
  return date.toISOString();
}

/** Decodes a Connect Decimal (base64 of a big-endian two's-complement unscaled integer) to a number. */
function decimal(base64: string, scale: number): number {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length === 0) throw new LogicalTypeError('decimal has no bytes');
  let unscaled = 0n;
  for (const byte of bytes) unscaled = (unscaled << 8n) | BigInt(byte);
  if (bytes[0]! & 0x80) unscaled -= 1n << BigInt(bytes.length * 8);
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const text = scale > 0 ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return Number(negative ? `-${text}` : text);
}

function convert(schema: ConnectSchema, value: JsonValue, path: string): JsonValue {
  if (value === null) return null;
  switch (schema.name) {
    case TIMESTAMP:
      if (typeof value !== 'number') throw new LogicalTypeError(`${path} is a Timestamp but not a number`);
      return isoDateTime(value);
    case DATE:
      if (typeof value !== 'number') throw new LogicalTypeError(`${path} is a Date but not a number`);
      return isoDateTime(value * DAY_MS).slice(0, 10);
    case TIME:
      if (typeof value !== 'number') throw new LogicalTypeError(`${path} is a Time but not a number`);
      return `${isoDateTime(value).slice(11, 23)}Z`;
    case DECIMAL:
      if (typeof value === 'number') return value;
      if (typeof value !== 'string') throw new LogicalTypeError(`${path} is a Decimal but not base64 text`);
      return decimal(value, Number(schema.parameters?.scale ?? 0));
  }
  if (schema.type === 'struct' && schema.fields && typeof value === 'object' && !Array.isArray(value)) {
    const out: JsonObject = {};
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
  if (schema.type === 'map' && schema.values && typeof value === 'object' && !Array.isArray(value)) {
    const out: JsonObject = {};
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
