// Where bulk units are kept: what a unit is, the rows and results that come with it, the job slots, and
// the persistence a store offers. States and their changes belong to unit.ts; a store only writes what
// it is given, under the condition it is given (dynamodb-store.ts is the implementation).
import type { Operation } from '../config/index.ts';
import type { CsvRow } from '../csv/index.ts';
import type { OutcomeError } from '../outcomes/outcome.ts';

/** See the table in unit.ts. */
export type UnitState =
  | 'intent'
  | 'created'
  | 'uploaded'
  | 'closed'
  | 'started'
  | 'collected'
  | 'continued'
  | 'done';

/** One record of a bulk unit as the poller needs it. */
export interface CorrelationRow {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  /** What identifies the record's row in a result file (see correlation.ts). */
  match: string;
}

/** How a unit's job ended, as the poller found it. */
export interface JobEnd {
  /** `Gone`: Salesforce no longer has the job (it deletes jobs after 7 days). */
  state: 'JobComplete' | 'Failed' | 'Aborted' | 'Gone';
  errorMessage?: string;
  /** When it ended (the job's last change), else when the poller found it ended: dates every outcome. */
  at: string;
  /**
   * Rows that failed for a passing reason (`again`): `wanted` — they go on in a follow-up unit;
   * `given-up` — the follow-up could not be set up, they keep the result they had; `none` — no such rows,
   * or no retries left.
   */
  followUp: 'none' | 'wanted' | 'given-up';
}

/** What one row of a job came to; `again` holds its uploaded cells when it is worth another try. */
export interface RowResult {
  status: 'succeeded' | 'failed';
  salesforceId?: string;
  created?: boolean;
  errors: OutcomeError[];
  again?: CsvRow;
}

/** A failure the state machine caught while following the unit. */
export interface UnitFailure {
  at: string;
  /** The execution that failed. */
  execution: string;
  error: string;
  cause: string;
}

export interface BulkUnit {
  unitKey: string;
  group: string;
  state: UnitState;
  jobId?: string;
  sobject: string;
  operation: Operation;
  externalIdField?: string;
  /** The uploaded columns that identify a record's row in the result files. */
  matchColumns: string[];
  records: number;
  chunks: number;
  /** Outcomes published so far, in correlation order (a re-run resumes after them). */
  published: number;
  /** 0 for a unit the sink planned; n for the n-th resubmission of rows that failed for a passing reason. */
  attempt: number;
  /**
   * Of those resubmissions, the ones that carried only rows Salesforce refused for a reason of the whole
   * org (maintenance): they spend no retry. Absent: none.
   */
  held?: number;
  /** The earlier units of a resubmission chain, first one first (they hold the chain's job slot). */
  chain: string[];
  /** The follow-up unit, once this one is `continued`. */
  next?: string;
  createdAt: string;
  /** Set while a job create may have reached Salesforce without its answer being recorded. */
  creatingSince?: string;
  /** The execution that follows the unit (`started`, `collected`); the job id until one is recorded. */
  execution?: string;
  /** Successor executions started so far (named `<jobId>-<n>`). */
  successors: number;
  failure?: UnitFailure;
  ended?: JobEnd;
  resultChunks: number;
}

/** Fields a transition may set (undefined removes one). */
export type UnitChanges = Partial<
  Pick<
    BulkUnit,
    | 'state'
    | 'jobId'
    | 'next'
    | 'creatingSince'
    | 'execution'
    | 'successors'
    | 'failure'
    | 'ended'
    | 'resultChunks'
    | 'published'
  >
>;

/**
 * The condition a write needs: the unit is in this state and, if `execution` is given, followed by that
 * execution (null: none is recorded).
 */
export interface UnitGuard {
  state: UnitState;
  execution?: string | null;
}

export interface JobStore {
  /** Creates the unit with its correlation rows; the stored one when it exists already. */
  create(unit: BulkUnit, rows: readonly CorrelationRow[]): Promise<BulkUnit>;
  get(unitKey: string): Promise<BulkUnit | undefined>;
  /**
   * Writes `changes` if the unit matches `guard` (else `UnitStateConflictError`); `expire` lets the
   * unit and its rows go after the retention period. Only unit.ts calls it.
   */
  write(unitKey: string, guard: UnitGuard, changes: UnitChanges, expire?: boolean): Promise<void>;
  /** Raises `published` to this many (never lowers it). */
  markPublished(unitKey: string, published: number): Promise<void>;
  /**
   * Deletes the unit if it is still as read (same state and job; else `UnitStateConflictError`), not its
   * slot; its rows go with their TTL. Only unit.ts calls it.
   */
  remove(unit: BulkUnit): Promise<void>;
  rows(unit: BulkUnit): Promise<CorrelationRow[]>;
  /** Stores one result per correlation row (in its order); returns the chunks written. */
  putResults(unitKey: string, results: readonly RowResult[]): Promise<number>;
  results(unit: BulkUnit): Promise<RowResult[]>;
  /** Notes that a job belongs to a recorded unit (the orphan sweep leaves such jobs alone). */
  recordJob(jobId: string, unitKey: string): Promise<void>;
  /** Which of these jobs belong to recorded units. */
  recordedJobs(jobIds: readonly string[]): Promise<Set<string>>;
  /** Takes one of `max` job slots for a unit; false when all are taken. Idempotent per unit. */
  acquireSlot(group: string, unitKey: string, max: number): Promise<boolean>;
  releaseSlot(group: string, unitKey: string): Promise<void>;
  /** The units holding a slot now (the first unit of each chain being set up or followed). */
  slotHolders(group: string): Promise<string[]>;
  /** How many slots are held. */
  inFlight(group: string): Promise<number>;
}
