// Bulk API 2.0 ingest jobs, as Salesforce runs them: create → upload one CSV → UploadComplete →
// (after a delay) InProgress, processed in internal batches of 10,000 records → JobComplete, Failed
// or Aborted; then result files whose rows are deliberately out of upload order.
//
// `GET /jobs/ingest` lists every job of the org in an indeterminate order, as Salesforce documents (here:
// a random key drawn per job at creation, so pages of one listing neither overlap nor miss a job).
// Salesforce deletes jobs 7 days after their creation; `expire` does that to a job now.
//
// Time: every job step has a due time derived from `processingDelayMs` (InProgress at close + delay,
// internal batch k at InProgress + k × delay, the end one delay after the last batch). Due steps run
// on every request that touches the job (and on `jobs()`), so results never depend on timer
// scheduling; an unref'd timer per pending job also runs them when nobody is polling. With an
// injected clock that stands still, timers stop re-arming and the requests drive time.

import { seededRandom } from '../random.ts';
import {
  COLUMN_DELIMITERS,
  type Column,
  type ColumnDelimiter,
  type ColumnSchema,
  columnSchemaFromFieldNames,
  formatErrors,
  LINE_ENDINGS,
  type LineEnding,
  lineEndingError,
  type ParsedUpload,
  parseUpload,
  planColumns,
  renderResults,
  shuffled,
  toRecord,
} from './bulk-csv.ts';
import type {
  Counters,
  EmulatorRequest,
  EmulatorResponse,
  Org,
  RouteModule,
  SaveResult,
  WriteOperation,
} from './contracts.ts';

/** Salesforce splits every ingest job into internal batches of this many records. */
export const INTERNAL_BATCH_RECORDS = 10_000;
/** Job data may be at most 150 MB once base64-encoded (Salesforce stores it that way). */
export const MAX_UPLOAD_BASE64_BYTES = 150 * 1024 * 1024;
/** `GET /jobs/ingest` returns this many jobs a page. */
export const JOBS_PAGE_SIZE = 1000;

export type JobState = 'Open' | 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Failed' | 'Aborted';

/** What `GET /jobs/ingest/{id}` returns. Optional members are absent from the JSON when unset. */
export interface JobInfo {
  id: string;
  operation: WriteOperation;
  object: string;
  createdById: string;
  createdDate: string;
  systemModstamp: string;
  state: JobState;
  externalIdFieldName?: string;
  assignmentRuleId?: string;
  concurrencyMode: 'Parallel';
  contentType: 'CSV';
  apiVersion: number;
  jobType: 'V2Ingest';
  /** Only while the job is Open, as Salesforce does. */
  contentUrl?: string;
  lineEnding: LineEnding;
  columnDelimiter: ColumnDelimiter;
  numberRecordsProcessed: number;
  numberRecordsFailed: number;
  retries: number;
  totalProcessingTime: number;
  apiActiveProcessingTime: number;
  apexProcessingTime: number;
  /** Only on a Failed job. */
  errorMessage?: string;
}

export type JobSummary = Omit<
  JobInfo,
  | 'numberRecordsProcessed'
  | 'numberRecordsFailed'
  | 'retries'
  | 'totalProcessingTime'
  | 'apiActiveProcessingTime'
  | 'apexProcessingTime'
>;

/** A failure injected into one job: after `afterRecords` records (0 if absent) the job ends Failed. */
export interface JobFailure {
  errorMessage: string;
  afterRecords?: number;
}

/**
 * Schema detail the engine uses when the org offers it (the emulator's org does): canonical object
 * names, upsert keys checked at job creation, relationship names as the schema declares them.
 * Without it, field names and Salesforce's naming rules are enough.
 */
export interface OrgSchemaView {
  sobjectSchema(sobject: string):
    | {
        name: string;
        fieldsByName: ReadonlyMap<string, { name: string; idLookup: boolean }>;
        relationships: ReadonlyMap<
          string,
          { name: string; relationshipName: string | null; referenceTo?: readonly string[] }
        >;
      }
    | undefined;
}

export interface BulkIngestDeps {
  org: Org & Partial<OrgSchemaView>;
  counters: Counters;
  /** Delay before a closed job starts, between internal batches, and before it ends. */
  processingDelayMs: number;
  /**
   * Fault injection, asked once when a job starts processing. A string fails the job before any
   * record is processed (all rows unprocessed); a `JobFailure` lets the first `afterRecords` rows be
   * written first (they stay written, as on Salesforce).
   */
  failJob?: (job: { id: string; object: string; operation: string }) => string | JobFailure | undefined;
  now?: () => Date;
  /** Orders result rows; a fixed-seed generator by default, so runs are reproducible. */
  random?: () => number;
  /** `createdById` of every job. */
  userId?: string;
}

/** What happened to a job, kept after it is deleted (for tests that check when jobs processed). */
export interface JobHistory {
  id: string;
  object: string;
  operation: WriteOperation;
  /** Epoch ms: when its upload was closed (processing may start), and when it ended. */
  closedAt?: number;
  endedAt?: number;
  /** The final state (JobComplete, Failed, Aborted), or the state it was in when it was deleted. */
  state: JobState;
  deleted: boolean;
  /** The uploaded rows (header and cells), once Salesforce read them. */
  header: string[];
  rows: string[][];
}

export interface BulkIngest extends RouteModule {
  /** Forgets every job and stops their timers. */
  reset(): void;
  /** Every job not deleted, after running the steps that are due. */
  jobs(): JobInfo[];
  /** Every job since the last reset, deleted ones included. */
  history(): JobHistory[];
  /** Deletes a job whatever its state, as Salesforce does 7 days after a job's creation; false if unknown. */
  expire(jobId: string): boolean;
  /** Aborts a job as its owner could (Open, UploadComplete or InProgress); false otherwise. */
  abort(jobId: string): boolean;
  /** Changes the processing pace of every job from now on. */
  setProcessingDelay(ms: number): void;
}

const OPERATIONS: readonly WriteOperation[] = ['insert', 'update', 'upsert', 'delete', 'hardDelete'];
const CONTENT_TYPES = ['CSV', 'JSON', 'XML', 'ZIP_CSV', 'ZIP_JSON', 'ZIP_XML'];
const CREATE_PROPERTIES = new Set([
  'object',
  'operation',
  'externalIdFieldName',
  'contentType',
  'columnDelimiter',
  'lineEnding',
  'assignmentRuleId',
]);
const FINAL_STATES: readonly JobState[] = ['JobComplete', 'Failed', 'Aborted'];
const DELETABLE_STATES: readonly JobState[] = ['UploadComplete', 'JobComplete', 'Aborted', 'Failed'];
const ABORTABLE_STATES: readonly JobState[] = ['Open', 'UploadComplete', 'InProgress'];
type ResultKind = 'successful' | 'failed' | 'unprocessed';
const RESULT_KINDS = new Map<string, ResultKind>([
  ['successfulresults', 'successful'],
  ['failedresults', 'failed'],
  ['unprocessedrecords', 'unprocessed'],
]);

interface Work {
  parsed: ParsedUpload;
  columns: Column[];
  startAt: number;
  /** Rows processed before the job ends: all of them, or fewer when a failure is injected. */
  limit: number;
  batchCount: number;
  nextBatch: number;
  failure?: string;
  outcomes: (SaveResult | undefined)[];
  processed: number;
  failed: number;
  processingMs: number;
}

interface Job {
  id: string;
  object: string;
  operation: WriteOperation;
  externalIdFieldName?: string;
  assignmentRuleId?: string;
  lineEnding: LineEnding;
  columnDelimiter: ColumnDelimiter;
  apiVersion: string;
  createdAt: number;
  modifiedAt: number;
  state: JobState;
  upload?: Buffer;
  closedAt?: number;
  errorMessage?: string;
  /** The upload as far as it could be read, for unprocessed records of a job that failed early. */
  parsed?: ParsedUpload;
  work?: Work;
  timer?: NodeJS.Timeout;
  files?: Record<ResultKind, string>;
  /** Where the job falls in the org's job list. */
  listKey: number;
  history: JobHistory;
}

/**
 * The Bulk API 2.0 ingest routes (`/jobs/ingest…` below `/services/data/vXX.X`).
 *
 * @example
 * const bulk = createBulkIngest({ org, counters, processingDelayMs: 50 });
 * const response = await bulk({ method: 'GET', path: '/jobs/ingest', … });
 */
export function createBulkIngest(deps: BulkIngestDeps): BulkIngest {
  const { org, counters } = deps;
  let delay = Math.max(0, deps.processingDelayMs);
  const now = deps.now ?? (() => new Date());
  const nowMs = () => now().getTime();
  const random = deps.random ?? seededRandom(0x5eed);
  const listOrder = seededRandom(0x1157);
  const userId = deps.userId ?? to18('005Hz0000000001');
  const jobs = new Map<string, Job>();
  let histories: JobHistory[] = [];
  let jobCount = 0;

  const route = async (request: EmulatorRequest): Promise<EmulatorResponse | undefined> => {
    const path = request.path.split('?')[0] ?? '';
    if (!/^\/jobs\/ingest(\/|$)/.test(path)) return undefined;
    const match = /^\/jobs\/ingest(?:\/([^/]+)(?:\/([^/]+))?)?\/?$/.exec(path);
    if (!match) return notFound();
    const [, id, resource] = match;
    const method = request.method.toUpperCase();
    if (id === undefined) {
      if (method === 'POST') return createJob(request);
      if (method === 'GET') return listJobs(request);
      return methodNotAllowed(method, 'GET,POST');
    }
    const job = findJob(id);
    if (!job) return notFound();
    catchUp(job);
    if (resource === undefined) {
      if (method === 'GET') return json(200, info(job));
      if (method === 'PATCH') return changeState(job, request);
      if (method === 'DELETE') return deleteJob(job);
      return methodNotAllowed(method, 'GET,PATCH,DELETE');
    }
    if (resource.toLowerCase() === 'batches') {
      return method === 'PUT' ? upload(job, request) : methodNotAllowed(method, 'PUT');
    }
    const kind = RESULT_KINDS.get(resource.toLowerCase());
    if (!kind) return notFound();
    return method === 'GET' ? results(job, kind) : methodNotAllowed(method, 'GET');
  };

  function createJob(request: EmulatorRequest): EmulatorResponse {
    const body = readJson(request.body);
    if ('error' in body) return body.error;
    const fields = body.value;
    const unknown = Object.keys(fields).find((key) => !CREATE_PROPERTIES.has(key));
    if (unknown) return jsonParserError(`Unrecognized field "${unknown}"`);
    const { object, operation, externalIdFieldName, assignmentRuleId } = fields;
    const contentType = fields.contentType ?? 'CSV';
    const lineEnding = fields.lineEnding ?? 'LF';
    const columnDelimiter = fields.columnDelimiter ?? 'COMMA';

    if (typeof operation !== 'string' || operation === '') return invalidJob('Operation is required');
    if (!OPERATIONS.includes(operation as WriteOperation)) return badEnum('OperationEnum', operation);
    if (typeof contentType !== 'string' || !CONTENT_TYPES.includes(contentType)) {
      return badEnum('ContentType', contentType);
    }
    if (contentType !== 'CSV') return invalidJob('The only content type supported is CSV');
    if (typeof lineEnding !== 'string' || !Object.hasOwn(LINE_ENDINGS, lineEnding)) {
      return badEnum('LineEndingEnum', lineEnding);
    }
    if (typeof columnDelimiter !== 'string' || !Object.hasOwn(COLUMN_DELIMITERS, columnDelimiter)) {
      return badEnum('ColumnDelimiterEnum', columnDelimiter);
    }
    if (typeof object !== 'string' || object === '') return invalidJob('Object is required');
    const fieldNames = org.hasSObject(object) ? org.fieldNames(object) : undefined;
    if (!fieldNames) return invalidJob(`Unable to find object: ${object}`);
    const described = org.sobjectSchema?.(object);
    const sobject = described?.name ?? object;

    let externalId: string | undefined;
    if (operation === 'upsert') {
      if (typeof externalIdFieldName !== 'string' || externalIdFieldName === '') {
        return invalidJob('External ID field name is required for upsert');
      }
      const lower = externalIdFieldName.toLowerCase();
      if (!described) externalId = fieldNames.find((name) => name.toLowerCase() === lower);
      else if (described.fieldsByName.get(lower)?.idLookup) {
        externalId = described.fieldsByName.get(lower)?.name;
      }
      if (!externalId) {
        return invalidJob(
          `Field name provided, ${externalIdFieldName} is not an External ID or indexed field for ${sobject}`,
        );
      }
    }

    const at = nowMs();
    jobCount += 1;
    const job: Job = {
      id: to18(`750Hz${jobCount.toString(36).toUpperCase().padStart(10, '0')}`),
      object: sobject,
      operation: operation as WriteOperation,
      lineEnding: lineEnding as LineEnding,
      columnDelimiter: columnDelimiter as ColumnDelimiter,
      apiVersion: request.apiVersion,
      createdAt: at,
      modifiedAt: at,
      state: 'Open',
      listKey: listOrder(),
      history: {
        id: '',
        object: sobject,
        operation: operation as WriteOperation,
        state: 'Open',
        deleted: false,
        header: [],
        rows: [],
      },
    };
    job.history.id = job.id;
    histories.push(job.history);
    if (externalId) job.externalIdFieldName = externalId;
    if (typeof assignmentRuleId === 'string') job.assignmentRuleId = assignmentRuleId;
    jobs.set(job.id, job);
    return json(200, summary(job));
  }

  function upload(job: Job, request: EmulatorRequest): EmulatorResponse {
    if (job.state !== 'Open') {
      return invalidJobState(`Job is ${job.state}: data can only be uploaded to an Open job`);
    }
    if (job.upload) {
      return invalidJob(
        `Found multiple contents for job: <${job.id}>, please 'Close' / 'Abort' / 'Delete' the current Job then create a new Job and make sure the content is only 'PUT' once for a given Job.`,
      );
    }
    const contentType = String(request.headers['content-type'] ?? '');
    if (!/^text\/csv\s*(;|$)/i.test(contentType)) {
      return errorResponse(
        400,
        'CLIENTINPUTERROR',
        `Unsupported content type '${contentType}': upload job data as text/csv`,
      );
    }
    const base64Bytes = Math.ceil(request.body.length / 3) * 4;
    if (base64Bytes > MAX_UPLOAD_BASE64_BYTES) {
      return errorResponse(
        400,
        'CLIENTINPUTERROR',
        `Failed to read request. Exceeded max size limit of ${MAX_UPLOAD_BASE64_BYTES} bytes (after base64 encoding)`,
      );
    }
    job.upload = request.body;
    job.modifiedAt = nowMs();
    return { status: 201 };
  }

  function changeState(job: Job, request: EmulatorRequest): EmulatorResponse {
    const body = readJson(request.body);
    if ('error' in body) return body.error;
    const target = body.value.state;
    if (target === 'UploadComplete') {
      if (job.state !== 'Open') return invalidJobState(`Cannot close a job in state ${job.state}`);
      job.state = 'UploadComplete';
      job.closedAt = nowMs();
      job.modifiedAt = job.closedAt;
      job.history.closedAt = job.closedAt;
      job.history.state = job.state;
      arm(job);
      return json(200, summary(job));
    }
    if (target === 'Aborted') {
      if (!ABORTABLE_STATES.includes(job.state)) {
        return invalidJobState(`Cannot abort a job in state ${job.state}`);
      }
      abortNow(job);
      return json(200, summary(job));
    }
    return invalidJobState(`Invalid state change requested: ${JSON.stringify(target ?? null)}`);
  }

  function deleteJob(job: Job): EmulatorResponse {
    if (!DELETABLE_STATES.includes(job.state)) {
      return errorResponse(
        400,
        'API_ERROR',
        'Error encountered when deleting the job because the job is not terminated',
      );
    }
    remove(job);
    return { status: 204 };
  }

  function abortNow(job: Job): void {
    stopTimer(job);
    job.state = 'Aborted';
    job.modifiedAt = nowMs();
    ended(job);
  }

  function remove(job: Job): void {
    stopTimer(job);
    jobs.delete(job.id);
    job.history.deleted = true;
  }

  function ended(job: Job): void {
    job.history.state = job.state;
    if (FINAL_STATES.includes(job.state)) job.history.endedAt ??= job.modifiedAt;
  }

  function listJobs(request: EmulatorRequest): EmulatorResponse {
    const locator = request.query.get('queryLocator');
    const offset = locator ? Number(locator.split('-').pop()) : 0;
    if (!Number.isInteger(offset) || offset < 0) {
      return errorResponse(400, 'INVALID_QUERY_LOCATOR', `Invalid query locator: ${locator}`);
    }
    const jobType = request.query.get('jobType');
    const pkChunking = request.query.get('isPkChunkingEnabled');
    const all = (
      jobType && jobType !== 'V2Ingest' ? [] : pkChunking === 'true' ? [] : [...jobs.values()]
    ).sort((a, b) => a.listKey - b.listKey);
    for (const job of all) catchUp(job);
    const page = all.slice(offset, offset + JOBS_PAGE_SIZE).map(summary);
    const next = offset + JOBS_PAGE_SIZE;
    const done = next >= all.length;
    return json(200, {
      done,
      records: page,
      nextRecordsUrl: done
        ? null
        : `/services/data/v${request.apiVersion}/jobs/ingest?queryLocator=${to18('01gHz0000000001')}-${next}`,
    });
  }

  function results(job: Job, kind: ResultKind): EmulatorResponse {
    if (!FINAL_STATES.includes(job.state)) {
      return invalidJobState(`Results are not available for a job in state ${job.state}`);
    }
    job.files ??= resultFiles(job);
    return { status: 200, headers: { 'Content-Type': 'text/csv' }, body: job.files[kind] };
  }

  function resultFiles(job: Job): Record<ResultKind, string> {
    const parsed = job.work?.parsed ?? job.parsed ?? readAnyway(job);
    const header = parsed?.header ?? [];
    const rows = parsed?.rows ?? [];
    const outcomes = job.work?.outcomes ?? [];
    const successful: string[][] = [];
    const failed: string[][] = [];
    const unprocessed: string[][] = [];
    rows.forEach((row, index) => {
      const outcome = outcomes[index];
      if (!outcome) unprocessed.push(row);
      else if (outcome.success) successful.push([outcome.id ?? '', String(created(job, outcome)), ...row]);
      else failed.push([outcome.id ?? '', formatErrors(outcome.errors), ...row]);
    });
    const unreadable = !parsed && job.upload ? job.upload.toString('utf8') : undefined;
    return {
      successful: renderResults(['sf__Id', 'sf__Created', ...header], shuffled(successful, random), job),
      failed: renderResults(['sf__Id', 'sf__Error', ...header], shuffled(failed, random), job),
      unprocessed: unreadable ?? (parsed ? renderResults(header, shuffled(unprocessed, random), job) : ''),
    };
  }

  /** The upload of a job that ended before reading it (aborted, wrong line ending), for its unprocessed rows. */
  function readAnyway(job: Job): ParsedUpload | undefined {
    const text = job.upload?.toString('utf8');
    if (!text) return undefined;
    const lineEnding = (['LF', 'CRLF'] as const).find((candidate) => !lineEndingError(text, candidate));
    if (!lineEnding) return undefined;
    const parsed = parseUpload(text, { lineEnding, columnDelimiter: job.columnDelimiter });
    return 'error' in parsed ? undefined : parsed;
  }

  function created(job: Job, outcome: SaveResult): boolean {
    if (job.operation === 'insert') return true;
    return job.operation === 'upsert' && outcome.created === true;
  }

  // --- time: the steps of a closed job, run when due --------------------------------------------

  function nextDue(job: Job): number | undefined {
    if (job.state === 'UploadComplete' && job.closedAt !== undefined) return job.closedAt + delay;
    if (job.state === 'InProgress' && job.work) return job.work.startAt + job.work.nextBatch * delay;
    return undefined;
  }

  function advance(job: Job, at: number): void {
    if (job.state === 'UploadComplete' && job.closedAt !== undefined && at >= job.closedAt + delay) {
      start(job, job.closedAt + delay);
    }
    const work = job.work;
    if (job.state !== 'InProgress' || !work) return;
    while (work.nextBatch < work.batchCount && at >= work.startAt + work.nextBatch * delay) {
      runBatch(job, work, work.startAt + work.nextBatch * delay);
      if (job.state !== 'InProgress') return;
    }
    const endAt = work.startAt + work.batchCount * delay;
    if (at >= endAt) {
      job.state = work.failure === undefined ? 'JobComplete' : 'Failed';
      if (work.failure !== undefined) job.errorMessage = work.failure;
      job.modifiedAt = endAt;
      ended(job);
    }
  }

  function start(job: Job, at: number): void {
    job.modifiedAt = at;
    const prepared = prepare(job);
    if ('error' in prepared) {
      fail(job, prepared.error);
      return;
    }
    const { parsed, columns } = prepared;
    const injected = deps.failJob?.({ id: job.id, object: job.object, operation: job.operation });
    const failure = typeof injected === 'string' ? { errorMessage: injected } : injected;
    const limit = failure
      ? Math.min(parsed.rows.length, Math.max(0, failure.afterRecords ?? 0))
      : parsed.rows.length;
    job.state = 'InProgress';
    job.work = {
      parsed,
      columns,
      startAt: at,
      limit,
      batchCount: Math.ceil(limit / INTERNAL_BATCH_RECORDS),
      nextBatch: 0,
      outcomes: new Array(parsed.rows.length),
      processed: 0,
      failed: 0,
      processingMs: 0,
    };
    if (failure) job.work.failure = failure.errorMessage;
  }

  /** Reads and checks the upload as Salesforce does when the job starts; any problem fails the whole job. */
  function prepare(job: Job): { parsed: ParsedUpload; columns: Column[] } | { error: string } {
    const text = job.upload?.toString('utf8') ?? '';
    if (text === '') return { error: 'ClientInputError : No data was uploaded for this job' };
    const lineError = lineEndingError(text, job.lineEnding);
    if (lineError) return { error: lineError };
    const parsed = parseUpload(text, job);
    if ('error' in parsed) return parsed;
    job.parsed = parsed;
    job.history.header = parsed.header;
    job.history.rows = parsed.rows;
    job.upload = undefined; // the parsed rows are all the results need; a large upload costs memory twice
    const plan = planColumns(parsed.header, columnSchema(job.object));
    if ('error' in plan) return plan;
    return { parsed, columns: plan.columns };
  }

  function columnSchema(sobject: string): ColumnSchema {
    const described = org.sobjectSchema?.(sobject);
    if (!described) return columnSchemaFromFieldNames(org.fieldNames(sobject) ?? []);
    return {
      field: (name) => described.fieldsByName.get(name.toLowerCase())?.name,
      relationship(name) {
        const reference = described.relationships.get(name.toLowerCase());
        if (!reference?.relationshipName) return undefined;
        const targets = (reference.referenceTo ?? []).map((t) => org.sobjectSchema?.(t));
        const modeled = targets.length > 0 && targets.every((t) => t !== undefined);
        return {
          relationshipName: reference.relationshipName,
          lookupField: reference.name,
          ...(modeled
            ? {
                addresses: (field: string) =>
                  targets.some((t) => t!.fieldsByName.get(field.toLowerCase())?.idLookup === true),
              }
            : {}),
        };
      },
    };
  }

  function fail(job: Job, errorMessage: string): void {
    job.state = 'Failed';
    job.errorMessage = errorMessage;
    ended(job);
  }

  function runBatch(job: Job, work: Work, at: number): void {
    const from = work.nextBatch * INTERNAL_BATCH_RECORDS;
    const to = Math.min(work.limit, from + INTERNAL_BATCH_RECORDS);
    const records = work.parsed.rows.slice(from, to).map((row) => toRecord(row, work.columns, job.operation));
    const startedAt = performance.now();
    let saved: SaveResult[];
    try {
      saved = org.apply(job.operation, job.object, records, {
        allOrNone: false,
        ...(job.externalIdFieldName ? { externalIdField: job.externalIdFieldName } : {}),
        source: 'csv',
      });
      if (saved.length !== records.length) {
        throw new Error(`the org returned ${saved.length} results for ${records.length} records`);
      }
    } catch (cause) {
      job.modifiedAt = at;
      fail(job, `InternalServerError : ${(cause as Error).message}`);
      return;
    }
    work.processingMs += performance.now() - startedAt;
    counters.bulkBatches += 1;
    saved.forEach((result, offset) => {
      work.outcomes[from + offset] = result;
      if (!result.success) work.failed += 1;
    });
    work.processed += saved.length;
    work.nextBatch += 1;
    job.modifiedAt = at;
  }

  /** Runs what is due now and arms the timer for the next step. */
  function catchUp(job: Job): void {
    advance(job, nowMs());
    arm(job);
  }

  function arm(job: Job): void {
    stopTimer(job);
    const due = nextDue(job);
    if (due === undefined) return;
    const armedAt = nowMs();
    job.timer = setTimeout(
      () => {
        job.timer = undefined;
        const at = nowMs();
        const dueBefore = nextDue(job);
        advance(job, at);
        // A clock that has not moved and a job that has not moved mean an injected, frozen clock.
        if (at !== armedAt || nextDue(job) !== dueBefore) arm(job);
      },
      Math.max(0, due - armedAt),
    );
    job.timer.unref();
  }

  function stopTimer(job: Job): void {
    if (job.timer) clearTimeout(job.timer);
    job.timer = undefined;
  }

  // --- views ------------------------------------------------------------------------------------

  /** The job as create, close, abort and the job list return it: without processing figures. */
  function summary(job: Job): JobSummary {
    const {
      numberRecordsProcessed: _processed,
      numberRecordsFailed: _failed,
      retries: _retries,
      totalProcessingTime: _total,
      apiActiveProcessingTime: _apiActive,
      apexProcessingTime: _apex,
      ...rest
    } = info(job);
    return rest;
  }

  function info(job: Job): JobInfo {
    const work = job.work;
    const processingMs = Math.round(work?.processingMs ?? 0);
    return {
      id: job.id,
      operation: job.operation,
      object: job.object,
      createdById: userId,
      createdDate: salesforceDate(job.createdAt),
      systemModstamp: salesforceDate(job.modifiedAt),
      state: job.state,
      ...(job.externalIdFieldName ? { externalIdFieldName: job.externalIdFieldName } : {}),
      ...(job.assignmentRuleId ? { assignmentRuleId: job.assignmentRuleId } : {}),
      concurrencyMode: 'Parallel',
      contentType: 'CSV',
      apiVersion: Number.parseFloat(job.apiVersion),
      jobType: 'V2Ingest',
      ...(job.state === 'Open'
        ? { contentUrl: `services/data/v${job.apiVersion}/jobs/ingest/${job.id}/batches` }
        : {}),
      lineEnding: job.lineEnding,
      columnDelimiter: job.columnDelimiter,
      numberRecordsProcessed: work?.processed ?? 0,
      numberRecordsFailed: work?.failed ?? 0,
      retries: 0,
      totalProcessingTime: processingMs,
      apiActiveProcessingTime: processingMs,
      apexProcessingTime: 0,
      ...(job.errorMessage !== undefined ? { errorMessage: job.errorMessage } : {}),
    };
  }

  function findJob(id: string): Job | undefined {
    if (id.length === 18) return jobs.get(id);
    if (id.length === 15) return [...jobs.values()].find((job) => job.id.startsWith(id));
    return undefined;
  }

  return Object.assign(route, {
    reset(): void {
      for (const job of jobs.values()) stopTimer(job);
      jobs.clear();
      histories = [];
    },
    history(): JobHistory[] {
      for (const job of jobs.values()) catchUp(job);
      return histories.map((h) => ({ ...h }));
    },
    expire(jobId: string): boolean {
      const job = findJob(jobId);
      if (!job) return false;
      catchUp(job);
      remove(job);
      return true;
    },
    abort(jobId: string): boolean {
      const job = findJob(jobId);
      if (!job) return false;
      catchUp(job);
      if (!ABORTABLE_STATES.includes(job.state)) return false;
      abortNow(job);
      return true;
    },
    setProcessingDelay(ms: number): void {
      delay = Math.max(0, ms);
      for (const job of jobs.values()) catchUp(job);
    },
    jobs(): JobInfo[] {
      return [...jobs.values()].map((job) => {
        catchUp(job);
        return info(job);
      });
    },
  });
}

// --- helpers ----------------------------------------------------------------------------------

function readJson(body: Buffer): { value: Record<string, unknown> } | { error: EmulatorResponse } {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value))
      return { value: value as Record<string, unknown> };
  } catch {
    // answered below, like any body that is not a JSON object
  }
  return { error: jsonParserError('The request body is not a JSON object') };
}

function json(status: number, body: unknown): EmulatorResponse {
  return { status, headers: { 'Content-Type': 'application/json;charset=UTF-8' }, body };
}

function errorResponse(status: number, errorCode: string, message: string): EmulatorResponse {
  return json(status, [{ errorCode, message }]);
}

function jsonParserError(message: string): EmulatorResponse {
  return errorResponse(400, 'JSON_PARSER_ERROR', message);
}

function badEnum(type: string, value: unknown): EmulatorResponse {
  return jsonParserError(
    `Cannot deserialize instance of ${type} from VALUE_STRING value ${String(value)} or request may be missing a required field`,
  );
}

function invalidJob(message: string): EmulatorResponse {
  return errorResponse(400, 'INVALIDJOB', message);
}

function invalidJobState(message: string): EmulatorResponse {
  return errorResponse(400, 'INVALIDJOBSTATE', message);
}

function notFound(): EmulatorResponse {
  return errorResponse(404, 'NOT_FOUND', 'The requested resource does not exist');
}

function methodNotAllowed(method: string, allowed: string): EmulatorResponse {
  return errorResponse(
    405,
    'METHOD_NOT_ALLOWED',
    `HTTP Method '${method}' not allowed. Allowed are ${allowed}`,
  );
}

/** Salesforce's dateTime format in job info: `2024-03-20T21:42:13.000+0000`. */
function salesforceDate(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}+0000`;
}

const ID_SUFFIX_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/**
 * The 18-character, case-insensitive form of a 15-character Salesforce id.
 *
 * @example to18('750Hz0000000001') // '750Hz0000000001AAQ'
 */
export function to18(id15: string): string {
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const char = id15[chunk * 5 + i] ?? '';
      if (char >= 'A' && char <= 'Z') bits |= 1 << i;
    }
    suffix += ID_SUFFIX_CHARS[bits];
  }
  return id15 + suffix;
}
