// Errors of the bulk job lifecycle. Each says what happened and what to do.
import type { UnitState } from './store.ts';

/** Another writer (an invocation or an execution) moved the unit first: this one stops and lets it be. */
export class UnitStateConflictError extends Error {
  override name = 'UnitStateConflictError';
  constructor(unitKey: string, expected: string) {
    super(
      `bulk unit ${unitKey} is no longer ${expected}: another invocation or execution moved it; this one stops (a redelivery or the next poll carries on from the stored state)`,
    );
  }
}

/** A transition the table in unit.ts does not have: a bug in the caller, never bad input. */
export class UnitTransitionError extends Error {
  override name = 'UnitTransitionError';
  constructor(transition: string, unitKey: string, from: UnitState) {
    super(`bulk unit: ${transition} is not allowed from ${from} (unit ${unitKey})`);
  }
}

/**
 * The unit's job was aborted (by someone else, or by an orphan sweep that took it for a lost one) or is
 * gone before the sink closed it: nothing of it was processed, so its records go into a new job.
 */
export class JobLostBeforeCloseError extends Error {
  override name = 'JobLostBeforeCloseError';
  readonly code = 'BULK_JOB_LOST';
  readonly retryable = true;
  constructor(jobId: string, how: 'aborted' | 'gone') {
    super(
      `bulk job ${jobId} was ${how === 'aborted' ? 'aborted' : 'deleted'} before its upload was closed: nothing of it was processed; its records go into a new job`,
    );
  }
}
