// Builds Lambda Kafka events (the MSK shape) from plain records, for local runs, tests and
// `sfsink events generate`.
import type { LambdaKafkaEvent, LambdaKafkaRecord } from '../../lib/decode/index.ts';

export interface EventRecordInput {
  topic: string;
  partition: number;
  offset: number;
  key?: string | null;
  /** An object or array is JSON-encoded; a string or Buffer is sent as its bytes; null is a tombstone. */
  value: unknown;
  headers?: Record<string, string>;
  timestamp?: number;
}

const CLUSTER_ARN =
  'arn:aws:kafka:us-east-1:123456789012:cluster/local-cluster/00000000-0000-0000-0000-000000000000-1';

function bytes(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/**
 * Wraps records as the event Lambda delivers from an MSK event source mapping.
 *
 * @example
 * mskEvent([{ topic: 'leads', partition: 0, offset: 0, key: 'k', value: { LastName: 'Doe' } }]);
 */
export function mskEvent(records: readonly EventRecordInput[]): LambdaKafkaEvent {
  const grouped: Record<string, LambdaKafkaRecord[]> = {};
  for (const r of records) {
    const out: LambdaKafkaRecord = {
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      timestamp: r.timestamp ?? 1_700_000_000_000 + r.offset,
      timestampType: 'CREATE_TIME',
      value: r.value === null ? null : bytes(r.value).toString('base64'),
      headers: Object.entries(r.headers ?? {}).map(([k, v]) => ({ [k]: [...Buffer.from(v, 'utf8')] })),
    };
    if (r.key !== undefined && r.key !== null) out.key = Buffer.from(r.key, 'utf8').toString('base64');
    const partitionKey = `${r.topic}-${r.partition}`;
    grouped[partitionKey] ??= [];
    grouped[partitionKey].push(out);
  }
  return {
    eventSource: 'aws:kafka',
    eventSourceArn: CLUSTER_ARN,
    bootstrapServers: 'b-1.local-cluster.kafka.us-east-1.amazonaws.com:9098',
    records: grouped,
  };
}
