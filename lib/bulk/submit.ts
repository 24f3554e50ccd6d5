// Setting up one Bulk API 2.0 job from a recorded unit: create → upload → close, each step recorded in
// the job store, so a crash anywhere resumes at the step that did not finish (and never creates a
// second job once the first one's id is recorded).
import type { BulkJobs, CallContext } from '../salesforce/types.ts';
import type { BulkUnitItem, JobStore, UnitState } from './job-store.ts';

/** The steps a test can crash after. */
export type SubmitStep = 'job-create' | 'upload' | 'close';

export interface SubmitDeps {
  bulk: BulkJobs;
  jobs: JobStore;
  context: CallContext;
  after?: (step: SubmitStep) => void | Promise<void>;
}

/**
 * Takes a unit from its stored state to `closed` (its job is processing); returns the job id and the
 * unit's state now (`closed`, or a later state it was already in). `csv` is needed only while the
 * unit has not been uploaded.
 *
 * @example
 * const { jobId } = await submitUnit(unit, encodeCsv(fields).text, { bulk: client.bulk, jobs, context });
 */
export async function submitUnit(
  unit: BulkUnitItem,
  csv: string,
  deps: SubmitDeps,
): Promise<{ jobId: string; state: UnitState }> {
  let { state, jobId } = unit;
  if (state === 'intent') {
    const job = await deps.bulk.create(
      {
        object: unit.sobject,
        operation: unit.operation,
        ...(unit.externalIdField && unit.operation === 'upsert'
          ? { externalIdFieldName: unit.externalIdField }
          : {}),
      },
      deps.context,
    );
    await deps.after?.('job-create');
    jobId = job.id;
    await deps.jobs.advance(unit.unitKey, 'intent', 'created', { jobId });
    state = 'created';
  }
  if (state === 'created') {
    await deps.bulk.upload(jobId!, csv, deps.context);
    await deps.after?.('upload');
    await deps.jobs.advance(unit.unitKey, 'created', 'uploaded');
    state = 'uploaded';
  }
  if (state === 'uploaded') {
    await deps.bulk.close(jobId!, deps.context);
    await deps.after?.('close');
    await deps.jobs.advance(unit.unitKey, 'uploaded', 'closed');
    state = 'closed';
  }
  return { jobId: jobId!, state };
}
