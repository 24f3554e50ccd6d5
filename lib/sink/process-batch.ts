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
// The steps live beside this file: batch.ts (shared state), realtime.ts, bulk-submission.ts.
import { advance, type Entry, isFinished, type StoredResult } from '../checkpoint/checkpoint.ts';
import { decodeValue, type LambdaKafkaEvent, recordsOfEvent } from '../decode/index.ts';
import { type Outcome, type OutcomeError, rejectedOutcome } from '../outcomes/outcome.ts';
import { shapeResolved, sobjectsWithUnknownFields } from '../pipeline.ts';
import { planWrites } from '../plan/plan.ts';
import type { KafkaRecord, Rejection } from '../records.ts';
import { isRejection, partitionId } from '../records.ts';
import { type ResolvedRecord, resolveRecord } from '../resolve/resolve.ts';
import { runStage } from '../salesforce/index.ts';
import type { ShapedRecord } from '../shape/shape.ts';
import type { SObjectSchema } from '../shape/sobject-schema.ts';
import {
  type BatchResult,
  errorOf,
  openBatch,
  outcomeOf,
  RESERVE_MS,
  type SinkDeps,
  unknownInsert,
} from './batch.ts';
import { bulkSubmission } from './bulk-submission.ts';
import { writeRealtimeUnit } from './realtime.ts';

export {
  type BatchItemFailure,
  type BatchResult,
  type BatchSummary,
  InjectedCrash,
  outcomeOf,
  type SinkDeps,
  type Step,
} from './batch.ts';

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
  const { config, group } = deps;
  const records = recordsOfEvent(event);
  const partitions = [...new Set(records.map(partitionId))];
  const batch = openBatch(deps, records.length, await deps.checkpoints.load(group, partitions));
  const { summary, checkpointOf, persist, handBack, now, log } = batch;
  const bulk = bulkSubmission(batch);

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
  /** Describes the sObjects; true when any schema changed. */
  const describe = async (names: Iterable<string>, options?: { refresh: boolean }) => {
    let changed = false;
    await Promise.all(
      [...names].map(async (sobject) => {
        try {
          const schema = await deps.salesforce.schemaOf(
            sobject,
            { deadline: deps.deadline - RESERVE_MS },
            options,
          );
          changed ||= schemas.get(sobject) !== schema;
          schemas.set(sobject, schema);
        } catch (error) {
          describeFailures.set(sobject, errorOf(error, 'DESCRIBE_FAILED'));
        }
      }),
    );
    return changed;
  };
  await describe(sobjects);
  const prepareItem = (record: KafkaRecord): Item => {
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
  };
  let items: Item[] = pending.map(prepareItem);
  // Schema drift: a field the cached describe lacks gets one fresh describe before its record is rejected.
  const drifted = sobjectsWithUnknownFields(
    items.map((i) => i.prepared),
    deps.mappings,
  );
  if (drifted.length > 0 && (await describe(drifted, { refresh: true }))) items = pending.map(prepareItem);

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
        const final = batch.retryLater(item.partition, prepared.waitingForDescribe, prepared.failure);
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
  await batch.publishAndFinish(immediate);

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

  // 4. Resume bulk units whose submission an earlier invocation started.
  for (const [unitKey, unitRecords] of resumable) {
    const stored = await deps.jobs.get(unitKey);
    await bulk.resume(unitKey, stored, unitRecords);
  }

  // 5. Plan and run the rest, stage by stage.
  const plan = planWrites(toPlan, { bulkUnitSize: config.bulk.batchSize });
  for (const stage of plan.stages) {
    const realtime = stage.filter((u) => u.group.mode === 'realtime');
    const bulkUnits = stage.filter((u) => u.group.mode === 'bulk');
    // Fence: a conditional checkpoint write proves no newer invocation owns these partitions before
    // anything is sent (an older one still running after a timeout must not overwrite newer changes).
    if (realtime.length > 0) await persist.now(new Set(realtime.flatMap((u) => u.records.map(partitionId))));
    const settled = await runStage(
      realtime,
      (unit) => writeRealtimeUnit(batch, replay, unit),
      config.maxInFlight,
    );
    const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
    for (const unit of bulkUnits) await bulk.submit(unit);
  }

  // 6. Nothing unfinished may be acknowledged: anything neither finished nor handed back yet (a path
  //    that should not exist) is handed back here, loudly.
  for (const item of items) {
    if (!isFinished(checkpointOf(item.partition), item.record.offset) && !batch.isWithheld(item.record)) {
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

  const batchItemFailures = [...batch.handedBack].map(([partition, offset]) => ({
    itemIdentifier: { partition, offset },
  }));
  summary.handedBack = items.filter(
    (i) => batch.isWithheld(i.record) && !isFinished(checkpointOf(i.partition), i.record.offset),
  ).length;
  log.info('batch processed', { ...summary, handedBackPartitions: batchItemFailures.length });
  return { batchItemFailures, summary };
}

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
