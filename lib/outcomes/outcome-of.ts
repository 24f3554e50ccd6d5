// The outcomes the sink and the bulk poller decide, as they are stored (without the record's coordinates:
// the ledger's entries, a bulk unit's results) and as they are published (the stored outcome plus the
// record's coordinates and key). One builder for both, so a realtime and a bulk outcome say things alike.
import type { Mode, Operation } from '../config/index.ts';
import type { Rejection } from '../records.ts';
import type { ResolvedRecord } from '../resolve/resolve.ts';
import { SalesforceClientError } from '../salesforce/errors.ts';
import type { RecordResult } from '../salesforce/types.ts';
import type { Outcome, OutcomeError } from './outcome.ts';

/**
 * An outcome as stored before it is published: everything but the record's coordinates and key, which
 * the record (redelivered, or kept with a bulk unit) provides.
 */
export type StoredOutcome = Omit<Outcome, 'topic' | 'partition' | 'offset' | 'key'>;

/** An outcome stored by an earlier version of the sink: sObject, operation and mode come from the mapping. */
export interface LegacyResult {
  status: 'succeeded' | 'failed';
  salesforceId?: string;
  created?: boolean;
  errors: OutcomeError[];
  attempts: number;
  at?: string;
}

/** What a published outcome takes from the record itself. */
export interface OutcomeSubject {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
}

/**
 * The published form of a stored outcome.
 *
 * @example
 * publisher.publish([outcomeFrom(record, entry.outcome)]);
 */
export function outcomeFrom(record: OutcomeSubject, stored: StoredOutcome): Outcome {
  const { topic, partition, offset, key } = record;
  const { status, ...rest } = stored;
  return { status, topic, partition, offset, key, ...rest };
}

/** A write result (or a decision standing in for one) as the outcome to store. */
export function storedOf(
  record: ResolvedRecord,
  result: Pick<RecordResult, 'status' | 'errors' | 'attempts'> & { salesforceId?: string; created?: boolean },
  at: Date,
): StoredOutcome {
  return storedResult(targetOf(record), result, at);
}

/**
 * The outcome to store for what a write (realtime, or a bulk job's row) came to; the target's Id stands
 * in when the result has none.
 *
 * @example
 * storedResult({ sobject: 'Lead', operation: 'upsert', mode: 'bulk' }, row, jobEnd, { bulkJobId });
 */
export function storedResult(
  target: Target,
  result: Pick<RecordResult, 'status' | 'errors' | 'attempts'> & { salesforceId?: string; created?: boolean },
  at: Date,
  bulk?: { bulkJobId: string },
): StoredOutcome {
  const stored: StoredOutcome = {
    status: result.status,
    sobject: target.sobject,
    operation: target.operation,
    mode: target.mode,
    errors: result.errors,
    attempts: result.attempts,
    timestamp: at.toISOString(),
  };
  if (bulk) stored.bulkJobId = bulk.bulkJobId;
  const id = result.salesforceId ?? target.salesforceId;
  if (id) stored.salesforceId = id;
  if (result.created !== undefined) stored.created = result.created;
  return stored;
}

/** What a write targets: the outcome's sObject, operation and mode, and the Id where it is known. */
export interface Target {
  sobject: string;
  operation: Operation;
  mode: Mode;
  salesforceId?: string;
}

export function targetOf(record: ResolvedRecord): Target {
  const target: Target = {
    sobject: record.mapping.sobject,
    operation: record.operation,
    mode: record.mapping.mode,
  };
  if (record.address?.field === 'Id') target.salesforceId = record.address.value;
  return target;
}

/** A failure of the record's own (retries and redeliveries spent, or a final refusal). */
export function storedFailure(
  target: Target | ResolvedRecord,
  error: OutcomeError,
  attempts: number,
  at: Date,
): StoredOutcome {
  const { salesforceId, ...rest } = 'mapping' in target ? targetOf(target) : target;
  return {
    status: 'failed',
    ...rest,
    errors: [error],
    attempts,
    timestamp: at.toISOString(),
    ...(salesforceId ? { salesforceId } : {}),
  };
}

/** A rejection as the outcome to store (the mapping, when there is one, names the target). */
export function storedRejection(
  rejection: Rejection,
  target: { sobject: string; mode: Mode } | undefined,
  at: Date,
): StoredOutcome {
  return {
    status: 'rejected',
    sobject: target?.sobject ?? null,
    operation: null,
    mode: target?.mode ?? null,
    errors: [{ code: rejection.code, message: rejection.message, fields: rejection.fields }],
    attempts: 0,
    timestamp: at.toISOString(),
  };
}

/** An outcome an earlier version of the sink stored without its target: the mapping supplies it. */
export function storedFromLegacy(
  legacy: LegacyResult,
  record: ResolvedRecord | undefined,
  now: Date,
): StoredOutcome {
  const at = legacy.at ? new Date(legacy.at) : now;
  if (record) return storedOf(record, legacy, at);
  const stored: StoredOutcome = {
    status: legacy.status,
    sobject: null,
    operation: null,
    mode: null,
    errors: legacy.errors,
    attempts: legacy.attempts,
    timestamp: at.toISOString(),
  };
  if (legacy.salesforceId) stored.salesforceId = legacy.salesforceId;
  if (legacy.created !== undefined) stored.created = legacy.created;
  return stored;
}

export const OUTCOME_UNKNOWN = 'OUTCOME_UNKNOWN';

/** An insert that was sent, whose answer was lost, and that no field of it can find again. */
export function unknownInsert(): OutcomeError {
  return {
    code: OUTCOME_UNKNOWN,
    message:
      'the insert was sent but its answer was lost (crash or connection loss); it is not sent again to avoid a duplicate: check whether the record exists, or configure externalIdField to make writes idempotent',
    fields: [],
  };
}

/** A bulk row whose job Salesforce no longer has before its result could be read. */
export function unknownBulkRow(jobId: string): OutcomeError {
  return {
    code: OUTCOME_UNKNOWN,
    message: `bulk job ${jobId} no longer exists (Salesforce deletes jobs 7 days after their creation) and this record's result was never read: check the record in Salesforce`,
    fields: [],
  };
}

/** A delete that was sent, whose answer was lost, and whose record's absence could not be checked. */
export function unknownDelete(why: OutcomeError): OutcomeError {
  return {
    code: OUTCOME_UNKNOWN,
    message: `the delete was sent but its answer was lost, and whether the record is gone could not be checked (${why.code}: ${why.message}): check the record in Salesforce`,
    fields: [],
  };
}

/** An update or upsert that may have taken effect once, and whose retries since all failed. */
export function unknownWrite(operation: string, last: OutcomeError | undefined): OutcomeError {
  return {
    code: OUTCOME_UNKNOWN,
    message: `an ${operation} of this record was sent and its answer lost, and every retry since failed${last ? ` (last: ${last.code}: ${last.message})` : ''}: it may or may not have taken effect; check the record in Salesforce`,
    fields: [],
  };
}

/** A write that was sent before and that the current configuration no longer allows to settle. */
export function unknownAfterChange(rejection: {
  code: string;
  message: string;
  fields: string[];
}): OutcomeError {
  return {
    code: OUTCOME_UNKNOWN,
    message: `a write of this record was sent earlier and its answer was lost; the current configuration rejects it (${rejection.code}: ${rejection.message}), so it is not sent again: check the record in Salesforce`,
    fields: rejection.fields,
  };
}

export function notFound(sobject: string, field: string): OutcomeError {
  return { code: 'NOT_FOUND', message: `no ${sobject} has this ${field}`, fields: [field] };
}

/** The outcome error for something thrown while handling a record. */
export function errorOf(error: unknown, code: string): OutcomeError {
  const e = error as { errorCode?: string; code?: string; message?: string; fields?: string[] };
  const known = error instanceof SalesforceClientError ? (e.errorCode ?? e.code) : e.errorCode;
  return { code: known ?? code, message: e.message ?? String(error), fields: e.fields ?? [] };
}
