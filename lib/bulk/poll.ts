// One step of following a bulk job: check it; when it has ended, correlate every result row with its
// Kafka record (result files are in no particular order) and publish one outcome per record.
import type { Mode, SinkConfig } from '../config/index.ts';
import { type CsvRow, encodeCsvRows } from '../csv/index.ts';
import type { Outcome, OutcomeError } from '../outcomes/outcome.ts';
import type { OutcomePublisher } from '../outcomes/publisher.ts';
import type { BulkJobInfo, BulkResultKind, SalesforceClient } from '../salesforce/types.ts';
import { type SinkLogger, silentLogger } from '../sink/logger.ts';
import {
  type BulkUnitItem,
  type CorrelationRow,
  type JobStore,
  rowMatchKey,
  UnitStateConflictError,
  unitKeyOf,
} from './job-store.ts';
import { type BulkExecutionInput, JOB_LIFETIME_SECONDS } from './state-machine.ts';
import { submitUnit } from './submit.ts';

export interface PollDeps {
  config: Pick<SinkConfig, 'bulk' | 'maxRetries'>;
  salesforce: SalesforceClient;
  jobs: JobStore;
  publisher: OutcomePublisher;
  deadline: number;
  now?: () => Date;
  logger?: SinkLogger;
}

const FINAL = new Set(['JobComplete', 'Failed', 'Aborted']);
/** Outcomes published per step of progress saved: a crash re-publishes at most this many. */
const PUBLISH_CHUNK = 500;

/**
 * Parses Bulk API's `sf__Error` cell, `CODE:message:Field1,Field2 --`, into an outcome error.
 *
 * @example
 * parseBulkError('REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --');
 * // { code: 'REQUIRED_FIELD_MISSING', message: 'Required fields are missing: [LastName]', fields: ['LastName'] }
 */
export function parseBulkError(cell: string): OutcomeError {
  const text = cell.replace(/\s*--\s*$/, '');
  const first = text.indexOf(':');
  if (first === -1 || !/^[A-Z_]+$/.test(text.slice(0, first)))
    return { code: 'BULK_ERROR', message: text, fields: [] };
  const code = text.slice(0, first);
  const rest = text.slice(first + 1);
  const last = rest.lastIndexOf(':');
  const tail = last === -1 ? '' : rest.slice(last + 1).trim();
  if (last !== -1 && /^([A-Za-z][A-Za-z0-9_.]*)?(,\s*[A-Za-z][A-Za-z0-9_.]*)*$/.test(tail)) {
    return {
      code,
      message: rest.slice(0, last).trim(),
      fields: tail ? tail.split(',').map((f) => f.trim()) : [],
    };
  }
  return { code, message: rest.trim(), fields: [] };
}

/**
 * Checks the job once; returns the next execution input (`done: true` when every outcome is out).
 * Rows that failed for a passing reason (a locked row, or rows a Failed job never processed) are
 * submitted again as a follow-up job polled by the same execution, up to `maxRetries` times. Running
 * this again for a finished unit publishes nothing.
 *
 * @example
 * export const handler = (input) => pollBulkJob(input, deps);
 */
export async function pollBulkJob(input: BulkExecutionInput, deps: PollDeps): Promise<BulkExecutionInput> {
  const now = deps.now ?? (() => new Date());
  const log = deps.logger ?? silentLogger;
  const unit = await deps.jobs.get(input.unitKey);
  if (!unit) return { ...input, done: true };
  if (unit.state === 'done') {
    // An earlier run may have failed while closing the chain: finishing it again is harmless.
    await closeChain(unit, deps);
    return { ...input, done: true };
  }
  const context = { deadline: deps.deadline };
  if (unit.state === 'continued' && unit.next) {
    // An earlier run handed the rest to a follow-up unit but did not get to return it.
    const next = await deps.jobs.get(unit.next);
    const followUp = { ...input, unitKey: unit.next, jobId: next?.jobId ?? input.jobId };
    // Failing: the follow-up is where the unreported records are.
    if (input.mode === 'fail') return pollBulkJob(followUp, deps);
    return { ...followUp, done: false, waitSeconds: firstWait(deps) };
  }

  if (input.mode === 'fail') {
    const failure = {
      code: 'BULK_POLLING_FAILED',
      message: 'the job could not be followed to its end; its records were not confirmed',
      fields: [],
    };
    // Stop the job (if it still runs) before its partitions may move on to later jobs.
    if (unit.jobId) await deps.salesforce.bulk.abort(unit.jobId, context).catch(() => undefined);
    const rows = await deps.jobs.rows(unit);
    const counts = await publishOutcomes(
      unit,
      rows,
      input.jobId,
      () => undefined,
      failure,
      new Set(),
      deps,
      now,
    );
    await closeChain(unit, deps);
    return { ...input, done: true, result: { jobState: 'Unknown', sobject: unit.sobject, ...counts } };
  }

  let info = await deps.salesforce.bulk.check(input.jobId, context);
  if (!FINAL.has(info.state)) {
    const age = (now().getTime() - Date.parse(input.submittedAt)) / 1000;
    if (age < JOB_LIFETIME_SECONDS) {
      const max = Math.max(1, Math.round(deps.config.bulk.maxPollInterval / 1000));
      return { ...input, done: false, waitSeconds: Math.min(max, Math.max(1, input.waitSeconds * 2)) };
    }
    info = await deps.salesforce.bulk.abort(input.jobId, context);
  }

  log.info('bulk job ended', {
    jobId: input.jobId,
    state: info.state,
    processed: info.numberRecordsProcessed,
    failed: info.numberRecordsFailed,
    attempt: unit.attempt,
  });
  const rows = await deps.jobs.rows(unit);
  const { results, again } = await collectResults(unit, rows, info, deps);
  const leftover: OutcomeError = {
    code: info.state === 'JobComplete' ? 'NO_RESULT' : `JOB_${info.state.toUpperCase()}`,
    message:
      info.state === 'JobComplete'
        ? 'the job completed without a result row for this record'
        : `the job ended ${info.state}${info.errorMessage ? `: ${info.errorMessage}` : ''} before processing this record`,
    fields: [],
  };
  // The job's end time dates every outcome, so a re-run of this step publishes identical ones.
  const endedAt = parseSalesforceDate(info.systemModstamp);
  const dated = endedAt ? () => endedAt : now;
  const resubmit = again.size > 0 && unit.attempt < deps.config.maxRetries;
  const next = resubmit ? await continueUnit(unit, rows, again, deps, now) : undefined;
  // Rows that go on in the follow-up unit get their outcome there.
  const skip = next ? new Set(again.keys()) : new Set<number>();
  const counts = await publishOutcomes(
    unit,
    rows,
    input.jobId,
    (i) => results.get(i),
    leftover,
    skip,
    deps,
    dated,
  );
  const result = { jobState: info.state, sobject: unit.sobject, ...counts };
  if (next) {
    await deps.jobs.advance(unit.unitKey, unit.state, 'continued', { next: next.unitKey });
    log.info('bulk rows resubmitted', {
      jobId: input.jobId,
      next: next.jobId,
      rows: again.size,
      attempt: unit.attempt + 1,
    });
    return {
      ...input,
      unitKey: next.unitKey,
      jobId: next.jobId,
      done: false,
      waitSeconds: firstWait(deps),
      result,
    };
  }
  await closeChain(unit, deps);
  return { ...input, done: true, result };
}

const firstWait = (deps: PollDeps) => Math.max(1, Math.round(deps.config.bulk.pollInterval / 1000));

/** Salesforce writes `2024-03-20T21:42:13.000+0000`; Date.parse wants the offset as +00:00. */
function parseSalesforceDate(text: string | undefined): Date | undefined {
  if (!text) return undefined;
  const date = new Date(text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

type RowResult = Pick<Outcome, 'status' | 'errors'> & { salesforceId?: string; created?: boolean };

/** Row errors that say nothing about the record itself: the same row may well succeed again. */
const RETRYABLE_ROW_CODES = new Set(['UNABLE_TO_LOCK_ROW']);

/**
 * Reads the three result files and assigns each row to the unit's record with the same match key.
 * `again` holds, by record index, the uploaded cells of rows worth submitting again.
 */
async function collectResults(
  unit: BulkUnitItem,
  rows: readonly CorrelationRow[],
  info: BulkJobInfo,
  deps: PollDeps,
): Promise<{ results: Map<number, RowResult>; again: Map<number, CsvRow> }> {
  const byMatch = new Map<string, number[]>();
  rows.forEach((row, i) => {
    const list = byMatch.get(row.match);
    if (list) list.push(i);
    else byMatch.set(row.match, [i]);
  });
  const results = new Map<number, RowResult>();
  const again = new Map<number, CsvRow>();
  const kinds: BulkResultKind[] = ['successful', 'failed', 'unprocessed'];
  for (const kind of kinds) {
    for await (const row of deps.salesforce.bulk.results(info.id, kind, { deadline: deps.deadline })) {
      const match = rowMatchKey(unit.matchColumns.map((c) => row[c] ?? ''));
      const index = byMatch.get(match)?.shift();
      if (index === undefined) continue;
      if (kind === 'successful') {
        const result: RowResult = { status: 'succeeded', errors: [] };
        if (row.sf__Id) result.salesforceId = row.sf__Id;
        if (row.sf__Created !== undefined) result.created = row.sf__Created === 'true';
        results.set(index, result);
      } else if (kind === 'failed') {
        const error = parseBulkError(row.sf__Error ?? '');
        const result: RowResult = { status: 'failed', errors: [error] };
        if (row.sf__Id) result.salesforceId = row.sf__Id;
        results.set(index, result);
        if (RETRYABLE_ROW_CODES.has(error.code)) again.set(index, uploadedCells(row));
      } else {
        results.set(index, {
          status: 'failed',
          errors: [
            {
              code: 'UNPROCESSED',
              message: `the job ended ${info.state}${info.errorMessage ? `: ${info.errorMessage}` : ''} before processing this record`,
              fields: [],
            },
          ],
        });
        // Salesforce failing a job is its own trouble; an aborted job was given up on purpose.
        if (info.state === 'Failed') again.set(index, uploadedCells(row));
      }
    }
  }
  return { results, again };
}

/** A result row without Salesforce's `sf__` columns: the cells as they were uploaded. */
function uploadedCells(row: CsvRow): CsvRow {
  const cells: CsvRow = {};
  for (const column in row) if (!column.startsWith('sf__')) cells[column] = row[column]!;
  return cells;
}

/**
 * Records and submits the follow-up unit for the rows worth another try: same group and columns,
 * one attempt more, the chain of earlier units remembered (they keep the job slot and the partition
 * order until the chain ends). Safe to call again: the unit's key is derived from its rows and attempt.
 */
async function continueUnit(
  unit: BulkUnitItem,
  rows: readonly CorrelationRow[],
  again: Map<number, CsvRow>,
  deps: PollDeps,
  now: () => Date,
): Promise<{ unitKey: string; jobId: string }> {
  const indices = [...again.keys()].sort((a, b) => a - b);
  const subset = indices.map((i) => rows[i]!);
  const attempt = unit.attempt + 1;
  const unitKey = unitKeyOf(`${unit.group}#${attempt}`, subset);
  const next = await deps.jobs.putIntent(
    {
      unitKey,
      group: unit.group,
      sobject: unit.sobject,
      operation: unit.operation,
      ...(unit.externalIdField ? { externalIdField: unit.externalIdField } : {}),
      matchColumns: unit.matchColumns,
      records: subset.length,
      createdAt: now().toISOString(),
      attempt,
      chain: [...unit.chain, unit.unitKey],
    },
    subset,
  );
  const header = Object.keys(again.get(indices[0]!)!);
  const csv = encodeCsvRows(
    header,
    indices.map((i) => header.map((c) => again.get(i)![c] ?? '')),
  );
  const { jobId, state } = await submitUnit(next, csv, {
    bulk: deps.salesforce.bulk,
    jobs: deps.jobs,
    context: { deadline: deps.deadline },
  });
  if (state === 'closed') await deps.jobs.advance(unitKey, 'closed', 'started');
  return { unitKey, jobId };
}

/**
 * Publishes the unit's outcomes in record order from where an earlier run stopped; rows in `skip` go
 * on in a follow-up unit and get their outcome there.
 */
async function publishOutcomes(
  unit: BulkUnitItem,
  rows: readonly CorrelationRow[],
  jobId: string,
  resultOf: (index: number) => RowResult | undefined,
  leftover: OutcomeError,
  skip: ReadonlySet<number>,
  deps: PollDeps,
  now: () => Date,
) {
  const mode: Mode = 'bulk';
  const outcomeAt = (row: CorrelationRow, index: number): Outcome => {
    const result = resultOf(index) ?? { status: 'failed' as const, errors: [leftover] };
    const outcome: Outcome = {
      status: result.status,
      topic: row.topic,
      partition: row.partition,
      offset: row.offset,
      key: row.key,
      sobject: unit.sobject,
      operation: unit.operation,
      mode,
      errors: result.errors,
      bulkJobId: jobId,
      attempts: unit.attempt + 1,
      timestamp: now().toISOString(),
    };
    if (result.salesforceId) outcome.salesforceId = result.salesforceId;
    if (result.created !== undefined) outcome.created = result.created;
    return outcome;
  };
  const counts = { succeeded: 0, failed: 0 };
  for (let start = unit.published; start < rows.length; start += PUBLISH_CHUNK) {
    const end = Math.min(rows.length, start + PUBLISH_CHUNK);
    const outcomes: Outcome[] = [];
    for (let i = start; i < end; i++) if (!skip.has(i)) outcomes.push(outcomeAt(rows[i]!, i));
    if (outcomes.length > 0) await deps.publisher.publish(outcomes);
    await deps.jobs.markPublished(unit.unitKey, end);
    for (const o of outcomes) counts[o.status === 'succeeded' ? 'succeeded' : 'failed']++;
  }
  return counts;
}

/** Marks the unit and the earlier units of its chain done, and frees the chain's job slot. */
async function closeChain(unit: BulkUnitItem, deps: PollDeps) {
  // The earlier units and the slots first, the unit itself last: until it is done, a re-run of the
  // poller comes back here, so a failure half-way never leaves a partition's barrier shut.
  for (const earlier of unit.chain) {
    await deps.jobs.advance(earlier, 'continued', 'done').catch((error: unknown) => {
      if (!(error instanceof UnitStateConflictError)) throw error;
    });
  }
  for (const key of [...unit.chain, unit.unitKey]) await deps.jobs.releaseSlot(unit.group, key);
  if (unit.state !== 'done') await deps.jobs.advance(unit.unitKey, unit.state, 'done');
}
