// Bulk API 2.0 ingest, one step at a time, each safe to call again (after a crash, a lost response or
// a redelivery): create, upload, close, abort, check, results. Not jsforce's Bulk2 helpers: they
// cannot retry an upload (the body is a consumed stream) and delete the job when polling times out.
//
// - create is not idempotent: a lost response is RESPONSE_LOST (an orphaned job stays Open and empty;
//   it never processes anything and Salesforce removes it after 7 days).
// - upload is a PUT of a buffer, resent in full; a job that already has its data (Salesforce: "Found
//   multiple contents"), or is already closed, means an earlier attempt got through.
// - close on a job that is past Open (and not aborted), abort on a job that already ended: answered
//   with the job.
// - results stream through the CSV parser; a 10,000-row file never sits in memory whole.
// - a job Salesforce no longer has (it deletes jobs 7 days after they were created) answers 404:
//   `isJobGone` tells that apart from any other refusal.
import { parseCsvStream } from '../csv/index.ts';
import type { Api, ApiRequest } from './api.ts';
import { SalesforceApiError, UnexpectedResponseError } from './errors.ts';
import type { SalesforceLogger } from './redact.ts';
import type { BulkJobInfo, BulkJobState, BulkJobSummary, BulkJobs, BulkResultKind } from './types.ts';

const RESULT_PATHS: Record<BulkResultKind, string> = {
  successful: 'successfulResults/',
  failed: 'failedResults/',
  unprocessed: 'unprocessedrecords/',
};
const ENDED: readonly BulkJobState[] = ['JobComplete', 'Failed', 'Aborted'];

function jobInfo(body: string, what: string): BulkJobInfo {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(body) as Record<string, unknown>;
  } catch {
    throw new UnexpectedResponseError(what, 'the body is not JSON');
  }
  if (typeof raw.id !== 'string' || typeof raw.state !== 'string') {
    throw new UnexpectedResponseError(what, 'no job id or state in the answer');
  }
  const info: BulkJobInfo = {
    id: raw.id,
    object: String(raw.object ?? ''),
    operation: raw.operation as BulkJobInfo['operation'],
    state: raw.state as BulkJobState,
    numberRecordsProcessed: Number(raw.numberRecordsProcessed ?? 0),
    numberRecordsFailed: Number(raw.numberRecordsFailed ?? 0),
  };
  if (typeof raw.externalIdFieldName === 'string') info.externalIdFieldName = raw.externalIdFieldName;
  if (typeof raw.errorMessage === 'string' && raw.errorMessage !== '') info.errorMessage = raw.errorMessage;
  if (typeof raw.createdDate === 'string') info.createdDate = raw.createdDate;
  if (typeof raw.createdById === 'string') info.createdById = raw.createdById;
  if (typeof raw.systemModstamp === 'string') info.systemModstamp = raw.systemModstamp;
  return info;
}

const jobPath = (jobId: string) => `/jobs/ingest/${encodeURIComponent(jobId)}`;

/**
 * Whether an error says the job no longer exists (Salesforce deleted it, or never had it).
 *
 * @example
 * try { info = await bulk.check(jobId, context); } catch (error) { if (isJobGone(error)) …; else throw error; }
 */
export function isJobGone(error: unknown): boolean {
  return error instanceof SalesforceApiError && error.status === 404;
}

/** Salesforce writes `2024-03-20T21:42:13.000+0000`; Date.parse wants the offset as +00:00. */
export function parseSalesforceDate(text: string | undefined): Date | undefined {
  if (!text) return undefined;
  const date = new Date(text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

interface JobsPage {
  done?: boolean;
  records?: unknown[];
  nextRecordsUrl?: string | null;
}

/**
 * Creates the Bulk API 2.0 job steps over an API caller.
 *
 * @example
 * const bulk = createBulkJobs({ api, logger });
 * const job = await bulk.create({ object: 'Lead', operation: 'insert' }, { deadline });
 * await bulk.upload(job.id, encodeCsv(fields).text, { deadline });
 * await bulk.close(job.id, { deadline });
 */
export function createBulkJobs(options: { api: Api; logger: SalesforceLogger }): BulkJobs {
  const { api, logger } = options;

  async function call(request: ApiRequest, context: Parameters<Api['call']>[1]): Promise<BulkJobInfo> {
    const response = await api.call(request, context);
    return jobInfo(response.body, request.what);
  }

  async function check(jobId: string, context: Parameters<Api['call']>[1]): Promise<BulkJobInfo> {
    return call(
      { method: 'GET', path: jobPath(jobId), idempotent: true, what: `the check of bulk job ${jobId}` },
      context,
    );
  }

  async function changeState(
    jobId: string,
    state: 'UploadComplete' | 'Aborted',
    accept: (info: BulkJobInfo) => boolean,
    context: Parameters<Api['call']>[1],
  ): Promise<BulkJobInfo> {
    const what = `${state === 'Aborted' ? 'the abort' : 'the close'} of bulk job ${jobId}`;
    try {
      return await call(
        { method: 'PATCH', path: jobPath(jobId), body: JSON.stringify({ state }), idempotent: true, what },
        context,
      );
    } catch (error) {
      // Salesforce answers a state change the job is already past with INVALIDJOBSTATE; whatever the
      // code, the job's state decides.
      if (!(error instanceof SalesforceApiError) || error.status === 404) throw error;
      const info = await check(jobId, context);
      if (!accept(info)) throw error;
      logger.info('Bulk job already past the requested state', {
        jobId,
        requested: state,
        state: info.state,
      });
      return info;
    }
  }

  return {
    async create(spec, context) {
      const body = {
        object: spec.object,
        operation: spec.operation,
        ...(spec.externalIdFieldName ? { externalIdFieldName: spec.externalIdFieldName } : {}),
        contentType: 'CSV',
        columnDelimiter: 'COMMA',
        lineEnding: 'LF',
      };
      const info = await call(
        {
          method: 'POST',
          path: '/jobs/ingest',
          body: JSON.stringify(body),
          idempotent: false,
          what: `the creation of a bulk ${spec.operation} job for ${spec.object}`,
        },
        context,
      );
      logger.info('Bulk job created', { jobId: info.id, object: info.object, operation: info.operation });
      return info;
    },

    async upload(jobId, csv, context) {
      const body = typeof csv === 'string' ? Buffer.from(csv, 'utf8') : csv;
      try {
        await api.call(
          {
            method: 'PUT',
            path: `${jobPath(jobId)}/batches`,
            body,
            contentType: 'text/csv',
            idempotent: true,
            what: `the upload of ${body.length} bytes to bulk job ${jobId}`,
          },
          context,
        );
      } catch (error) {
        if (!(error instanceof SalesforceApiError) || error.status === 404) throw error;
        if (/multiple contents/i.test(error.message)) {
          logger.info('Bulk job already holds its data (an earlier upload got through)', { jobId });
          return;
        }
        const info = await check(jobId, context);
        if (info.state === 'Open' || info.state === 'Aborted') throw error;
        logger.info('Bulk job already closed; its upload got through', { jobId, state: info.state });
      }
    },

    close(jobId, context) {
      // An aborted job was not closed by us: its data will never be processed.
      return changeState(
        jobId,
        'UploadComplete',
        (info) => info.state !== 'Open' && info.state !== 'Aborted',
        context,
      );
    },

    abort(jobId, context) {
      return changeState(jobId, 'Aborted', (info) => ENDED.includes(info.state), context);
    },

    check,

    async *list(context) {
      let path: string | undefined = '/jobs/ingest?jobType=V2Ingest';
      while (path) {
        const response = await api.call(
          { method: 'GET', path, idempotent: true, what: 'the list of bulk ingest jobs' },
          context,
        );
        let page: JobsPage;
        try {
          page = JSON.parse(response.body) as JobsPage;
        } catch {
          throw new UnexpectedResponseError('the list of bulk ingest jobs', 'the body is not JSON');
        }
        for (const raw of page.records ?? []) {
          const job = raw as Record<string, unknown>;
          if (typeof job.id !== 'string' || typeof job.state !== 'string') continue;
          const summary: BulkJobSummary = {
            id: job.id,
            object: String(job.object ?? ''),
            operation: job.operation as BulkJobSummary['operation'],
            state: job.state as BulkJobState,
          };
          if (typeof job.createdById === 'string') summary.createdById = job.createdById;
          if (typeof job.createdDate === 'string') summary.createdDate = job.createdDate;
          yield summary;
        }
        path = page.done === false && page.nextRecordsUrl ? page.nextRecordsUrl : undefined;
      }
    },

    async *results(jobId, kind, context) {
      const { response } = await api.stream(
        {
          method: 'GET',
          path: `${jobPath(jobId)}/${RESULT_PATHS[kind]}`,
          accept: 'text/csv',
          idempotent: true,
          what: `the ${kind} results of bulk job ${jobId}`,
        },
        context,
      );
      yield* parseCsvStream(response.body);
    },
  };
}
