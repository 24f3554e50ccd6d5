// One invocation of the sink: a Kafka batch in, Salesforce writes and outcomes out, and the
// partial-batch response that tells the event source mapping what to deliver again.
//
// Exactly once, step by step (see lib/checkpoint/checkpoint.ts for the entry states):
// - Finished records (at or below the watermark, `done`, `tracked`) are skipped on redelivery.
// - Rejections are pure: they are recomputed on redelivery, published, then marked `done`.
// - Realtime units: inserts and deletes are marked `sent` durably before the call. After the call,
//   every record's result (with the new Ids) is stored as `applied` before the outcomes are published,
//   then marked `done`. On redelivery an `applied` record is only published again, identically; it is
//   never written again. A `sent` insert may exist: it is looked up by an external id or unique field
//   it carries (found → succeeded, not found → sent again); an insert with no such field is not sent
//   again and fails with OUTCOME_UNKNOWN. A `sent` delete is sent again and "already deleted" counts as
//   success. Updates and upserts interrupted before their results were stored are idempotent and
//   simply replayed. The window left: an insert without any unique field whose answer was lost (crash
//   or connection loss after the request went out) is reported OUTCOME_UNKNOWN, never duplicated. A
//   mapping with `externalIdField` makes creates upserts and has no such window.
//   Outcomes are published before their records are marked `done`: a crash in between publishes them
//   again on redelivery (at least once, identical; consumers and FIFO queues deduplicate by
//   topic/partition/offset).
// - Bulk units: intent (job store + `submitting` entries) → create → upload → close → start the poller
//   execution (named after the job) → `tracked`. A redelivery resumes a unit from its stored state.
// - A retryable failure hands the record's partition back from its offset; later records of that
//   partition are withheld (order per key), and after `maxRedeliveries` the record fails for good.

import type { ExecutionStarter } from '../bulk/executions.ts';
import {
  type BulkUnitItem,
  type CorrelationRow,
  type JobStore,
  matchColumnsFor,
  rowMatchKey,
  UnitStateConflictError,
  unitKeyOf,
} from '../bulk/job-store.ts';
import { submitUnit } from '../bulk/submit.ts';
import {
  advance,
  CheckpointConflictError,
  type CheckpointStore,
  type Entry,
  isFinished,
  type PartitionCheckpoint,
  type StoredResult,
} from '../checkpoint/checkpoint.ts';
import type { SinkConfig } from '../config/index.ts';
import { csvCells, encodeCsv } from '../csv/index.ts';
import { decodeValue, type LambdaKafkaEvent, recordsOfEvent } from '../decode/index.ts';
import { type Outcome, type OutcomeError, rejectedOutcome } from '../outcomes/outcome.ts';
import type { OutcomePublisher } from '../outcomes/publisher.ts';
import { shapeResolved } from '../pipeline.ts';
import { planWrites, type WriteUnit } from '../plan/plan.ts';
import type { KafkaRecord, Rejection } from '../records.ts';
import { isRejection, partitionId } from '../records.ts';
import { type MappingIndex, type ResolvedRecord, resolveRecord } from '../resolve/resolve.ts';
import {
  AuthenticationError,
  CredentialsError,
  DailyApiLimitError,
  InsecureUrlError,
  runStage,
  SalesforceClientError,
  SessionRejectedError,
} from '../salesforce/index.ts';
import type { RecordResult, SalesforceClient } from '../salesforce/types.ts';
import type { ShapedRecord } from '../shape/shape.ts';
import type { SObjectSchema } from '../shape/sobject-schema.ts';
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
const RESERVE_MS = 8_000;
const ALREADY_DELETED = new Set(['ENTITY_IS_DELETED', 'INVALID_CROSS_REFERENCE_KEY', 'NOT_FOUND']);

interface Item {
  record: KafkaRecord;
  partition: string;
  entry: Entry | undefined;
  /** Shaped for writing, rejected, or — while its sObject cannot be described — only resolved. */
  prepared: ShapedRecord | Rejection | { waitingForDescribe: ResolvedRecord; failure: OutcomeError };
}

/**
 * Processes one Lambda Kafka event end to end.
 *
 * @example
 * export const handler = (event, context) =>
 *   processBatch(event, { ...deps, deadline: Date.now() + context.getRemainingTimeInMillis() });
 */
export async function processBatch(event: LambdaKafkaEvent, deps: SinkDeps): Promise<BatchResult> {
  const now = deps.now ?? (() => new Date());
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
  const log = deps.logger ?? silentLogger;
  const { config, group } = deps;
  const records = recordsOfEvent(event);
  const partitions = [...new Set(records.map(partitionId))];
  const checkpoints = await deps.checkpoints.load(group, partitions);
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
  };
  const checkpointOf = (partition: string) => checkpoints.get(partition)!;
  const persist = createPersister(deps.checkpoints, group, checkpoints);

  /** Partition → first offset handed back to Kafka. Records of the partition from there on wait. */
  const handedBack = new Map<string, number>();
  const handBack = (partition: string, offset: number) => {
    const current = handedBack.get(partition);
    if (current === undefined || offset < current) handedBack.set(partition, offset);
  };
  const isWithheld = (r: { topic: string; partition: number; offset: number }) => {
    const from = handedBack.get(partitionId(r));
    return from !== undefined && r.offset >= from;
  };
  const timeIsShort = () => deps.deadline - Date.now() < RESERVE_MS;
  /** Until when a bulk unit may wait for its partition's earlier job (set by the first one that waits). */
  let barrierUntil: number | undefined;

  // 1. Skip what is finished; describe the sObjects of the rest; run the pure stages.
  const pending = records.filter((r) => !isFinished(checkpointOf(partitionId(r)), r.offset));
  summary.skipped = records.length - pending.length;
  const schemas = new Map<string, SObjectSchema>();
  const describeFailures = new Map<string, OutcomeError>();
  const sobjects = new Set<string>();
  for (const r of pending) {
    const mapping = deps.mappings.get(r.topic);
    if (mapping) sobjects.add(mapping.sobject);
  }
  await Promise.all(
    [...sobjects].map(async (sobject) => {
      try {
        schemas.set(
          sobject,
          await deps.salesforce.schemaOf(sobject, { deadline: deps.deadline - RESERVE_MS }),
        );
      } catch (error) {
        describeFailures.set(sobject, errorOf(error, 'DESCRIBE_FAILED'));
      }
    }),
  );
  const items: Item[] = pending.map((record) => {
    const partition = partitionId(record);
    const entry = checkpointOf(partition).entries.get(record.offset);
    const decoded = decodeValue(record);
    const resolved = isRejection(decoded) ? decoded : resolveRecord(decoded, deps.mappings);
    if (isRejection(resolved)) return { record, partition, entry, prepared: resolved };
    // Without the describe, shaping would judge fields blind: such records wait for a working describe.
    const failure = describeFailures.get(resolved.mapping.sobject);
    if (failure) return { record, partition, entry, prepared: { waitingForDescribe: resolved, failure } };
    return {
      record,
      partition,
      entry,
      prepared: shapeResolved(resolved, schemas.get(resolved.mapping.sobject)),
    };
  });

  // Outcomes are published per step; `finish` marks their records done once the publish succeeded.
  const publishAndFinish = async (outcomes: Outcome[]) => {
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
  };

  // 2. Sort the rest. Records a describe failure blocks are retried later, like any retryable failure.
  const immediate: Outcome[] = [];
  const replay = new Set<ShapedRecord>();
  const resumable = new Map<string, ShapedRecord[]>();
  const uncertainInserts: ShapedRecord[] = [];
  const plannable: ShapedRecord[] = [];
  for (const item of items) {
    const { prepared, entry, record } = item;
    if (isRejection(prepared)) {
      const mapping = deps.mappings.get(record.topic);
      immediate.push(
        rejectedOutcome(prepared, mapping ? { sobject: mapping.sobject, mode: mapping.mode } : {}, now()),
      );
      continue;
    }
    if (entry?.state === 'applied') {
      const resolved = 'waitingForDescribe' in prepared ? prepared.waitingForDescribe : prepared;
      immediate.push(outcomeOf(resolved, entry.result, now()));
      continue;
    }
    if ('waitingForDescribe' in prepared) {
      // A write that may have happened keeps its marker: only a later delivery can settle it.
      if (entry?.state === 'sent' || entry?.state === 'submitting') handBack(item.partition, record.offset);
      else {
        const final = retryLater(item.partition, prepared.waitingForDescribe, prepared.failure);
        if (final) immediate.push(final);
      }
      continue;
    }
    if (entry?.state === 'submitting') {
      const list = resumable.get(entry.unitKey) ?? [];
      list.push(prepared);
      resumable.set(entry.unitKey, list);
      continue;
    }
    if (entry?.state === 'sent' && prepared.operation === 'insert') uncertainInserts.push(prepared);
    else if (entry?.state === 'sent') replay.add(prepared);
    plannable.push(prepared);
  }

  // 3. An insert sent before a crash or a lost answer may exist: look it up by a unique field it
  //    carries; found → it succeeded then; not found → send it again; no such field → outcome unknown.
  const settled = await settleUncertainInserts(uncertainInserts);
  for (const [record, result] of settled) immediate.push(outcomeOf(record, result, now()));
  const toPlan = plannable.filter((r) => !settled.has(r));
  await publishAndFinish(immediate);

  async function settleUncertainInserts(records: ShapedRecord[]): Promise<Map<ShapedRecord, StoredResult>> {
    const out = new Map<ShapedRecord, StoredResult>();
    const byLookup = new Map<string, { sobject: string; field: string; records: ShapedRecord[] }>();
    for (const r of records) {
      const field = lookupFieldOf(r, schemas.get(r.mapping.sobject));
      if (!field) {
        out.set(r, unknownInsert(1));
        continue;
      }
      const key = `${r.mapping.sobject}\u0000${field}`;
      const group = byLookup.get(key) ?? { sobject: r.mapping.sobject, field, records: [] };
      group.records.push(r);
      byLookup.set(key, group);
    }
    for (const { sobject, field, records: group } of byLookup.values()) {
      const ids = await deps.salesforce.resolveIds(
        sobject,
        field,
        group.map((r) => String(r.fields[field])),
        { deadline: deps.deadline - RESERVE_MS },
      );
      for (const r of group) {
        const id = ids.get(String(r.fields[field]));
        if (id) out.set(r, { status: 'succeeded', salesforceId: id, created: true, errors: [], attempts: 1 });
      }
    }
    return out;
  }

  /**
   * Counts a retryable failure against the record's redelivery budget. Within budget the partition is
   * handed back from the record; past it the record fails with its last error (returned outcome).
   */
  function retryLater(partition: string, record: ResolvedRecord, error: OutcomeError): Outcome | undefined {
    const checkpoint = checkpointOf(partition);
    const previous = checkpoint.entries.get(record.offset);
    const deliveries =
      (previous?.state === 'retrying' || previous?.state === 'submitting' ? (previous.deliveries ?? 0) : 0) +
      1;
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
  }

  // 4. Resume bulk units whose submission an earlier invocation started.
  for (const [unitKey, unitRecords] of resumable) {
    const stored = await deps.jobs.get(unitKey);
    await resumeBulkUnit(unitKey, stored, unitRecords);
  }

  // 5. Plan and run the rest, stage by stage.
  const plan = planWrites(toPlan, { bulkUnitSize: config.bulk.batchSize });
  for (const stage of plan.stages) {
    const realtime = stage.filter((u) => u.group.mode === 'realtime');
    const bulk = stage.filter((u) => u.group.mode === 'bulk');
    // Fence: a conditional checkpoint write proves no newer invocation owns these partitions before
    // anything is sent (an older one still running after a timeout must not overwrite newer changes).
    if (realtime.length > 0) await persist.now(new Set(realtime.flatMap((u) => u.records.map(partitionId))));
    const settled = await runStage(realtime, writeRealtimeUnit, config.maxInFlight);
    const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
    for (const unit of bulk) await submitBulkUnit(unit);
  }

  // 6. Nothing unfinished may be acknowledged: anything neither finished nor handed back yet (a path
  //    that should not exist) is handed back here, loudly.
  for (const item of items) {
    if (!isFinished(checkpointOf(item.partition), item.record.offset) && !isWithheld(item.record)) {
      log.error('unfinished record handed back', {
        topic: item.record.topic,
        partition: item.record.partition,
        offset: item.record.offset,
      });
      handBack(item.partition, item.record.offset);
    }
  }

  // 7. Move watermarks, save, and tell the event source mapping what to deliver again.
  const delivered = new Map<string, number[]>();
  for (const r of records) {
    const list = delivered.get(partitionId(r)) ?? [];
    list.push(r.offset);
    delivered.set(partitionId(r), list);
  }
  for (const [partition, offsets] of delivered) {
    advance(checkpointOf(partition), offsets);
    const last = Math.max(...offsets);
    summary.checkpointLag = Math.max(summary.checkpointLag, last - checkpointOf(partition).watermark);
  }
  await persist.now(partitions);

  const batchItemFailures = [...handedBack].map(([partition, offset]) => ({
    itemIdentifier: { partition, offset },
  }));
  summary.handedBack = items.filter(
    (i) => isWithheld(i.record) && !isFinished(checkpointOf(i.partition), i.record.offset),
  ).length;
  log.info('batch processed', { ...summary, handedBackPartitions: batchItemFailures.length });
  return { batchItemFailures, summary };

  // --- realtime -------------------------------------------------------------------------------------

  async function writeRealtimeUnit(planned: WriteUnit): Promise<void> {
    const records = planned.records.filter((r) => !isWithheld(r));
    if (records.length === 0) return;
    if (timeIsShort()) {
      for (const r of records) handBack(partitionId(r), r.offset);
      return;
    }
    const unit: WriteUnit = { ...planned, records };
    const operation = unit.group.operation;
    const guarded = operation === 'insert' || operation === 'delete';
    const touched = new Set(records.map(partitionId));
    const previous = records.map((r) => checkpointOf(partitionId(r)).entries.get(r.offset));
    if (guarded) {
      for (const r of records) checkpointOf(partitionId(r)).entries.set(r.offset, { state: 'sent' });
      await persist.now(touched);
    }
    // An insert attempt gets its full request timeout once started: none may start that could outlive us.
    const headroom = operation === 'insert' ? config.requestTimeout : 0;
    let results: RecordResult[];
    try {
      results = await deps.salesforce.writeUnit(unit, { deadline: deps.deadline - RESERVE_MS - headroom });
    } catch (error) {
      // writeUnit throws only org-wide refusals (daily limit, login refused) with nothing written:
      // the records were not sent after all.
      if (guarded) {
        records.forEach((r, i) => {
          const entries = checkpointOf(partitionId(r)).entries;
          const before = previous[i];
          if (before) entries.set(r.offset, before);
          else entries.delete(r.offset);
        });
        await persist.now(touched);
      }
      throw error;
    }
    await after?.('collections-call');

    const outcomes: Outcome[] = [];
    records.forEach((record, i) => {
      const partition = partitionId(record);
      let result: RecordResult = results[i]!;
      if (replay.has(record) && operation === 'delete' && result.status === 'failed') {
        // The delete was sent before a crash; "already deleted" means it took effect then.
        if (result.errors.every((e) => ALREADY_DELETED.has(e.code)))
          result = { ...result, status: 'succeeded', errors: [] };
      }
      if (result.status === 'failed' && result.retryable) {
        if (operation === 'insert' && result.errors.some((e) => e.code === 'RESPONSE_LOST')) {
          // Maybe created: stays `sent`, and the redelivery looks it up before sending it again.
          handBack(partition, record.offset);
          return;
        } else {
          const final = retryLater(
            partition,
            record,
            result.errors[0] ?? { code: 'RETRYABLE', message: '', fields: [] },
          );
          if (final) outcomes.push(final);
          return;
        }
      }
      const stored = { ...storedOf(result), at: now().toISOString() };
      checkpointOf(partition).entries.set(record.offset, { state: 'applied', result: stored });
      outcomes.push(outcomeOf(record, stored, now()));
    });
    // The results are durable before anything is published: after a crash from here on, the records
    // are never written again and their outcomes are re-published exactly as they were.
    await persist.now(touched);
    await after?.('applied-saved');
    await publishAndFinish(outcomes);
  }

  // --- bulk -----------------------------------------------------------------------------------------

  /**
   * Whether any partition of these records still has an earlier bulk job running after waiting a
   * bounded time for it.
   */
  async function waitsForEarlierJob(partitionsOfUnit: Set<string>): Promise<boolean> {
    const { maxWaitMs, intervalMs } = deps.bulkBarrier ?? { maxWaitMs: 30_000, intervalMs: 2_000 };
    // One waiting window per invocation, shared by every unit that has to wait.
    barrierUntil ??= Math.min(Date.now() + maxWaitMs, deps.deadline - RESERVE_MS - 60_000);
    const until = barrierUntil;
    while (await hasRunningJob(partitionsOfUnit)) {
      if (Date.now() + intervalMs > until) return true;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
    return false;
  }

  /** Forgets finished jobs of these partitions; true if any is still running. */
  async function hasRunningJob(partitionsOfUnit: Set<string>): Promise<boolean> {
    for (const partition of partitionsOfUnit) {
      const checkpoint = checkpointOf(partition);
      const running: string[] = [];
      for (const unitKey of checkpoint.bulkJobs) {
        const stored = await deps.jobs.get(unitKey);
        if (stored && stored.state !== 'done') running.push(unitKey);
      }
      if (running.length !== checkpoint.bulkJobs.length) {
        checkpoint.bulkJobs = running;
        persist.later([partition]);
      }
      if (running.length > 0) return true;
    }
    return false;
  }

  function handBackAll(records: readonly ShapedRecord[]) {
    for (const r of records) handBack(partitionId(r), r.offset);
  }

  async function submitBulkUnit(planned: WriteUnit): Promise<void> {
    let records = planned.records.filter((r) => !isWithheld(r));
    if (records.length === 0) return;
    // Order per key across jobs: a partition's next job starts when its previous one has finished.
    if (timeIsShort() || (await waitsForEarlierJob(new Set(records.map(partitionId))))) {
      handBackAll(records);
      return;
    }
    const { group: g } = planned;
    const outcomes: Outcome[] = [];
    if (g.externalIdField && g.operation !== 'upsert') {
      // Bulk update/delete by external id: the CSV needs Ids, found with one query per unit.
      const ids = await deps.salesforce.resolveIds(
        g.sobject,
        g.externalIdField,
        records.map((r) => r.address!.value),
        { deadline: deps.deadline - RESERVE_MS },
      );
      const found: ShapedRecord[] = [];
      for (const r of records) {
        const id = ids.get(r.address!.value);
        if (id === undefined) outcomes.push(outcomeOf(r, notFound(g.sobject, g.externalIdField), now()));
        else found.push({ ...r, fields: g.operation === 'update' ? { Id: id, ...r.fields } : { Id: id } });
      }
      records = found;
      await publishAndFinish(outcomes);
      if (records.length === 0) return;
    }
    const unitKey = unitKeyOf(group, records);
    const encoded = encodeCsv(records.map((r) => r.fields));
    const matchColumns = matchColumnsFor(g.operation, encoded.header, g.externalIdField);
    const rows: CorrelationRow[] = records.map((r) => ({
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      key: r.key,
      match: rowMatchKey(csvCells(r.fields, matchColumns)),
    }));
    const unitItem = await deps.jobs.putIntent(
      {
        unitKey,
        group,
        sobject: g.sobject,
        operation: g.operation,
        ...(g.externalIdField ? { externalIdField: g.externalIdField } : {}),
        matchColumns,
        records: records.length,
        createdAt: now().toISOString(),
      },
      rows,
    );
    for (const r of records) {
      const entries = checkpointOf(partitionId(r)).entries;
      const before = entries.get(r.offset);
      // The redelivery budget carries over into the submission.
      const deliveries = before?.state === 'retrying' ? before.deliveries : undefined;
      entries.set(r.offset, { state: 'submitting', unitKey, ...(deliveries ? { deliveries } : {}) });
    }
    await persist.now(new Set(records.map(partitionId)));
    await driveBulkUnitSafely(unitItem, records, encoded.text);
  }

  async function resumeBulkUnit(unitKey: string, stored: BulkUnitItem | undefined, records: ShapedRecord[]) {
    const complete =
      stored !== undefined && records.length === stored.records && unitKeyOf(group, records) === unitKey;
    const needsUpload = stored === undefined || stored.state === 'intent' || stored.state === 'created';
    // Update/delete by external id uploaded Ids resolved at submission, which the records don't carry.
    const resolvedIds = stored?.externalIdField !== undefined && stored.operation !== 'upsert';
    if (stored && ((complete && !resolvedIds) || !needsUpload)) {
      const text = needsUpload ? encodeCsv(records.map((r) => r.fields)).text : '';
      await driveBulkUnitSafely(stored, records, text);
      return;
    }
    // The unit cannot be rebuilt (its records came back in a different batch, or its CSV held resolved
    // Ids) and nothing reached Salesforce yet: forget it and plan its records afresh on the next delivery.
    if (stored?.jobId)
      await deps.salesforce.bulk.abort(stored.jobId, { deadline: deps.deadline - RESERVE_MS });
    if (stored) await deps.jobs.abandon(stored);
    for (const r of records) checkpointOf(partitionId(r)).entries.delete(r.offset);
    persist.later(new Set(records.map(partitionId)));
    handBackAll(records);
  }

  /**
   * Drives a bulk unit; a failure stays with this unit's records. Org-wide refusals and lost
   * ownership still fail the invocation.
   */
  async function driveBulkUnitSafely(unit: BulkUnitItem, records: readonly ShapedRecord[], csv: string) {
    try {
      await driveBulkUnit(unit, records, csv);
    } catch (error) {
      if (
        error instanceof InjectedCrash ||
        error instanceof CheckpointConflictError ||
        error instanceof UnitStateConflictError ||
        isOrgWide(error)
      ) {
        throw error;
      }
      const stored = await deps.jobs.get(unit.unitKey);
      const failure = errorOf(error, 'BULK_SUBMISSION_FAILED');
      log.warn('bulk submission failed', { unitKey: unit.unitKey, state: stored?.state, code: failure.code });
      if (stored && stored.state !== 'intent' && stored.state !== 'created' && stored.state !== 'uploaded') {
        // The job is processing: only following it failed. The redelivery resumes from here.
        handBackAll(records);
        return;
      }
      // Nothing will be processed: forget the unit (its job, if any, is aborted with whatever it got).
      if (stored?.jobId)
        await deps.salesforce.bulk
          .abort(stored.jobId, { deadline: deps.deadline - RESERVE_MS })
          .catch(() => undefined);
      if (stored) await deps.jobs.abandon(stored);
      const retryable = !(error instanceof SalesforceClientError) || error.retryable;
      const outcomes: Outcome[] = [];
      for (const r of records) {
        if (retryable) {
          const final = retryLater(partitionId(r), r, failure);
          if (final) outcomes.push(final);
        } else outcomes.push(outcomeOf(r, { status: 'failed', errors: [failure], attempts: 1 }, now()));
      }
      persist.later(new Set(records.map(partitionId)));
      await publishAndFinish(outcomes);
    }
  }

  /** Moves a bulk unit from its stored state to `started`, then tracks its records. */
  async function driveBulkUnit(unit: BulkUnitItem, records: readonly ShapedRecord[], csv: string) {
    // The slot is taken once the unit is recorded, so every held slot belongs to a recorded unit.
    if (
      unit.state === 'intent' &&
      !(await deps.jobs.acquireSlot(group, unit.unitKey, config.bulk.maxConcurrentJobs))
    ) {
      log.info('bulk job limit reached; partitions handed back', {
        unitKey: unit.unitKey,
        max: config.bulk.maxConcurrentJobs,
      });
      handBackAll(records);
      return;
    }
    // Job create is not idempotent and gets its full request timeout once started: keep it inside.
    const context = { deadline: deps.deadline - RESERVE_MS - config.requestTimeout };
    const { jobId, state } = await submitUnit(unit, csv, {
      bulk: deps.salesforce.bulk,
      jobs: deps.jobs,
      context,
      after,
    });
    if (state === 'closed') {
      await deps.executions.start(jobId, {
        unitKey: unit.unitKey,
        jobId,
        waitSeconds: Math.max(1, Math.round(config.bulk.pollInterval / 1000)),
        submittedAt: unit.createdAt,
      });
      await after?.('start-execution');
      await deps.jobs.advance(unit.unitKey, 'closed', 'started');
    }
    const touched = new Set<string>();
    for (const r of records) {
      const partition = partitionId(r);
      checkpointOf(partition).entries.set(r.offset, { state: 'tracked', jobId });
      const jobs = checkpointOf(partition).bulkJobs;
      if (!jobs.includes(unit.unitKey)) jobs.push(unit.unitKey);
      touched.add(partition);
    }
    summary.tracked += records.length;
    await persist.now(touched);
    log.info('bulk job submitted', {
      unitKey: unit.unitKey,
      jobId,
      sobject: unit.sobject,
      records: records.length,
    });
  }
}

// --- helpers ----------------------------------------------------------------------------------------

/** A field that identifies an inserted record in the target org (external id or unique), if the record has a value. */
function lookupFieldOf(record: ShapedRecord, schema: SObjectSchema | undefined): string | undefined {
  if (!schema) return undefined;
  for (const [name, value] of Object.entries(record.fields)) {
    if (value === null || typeof value === 'object' || value === '') continue;
    const field = schema.fields.get(name.toLowerCase());
    if (field && (field.externalId || field.unique)) return field.name;
  }
  return undefined;
}

function storedOf(result: RecordResult): StoredResult {
  const stored: StoredResult = { status: result.status, errors: result.errors, attempts: result.attempts };
  if (result.salesforceId) stored.salesforceId = result.salesforceId;
  if (result.created !== undefined) stored.created = result.created;
  return stored;
}

function unknownInsert(attempts: number): StoredResult & { retryable: boolean } {
  return {
    status: 'failed',
    retryable: false,
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

function notFound(sobject: string, field: string): StoredResult {
  return {
    status: 'failed',
    attempts: 1,
    errors: [{ code: 'NOT_FOUND', message: `no ${sobject} has this ${field}`, fields: [field] }],
  };
}

function errorOf(error: unknown, code: string): OutcomeError {
  const e = error as { errorCode?: string; code?: string; message?: string; fields?: string[] };
  const known = error instanceof SalesforceClientError ? (e.errorCode ?? e.code) : e.errorCode;
  return { code: known ?? code, message: e.message ?? String(error), fields: e.fields ?? [] };
}

/** Refusals that concern the whole org or the credentials, not a unit: the invocation fails. */
function isOrgWide(error: unknown): boolean {
  return (
    error instanceof DailyApiLimitError ||
    error instanceof AuthenticationError ||
    error instanceof SessionRejectedError ||
    error instanceof CredentialsError ||
    error instanceof InsecureUrlError
  );
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
function createPersister(
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
