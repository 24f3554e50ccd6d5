// Contracts between the emulator's parts, so the HTTP server, the org (records + schema) and the
// Bulk API 2.0 engine can be built and tested separately.

/** A per-record error as Salesforce reports it inside Collections results and bulk result files. */
export interface RecordError {
  statusCode: string;
  message: string;
  fields: string[];
}

/** One entry of a Collections response, in request order. */
export interface SaveResult {
  id: string | null;
  success: boolean;
  errors: RecordError[];
  /** Only for upsert. */
  created?: boolean;
}

export type WriteOperation = 'insert' | 'update' | 'upsert' | 'delete' | 'hardDelete';

/** A record as a write request carries it: field name → value (JSON types). No `attributes`. */
export type RecordFields = Record<string, unknown>;

export interface ApplyOptions {
  allOrNone: boolean;
  /** Required for upsert: the external id field that addresses the record. */
  externalIdField?: string;
  /**
   * Where the values come from. Bulk CSV values are strings (`"true"`, `"12.5"`, ISO dates) and are
   * converted per field type; Collections JSON values must already have the right JSON type.
   */
  source: 'json' | 'csv';
}

/** The org: schema and records. Synchronous and in memory; the HTTP layers add faults and latency. */
export interface Org {
  /** Applies one write to many records with Salesforce's per-record semantics; one result per input. */
  apply(
    operation: WriteOperation,
    sobject: string,
    records: RecordFields[],
    options: ApplyOptions,
  ): SaveResult[];
  /** Whether the sObject exists in the schema (for request validation). */
  hasSObject(sobject: string): boolean;
  /** Field names of an sObject (for CSV header validation); undefined for an unknown sObject. */
  fieldNames(sobject: string): string[] | undefined;
}

/** Counts the emulator keeps and exposes under /__emulator/ and in Sforce-Limit-Info. */
export interface Counters {
  /** Every authenticated REST call (what Salesforce counts against DailyApiRequests). */
  apiCalls: number;
  /** Bulk batches consumed: one per 10,000 records (or part) of each processed ingest job. */
  bulkBatches: number;
}

/** A request as the server hands it to a route module, already authenticated and counted. */
export interface EmulatorRequest {
  method: string;
  /** Path below `/services/data/vXX.X`, e.g. `/jobs/ingest/750.../batches`. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** e.g. `65.0` */
  apiVersion: string;
  /** The emulator's own base URL, for URLs in responses (e.g. `nextRecordsUrl`). */
  baseUrl: string;
}

export interface EmulatorResponse {
  status: number;
  headers?: Record<string, string>;
  /** A string or Buffer is sent as is; anything else is sent as JSON. Undefined: empty body. */
  body?: unknown;
}

/** A route module: answers the requests it owns, `undefined` for the others. */
export type RouteModule = (request: EmulatorRequest) => Promise<EmulatorResponse | undefined>;
