// Lambda's Kafka event (MSK and self-managed Kafka share the shape) → records in delivery order.
import type { DecodedRecord, KafkaHeader, KafkaRecord, Rejection } from '../records.ts';
import { reject } from '../records.ts';
import { isConnectEnvelope, LogicalTypeError, unwrapConnectEnvelope } from './connect-json.ts';
import { isExactNumber, parseJsonExact } from './exact-number.ts';

/** One record as the event source mapping delivers it (key, value base64; header values as byte arrays). */
export interface LambdaKafkaRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp?: number;
  timestampType?: string;
  key?: string | null;
  value?: string | null;
  headers?: Array<Record<string, number[] | string>>;
}

/** The event Lambda passes for `aws:kafka` (MSK) and `SelfManagedKafka` event sources. */
export interface LambdaKafkaEvent {
  eventSource: string;
  eventSourceArn?: string;
  bootstrapServers?: string;
  records: Record<string, LambdaKafkaRecord[]>;
}

/** The event is not a Kafka event at all (a wiring mistake, not bad data): nothing can be attributed. */
export class InvalidEventError extends Error {
  override name = 'InvalidEventError';
}

const utf8 = new TextDecoder('utf-8', { fatal: false });
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function headerValue(raw: number[] | string): string {
  return typeof raw === 'string' ? raw : utf8.decode(Uint8Array.from(raw));
}

function decodeHeaders(headers: LambdaKafkaRecord['headers']): KafkaHeader[] {
  if (!Array.isArray(headers)) return [];
  const out: KafkaHeader[] = [];
  for (const header of headers) {
    for (const [key, value] of Object.entries(header)) out.push({ key, value: headerValue(value) });
  }
  return out;
}

/**
 * Flattens a Lambda Kafka event into records, partition by partition, each in offset order, each offset
 * once.
 * Throws `InvalidEventError` only when the event itself has no Kafka shape.
 *
 * @example
 * const records = recordsOfEvent(event); // [{ topic, partition, offset, key, headers, value: Buffer }]
 */
export function recordsOfEvent(event: LambdaKafkaEvent): KafkaRecord[] {
  if (
    typeof event !== 'object' ||
    event === null ||
    typeof event.records !== 'object' ||
    event.records === null
  ) {
    throw new InvalidEventError(
      'not a Kafka event: expected an object with "records" keyed by topic-partition',
    );
  }
  const out: KafkaRecord[] = [];
  // An offset is one record: delivered twice in one event (a retried fetch), it is handled once.
  const seen = new Set<string>();
  for (const [partitionKey, records] of Object.entries(event.records)) {
    if (!Array.isArray(records)) throw new InvalidEventError(`records["${partitionKey}"] is not an array`);
    const sorted = [...records].sort((a, b) => a.offset - b.offset);
    for (const r of sorted) {
      if (typeof r.topic !== 'string' || !Number.isInteger(r.partition) || !Number.isInteger(r.offset)) {
        throw new InvalidEventError(
          `a record in records["${partitionKey}"] lacks topic, partition or offset`,
        );
      }
      const coordinates = `${r.topic}\u0000${r.partition}\u0000${r.offset}`;
      if (seen.has(coordinates)) continue;
      seen.add(coordinates);
      out.push({
        topic: r.topic,
        partition: r.partition,
        offset: r.offset,
        timestamp: r.timestamp ?? 0,
        key: r.key == null ? null : utf8.decode(Buffer.from(r.key, 'base64')),
        headers: decodeHeaders(r.headers),
        value: r.value == null ? null : Buffer.from(r.value, 'base64'),
      });
    }
  }
  return out;
}

/**
 * Decodes a record's value to a JSON object: plain JSON, or a Kafka Connect JSON envelope whose
 * logical types are converted. Numbers a double cannot hold keep their exact digits (exact numbers);
 * every key is an own property, `__proto__` and `constructor` included (the stages read own keys only,
 * so neither a key nor a polluted `Object.prototype` can hide or add a field). Never throws: bad input
 * becomes a Rejection.
 *
 * @example
 * const decoded = decodeValue(record);
 * if (isRejection(decoded)) report(decoded); else use(decoded.value._EventType);
 */
export function decodeValue(record: KafkaRecord): DecodedRecord | Rejection {
  if (record.value === null || record.value.length === 0) {
    return reject(record, 'EMPTY_VALUE', 'the record has no value (a tombstone): nothing to write');
  }
  let parsed: unknown;
  try {
    parsed = parseJsonExact(strictUtf8.decode(record.value));
  } catch (error) {
    const why = error instanceof SyntaxError ? 'is not valid JSON' : 'is not valid UTF-8';
    return reject(record, 'INVALID_JSON', `the value ${why}: the sink expects a JSON object per record`);
  }
  if (isConnectEnvelope(parsed)) {
    try {
      parsed = unwrapConnectEnvelope(parsed);
    } catch (error) {
      if (error instanceof LogicalTypeError && error.outOfRange) {
        return reject(record, 'INVALID_FIELD_VALUE', error.message, [error.field]);
      }
      // Any other failure here is the envelope's fault (a schema of the wrong shape included): never throw.
      const why = error instanceof LogicalTypeError ? error.message : 'the schema is malformed';
      return reject(
        record,
        'INVALID_JSON',
        `the Connect envelope's payload does not match its schema: ${why}`,
      );
    }
    if (parsed === null)
      return reject(record, 'EMPTY_VALUE', 'the Connect envelope has a null payload: nothing to write');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || isExactNumber(parsed)) {
    const got =
      parsed === null
        ? 'null'
        : Array.isArray(parsed)
          ? 'an array'
          : isExactNumber(parsed)
            ? 'a number'
            : `a ${typeof parsed}`;
    return reject(record, 'NOT_AN_OBJECT', `the value is ${got}, not a JSON object of sObject fields`);
  }
  const { topic, partition, offset, timestamp, key, headers } = record;
  // JSON.parse makes every key an own property and takes no prototype from the data; the stages read
  // own keys only (Object.keys). A null prototype set here would cost a tenth of the pipeline's time:
  // it slows every later property access of the object.
  return { topic, partition, offset, timestamp, key, headers, value: parsed as DecodedRecord['value'] };
}
