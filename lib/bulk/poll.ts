// One step of following a bulk job: check it; when it has ended, correlate every result row with its
// Kafka record (result files are in no particular order) and publish one outcome per record.
import type { Mode, SinkConfig } from '../config/index.ts';
import type { Outcome, OutcomeError } from '../outcomes/outcome.ts';
import type { OutcomePublisher } from '../outcomes/publisher.ts';
import type { BulkJobInfo, BulkResultKind, SalesforceClient } from '../salesforce/types.ts';
import { type SinkLogger, silentLogger } from '../sink/logger.ts';
import { type BulkUnitItem, type CorrelationRow, type JobStore, rowMatchKey } from './job-store.ts';
import { type BulkExecutionInput, JOB_LIFETIME_SECONDS } from './state-machine.ts';

export interface PollDeps {
  config: Pick<SinkConfig, 'bulk'>;
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
 * Running it again for a finished unit publishes nothing.
 *
 * @example
 * export const handler = (input) => pollBulkJob(input, deps);
 */
export async function pollBulkJob(input: BulkExecutionInput, deps: PollDeps): Promise<BulkExecutionInput> {
  const now = deps.now ?? (() => new Date());
  const log = deps.logger ?? silentLogger;
  const unit = await deps.jobs.get(input.unitKey);
  if (!unit || unit.state === 'done') return { ...input, done: true };
  const context = { deadline: deps.deadline };

  if (input.mode === 'fail') {
    const failure = {
      code: 'BULK_POLLING_FAILED',
      message: 'the job could not be followed to its end; its records were not confirmed',
      fields: [],
    };
    const counts = await finish(
      unit,
      await deps.jobs.rows(unit),
      input.jobId,
      () => undefined,
      failure,
      deps,
      now,
    );
    return { ...input, done: true, result: { jobState: 'Unknown', ...counts } };
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
  });
  const rows = await deps.jobs.rows(unit);
  const results = await collectResults(unit, rows, info, deps);
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
  const counts = await finish(
    unit,
    rows,
    input.jobId,
    (i) => results.get(i),
    leftover,
    deps,
    endedAt ? () => endedAt : now,
  );
  return { ...input, done: true, result: { jobState: info.state, ...counts } };
}

/** Salesforce writes `2024-03-20T21:42:13.000+0000`; Date.parse wants the offset as +00:00. */
function parseSalesforceDate(text: string | undefined): Date | undefined {
  if (!text) return undefined;
  const date = new Date(text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

type RowResult = Pick<Outcome, 'status' | 'errors'> & { salesforceId?: string; created?: boolean };

/** Reads the three result files and assigns each row to the unit's record with the same match key. */
async function collectResults(
  unit: BulkUnitItem,
  rows: readonly CorrelationRow[],
  info: BulkJobInfo,
  deps: PollDeps,
): Promise<Map<number, RowResult>> {
  const byMatch = new Map<string, number[]>();
  rows.forEach((row, i) => {
    const list = byMatch.get(row.match);
    if (list) list.push(i);
    else byMatch.set(row.match, [i]);
  });
  const results = new Map<number, RowResult>();
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
        const result: RowResult = { status: 'failed', errors: [parseBulkError(row.sf__Error ?? '')] };
        if (row.sf__Id) result.salesforceId = row.sf__Id;
        results.set(index, result);
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
      }
    }
  }
  return results;
}

/** Publishes the unit's outcomes in record order from where an earlier run stopped, then closes it. */
async function finish(
  unit: BulkUnitItem,
  rows: readonly CorrelationRow[],
  jobId: string,
  resultOf: (index: number) => RowResult | undefined,
  leftover: OutcomeError,
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
      attempts: 1,
      timestamp: now().toISOString(),
    };
    if (result.salesforceId) outcome.salesforceId = result.salesforceId;
    if (result.created !== undefined) outcome.created = result.created;
    return outcome;
  };
  const counts = { succeeded: 0, failed: 0 };
  for (let start = unit.published; start < rows.length; start += PUBLISH_CHUNK) {
    const end = Math.min(rows.length, start + PUBLISH_CHUNK);
    const outcomes = rows.slice(start, end).map((row, i) => outcomeAt(row, start + i));
    await deps.publisher.publish(outcomes);
    await deps.jobs.markPublished(unit.unitKey, end);
    for (const o of outcomes) counts[o.status === 'succeeded' ? 'succeeded' : 'failed']++;
  }
  await deps.jobs.advance(unit.unitKey, unit.state, 'done');
  await deps.jobs.releaseSlot(unit.group, unit.unitKey);
  return counts;
}
