// Per-partition progress of the sink, kept in DynamoDB so a redelivered record is never applied twice.
//
// The event source mapping redelivers a partition from the first offset the handler reports failed (or
// the whole batch when the handler throws). Records of one partition may finish out of offset order
// (the planner runs unrelated records in different stages), so a single "last offset" is not enough:
// the checkpoint keeps a watermark (every offset ≤ it is finished) and one entry per offset above it
// that is not plain "not started".
//
// Entry states, in the order a record moves through them:
//   retrying a retryable failure handed the record back to Kafka `deliveries` times (bounded)
//   sent     a Salesforce write carrying the record was sent; whether it took effect is unknown
//   submitting  the record is in a bulk unit whose intent is recorded and whose job is being set up
//   applied  Salesforce answered (success or a final failure); the outcome is not yet published
//   tracked  the record is in a bulk job that is recorded and being polled; its outcome comes later
//   done     the outcome is published
// `tracked` and `done` are finished: a redelivery skips them.
import type { OutcomeError } from '../outcomes/outcome.ts';

/** The part of a write result needed to publish the outcome again after a crash. */
export interface StoredResult {
  status: 'succeeded' | 'failed';
  salesforceId?: string;
  created?: boolean;
  errors: OutcomeError[];
  attempts: number;
  /** When the outcome was decided (ISO): a re-publication after a crash says the same. */
  at?: string;
}

export type Entry =
  | { state: 'sent' }
  | { state: 'retrying'; deliveries: number; lastError: OutcomeError }
  | { state: 'applied'; result: StoredResult }
  | {
      state: 'submitting';
      unitKey: string /** retryable failures before this attempt */;
      deliveries?: number;
    }
  | { state: 'tracked'; jobId: string }
  | { state: 'done' };

export interface PartitionCheckpoint {
  /** `topic-partition` */
  partition: string;
  /** Every offset at or below it is finished. -1 before the first record. */
  watermark: number;
  entries: Map<number, Entry>;
  /** Bulk jobs holding records of this partition that have not finished yet. */
  bulkJobs: string[];
  /** Optimistic-lock version: a write succeeds only if nobody wrote since this was read. */
  version: number;
}

export function emptyCheckpoint(partition: string): PartitionCheckpoint {
  return { partition, watermark: -1, entries: new Map(), bulkJobs: [], version: 0 };
}

export function isFinished(checkpoint: PartitionCheckpoint, offset: number): boolean {
  if (offset <= checkpoint.watermark) return true;
  const state = checkpoint.entries.get(offset)?.state;
  return state === 'done' || state === 'tracked';
}

/**
 * Moves the watermark over the finished offsets directly above it and forgets their entries. `done`
 * entries are dropped as the watermark passes; `tracked` ones too (the bulk job's own record in the job
 * store holds what the poller needs). Offsets between the watermark and the first entry are not
 * finished, so the watermark stops there unless `delivered` says they were all seen and finished.
 *
 * @example
 * advance(checkpoint, [5, 6, 7]); // offsets the handler saw in this batch, in order
 */
export function advance(checkpoint: PartitionCheckpoint, delivered: readonly number[]): void {
  const seen = [...delivered].sort((a, b) => a - b);
  for (const offset of seen) {
    if (offset <= checkpoint.watermark) continue;
    if (!isFinished(checkpoint, offset)) break;
    // Offsets Kafka never delivers (compaction, transaction markers) leave gaps: a delivered offset that
    // is finished moves the watermark to it when every delivered offset before it is finished.
    checkpoint.watermark = offset;
    checkpoint.entries.delete(offset);
  }
  for (const offset of [...checkpoint.entries.keys()]) {
    if (offset <= checkpoint.watermark) checkpoint.entries.delete(offset);
  }
}

/** Entries as compact JSON: `{offset: [state, payload?]}`. */
export function encodeEntries(entries: ReadonlyMap<number, Entry>): string {
  const out: Record<string, unknown> = {};
  for (const [offset, entry] of entries) {
    if (entry.state === 'applied') out[offset] = ['a', entry.result];
    else if (entry.state === 'tracked') out[offset] = ['t', entry.jobId];
    else if (entry.state === 'submitting')
      out[offset] = entry.deliveries ? ['b', entry.unitKey, entry.deliveries] : ['b', entry.unitKey];
    else if (entry.state === 'retrying') out[offset] = ['r', entry.deliveries, entry.lastError];
    else out[offset] = [entry.state === 'sent' ? 's' : 'd'];
  }
  return JSON.stringify(out);
}

export function decodeEntries(text: string): Map<number, Entry> {
  const parsed = JSON.parse(text) as Record<string, [string, ...unknown[]]>;
  const entries = new Map<number, Entry>();
  for (const [offset, [state, payload, ...rest]] of Object.entries(parsed)) {
    const entry: Entry =
      state === 'a'
        ? { state: 'applied', result: payload as StoredResult }
        : state === 'b'
          ? rest[0] === undefined
            ? { state: 'submitting', unitKey: payload as string }
            : { state: 'submitting', unitKey: payload as string, deliveries: rest[0] as number }
          : state === 'r'
            ? { state: 'retrying', deliveries: payload as number, lastError: rest[0] as OutcomeError }
            : state === 't'
              ? { state: 'tracked', jobId: payload as string }
              : state === 's'
                ? { state: 'sent' }
                : { state: 'done' };
    entries.set(Number(offset), entry);
  }
  return entries;
}

/** Where checkpoints are kept. `save` fails with `CheckpointConflictError` if another writer got there first. */
export interface CheckpointStore {
  load(group: string, partitions: readonly string[]): Promise<Map<string, PartitionCheckpoint>>;
  save(group: string, checkpoint: PartitionCheckpoint): Promise<void>;
}

/**
 * Another invocation wrote this partition's checkpoint since this one read it (a timed-out invocation
 * still running while the redelivery runs). The older invocation must stop writing to Salesforce.
 */
export class CheckpointConflictError extends Error {
  override name = 'CheckpointConflictError';
  constructor(partition: string) {
    super(
      `checkpoint of ${partition} was written by another invocation; this one stops so a record is not applied twice (the event source mapping redelivers what is left)`,
    );
  }
}
