// What the sink needs from Salesforce. The implementation (jsforce for auth and HTTP, our own retry,
// refresh, chunking and job lifecycle policies) lives beside this file; the handlers and the local
// runtime depend only on these interfaces.
import type { Operation } from '../config/index.ts';
import type { CsvRow } from '../csv/index.ts';
import type { OutcomeError } from '../outcomes/outcome.ts';
import type { WriteUnit } from '../plan/plan.ts';
import type { SObjectSchema } from '../shape/sobject-schema.ts';
import type { OrgCondition } from './errors.ts';
import type { Addressed } from './external-ids.ts';

export type { Addressed };

/** The Secrets Manager secret's JSON: one of three ways to log in. */
export type SalesforceCredentials =
  | {
      /** OAuth 2.0 client credentials flow (recommended). `loginUrl` must be the org's My Domain URL. */
      authType: 'client_credentials';
      loginUrl: string;
      clientId: string;
      clientSecret: string;
    }
  | {
      /** OAuth 2.0 JWT bearer flow: a connected app with a certificate, pre-authorized for the user. */
      authType: 'jwt';
      loginUrl: string;
      clientId: string;
      username: string;
      /** PEM, PKCS#8 or PKCS#1. */
      privateKey: string;
      /**
       * JWT `aud`. Default: `https://test.salesforce.com` for sandbox login URLs
       * (`*.sandbox.my.salesforce.com`, `test.salesforce.com`), `https://login.salesforce.com` for other
       * `*.salesforce.com` login URLs, else the login URL itself (Experience Cloud sites, the emulator).
       */
      audience?: string;
    }
  | {
      /** Legacy username-password flow (Salesforce is retiring it): password + security token. */
      authType: 'password';
      loginUrl: string;
      clientId: string;
      clientSecret: string;
      username: string;
      password: string;
      securityToken?: string;
    };

/** The result of one record's write, in the order of the unit's records. */
export interface RecordResult {
  status: 'succeeded' | 'failed';
  salesforceId?: string;
  created?: boolean;
  errors: OutcomeError[];
  /** Calls that carried this record (1 = settled on the first try). */
  attempts: number;
  /**
   * A failure that may succeed later (throttling, 5xx, timeouts, lock contention, a lost response to
   * a non-idempotent call): the sink hands the record back to Kafka rather than reporting it, until
   * its redelivery budget is spent.
   */
  retryable: boolean;
  /**
   * A failed record that an attempt may have written after all (its answer was lost: a 5xx after
   * processing, a connection reset after sending). The sink checks before it writes it again.
   */
  maybeApplied?: boolean;
  /** The org-wide condition that refused the call that carried it (nothing of that call was written). */
  orgWide?: OrgCondition;
}

/** Per-call context: the Lambda's deadline bounds every retry. */
export interface CallContext {
  /**
   * Epoch ms after which no new attempt (nor backoff wait) starts. Idempotent attempts are also cut
   * at it; a non-idempotent attempt (Collections insert, bulk job create) started before it runs for
   * up to `requestTimeout`, so leave that much headroom before the Lambda's own end.
   */
  deadline: number;
}

export type BulkJobState = 'Open' | 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Failed' | 'Aborted';

export interface BulkJobInfo {
  id: string;
  object: string;
  operation: Operation;
  state: BulkJobState;
  externalIdFieldName?: string;
  numberRecordsProcessed: number;
  numberRecordsFailed: number;
  errorMessage?: string;
  createdDate?: string;
  /** The user who created the job (the integration user, for the sink's own jobs). */
  createdById?: string;
  /** Last change of the job; for an ended job, when it ended. */
  systemModstamp?: string;
}

/** A job as the list of all ingest jobs shows it (without processing figures). */
export type BulkJobSummary = Pick<
  BulkJobInfo,
  'id' | 'object' | 'operation' | 'state' | 'createdById' | 'createdDate'
>;

export type BulkResultKind = 'successful' | 'failed' | 'unprocessed';

/** Bulk API 2.0 ingest, one step at a time, each safe to call again. */
export interface BulkJobs {
  create(
    spec: { object: string; operation: Operation; externalIdFieldName?: string },
    context: CallContext,
  ): Promise<BulkJobInfo>;
  /** Uploads the whole CSV (LF line endings). Retryable: the body is a buffer, resent in full. */
  upload(jobId: string, csv: string | Buffer, context: CallContext): Promise<void>;
  /** Marks the upload complete. Closing a job that is already closed (or further) is not an error. */
  close(jobId: string, context: CallContext): Promise<BulkJobInfo>;
  abort(jobId: string, context: CallContext): Promise<BulkJobInfo>;
  check(jobId: string, context: CallContext): Promise<BulkJobInfo>;
  /** Every Bulk API 2.0 ingest job of the org, in no particular order (all pages). */
  list(context: CallContext): AsyncIterable<BulkJobSummary>;
  /** Streams a result file's rows; never holds the whole file in memory. */
  results(jobId: string, kind: BulkResultKind, context: CallContext): AsyncIterable<CsvRow>;
}

export interface ApiUsage {
  used: number;
  max: number;
}

/** What `/limits` says of the allowances the sink spends. */
export interface OrgLimits {
  /** The rolling 24-hour API request allowance. */
  dailyApiRequests: { max: number; remaining: number };
  /** Bulk API batches left today (Bulk API 2.0 counts one per 10,000 records of a job). */
  dailyBulkApiBatches?: { max: number; remaining: number };
}

export interface SalesforceClient {
  /**
   * Describe-based schema, cached per sObject across invocations (TTL, If-Modified-Since). `refresh`:
   * a record carries a field the cached describe lacks, so revalidate now (at most once a minute).
   */
  schemaOf(sobject: string, context: CallContext, options?: { refresh?: boolean }): Promise<SObjectSchema>;
  /**
   * Writes one realtime unit with sObject Collections. Update/delete units addressed by external id
   * resolve Ids first (one query per unit). One result per record, in unit order. Call-level failures
   * become per-record failures (`SERVER_UNAVAILABLE`, `RESPONSE_LOST`, `DEADLINE_EXCEEDED`, …); it
   * throws only org-wide errors (DailyApiLimitError, AuthenticationError, SessionRejectedError) and only
   * when nothing of the unit was written.
   */
  writeUnit(unit: WriteUnit, context: CallContext): Promise<RecordResult[]>;
  /**
   * External id values → Ids of existing records (one SOQL query per ≤16 KB URI). Missing values, and
   * values matching more than one record, are absent from the map.
   */
  resolveIds(
    sobject: string,
    externalIdField: string,
    values: readonly string[],
    context: CallContext,
  ): Promise<Map<string, string>>;
  /**
   * Addresses update/delete records by an external id (as `writeUnit` does): per value, in order, the
   * record's Id or the error it fails with (NOT_FOUND, DUPLICATE_EXTERNAL_ID, or the lookup's failure,
   * retryable as it says). Throws only org-wide errors.
   */
  address(
    target: { sobject: string; field: string; operation: Operation },
    values: readonly string[],
    context: CallContext,
  ): Promise<Addressed[]>;
  bulk: BulkJobs;
  /** The org's limits (`GET /limits`): read-only, one API call. */
  limits(context: CallContext): Promise<OrgLimits>;
  /** The latest `Sforce-Limit-Info` reading, if any call has been made. */
  apiUsage(): ApiUsage | undefined;
  /**
   * REST API requests made by this client since it was created, retries and replays included (what
   * counts against the org's daily limit; token requests are not counted).
   */
  callCount(): number;
}
