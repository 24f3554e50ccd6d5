// The outcome: one per input record, the user-facing result of the sink (documented in the README).
import type { Mode, Operation } from '../config/index.ts';
import type { Rejection } from '../records.ts';

export type OutcomeStatus = 'succeeded' | 'failed' | 'rejected';

/** Salesforce's per-record error verbatim (`statusCode`/`errorCode` as `code`), or a sink rejection code. */
export interface OutcomeError {
  code: string;
  message: string;
  fields: string[];
}

export interface Outcome {
  status: OutcomeStatus;
  topic: string;
  partition: number;
  offset: number;
  /** The Kafka key as UTF-8 text, or null. */
  key: string | null;
  /** Null only for records rejected before a mapping was found. */
  sobject: string | null;
  operation: Operation | null;
  mode: Mode | null;
  /** The Salesforce record Id, where known (successes; failures of update/delete). */
  salesforceId?: string;
  /** Upsert (and insert) successes: whether a record was created. */
  created?: boolean;
  errors: OutcomeError[];
  /** Bulk records: the Bulk API 2.0 job that carried the record. */
  bulkJobId?: string;
  /** Salesforce calls made for this record (1 when the first try settled it; 0 for rejections). */
  attempts: number;
  /** When the outcome was decided (ISO-8601 UTC). */
  timestamp: string;
}

/**
 * The outcome of a record the pipeline rejected.
 *
 * @example
 * publish(rejectedOutcome(rejection, mapping, new Date()));
 */
export function rejectedOutcome(
  rejection: Rejection,
  context: { sobject?: string; operation?: Operation; mode?: Mode } = {},
  now: Date = new Date(),
): Outcome {
  return {
    status: 'rejected',
    ...rejection.record,
    sobject: context.sobject ?? null,
    operation: context.operation ?? null,
    mode: context.mode ?? null,
    errors: [{ code: rejection.code, message: rejection.message, fields: rejection.fields }],
    attempts: 0,
    timestamp: now.toISOString(),
  };
}

/** Where an outcome goes: successes to the result destination, everything else to the error one. */
export function isErrorOutcome(outcome: Outcome): boolean {
  return outcome.status !== 'succeeded';
}
