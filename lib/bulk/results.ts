// Reading an ended job's result files into one result per unit record. Only the files the job info says
// hold rows are fetched (a clean job needs just successfulResults). A file that cannot be read throws
// (the poller tries again later, nothing is kept half-read) — unless the job is gone, in which case the
// rows read so far keep their results and the rest are unknown.
import type { CsvRow } from '../csv/index.ts';
import type { OutcomeError } from '../outcomes/outcome.ts';
import { unknownBulkRow } from '../outcomes/outcome-of.ts';
import { isJobGone } from '../salesforce/bulk.ts';
import { ORG_WIDE_RECORD_CODES } from '../salesforce/errors.ts';
import type { BulkJobInfo, BulkJobs, BulkResultKind, CallContext } from '../salesforce/types.ts';
import { correlate } from './correlation.ts';
import type { BulkUnit, CorrelationRow, RowResult } from './store.ts';

/** Row errors that say nothing about the record itself: the same row may well succeed again. */
const RETRYABLE_ROW_CODES = new Set(['UNABLE_TO_LOCK_ROW']);

/**
 * Whether a row was refused for a reason of the whole org (read-only maintenance, the API disabled):
 * such a row goes on in follow-up jobs until the condition clears, without spending `maxRetries`.
 *
 * @example
 * heldRow({ status: 'failed', errors: [{ code: 'INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE', message: '', fields: [] }] }); // true
 */
export function heldRow(result: Pick<RowResult, 'status' | 'errors'>): boolean {
  return result.status === 'failed' && ORG_WIDE_RECORD_CODES.has(result.errors[0]?.code ?? '');
}

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
 * The result files worth fetching: those the job info says are not empty.
 *
 * @example
 * resultKinds({ numberRecordsProcessed: 10, numberRecordsFailed: 0 } as BulkJobInfo, 10); // ['successful']
 */
export function resultKinds(info: BulkJobInfo, records: number): BulkResultKind[] {
  const kinds: BulkResultKind[] = [];
  if (info.numberRecordsProcessed > info.numberRecordsFailed) kinds.push('successful');
  if (info.numberRecordsFailed > 0) kinds.push('failed');
  if (info.numberRecordsProcessed < records) kinds.push('unprocessed');
  return kinds;
}

/** A result row without Salesforce's `sf__` columns: the cells as they were uploaded. */
function uploadedCells(row: CsvRow): CsvRow {
  const cells: CsvRow = {};
  for (const column in row) if (!column.startsWith('sf__')) cells[column] = row[column]!;
  return cells;
}

function ended(info: BulkJobInfo): string {
  return `the job ended ${info.state}${info.errorMessage ? `: ${info.errorMessage}` : ''} before processing this record`;
}

/**
 * One result per correlation row of an ended job; `gone` tells whether the job disappeared while its
 * files were read (the rows not read are then unknown). Rows worth another try carry `again`: those
 * that failed for a passing reason, and those a Failed job, or a job someone else aborted, never
 * processed — not those of a job the poller itself gave up on (`givenUp`: aborted past its lifetime).
 *
 * @example
 * const { results } = await collectResults(unit, rows, info, bulk, { deadline });
 */
export async function collectResults(
  unit: BulkUnit,
  rows: readonly CorrelationRow[],
  info: BulkJobInfo,
  bulk: BulkJobs,
  context: CallContext,
  options: { givenUp?: boolean } = {},
): Promise<{ results: RowResult[]; gone: boolean }> {
  const recordOf = correlate(rows, unit.matchColumns);
  const found: (RowResult | undefined)[] = new Array(rows.length);
  let gone = false;
  try {
    for (const kind of resultKinds(info, unit.records)) {
      for await (const row of bulk.results(info.id, kind, context)) {
        const index = recordOf(row);
        if (index === undefined) continue;
        if (kind === 'successful') {
          const result: RowResult = { status: 'succeeded', errors: [] };
          if (row.sf__Id) result.salesforceId = row.sf__Id;
          if (row.sf__Created !== undefined) result.created = row.sf__Created === 'true';
          found[index] = result;
        } else if (kind === 'failed') {
          const error = parseBulkError(row.sf__Error ?? '');
          const result: RowResult = { status: 'failed', errors: [error] };
          if (row.sf__Id) result.salesforceId = row.sf__Id;
          if (RETRYABLE_ROW_CODES.has(error.code) || heldRow(result)) result.again = uploadedCells(row);
          found[index] = result;
        } else {
          const result: RowResult = {
            status: 'failed',
            errors: [{ code: 'UNPROCESSED', message: ended(info), fields: [] }],
          };
          // Salesforce failing a job is its own trouble, and so is an abort by someone else (an overlapping
          // writer, an admin): nothing was wrong with the record. A job the poller gave up on stays so.
          if (info.state === 'Failed' || (info.state === 'Aborted' && !options.givenUp))
            result.again = uploadedCells(row);
          found[index] = result;
        }
      }
    }
  } catch (error) {
    if (!isJobGone(error)) throw error;
    gone = true;
  }
  const leftover: OutcomeError = gone
    ? unknownBulkRow(info.id)
    : info.state === 'JobComplete'
      ? { code: 'NO_RESULT', message: 'the job completed without a result row for this record', fields: [] }
      : { code: `JOB_${info.state.toUpperCase()}`, message: ended(info), fields: [] };
  const results = Array.from(found, (r) => r ?? { status: 'failed' as const, errors: [leftover] });
  return { results, gone };
}
