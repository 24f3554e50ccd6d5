// One invocation of the sink handler and what its steps share: the ledger over the partitions'
// checkpoints, the redelivery budget (what is handed back to Kafka, what waits behind it, what has run
// out of deliveries), the outcome sink, and the invocation's time.
import { randomUUID } from 'node:crypto';
import type { Executions } from '../bulk/executions.ts';
import type { BulkStep } from '../bulk/job-setup.ts';
import type { JobStore } from '../bulk/store.ts';
import { type Ledger, noteDelivery, openLedger } from '../checkpoint/ledger.ts';
import { type CheckpointScope, type CheckpointStore, createPersister } from '../checkpoint/store.ts';
import type { SinkConfig } from '../config/index.ts';
import { type SinkLogger, silentLogger } from '../logger.ts';
import type { OrgHealthStore } from '../org-health/health.ts';
import type { Outcome, OutcomeError } from '../outcomes/outcome.ts';
import { type OutcomeSubject, outcomeFrom, storedFailure, type Target } from '../outcomes/outcome-of.ts';
import type { OutcomePublisher } from '../outcomes/publisher.ts';
import { type KafkaRecord, partitionId } from '../records.ts';
import type { MappingIndex, ResolvedRecord } from '../resolve/resolve.ts';
import type { OrgCondition } from '../salesforce/index.ts';
import type { SalesforceClient } from '../salesforce/types.ts';

/** Steps after which a test can make the invocation crash, to prove redelivery is safe. */
export type Step = 'collections-call' | 'applied-saved' | 'publish' | BulkStep;

export interface SinkDeps {
  config: SinkConfig;
  mappings: MappingIndex;
  /** Scopes checkpoints together with the event's source: the consumer group id, or the mapping's id. */
  group: string;
  /**
   * The Salesforce client, or how to get it (the Lambda reads the credentials secret): a secret that
   * cannot be used is an org-wide condition like any refusal, so the stream is held, not failed.
   */
  salesforce: SalesforceClient | (() => Promise<SalesforceClient>);
  checkpoints: CheckpointStore;
  /** Shares an org-wide condition across concurrent invocations (paced retries); none: each on its own. */
  health?: OrgHealthStore;
  /**
   * How long an invocation may wait in all for an org-wide condition to clear before it hands its
   * partitions back. Default: as long as its deadline allows; the CLI and tests set 0.
   */
  holdMaxWaitMs?: number;
  jobs: JobStore;
  executions: Executions;
  publisher: OutcomePublisher;
  /** Epoch ms by which the invocation must have returned (the Lambda deadline). */
  deadline: number;
  /** This invocation's id (Lambda's request id); a random one by default. */
  invocationId?: string;
  /**
   * Whether an earlier invocation has ended, when the runtime can tell (the local event source can;
   * Lambda cannot, so a write's sender counts as possibly running until its deadline).
   */
  hasEnded?: (invocationId: string) => boolean;
  now?: () => Date;
  logger?: SinkLogger;
  /** Called after each step; throwing from it simulates a crash there. */
  after?: (step: Step) => void | Promise<void>;
  /**
   * How long records wait inside the invocation — for their partition's earlier bulk job, or for an
   * earlier invocation still writing them — before they are handed back (each hand-back costs one of
   * the event source mapping's retries). Default 30 s, checked every 2 s, never past the deadline.
   */
  bulkBarrier?: { maxWaitMs: number; intervalMs: number };
  /**
   * How often, at most, one process checks that every bulk unit of the group being followed has a
   * running execution (default 5 minutes; the barrier checks the units it waits for on every delivery).
   */
  bulkSweepIntervalMs?: number;
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
  /** Records failed because their mapping cannot work with the org, by code (UNKNOWN_SOBJECT, …). */
  invalidMappings: Record<string, number>;
}

export interface BatchResult {
  batchItemFailures: BatchItemFailure[];
  summary: BatchSummary;
  /** Set when an org-wide condition held the batch: nothing failed for it, every record waits. */
  held?: OrgCondition;
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

/** Which partitions go back to Kafka, from which offset, and the budget of records that keep failing. */
export interface Redelivery {
  /** Partition → first offset handed back to Kafka. */
  readonly handedBack: ReadonlyMap<string, number>;
  /** Hands a partition back from this record on (the lowest offset asked for wins). Not counted. */
  handBack(record: KafkaRecord | ResolvedRecord | { topic: string; partition: number; offset: number }): void;
  /** Whether a record waits because its partition is handed back at or before it. */
  isWithheld(record: { topic: string; partition: number; offset: number }): boolean;
  /**
   * A retryable failure of the record's own: counted against its redelivery budget. Within budget its
   * partition is handed back from it; past it the record's failed outcome is stored and returned.
   */
  retryLater(record: OutcomeSubject, error: OutcomeError, target: Target): Outcome | undefined;
}

/** Publishing: outcomes out, then their records `done`, durably (a crash after it publishes nothing again). */
export interface OutcomeSink {
  publish(outcomes: readonly Outcome[]): Promise<void>;
}

export interface InvocationTime {
  /** Whether so little is left that nothing new should start. */
  short(): boolean;
  /** The deadline to give a Salesforce call: the invocation's, less the reserve and `headroomMs`. */
  callDeadline(headroomMs?: number): number;
  /**
   * Waits while `blocked()` says so, inside one waiting window shared by the whole invocation; true when
   * the window closed with it still blocked.
   */
  waitWhile(blocked: () => Promise<boolean> | boolean): Promise<boolean>;
}

/** The deps of a running invocation: the Salesforce client resolved. */
export type InvocationDeps = Omit<SinkDeps, 'salesforce'> & { salesforce: SalesforceClient };

export interface Invocation {
  id: string;
  deps: InvocationDeps;
  config: SinkConfig;
  scope: CheckpointScope;
  log: SinkLogger;
  now: () => Date;
  /** The step hook, its throws marked as crashes. */
  after: ((step: Step) => Promise<void>) | undefined;
  summary: BatchSummary;
  ledger: Ledger;
  redelivery: Redelivery;
  outcomes: OutcomeSink;
  time: InvocationTime;
  /** An org-wide condition met on the way: nothing more starts, every unfinished record is handed back. */
  held: OrgCondition | undefined;
  hold(condition: OrgCondition): void;
}

/**
 * Opens an invocation over its records: loads their partitions' checkpoints and notes the delivery
 * (a partition whose log was replaced starts over).
 *
 * @example
 * const invocation = await openInvocation(deps, scopeOf(deps.group, event), records);
 */
export async function openInvocation(
  deps: InvocationDeps,
  scope: CheckpointScope,
  records: readonly KafkaRecord[],
): Promise<Invocation> {
  const now = deps.now ?? (() => new Date());
  const log = deps.logger ?? silentLogger;
  const { config } = deps;
  const partitions = [...new Set(records.map(partitionId))];
  const checkpoints = await deps.checkpoints.load(scope, partitions);
  const persister = createPersister(deps.checkpoints, scope, checkpoints);
  for (const partition of partitions) {
    const delivered = records.filter((r) => partitionId(r) === partition);
    if (noteDelivery(checkpoints.get(partition)!, delivered)) {
      log.warn(
        'partition log replaced: records at offsets the checkpoint had finished are newer than any seen before (was the topic re-created?); its checkpoint starts over',
        { partition },
      );
      persister.later([partition]);
    }
  }
  const ledger = openLedger(checkpoints, persister);
  const summary: BatchSummary = {
    records: records.length,
    skipped: 0,
    succeeded: 0,
    failed: 0,
    rejected: 0,
    tracked: 0,
    handedBack: 0,
    checkpointLag: 0,
    byTarget: {},
    invalidMappings: {},
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

  const handedBack = new Map<string, number>();
  const redelivery: Redelivery = {
    handedBack,
    handBack(record) {
      const partition = partitionId(record);
      const current = handedBack.get(partition);
      if (current === undefined || record.offset < current) handedBack.set(partition, record.offset);
    },
    isWithheld(record) {
      const from = handedBack.get(partitionId(record));
      return from !== undefined && record.offset >= from;
    },
    retryLater(record, error, target) {
      const entry = ledger.markRetrying(record, error, config.maxRedeliveries, (deliveries) =>
        storedFailure(target, error, deliveries, now()),
      );
      if (entry.state === 'applied' && 'outcome' in entry) return outcomeFrom(record, entry.outcome);
      redelivery.handBack(record);
      return undefined;
    },
  };

  const outcomes: OutcomeSink = {
    async publish(list) {
      if (list.length === 0) return;
      await deps.publisher.publish(list);
      await after?.('publish');
      for (const o of list) {
        ledger.markDone(o);
        summary[o.status]++;
        const target = `${o.sobject ?? '(unmapped)'}|${o.mode ?? ''}`;
        summary.byTarget[target] ??= { succeeded: 0, failed: 0, rejected: 0 };
        summary.byTarget[target][o.status]++;
      }
      await ledger.save(list);
    },
  };

  const { maxWaitMs, intervalMs } = deps.bulkBarrier ?? { maxWaitMs: 30_000, intervalMs: 2_000 };
  let windowEnds: number | undefined;
  const time: InvocationTime = {
    short: () => deps.deadline - Date.now() < RESERVE_MS,
    callDeadline: (headroomMs = 0) => deps.deadline - RESERVE_MS - headroomMs,
    async waitWhile(blocked) {
      windowEnds ??= Math.min(Date.now() + maxWaitMs, deps.deadline - RESERVE_MS - 60_000);
      while (await blocked()) {
        if (Date.now() + intervalMs > windowEnds) return true;
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
      }
      return false;
    },
  };

  const invocation: Invocation = {
    id: deps.invocationId ?? randomUUID(),
    deps,
    config,
    scope,
    log,
    now,
    after,
    summary,
    ledger,
    redelivery,
    outcomes,
    time,
    held: undefined,
    hold(condition) {
      invocation.held ??= condition;
    },
  };
  return invocation;
}
