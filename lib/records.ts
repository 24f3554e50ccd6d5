// The record as it moves through the pipeline's pure stages, and the typed rejection any stage may
// turn it into. Stages never throw on bad input: they return a Rejection for that record.

/** Where a record sits in Kafka. Offsets fit in a double for any realistic topic (< 2^53). */
export interface Coordinates {
  topic: string;
  partition: number;
  offset: number;
}

export interface KafkaHeader {
  key: string;
  /** UTF-8 decoded; bytes that are not UTF-8 are replaced. */
  value: string;
}

/** A Kafka record as the event source delivered it, value still undecoded. */
export interface KafkaRecord extends Coordinates {
  timestamp: number;
  /** The key decoded as UTF-8, or null when the record has none. */
  key: string | null;
  headers: KafkaHeader[];
  /** Raw value bytes (base64-decoded), or null for a tombstone. */
  value: Buffer | null;
}

/**
 * A JSON number a double cannot hold exactly (beyond 2^53, more than 15 significant digits, out of the
 * double range), kept as its source text: a `JSON.rawJSON` value, which `JSON.stringify` writes
 * verbatim. See lib/decode/exact-number.ts.
 */
export interface ExactNumber {
  readonly rawJSON: string;
}

/**
 * A JSON object value: sObject fields plus PushTopic metadata (`_EventType`, `_ObjectType`). Decoded
 * values are built on null-prototype objects (see `fieldObject`), so `__proto__` and `constructor` are
 * plain keys.
 */
export type JsonObject = { [field: string]: JsonValue };

/**
 * The prototype of record objects: an empty object with a null prototype, frozen. Objects made on it
 * inherit nothing (no `__proto__` accessor, no `constructor`, immune to a polluted `Object.prototype`),
 * yet stay in V8's fast mode, where `Object.create(null)` objects fall back to slow dictionaries.
 */
const NO_PROTOTYPE = Object.freeze(Object.create(null) as object);
const RecordObject = function RecordObject() {} as unknown as new () => JsonObject;
(RecordObject as unknown as { prototype: object }).prototype = NO_PROTOTYPE;

/**
 * An empty record object (see NO_PROTOTYPE): `obj.__proto__ = x` sets an own key, as JSON.parse does.
 *
 * @example
 * const fields = fieldObject(); fields.__proto__ = 1; Object.keys(fields); // ['__proto__']
 */
export function fieldObject(): JsonObject {
  return new RecordObject();
}

export type JsonValue = string | number | boolean | null | ExactNumber | JsonValue[] | JsonObject;

/** A record whose value decoded to a JSON object. */
export interface DecodedRecord extends Omit<KafkaRecord, 'value'> {
  value: JsonObject;
}

/**
 * Every rejection code the pipeline can give, in the order the README lists them (a test compares the
 * two); `RejectionCode` is derived from it, so no stage can give a code missing here.
 *
 * @example
 * REJECTION_CODES.includes(outcome.errors[0].code as RejectionCode);
 */
export const REJECTION_CODES = [
  'INVALID_JSON',
  'NOT_AN_OBJECT',
  'EMPTY_VALUE',
  'UNMAPPED_TOPIC',
  'OBJECT_TYPE_MISMATCH',
  'MISSING_ID',
  'MISSING_EXTERNAL_ID',
  'UNKNOWN_EVENT_TYPE',
  'MALFORMED_ID',
  'INVALID_FIELD_NAME',
  'DUPLICATE_FIELD',
  'UNKNOWN_FIELD',
  'INVALID_FIELD_VALUE',
  'STRING_TOO_LONG',
  'NUMBER_OUTSIDE_VALID_RANGE',
  'VALUE_NOT_ENCODABLE',
] as const;

export type RejectionCode = (typeof REJECTION_CODES)[number];

/** Bad input: the record can never be written as it is, so it is reported and skipped. */
export interface Rejection {
  kind: 'rejection';
  code: RejectionCode;
  /** Says what is wrong with the record and, where it helps, what to change. Never echoes values. */
  message: string;
  /** The offending field names, where there are any. */
  fields: string[];
  record: Coordinates & { key: string | null };
}

/** Builds a rejection for a record (only its coordinates and key are kept). */
export function reject(
  record: Coordinates & { key: string | null },
  code: RejectionCode,
  message: string,
  fields: string[] = [],
): Rejection {
  const { topic, partition, offset, key } = record;
  return { kind: 'rejection', code, message, fields, record: { topic, partition, offset, key } };
}

export function isRejection(value: unknown): value is Rejection {
  return typeof value === 'object' && value !== null && (value as Rejection).kind === 'rejection';
}

/** `topic-partition`, the form Lambda's Kafka partial-batch response uses. */
export function partitionId(record: Coordinates): string {
  return `${record.topic}-${record.partition}`;
}
