// Writing one realtime unit with sObject Collections, with the markers that make a redelivery safe:
// inserts and deletes are marked `sent` before the call, every result is stored before its outcome is
// published.
import type { Outcome } from '../outcomes/outcome.ts';
import type { WriteUnit } from '../plan/plan.ts';
import { partitionId } from '../records.ts';
import type { RecordResult } from '../salesforce/types.ts';
import type { ShapedRecord } from '../shape/shape.ts';
import { type Batch, outcomeOf, RESERVE_MS, storedOf } from './batch.ts';

const ALREADY_DELETED = new Set(['ENTITY_IS_DELETED', 'INVALID_CROSS_REFERENCE_KEY', 'NOT_FOUND']);

/**
 * Writes a realtime unit (records of partitions already handed back are left for the redelivery).
 *
 * @example
 * await runStage(stage, (unit) => writeRealtimeUnit(batch, replay, unit), config.maxInFlight);
 */
export async function writeRealtimeUnit(
  batch: Batch,
  replay: ReadonlySet<ShapedRecord>,
  planned: WriteUnit,
): Promise<void> {
  const { deps, config, checkpointOf, persist, after, now } = batch;
  const records = planned.records.filter((r) => !batch.isWithheld(r));
  if (records.length === 0) return;
  if (batch.timeIsShort()) {
    for (const r of records) batch.handBack(partitionId(r), r.offset);
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
        batch.handBack(partition, record.offset);
        return;
      } else {
        const final = batch.retryLater(
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
  await batch.publishAndFinish(outcomes);
}
