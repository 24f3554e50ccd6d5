// `sfsink events generate`: JSON lines (one record value a line) → one MSK-shaped Lambda event. Keys
// come from a field of each record (inside a Kafka Connect envelope's payload too), and records with
// one key share a partition, as a Kafka producer's default partitioner would keep them.

import type { LambdaKafkaEvent } from '../../lib/decode/index.ts';
import { isConnectEnvelope } from '../../lib/decode/index.ts';
import { UsageError } from '../usage-error.ts';
import { type EventRecordInput, mskEvent } from './build-event.ts';

export interface GenerateOptions {
  topic?: string;
  /** As typed on the command line. */
  partitions?: string;
  keyField?: string;
  startOffset?: string;
}

/** A stable string hash (FNV-1a), so one key always lands in one partition. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A field of a record value (of a Connect envelope's payload), found case-insensitively as Salesforce does. */
function fieldOf(value: unknown, field: string): unknown {
  const record = isConnectEnvelope(value) ? value.payload : value;
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return undefined;
  const fields = record as Record<string, unknown>;
  if (field in fields) return fields[field];
  const lower = field.toLowerCase();
  const name = Object.keys(fields).find((k) => k.toLowerCase() === lower);
  return name === undefined ? undefined : fields[name];
}

/** Standard input that is one JSON document rather than JSON lines: what it is and what to do. */
function wholeDocumentMistake(text: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (Array.isArray(value))
    return "standard input is one JSON array, not JSON lines: put one record per line (e.g. jq -c '.[]' < file.json)";
  if (typeof value === 'object' && value !== null && 'records' in value && 'eventSource' in value)
    return 'standard input is already a Lambda Kafka event: pass the file to sfsink run --events';
  return 'standard input is one JSON document over several lines, not JSON lines: put each record on one line (e.g. jq -c . < file.json)';
}

function wholeNumber(text: string | undefined, fallback: number, min: number, flag: string): number {
  const n = text === undefined ? fallback : Number(text);
  if (text?.trim() === '' || !Number.isInteger(n) || n < min)
    throw new UsageError(`${flag} takes a whole number ≥ ${min}${text === undefined ? '' : `, got ${text}`}`);
  return n;
}

/**
 * Builds the event from JSON lines; `warnings` says what probably isn't what the user meant (a key
 * field no record has, values that are not objects). Mistakes are UsageErrors.
 *
 * @example
 * const { event } = generateEvent('{"Id":"a"}\n{"Id":"b"}\n', { topic: 'leads', partitions: '2', keyField: 'Id' });
 */
export function generateEvent(
  text: string,
  options: GenerateOptions,
): { event: LambdaKafkaEvent; warnings: string[] } {
  const topic = options.topic?.trim();
  if (!topic)
    throw new UsageError('events generate needs --topic <topic>: the Kafka topic the records are on');
  const partitions = wholeNumber(options.partitions, 1, 1, '--partitions');
  const start = wholeNumber(options.startOffset, 0, 0, '--start-offset');
  const lines = text
    .split('\n')
    .map((line, i) => ({ line, number: i + 1 }))
    .filter(({ line }) => line.trim() !== '');
  if (lines.length === 0)
    throw new UsageError(
      'standard input has no records: pipe JSON lines, one record value a line (sfsink events generate --topic t < records.jsonl)',
    );
  const warnings: string[] = [];
  const values = lines.map(({ line, number }) => {
    try {
      return JSON.parse(line) as unknown;
    } catch {
      throw new UsageError(
        wholeDocumentMistake(text) ??
          `line ${number} is not JSON: each line holds one record value, e.g. {"LastName": "Doe", "Company": "Acme"}`,
      );
    }
  });
  const notObjects = values.filter((v) => {
    const record = isConnectEnvelope(v) ? v.payload : v;
    return typeof record !== 'object' || record === null || Array.isArray(record);
  }).length;
  if (notObjects > 0)
    warnings.push(
      `${notObjects} of ${values.length} lines are not JSON objects: the sink will reject those records (NOT_AN_OBJECT)`,
    );

  const offsets = new Array<number>(partitions).fill(start);
  let keyless = 0;
  const records: EventRecordInput[] = values.map((value, i) => {
    const keyValue = options.keyField ? fieldOf(value, options.keyField) : undefined;
    if (options.keyField && (keyValue === undefined || keyValue === null || keyValue === '')) keyless++;
    const key =
      keyValue === undefined || keyValue === null || keyValue === ''
        ? null
        : typeof keyValue === 'object'
          ? JSON.stringify(keyValue)
          : String(keyValue);
    const partition = key === null ? i % partitions : hash(key) % partitions;
    return { topic, partition, offset: offsets[partition]!++, key, value };
  });
  if (options.keyField && keyless === values.length)
    warnings.push(
      `no record has the field "${options.keyField}" (--key-field): every key is null, records are spread over the partitions in turn; check the field's name`,
    );
  else if (options.keyField && keyless > 0)
    warnings.push(`${keyless} of ${values.length} records have no "${options.keyField}": their key is null`);
  return { event: mskEvent(records), warnings };
}
