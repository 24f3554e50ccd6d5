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
import { addBulkJob, keepBulkJobs } from '../checkpoint/ledger.ts';
import { CheckpointConflictError } from '../checkpoint/store.ts';
import { csvCells, encodeCsv } from '../csv/index.ts';
import type { Outcome } from '../outcomes/outcome.ts';
import type { WriteUnit } from '../plan/plan.ts';
import { type KafkaRecord, partitionId } from '../records.ts';
import { isOrgWide, SalesforceClientError } from '../salesforce/index.ts';
import type { ShapedRecord } from '../shape/shape.ts';
import { InjectedCrash, type Invocation, RESERVE_MS } from './invocation.ts';
import { errorOf, notFound, outcomeFrom, storedFailure } from './outcome-of.ts';

/**
 * The bulk side of one invocation.
 *
 * @example
 * const bulk = bulkSubmission(invocation);
 * for (const unit of stage) await bulk.submit(unit);
 */
export function bulkSubmission(invocation: Invocation) {
  const { deps, config, log, ledger, redelivery, now, after, summary } = invocation;
  const group = invocation.scope.group;

  /** Forgets finished jobs of these partitions; true if any is still running. */
  async function hasRunningJob(partitionsOfUnit: Set<string>): Promise<boolean> {
    for (const partition of partitionsOfUnit) {
      const checkpoint = ledger.checkpointOf(partition);
      const running: string[] = [];
      for (const unitKey of checkpoint.bulkJobs) {
        const stored = await deps.jobs.get(unitKey);
        if (stored && stored.state !== 'done') running.push(unitKey);
      }
      if (keepBulkJobs(checkpoint, running)) await ledger.save([]);
      if (running.length > 0) return true;
    }
    return false;
  }

  function handBackAll(records: readonly { topic: string; partition: number; offset: number }[]) {
    for (const r of records) redelivery.handBack(r);
  }

  async function submitBulkUnit(planned: WriteUnit): Promise<void> {
    let records = planned.records.filter((r) => !redelivery.isWithheld(r));
    if (records.length === 0) return;
    // Order per key across jobs: a partition's next job starts when its previous one has finished.
    const partitions = new Set(records.map(partitionId));
    if (invocation.time.short() || (await invocation.time.waitWhile(() => hasRunningJob(partitions)))) {
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
        if (id === undefined) {
          const entry = ledger.markApplied(
            r,
            storedFailure(r, notFound(g.sobject, g.externalIdField), 1, now()),
          );
          if ('outcome' in entry) outcomes.push(outcomeFrom(r, entry.outcome));
        } else found.push({ ...r, fields: g.operation === 'update' ? { Id: id, ...r.fields } : { Id: id } });
      }
      records = found;
      if (outcomes.length > 0) {
        await ledger.save();
        await invocation.outcomes.publish(outcomes);
      }
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
    for (const r of records) ledger.markSubmitting(r, unitKey);
    await ledger.save(records);
    await driveBulkUnitSafely(unitItem, records, encoded.text);
  }

  /**
   * Resumes a unit an earlier invocation recorded. `shaped` (the records as prepared now) is needed only
   * while nothing was uploaded; without it, or when the records no longer make up the unit, a unit that
   * reached Salesforce with nothing is forgotten and its records planned afresh on the next delivery.
   */
  async function resumeBulkUnit(
    unitKey: string,
    stored: BulkUnitItem | undefined,
    records: readonly KafkaRecord[],
    shaped: readonly ShapedRecord[] | undefined,
  ) {
    const complete =
      stored !== undefined &&
      shaped !== undefined &&
      records.length === stored.records &&
      unitKeyOf(group, records) === unitKey;
    const needsUpload = stored === undefined || stored.state === 'intent' || stored.state === 'created';
    // Update/delete by external id uploaded Ids resolved at submission, which the records don't carry.
    const resolvedIds = stored?.externalIdField !== undefined && stored.operation !== 'upsert';
    if (stored && ((complete && !resolvedIds) || !needsUpload)) {
      const text = needsUpload ? encodeCsv(shaped!.map((r) => r.fields)).text : '';
      await driveBulkUnitSafely(stored, records, text);
      return;
    }
    // The unit cannot be rebuilt (its records came back in a different batch, or its CSV held resolved
    // Ids) and nothing reached Salesforce yet: forget it and plan its records afresh on the next delivery.
    if (stored?.jobId)
      await deps.salesforce.bulk.abort(stored.jobId, { deadline: deps.deadline - RESERVE_MS });
    if (stored) await deps.jobs.abandon(stored);
    for (const r of records) ledger.forgetSubmission(r);
    handBackAll(records);
  }

  /**
   * Drives a bulk unit; a failure stays with this unit's records. Org-wide refusals and lost
   * ownership still fail the invocation.
   */
  async function driveBulkUnitSafely(
    unit: BulkUnitItem,
    records: readonly (KafkaRecord | ShapedRecord)[],
    csv: string,
  ) {
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
        const target = { sobject: unit.sobject, operation: unit.operation, mode: 'bulk' as const };
        if (retryable) {
          const final = redelivery.retryLater(r, failure, target);
          if (final) outcomes.push(final);
        } else {
          const entry = ledger.markApplied(r, storedFailure(target, failure, 1, now()));
          if ('outcome' in entry) outcomes.push(outcomeFrom(r, entry.outcome));
        }
      }
      await ledger.save(records);
      await invocation.outcomes.publish(outcomes);
    }
  }

  /** Moves a bulk unit from its stored state to `started`, then tracks its records. */
  async function driveBulkUnit(
    unit: BulkUnitItem,
    records: readonly (KafkaRecord | ShapedRecord)[],
    csv: string,
  ) {
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
    for (const r of records) {
      ledger.markTracked(r, jobId);
      addBulkJob(ledger.checkpointOf(partitionId(r)), unit.unitKey);
    }
    summary.tracked += records.length;
    await ledger.save(records);
    log.info('bulk job submitted', {
      unitKey: unit.unitKey,
      jobId,
      sobject: unit.sobject,
      records: records.length,
    });
  }

  return { submit: submitBulkUnit, resume: resumeBulkUnit };
}
