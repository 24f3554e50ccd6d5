// Setting up a unit's Bulk API 2.0 job: create → upload → close, each step recorded on the unit, so a
// crash anywhere resumes at the step that did not finish. A job create is not idempotent: before it goes
// out the unit notes that one may reach Salesforce unanswered (`creatingSince`); when the next attempt
// finds that note, the jobs an earlier attempt left behind (Open, created by the integration user for the
// same object and operation since then, belonging to no recorded unit) are aborted before the new job is
// recorded. Used by the sink for the units it plans and by the poller for follow-up units.

import type { SinkLogger } from '../logger.ts';
import { isJobGone, parseSalesforceDate } from '../salesforce/bulk.ts';
import {
  ResponseLostError,
  SalesforceApiError,
  SalesforceClientError,
  UnexpectedResponseError,
} from '../salesforce/errors.ts';
import type { BulkJobInfo, BulkJobs, CallContext } from '../salesforce/types.ts';
import { JobLostBeforeCloseError, UnitStateConflictError } from './errors.ts';
import type { BulkUnit, JobStore } from './store.ts';
import type { UnitLifecycle } from './unit.ts';

/** The steps of setting up and starting a job after which a test can crash the sink. */
export type BulkStep = 'job-create' | 'upload' | 'close' | 'start-execution';

/** How far before the first unanswered create a left-behind job may have been created (clock skew). */
const ORPHAN_MARGIN_MS = 2 * 60_000;

export interface SetupDeps {
  bulk: BulkJobs;
  units: UnitLifecycle;
  jobs: JobStore;
  context: CallContext;
  now: () => Date;
  log: SinkLogger;
  after?: (step: BulkStep) => void | Promise<void>;
}

/** Whether a failed create surely created nothing: Salesforce refused it, or it was never sent. */
const answeredNoJob = (error: unknown) =>
  error instanceof SalesforceClientError &&
  !(error instanceof ResponseLostError) &&
  !(error instanceof UnexpectedResponseError);

const specOf = (unit: BulkUnit) => ({
  object: unit.sobject,
  operation: unit.operation,
  ...(unit.externalIdField && unit.operation === 'upsert'
    ? { externalIdFieldName: unit.externalIdField }
    : {}),
});

/**
 * Takes a unit from its stored state to `closed` (its job is processing) and returns it; a unit already
 * past `uploaded` is returned as it is. `csv` is needed only while the unit has not been uploaded.
 *
 * @example
 * unit = await setUpJob(unit, encodeCsv(fields).text, { bulk: client.bulk, units, jobs, context, now, log });
 */
export async function setUpJob(unit: BulkUnit, csv: string, deps: SetupDeps): Promise<BulkUnit> {
  let current = unit;
  if (current.state === 'intent') {
    const earlier = current.creatingSince;
    current = await deps.units.markCreating(current, deps.now());
    let job: BulkJobInfo;
    try {
      job = await deps.bulk.create(specOf(current), deps.context);
    } catch (error) {
      if (!earlier && answeredNoJob(error)) await deps.units.clearCreating(current);
      throw error;
    }
    await deps.after?.('job-create');
    if (earlier) await abortLeftBehind(current, job, new Date(earlier), deps);
    try {
      current = await deps.units.markCreated(current, job.id);
    } catch (error) {
      // Another writer set the unit up meanwhile (an execution still running after it was stopped, an
      // overlapping delivery): this job is nobody's, so it goes.
      if (error instanceof UnitStateConflictError)
        await abortJob(job.id, deps).catch((abort: unknown) => {
          deps.log.error(
            'a bulk job could not be aborted after another writer set its unit up; abort it by hand',
            {
              unitKey: current.unitKey,
              jobId: job.id,
              error: (abort as Error).message,
            },
          );
        });
      throw error;
    }
  }
  const jobId = current.jobId!;
  if (current.state === 'created') {
    try {
      await deps.bulk.upload(jobId, csv, deps.context);
    } catch (error) {
      throw await lostBeforeClose(jobId, error, deps);
    }
    await deps.after?.('upload');
    current = await deps.units.markUploaded(current);
  }
  if (current.state === 'uploaded') {
    try {
      await deps.bulk.close(jobId, deps.context);
    } catch (error) {
      // Gone or aborted once its data was uploaded: an earlier close may have got through and the job
      // processed rows, so it is followed as closed (its results, or their absence, tell) rather than
      // submitted again.
      if (!isJobGone(error) && !(await isAborted(jobId, deps))) throw error;
    }
    await deps.after?.('close');
    current = await deps.units.markClosed(current);
  }
  return current;
}

/** What a failed upload means: the job lost before it was closed (retried in a new one), or the error. */
async function lostBeforeClose(jobId: string, error: unknown, deps: Pick<SetupDeps, 'bulk' | 'context'>) {
  if (isJobGone(error)) return new JobLostBeforeCloseError(jobId, 'gone');
  if (await isAborted(jobId, deps)) return new JobLostBeforeCloseError(jobId, 'aborted');
  return error;
}

async function isAborted(jobId: string, deps: Pick<SetupDeps, 'bulk' | 'context'>): Promise<boolean> {
  try {
    return (await deps.bulk.check(jobId, deps.context)).state === 'Aborted';
  } catch {
    // The check says nothing more than the failure itself.
    return false;
  }
}

/**
 * Forgets a unit whose job never processed anything: aborts its job (and, after an unanswered create,
 * the jobs that create may have left behind), then removes it if it is still as read; undefined then. A
 * `created` or `uploaded` unit whose job turns out to be past Open (another writer, or an earlier attempt
 * that crashed unrecorded, uploaded and closed it) is not forgotten but marked closed and returned, to be
 * followed: only a job still Open is aborted. A failed abort keeps the unit (it throws); so does a copy
 * another writer moved on (UnitStateConflictError).
 *
 * @example
 * const closed = await abandonUnit(stored, deps); // undefined: its records are planned afresh
 */
export async function abandonUnit(
  unit: BulkUnit,
  deps: Omit<SetupDeps, 'after'>,
): Promise<BulkUnit | undefined> {
  let state: string | undefined;
  if ((unit.state === 'created' || unit.state === 'uploaded') && unit.jobId) {
    state = await deps.bulk.check(unit.jobId, deps.context).then(
      (info) => info.state,
      (error: unknown) => {
        if (isJobGone(error)) return 'gone';
        throw error;
      },
    );
    // A job never recorded uploaded that is gone or was aborted processed nothing of ours that anyone
    // closed: its records are planned afresh. Any other job past Open may have processed rows.
    const forget =
      state === 'Open' || (unit.state === 'created' && (state === 'gone' || state === 'Aborted'));
    if (!forget) {
      const uploaded = unit.state === 'created' ? await deps.units.markUploaded(unit) : unit;
      return deps.units.markClosed(uploaded);
    }
  }
  if (unit.creatingSince) {
    // The integration user is known from a job of its own: a probe, aborted right away. A probe that
    // may work later (a passing refusal, an outage, the whole org) keeps the unit for the next delivery.
    const probe = await deps.bulk.create(specOf(unit), deps.context).catch((error: unknown) => {
      if (error instanceof SalesforceApiError && !error.retryable) return undefined;
      throw error;
    });
    if (!probe)
      deps.log.warn(
        'a bulk job an unanswered create may have left Open could not be looked for (Salesforce refuses creating jobs for this object); abort it in Setup → Bulk Data Load Jobs if there is one (Salesforce deletes it after 7 days)',
        {
          unitKey: unit.unitKey,
          sobject: unit.sobject,
          operation: unit.operation,
          since: unit.creatingSince,
        },
      );
    else {
      await abortLeftBehind(unit, probe, new Date(unit.creatingSince), deps);
      await abortJob(probe.id, deps);
    }
  }
  if (unit.jobId && state !== 'gone' && state !== 'Aborted') await abortJob(unit.jobId, deps);
  await deps.units.abandon(unit);
  return undefined;
}

async function abortJob(jobId: string, deps: Pick<SetupDeps, 'bulk' | 'context'>): Promise<void> {
  try {
    await deps.bulk.abort(jobId, deps.context);
  } catch (error) {
    if (!isJobGone(error)) throw error;
  }
}

/**
 * Aborts the Open jobs a lost create answer may have left: created by the same user as `job`, for the
 * unit's object and operation, between the first unanswered attempt (less a margin for clock skew) and
 * `job`, and recorded by no unit.
 */
async function abortLeftBehind(
  unit: BulkUnit,
  job: BulkJobInfo,
  since: Date,
  deps: Omit<SetupDeps, 'after'>,
): Promise<void> {
  const from = since.getTime() - ORPHAN_MARGIN_MS;
  const until = parseSalesforceDate(job.createdDate)?.getTime() ?? deps.now().getTime();
  const candidates: string[] = [];
  for await (const other of deps.bulk.list(deps.context)) {
    if (other.id === job.id || other.state !== 'Open' || other.createdById !== job.createdById) continue;
    if (other.object.toLowerCase() !== unit.sobject.toLowerCase() || other.operation !== unit.operation)
      continue;
    const created = parseSalesforceDate(other.createdDate)?.getTime();
    if (created === undefined || created < from || created > until) continue;
    candidates.push(other.id);
  }
  if (candidates.length === 0) return;
  const recorded = await deps.jobs.recordedJobs(candidates);
  for (const id of candidates) {
    if (recorded.has(id)) continue;
    deps.log.warn('aborting a bulk job a lost create answer left behind', {
      unitKey: unit.unitKey,
      jobId: id,
    });
    await abortJob(id, deps);
  }
}
