// Submitting bulk units: the intent recorded, the job set up step by step, the poller started; one
// job at a time per partition; failures kept with the unit's own records.
import {
  type BulkUnitItem,
  type CorrelationRow,
  matchColumnsFor,
  rowMatchKey,
  UnitStateConflictError,
  unitKeyOf,
} from '../bulk/job-store.ts';
import { submitUnit } from '../bulk/submit.ts';
import { CheckpointConflictError } from '../checkpoint/checkpoint.ts';
import { csvCells, encodeCsv } from '../csv/index.ts';
import type { Outcome } from '../outcomes/outcome.ts';
import type { WriteUnit } from '../plan/plan.ts';
import { partitionId } from '../records.ts';
import { isOrgWide, SalesforceClientError } from '../salesforce/index.ts';
import type { ShapedRecord } from '../shape/shape.ts';
import { type Batch, errorOf, InjectedCrash, notFound, outcomeOf, RESERVE_MS } from './batch.ts';

/**
 * The bulk side of one invocation.
 *
 * @example
 * const bulk = bulkSubmission(batch);
 * for (const unit of stage) await bulk.submit(unit);
 */
export function bulkSubmission(batch: Batch) {
  const { deps, config, group, log, checkpointOf, persist, now, after, summary } = batch;
  /** Until when a bulk unit may wait for its partition's earlier job (set by the first one that waits). */
  let barrierUntil: number | undefined;

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
    for (const r of records) batch.handBack(partitionId(r), r.offset);
  }

  async function submitBulkUnit(planned: WriteUnit): Promise<void> {
    let records = planned.records.filter((r) => !batch.isWithheld(r));
    if (records.length === 0) return;
    // Order per key across jobs: a partition's next job starts when its previous one has finished.
    if (batch.timeIsShort() || (await waitsForEarlierJob(new Set(records.map(partitionId))))) {
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
      await batch.publishAndFinish(outcomes);
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
          const final = batch.retryLater(partitionId(r), r, failure);
          if (final) outcomes.push(final);
        } else outcomes.push(outcomeOf(r, { status: 'failed', errors: [failure], attempts: 1 }, now()));
      }
      persist.later(new Set(records.map(partitionId)));
      await batch.publishAndFinish(outcomes);
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

  return { submit: submitBulkUnit, resume: resumeBulkUnit };
}
