// The state of one invocation that its steps share: the partitions' checkpoints and how they are
// saved, which partitions are handed back to Kafka, the redelivery budget, and publishing.
import type { ExecutionStarter } from '../bulk/executions.ts';
import type { JobStore } from '../bulk/job-store.ts';
import type { CheckpointStore, PartitionCheckpoint, StoredResult } from '../checkpoint/checkpoint.ts';
import type { SinkConfig } from '../config/index.ts';
import type { Outcome, OutcomeError } from '../outcomes/outcome.ts';
import type { OutcomePublisher } from '../outcomes/publisher.ts';
import { partitionId } from '../records.ts';
import type { MappingIndex, ResolvedRecord } from '../resolve/resolve.ts';
import { SalesforceClientError } from '../salesforce/index.ts';
import type { RecordResult, SalesforceClient } from '../salesforce/types.ts';
import { type SinkLogger, silentLogger } from './logger.ts';

/** Steps after which a test can make the invocation crash, to prove redelivery is safe. */
export type Step =
  | 'collections-call'
  | 'applied-saved'
  | 'publish'
  | 'job-create'
  | 'upload'
  | 'close'
  | 'start-execution';

export interface SinkDeps {
  config: SinkConfig;
  mappings: MappingIndex;
  /** Scopes checkpoints: the consumer group id, or the event source mapping's id. */
  group: string;
  salesforce: SalesforceClient;
  checkpoints: CheckpointStore;
  jobs: JobStore;
  executions: ExecutionStarter;
  publisher: OutcomePublisher;
  /** Epoch ms by which the invocation must have returned (the Lambda deadline). */
  deadline: number;
  now?: () => Date;
  logger?: SinkLogger;
  /** Called after each step; throwing from it simulates a crash there. */
  after?: (step: Step) => void | Promise<void>;
  /**
   * How long a partition waits inside the invocation for its earlier bulk job before it is handed
   * back (each hand-back costs one of the event source mapping's retries). Default 30 s, checked every
   * 2 s, never past the deadline.
   */
  bulkBarrier?: { maxWaitMs: number; intervalMs: number };
}

export interface BatchItemFailure {
  itemIdentifier: { partition: string; offset: number };
}

export interface BatchSummary {
  records: number;
  skipped: number;
  succeeded: number;
  failed: number;
  rejected: number;
  /** Records handed to bulk jobs in this invocation (their outcomes come from the poller). */
  tracked: number;
  /** Records handed back to Kafka for a later attempt. */
  handedBack: number;
  /** The largest gap, over this batch's partitions, between the last offset delivered and the checkpoint. */
  checkpointLag: number;
  /** Outcomes by target, keyed `sobject|mode` (`(unmapped)|` for records of unmapped topics). */
  byTarget: Record<string, { succeeded: number; failed: number; rejected: number }>;
}

export interface BatchResult {
  batchItemFailures: BatchItemFailure[];
  summary: BatchSummary;
}

/** What the step hook threw, marked so that per-unit error handling lets it through. */
export class InjectedCrash extends Error {
  override name = 'InjectedCrash';
  constructor(step: Step, cause: unknown) {
    super(`crash after ${step}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

/** Time kept in reserve at the end of an invocation to save checkpoints and publish outcomes. */
export const RESERVE_MS = 8_000;

/** One invocation's shared state and the operations on it. */
export interface Batch {
  deps: SinkDeps;
  config: SinkConfig;
  group: string;
  log: SinkLogger;
  now: () => Date;
  /** The step hook, its throws marked as crashes. */
  after: ((step: Step) => Promise<void>) | undefined;
  summary: BatchSummary;
  checkpointOf(partition: string): PartitionCheckpoint;
  persist: Persister;
  /** Partition → first offset handed back to Kafka. */
  handedBack: ReadonlyMap<string, number>;
  /** Hands a partition back to Kafka from this offset (the lowest one asked for wins). */
  handBack(partition: string, offset: number): void;
  /** Whether a record waits because its partition is handed back at or before it. */
  isWithheld(record: { topic: string; partition: number; offset: number }): boolean;
  timeIsShort(): boolean;
  /**
   * Counts a retryable failure against the record's redelivery budget. Within budget the partition is
   * handed back from the record; past it the record fails with its last error (returned outcome).
   */
  retryLater(partition: string, record: ResolvedRecord, error: OutcomeError): Outcome | undefined;
  /** Publishes outcomes, then marks their records done (durably). */
  publishAndFinish(outcomes: Outcome[]): Promise<void>;
}

/**
 * Opens the shared state of one invocation over its loaded checkpoints.
 *
 * @example
 * const batch = openBatch(deps, records.length, await deps.checkpoints.load(group, partitions));
 */
export function openBatch(
  deps: SinkDeps,
  records: number,
  checkpoints: Map<string, PartitionCheckpoint>,
): Batch {
  const now = deps.now ?? (() => new Date());
  const { config, group } = deps;
  const summary: BatchSummary = {
    records,
    skipped: 0,
    succeeded: 0,
    failed: 0,
    rejected: 0,
    tracked: 0,
    handedBack: 0,
    checkpointLag: 0,
    byTarget: {},
  };
  const checkpointOf = (partition: string) => checkpoints.get(partition)!;
  const persist = createPersister(deps.checkpoints, group, checkpoints);
  const handedBack = new Map<string, number>();
  const handBack = (partition: string, offset: number) => {
    const current = handedBack.get(partition);
    if (current === undefined || offset < current) handedBack.set(partition, offset);
  };
  // A throw from the step hook stands for the process dying there: nothing may catch it as a failure.
  const after = deps.after
    ? async (step: Step) => {
        try {
          await deps.after!(step);
        } catch (cause) {
          throw new InjectedCrash(step, cause);
        }
      }
    : undefined;

  return {
    deps,
    config,
    group,
    log: deps.logger ?? silentLogger,
    now,
    after,
    summary,
    checkpointOf,
    persist,
    handedBack,
    handBack,
    isWithheld(r) {
      const from = handedBack.get(partitionId(r));
      return from !== undefined && r.offset >= from;
    },
    timeIsShort: () => deps.deadline - Date.now() < RESERVE_MS,
    retryLater(partition, record, error) {
      const checkpoint = checkpointOf(partition);
      const previous = checkpoint.entries.get(record.offset);
      const deliveries =
        (previous?.state === 'retrying' || previous?.state === 'submitting'
          ? (previous.deliveries ?? 0)
          : 0) + 1;
      if (deliveries > config.maxRedeliveries) {
        const result: StoredResult = {
          status: 'failed',
          errors: [error],
          attempts: deliveries,
          at: now().toISOString(),
        };
        checkpoint.entries.set(record.offset, { state: 'applied', result });
        persist.later([partition]);
        return outcomeOf(record, result, now());
      }
      // Kept short: the entry lives in the partition's checkpoint item, which must stay far below 400 KB.
      const lastError = { ...error, message: error.message.slice(0, 300) };
      checkpoint.entries.set(record.offset, { state: 'retrying', deliveries, lastError });
      persist.later([partition]);
      handBack(partition, record.offset);
      return undefined;
    },
    async publishAndFinish(outcomes) {
      if (outcomes.length === 0) return;
      await deps.publisher.publish(outcomes);
      await after?.('publish');
      const touched = new Set<string>();
      for (const o of outcomes) {
        const partition = `${o.topic}-${o.partition}`;
        checkpointOf(partition).entries.set(o.offset, { state: 'done' });
        touched.add(partition);
        summary[o.status]++;
        const target = `${o.sobject ?? '(unmapped)'}|${o.mode ?? ''}`;
        summary.byTarget[target] ??= { succeeded: 0, failed: 0, rejected: 0 };
        summary.byTarget[target][o.status]++;
      }
      await persist.now(touched);
    },
  };
}

export function storedOf(result: RecordResult): StoredResult {
  const stored: StoredResult = { status: result.status, errors: result.errors, attempts: result.attempts };
  if (result.salesforceId) stored.salesforceId = result.salesforceId;
  if (result.created !== undefined) stored.created = result.created;
  return stored;
}

export function unknownInsert(attempts: number): StoredResult {
  return {
    status: 'failed',
    attempts,
    errors: [
      {
        code: 'OUTCOME_UNKNOWN',
        message:
          'the insert was sent but its answer was lost (crash or connection loss); it is not sent again to avoid a duplicate: check whether the record exists, or configure externalIdField to make writes idempotent',
        fields: [],
      },
    ],
  };
}

export function notFound(sobject: string, field: string): StoredResult {
  return {
    status: 'failed',
    attempts: 1,
    errors: [{ code: 'NOT_FOUND', message: `no ${sobject} has this ${field}`, fields: [field] }],
  };
}

export function errorOf(error: unknown, code: string): OutcomeError {
  const e = error as { errorCode?: string; code?: string; message?: string; fields?: string[] };
  const known = error instanceof SalesforceClientError ? (e.errorCode ?? e.code) : e.errorCode;
  return { code: known ?? code, message: e.message ?? String(error), fields: e.fields ?? [] };
}

/** The outcome of a shaped record from its write result. */
export function outcomeOf(record: ResolvedRecord, result: StoredResult, now: Date): Outcome {
  const outcome: Outcome = {
    status: result.status,
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    key: record.key,
    sobject: record.mapping.sobject,
    operation: record.operation,
    mode: record.mapping.mode,
    errors: result.errors,
    attempts: result.attempts,
    timestamp: result.at ?? now.toISOString(),
  };
  const id = result.salesforceId ?? (record.address?.field === 'Id' ? record.address.value : undefined);
  if (id) outcome.salesforceId = id;
  if (result.created !== undefined) outcome.created = result.created;
  return outcome;
}

/**
 * Saves partition checkpoints, one write at a time per partition; a save asked for while another is
 * queued joins it (the queued write captures every change made before it starts).
 */
export type Persister = ReturnType<typeof createPersister>;

export function createPersister(
  store: CheckpointStore,
  group: string,
  checkpoints: Map<string, PartitionCheckpoint>,
) {
  const running = new Map<string, Promise<void>>();
  const queued = new Map<string, Promise<void>>();
  const dirty = new Set<string>();
  const one = (partition: string): Promise<void> => {
    dirty.delete(partition);
    const waiting = queued.get(partition);
    if (waiting) return waiting;
    const previous = running.get(partition) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(() => {
        queued.delete(partition);
        const write = store.save(group, checkpoints.get(partition)!);
        running.set(partition, write);
        return write;
      });
    queued.set(partition, next);
    return next;
  };
  return {
    /** Saves now and waits: the changes are durable when it resolves. */
    now: async (partitions: Iterable<string>) => {
      await Promise.all([...new Set([...partitions, ...dirty])].map(one));
    },
    /** Remembers the partitions for the next save. */
    later: (partitions: Iterable<string>) => {
      for (const p of partitions) dirty.add(p);
    },
  };
}
