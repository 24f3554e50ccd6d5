// The sink's side of bulk: a planned unit recorded (intent), its job set up step by step, an execution
// started to follow it; units an earlier invocation started resumed; one job at a time per partition; a
// failure kept with the unit's own records. The sink calls `submit`, `resume` and `holdBehindJobs`
// (before writing a partition's records another way), nothing else.
import type { Ledger } from '../checkpoint/ledger.ts';
import { addBulkJob, keepBulkJobs } from '../checkpoint/ledger.ts';
import { CheckpointConflictError } from '../checkpoint/store.ts';
import type { SinkConfig } from '../config/index.ts';
import { encodeCsv } from '../csv/index.ts';
import type { SinkLogger } from '../logger.ts';
import type { Outcome, OutcomeError } from '../outcomes/outcome.ts';
import {
  errorOf,
  type OutcomeSubject,
  outcomeFrom,
  storedFailure,
  type Target,
} from '../outcomes/outcome-of.ts';
import type { WriteUnit } from '../plan/plan.ts';
import { type KafkaRecord, partitionId } from '../records.ts';
import { isOrgWide, SalesforceClientError } from '../salesforce/errors.ts';
import type { SalesforceClient } from '../salesforce/types.ts';
import type { ShapedRecord } from '../shape/shape.ts';
import { correlationRows, matchColumnsFor, unitKeyOf } from './correlation.ts';
import { JobLostBeforeCloseError, UnitStateConflictError } from './errors.ts';
import type { Executions } from './executions.ts';
import { type FollowDeps, keepFollowed, startFollowing, tailOf } from './follow.ts';
import { abandonUnit, type BulkStep, setUpJob } from './job-setup.ts';
import type { BulkUnit, CorrelationRow, JobStore } from './store.ts';
import { barrierHolds, beforeClose, holdsSlot, needsExecution, unitLifecycle } from './unit.ts';

/** What the bulk side uses of the sink's invocation (the sink's Invocation has all of it). */
export interface BulkInvocation {
  deps: {
    salesforce: SalesforceClient;
    jobs: JobStore;
    executions: Executions;
    /** Epoch ms by which the invocation must have returned. */
    deadline: number;
    /** How often, at most, the group's followed units are checked for a running execution (default 5 min). */
    bulkSweepIntervalMs?: number;
  };
  config: Pick<SinkConfig, 'bulk' | 'requestTimeout' | 'mappings'>;
  scope: { group: string; source: string };
  log: SinkLogger;
  now: () => Date;
  /** The step hook (a throw from it stands for a crash there). */
  after: ((step: BulkStep) => Promise<void>) | undefined;
  summary: { tracked: number };
  ledger: Pick<
    Ledger,
    'checkpointOf' | 'markApplied' | 'markSubmitting' | 'forgetSubmission' | 'markTracked' | 'save'
  >;
  redelivery: {
    handBack(record: { topic: string; partition: number; offset: number }): void;
    isWithheld(record: { topic: string; partition: number; offset: number }): boolean;
    retryLater(record: OutcomeSubject, error: OutcomeError, target: Target): Outcome | undefined;
  };
  outcomes: { publish(outcomes: readonly Outcome[]): Promise<void> };
  time: {
    short(): boolean;
    waitWhile(blocked: () => Promise<boolean> | boolean): Promise<boolean>;
    /** The deadline to give a Salesforce call, keeping `headroomMs` more than the usual reserve. */
    callDeadline(headroomMs?: number): number;
  };
}

/** A unit an earlier invocation recorded, with its records as delivered now. */
export interface Resumable {
  records: readonly KafkaRecord[];
  /** The records as prepared now; undefined when some could not be prepared. */
  shaped: readonly ShapedRecord[] | undefined;
}

const DEFAULT_SWEEP_INTERVAL_MS = 5 * 60_000;
/** When each group's followed units were last checked in this process. */
const lastSweep = new Map<string, number>();

/**
 * The bulk side of one invocation.
 *
 * @example
 * const bulk = bulkSubmission(invocation);
 * await bulk.resume(resumable);
 * for (const unit of stage) await bulk.submit(unit);
 */
export function bulkSubmission(invocation: BulkInvocation) {
  const { deps, config, log, ledger, redelivery, now, summary, time } = invocation;
  const group = invocation.scope.group;
  // Units are keyed by group and source: another cluster's (or a re-created topic's) offsets are other records.
  const unitScope = `${group}\u0000${invocation.scope.source}`;
  const units = unitLifecycle(deps.jobs);
  const target = (unit: Pick<BulkUnit, 'sobject' | 'operation'>): Target => ({
    sobject: unit.sobject,
    operation: unit.operation,
    mode: 'bulk',
  });

  // Errors thrown by the step hook are crashes: nothing may take them for a unit's failure.
  const crashes = new WeakSet<object>();
  const step = async (name: BulkStep) => {
    try {
      await invocation.after?.(name);
    } catch (error) {
      if (typeof error === 'object' && error !== null) crashes.add(error);
      throw error;
    }
  };
  const passesThrough = (error: unknown) =>
    (typeof error === 'object' && error !== null && crashes.has(error)) ||
    error instanceof CheckpointConflictError ||
    error instanceof UnitStateConflictError ||
    isOrgWide(error);

  const follow: FollowDeps = {
    units,
    executions: deps.executions,
    log,
    firstWaitSeconds: Math.max(1, Math.round(config.bulk.pollInterval / 1000)),
  };
  const setup = (headroomMs = 0) => ({
    bulk: deps.salesforce.bulk,
    units,
    jobs: deps.jobs,
    context: { deadline: time.callDeadline(headroomMs) },
    now,
    log,
    after: step,
  });

  function handBackAll(records: readonly { topic: string; partition: number; offset: number }[]) {
    for (const r of records) redelivery.handBack(r);
  }

  /** Chains checked for a running execution in this invocation (by their first unit). */
  const checked = new Set<string>();

  /** Starts a successor when the chain's last unit needs an execution and has none running. */
  async function checkFollowed(unitKey: string): Promise<void> {
    if (checked.has(unitKey)) return;
    checked.add(unitKey);
    try {
      const tail = await tailOf(units, unitKey);
      if (tail && needsExecution(tail)) await keepFollowed(tail, follow);
    } catch (error) {
      if (passesThrough(error)) throw error;
      log.warn('bulk unit: could not check its execution; the next delivery tries again', {
        unitKey,
        error: (error as Error).message,
      });
    }
  }

  /** Forgets finished jobs of these partitions; true if any is still running. */
  async function hasRunningJob(partitions: Set<string>): Promise<boolean> {
    for (const partition of partitions) {
      const checkpoint = ledger.checkpointOf(partition);
      const running: string[] = [];
      for (const unitKey of checkpoint.bulkJobs) {
        if (!barrierHolds(await units.get(unitKey))) continue;
        running.push(unitKey);
        await checkFollowed(unitKey);
      }
      if (keepBulkJobs(checkpoint, running)) await ledger.save([]);
      if (running.length > 0) return true;
    }
    return false;
  }

  /**
   * Records written another way than bulk (their mapping switched to realtime) wait for their
   * partitions' bulk jobs too: no write overtakes a job still processing a partition's earlier records.
   * Records of partitions whose jobs still run when the wait ends are handed back.
   */
  async function holdBehindJobs(
    records: readonly { topic: string; partition: number; offset: number }[],
  ): Promise<void> {
    const partitions = new Set(
      records
        .filter((r) => !redelivery.isWithheld(r))
        .map(partitionId)
        .filter((p) => ledger.checkpointOf(p).bulkJobs.length > 0),
    );
    if (partitions.size === 0) return;
    const blocked = new Set<string>();
    if (time.short() || (await time.waitWhile(() => hasRunningJob(partitions)))) {
      for (const p of partitions) if (time.short() || (await hasRunningJob(new Set([p])))) blocked.add(p);
    }
    for (const r of records) if (blocked.has(partitionId(r))) redelivery.handBack(r);
  }

  /** Takes a job slot; when all are taken, frees the slots of units that no longer hold one first. */
  async function takeSlot(unit: BulkUnit): Promise<boolean> {
    const max = config.bulk.maxConcurrentJobs;
    if (await deps.jobs.acquireSlot(group, unit.unitKey, max)) return true;
    let freed = false;
    for (const holder of await deps.jobs.slotHolders(group)) {
      if (holder === unit.unitKey || holdsSlot(await units.get(holder))) continue;
      await deps.jobs.releaseSlot(group, holder);
      freed = true;
    }
    return freed && (await deps.jobs.acquireSlot(group, unit.unitKey, max));
  }

  /**
   * Once in a while (per process), every chain of the group holding a slot is checked for a running
   * execution, and slots of units that no longer hold one are freed: a unit whose partitions see no more
   * records is not left without a poller.
   */
  async function sweepIfDue(): Promise<void> {
    if (!config.mappings.some((m) => m.mode === 'bulk')) return;
    const every = deps.bulkSweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
    if (Date.now() - (lastSweep.get(group) ?? Number.NEGATIVE_INFINITY) < every) return;
    lastSweep.set(group, Date.now());
    for (const holder of await deps.jobs.slotHolders(group)) {
      if (!holdsSlot(await units.get(holder))) await deps.jobs.releaseSlot(group, holder);
      else await checkFollowed(holder);
    }
  }

  /**
   * Update/delete by an external id: the CSV needs Ids, found with one query per unit, addressed as in
   * realtime. Records that cannot be addressed get their outcome (or go back, within their budget).
   */
  async function addressed(planned: WriteUnit, records: ShapedRecord[]): Promise<ShapedRecord[]> {
    const { sobject, operation, externalIdField } = planned.group;
    const answers = await deps.salesforce.address(
      { sobject, field: externalIdField!, operation },
      records.map((r) => r.address!.value),
      { deadline: time.callDeadline() },
    );
    const found: ShapedRecord[] = [];
    const outcomes: Outcome[] = [];
    let changed = false;
    records.forEach((r, i) => {
      const answer = answers[i]!;
      if ('id' in answer) {
        found.push({
          ...r,
          fields: operation === 'update' ? { Id: answer.id, ...r.fields } : { Id: answer.id },
        });
        return;
      }
      changed = true;
      if (answer.retryable) {
        const final = redelivery.retryLater(r, answer.error, target(planned.group));
        if (final) outcomes.push(final);
      } else {
        const entry = ledger.markApplied(r, storedFailure(r, answer.error, 1, now()));
        if ('outcome' in entry) outcomes.push(outcomeFrom(r, entry.outcome));
      }
    });
    if (changed) {
      await ledger.save(records);
      await invocation.outcomes.publish(outcomes);
    }
    // A record handed back above holds back the rest of its partition.
    return found.filter((r) => !redelivery.isWithheld(r));
  }

  async function submit(planned: WriteUnit): Promise<void> {
    let records = planned.records.filter((r) => !redelivery.isWithheld(r));
    if (records.length === 0) return;
    // Order per key across jobs: a partition's next job starts when its previous one has finished.
    const partitions = new Set(records.map(partitionId));
    if (time.short() || (await time.waitWhile(() => hasRunningJob(partitions)))) {
      handBackAll(records);
      return;
    }
    const g = planned.group;
    if (g.externalIdField && g.operation !== 'upsert') {
      records = await addressed(planned, records);
      if (records.length === 0) return;
    }
    const unitKey = unitKeyOf(unitScope, records);
    const encoded = encodeCsv(records.map((r) => r.fields));
    const matchColumns = matchColumnsFor(g.operation, encoded.header, g.externalIdField);
    const unit = await units.recordIntent(
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
      correlationRows(records, matchColumns),
    );
    for (const r of records) ledger.markSubmitting(r, unitKey);
    await ledger.save(records);
    await driveSafely(unit, records, encoded.text);
  }

  /**
   * Resumes the units an earlier invocation recorded (and, once in a while, makes sure the group's
   * followed units have a running execution). A unit's `shaped` records are needed only while nothing
   * was uploaded; without them, or when the records no longer make up the unit, a unit that reached
   * Salesforce with nothing is forgotten and its records planned afresh on the next delivery.
   */
  async function resume(resumable: ReadonlyMap<string, Resumable>): Promise<void> {
    await sweepIfDue();
    for (const [unitKey, { records, shaped }] of resumable) {
      const stored = await units.get(unitKey);
      const complete =
        stored !== undefined &&
        shaped !== undefined &&
        records.length === stored.records &&
        unitKeyOf(unitScope, records) === unitKey;
      const needsUpload = stored === undefined || stored.state === 'intent' || stored.state === 'created';
      // Update/delete by external id uploaded Ids resolved at submission, which the records don't carry.
      const resolvedIds = stored?.externalIdField !== undefined && stored.operation !== 'upsert';
      if (stored && !needsUpload) {
        await driveSafely(stored, records, '');
        continue;
      }
      const csv = stored && complete && !resolvedIds ? await uploadOf(stored, shaped!) : undefined;
      if (stored && csv !== undefined) {
        await driveSafely(stored, records, csv);
        continue;
      }
      const left = stored ? await abandon(stored) : 'abandoned';
      if (left === 'abandoned') for (const r of records) ledger.forgetSubmission(r);
      if (left !== 'abandoned' && left !== 'kept') await driveSafely(left, records, '');
      else handBackAll(records);
    }
  }

  /**
   * The CSV of a unit not yet uploaded, from its records as prepared now — undefined when they no longer
   * make the unit recorded (the mapping changed its object, operation, external id or fields since):
   * result rows would not find their records, so the unit is abandoned and its records planned afresh.
   */
  async function uploadOf(stored: BulkUnit, shaped: readonly ShapedRecord[]): Promise<string | undefined> {
    const same = shaped.every(
      (r) =>
        r.mapping.mode === 'bulk' &&
        r.mapping.sobject === stored.sobject &&
        r.operation === stored.operation &&
        (r.address && r.address.field !== 'Id' ? r.address.field : undefined) === stored.externalIdField,
    );
    if (!same) return undefined;
    const encoded = encodeCsv(shaped.map((r) => r.fields));
    const matchColumns = matchColumnsFor(stored.operation, encoded.header, stored.externalIdField);
    if (matchColumns.join('\u0000') !== stored.matchColumns.join('\u0000')) return undefined;
    const now = correlationRows(shaped, matchColumns);
    const recorded = await deps.jobs.rows(stored);
    const matches = (a: CorrelationRow, b: CorrelationRow | undefined) =>
      b !== undefined &&
      a.topic === b.topic &&
      a.partition === b.partition &&
      a.offset === b.offset &&
      a.match === b.match;
    if (now.length !== recorded.length || now.some((row, i) => !matches(row, recorded[i]))) return undefined;
    return encoded.text;
  }

  /**
   * Abandons a unit that never processed anything: `abandoned`, `kept` (that failed: it stays for the
   * next delivery), or the unit marked closed when its job turned out to be past Open.
   */
  async function abandon(unit: BulkUnit): Promise<'abandoned' | 'kept' | BulkUnit> {
    try {
      return (await abandonUnit(unit, setup())) ?? 'abandoned';
    } catch (error) {
      if (passesThrough(error)) throw error;
      log.warn(
        'bulk unit could not be abandoned (its job could not be checked or aborted); kept for the next delivery',
        {
          unitKey: unit.unitKey,
          error: (error as Error).message,
        },
      );
      return 'kept';
    }
  }

  /** Drives a unit; a failure stays with its records (crashes, lost ownership and org-wide refusals escape). */
  async function driveSafely(unit: BulkUnit, records: readonly (KafkaRecord | ShapedRecord)[], csv: string) {
    try {
      await drive(unit, records, csv);
    } catch (error) {
      if (passesThrough(error)) throw error;
      const stored = await units.get(unit.unitKey);
      const failure: OutcomeError =
        error instanceof JobLostBeforeCloseError
          ? { code: error.code, message: error.message, fields: [] }
          : errorOf(error, 'BULK_SUBMISSION_FAILED');
      log.warn('bulk submission failed', { unitKey: unit.unitKey, state: stored?.state, code: failure.code });
      const left = stored && beforeClose(stored) ? await abandon(stored) : 'kept';
      if (left !== 'abandoned') {
        // The job may be processing (only following it failed), or could not be stopped: the
        // redelivery resumes from the stored state.
        handBackAll(records);
        return;
      }
      const final = error instanceof SalesforceClientError && !error.retryable;
      const outcomes: Outcome[] = [];
      for (const r of records) {
        if (!final) {
          const spent = redelivery.retryLater(r, failure, target(unit));
          if (spent) outcomes.push(spent);
        } else {
          const entry = ledger.markApplied(r, storedFailure(target(unit), failure, 1, now()));
          if ('outcome' in entry) outcomes.push(outcomeFrom(r, entry.outcome));
        }
      }
      await ledger.save(records);
      await invocation.outcomes.publish(outcomes);
    }
  }

  /** Moves a unit from its stored state to followed, then tracks its records. */
  async function drive(unit: BulkUnit, records: readonly (KafkaRecord | ShapedRecord)[], csv: string) {
    // The slot is taken once the unit is recorded, so every held slot belongs to a recorded unit.
    if (unit.state === 'intent' && !(await takeSlot(unit))) {
      log.info('bulk job limit reached; partitions handed back', {
        unitKey: unit.unitKey,
        max: config.bulk.maxConcurrentJobs,
      });
      handBackAll(records);
      return;
    }
    // Job create is not idempotent and gets its full request timeout once started: keep it inside.
    let current = await setUpJob(unit, csv, setup(config.requestTimeout));
    if (current.state === 'closed')
      current = await startFollowing(current, follow, () => step('start-execution'));
    else if (needsExecution(current)) current = await keepFollowed(current, follow);
    for (const r of records) {
      ledger.markTracked(r, current.jobId!);
      addBulkJob(ledger.checkpointOf(partitionId(r)), unit.unitKey);
    }
    summary.tracked += records.length;
    await ledger.save(records);
    log.info('bulk job submitted', {
      unitKey: unit.unitKey,
      jobId: current.jobId,
      sobject: unit.sobject,
      records: records.length,
    });
  }

  return { submit, resume, holdBehindJobs };
}
