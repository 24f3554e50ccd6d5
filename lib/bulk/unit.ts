// A bulk unit's lifecycle: its states, every transition, and the only code that changes them. A unit is
// the records of one Bulk API 2.0 job and what following that job needs; the sink sets the job up, a Step
// Functions execution follows it, and either may crash or run twice, so every transition is one
// conditional write (another writer's move makes it fail with UnitStateConflictError).
//
// | state     | the unit…                                                         | job may process | followed by |
// | --------- | ----------------------------------------------------------------- | --------------- | ----------- |
// | intent    | is recorded with its rows; its job may be being created            | no              | the sink    |
// |           | (`creatingSince`: a create may have reached Salesforce unanswered)  |                 |             |
// | created   | has an Open job (`jobId`), no data yet                              | no              | the sink    |
// | uploaded  | has its CSV in its job; a close may have gone out unrecorded        | if closed       | the sink    |
// | closed    | has its upload closed: Salesforce processes the job                 | yes             | the sink    |
// | started   | is followed by an execution (`execution`)                           | yes             | execution   |
// | collected | has its job ended (`ended`) and every row's result stored           | no              | execution   |
// | continued | has its outcomes out; rows worth another try went on in `next`       | no              | (its next)  |
// | done      | is finished: every outcome out, slot released                       | no              | —           |
//
// Transitions — anything else is a bug and throws UnitTransitionError:
//
// | function             | from                         | to           | sets                              |
// | -------------------- | ---------------------------- | ------------ | --------------------------------- |
// | `recordIntent`       | (none)                       | intent       | the unit and its rows             |
// | `markCreating`       | intent                       | intent       | creatingSince (first attempt)     |
// | `clearCreating`      | intent                       | intent       | clears creatingSince (refused)    |
// | `markCreated`        | intent                       | created      | jobId; clears creatingSince       |
// | `markUploaded`       | created                      | uploaded     |                                   |
// | `markClosed`         | uploaded                     | closed       |                                   |
// | `markStarted`        | closed                       | started      | execution                         |
// | `follow`             | closed, started, collected   | (same)       | execution, successors (handover)  |
// | `recordFailure`      | any but done                 | (same)       | failure (by its execution)        |
// | `markCollected`      | closed, started              | collected    | ended, results                    |
// | `giveUpResubmission` | collected                    | collected    | ended.followUp = given-up         |
// | `markPublished`      | collected                    | collected    | published (only ever raised)      |
// | `markContinued`      | collected                    | continued    | next                              |
// | `markDone`           | collected, continued, done   | done         | (expires)                         |
// | `abandon`            | intent, created, uploaded    | (removed)    | its job is Open or gone unclosed  |
//
// The invariant the sink keeps with these: a partition's next job is never set up while a unit holding
// its records is not done (`barrierHolds`), and a unit is done only after its job ended — Salesforce said
// JobComplete, Failed or Aborted, or no longer has the job — so no job of a partition overtakes another.
import { UnitStateConflictError, UnitTransitionError } from './errors.ts';
import type {
  BulkUnit,
  CorrelationRow,
  JobEnd,
  JobStore,
  RowResult,
  UnitChanges,
  UnitFailure,
  UnitState,
} from './store.ts';

/** Whether the unit's job may still be processing records (Salesforce has it closed, not yet ended). */
export function mayStillBeProcessing(unit: BulkUnit): boolean {
  return unit.state === 'closed' || unit.state === 'started';
}

/** Whether the unit still holds its chain's job slot (a unit holds it until it is done or abandoned). */
export function holdsSlot(unit: BulkUnit | undefined): boolean {
  return unit !== undefined && unit.state !== 'done';
}

/** Whether a partition with records in this unit must wait before its next job. */
export function barrierHolds(unit: BulkUnit | undefined): boolean {
  return unit !== undefined && unit.state !== 'done';
}

/** Whether an execution must be following the unit now (else a successor is started). */
export function needsExecution(unit: BulkUnit): boolean {
  return unit.state === 'started' || unit.state === 'collected';
}

/**
 * Whether the sink still has to set the unit's job up (for `uploaded`: nothing was closed that it
 * recorded — abandoning such a unit checks the job first).
 */
export function beforeClose(unit: BulkUnit): boolean {
  return unit.state === 'intent' || unit.state === 'created' || unit.state === 'uploaded';
}

/** The execution that follows the unit: the recorded one, else the first, named after the job. */
export function executionOf(unit: BulkUnit): string {
  return unit.execution ?? unit.jobId ?? unit.unitKey;
}

/** The name of the unit's next successor execution. */
export function successorName(unit: BulkUnit): string {
  return `${unit.jobId ?? unit.unitKey}-${unit.successors + 1}`;
}

/**
 * The unit's transitions over a store. Each checks its source state, writes under the condition that the
 * unit is still as read, and returns the unit as it is now.
 *
 * @example
 * const units = unitLifecycle(jobs);
 * let unit = await units.recordIntent(draft, rows);
 * unit = await units.markCreated(unit, job.id);
 */
export function unitLifecycle(store: JobStore) {
  const require = (name: string, unit: BulkUnit, allowed: readonly UnitState[]) => {
    if (!allowed.includes(unit.state)) throw new UnitTransitionError(name, unit.unitKey, unit.state);
  };
  const write = async (
    unit: BulkUnit,
    changes: UnitChanges,
    options: { followedBy?: string; expire?: boolean } = {},
  ): Promise<BulkUnit> => {
    // A unit followed by its first execution may not have recorded it (it is named after the job).
    const guard = {
      state: unit.state,
      ...(options.followedBy !== undefined ? { execution: unit.execution ?? null } : {}),
    };
    await store.write(unit.unitKey, guard, changes, options.expire);
    const next: BulkUnit = { ...unit };
    for (const [key, value] of Object.entries(changes) as [keyof BulkUnit, unknown][]) {
      if (value === undefined) delete next[key];
      else (next as unknown as Record<string, unknown>)[key] = value;
    }
    return next;
  };

  return {
    get: (unitKey: string) => store.get(unitKey),

    /** Records a unit (state `intent`) with its correlation rows; the stored unit if it exists. */
    recordIntent(
      draft: Omit<
        BulkUnit,
        'state' | 'chunks' | 'published' | 'successors' | 'resultChunks' | 'attempt' | 'chain'
      > &
        Partial<Pick<BulkUnit, 'attempt' | 'chain' | 'held'>>,
      rows: readonly CorrelationRow[],
    ): Promise<BulkUnit> {
      return store.create(
        {
          attempt: 0,
          chain: [],
          ...draft,
          state: 'intent',
          chunks: 0,
          published: 0,
          successors: 0,
          resultChunks: 0,
        },
        rows,
      );
    },

    /** Notes, before a job create goes out, that one may reach Salesforce without its answer recorded. */
    async markCreating(unit: BulkUnit, at: Date): Promise<BulkUnit> {
      require('markCreating', unit, ['intent']);
      if (unit.creatingSince) return unit;
      return write(unit, { creatingSince: at.toISOString() });
    },

    /** Salesforce refused the only create attempt outright: no job can have been left behind. */
    async clearCreating(unit: BulkUnit): Promise<BulkUnit> {
      require('clearCreating', unit, ['intent']);
      if (!unit.creatingSince) return unit;
      return write(unit, { creatingSince: undefined });
    },

    async markCreated(unit: BulkUnit, jobId: string): Promise<BulkUnit> {
      require('markCreated', unit, ['intent']);
      const next = await write(unit, { state: 'created', jobId, creatingSince: undefined });
      await store.recordJob(jobId, unit.unitKey);
      return next;
    },

    async markUploaded(unit: BulkUnit): Promise<BulkUnit> {
      require('markUploaded', unit, ['created']);
      return write(unit, { state: 'uploaded' });
    },

    async markClosed(unit: BulkUnit): Promise<BulkUnit> {
      require('markClosed', unit, ['uploaded']);
      return write(unit, { state: 'closed' });
    },

    /** The execution `execution` follows the unit from now on. */
    async markStarted(unit: BulkUnit, execution: string): Promise<BulkUnit> {
      require('markStarted', unit, ['closed']);
      return write(unit, { state: 'started', execution });
    },

    /**
     * Hands the unit from the execution `from` to `to` (a successor: `successors` counts it), only if
     * `from` still follows it.
     */
    async follow(unit: BulkUnit, from: string, to: string, successor: boolean): Promise<BulkUnit> {
      require('follow', unit, ['closed', 'started', 'collected']);
      if (executionOf(unit) !== from) throw new UnitStateConflictError(unit.unitKey, `followed by ${from}`);
      return write(
        unit,
        { execution: to, ...(successor ? { successors: unit.successors + 1 } : {}) },
        { followedBy: from },
      );
    },

    /** Records a failure of the execution following the unit (ignored from any other execution). */
    async recordFailure(unit: BulkUnit, failure: UnitFailure): Promise<BulkUnit> {
      require('recordFailure', unit, [
        'intent',
        'created',
        'uploaded',
        'closed',
        'started',
        'collected',
        'continued',
      ]);
      if (executionOf(unit) !== failure.execution) return unit;
      return write(unit, { failure }, { followedBy: failure.execution });
    },

    /** The job ended (or is gone): every row's result is stored before the unit says so. */
    async markCollected(unit: BulkUnit, ended: JobEnd, results: readonly RowResult[]): Promise<BulkUnit> {
      require('markCollected', unit, ['closed', 'started']);
      const resultChunks = await store.putResults(unit.unitKey, results);
      return write(unit, { state: 'collected', ended, resultChunks, failure: undefined });
    },

    /** The follow-up could not be set up for good: the rows keep the results they had. */
    async giveUpResubmission(unit: BulkUnit): Promise<BulkUnit> {
      require('giveUpResubmission', unit, ['collected']);
      if (unit.ended?.followUp !== 'wanted') return unit;
      return write(unit, { ended: { ...unit.ended, followUp: 'given-up' } });
    },

    async markPublished(unit: BulkUnit, published: number): Promise<BulkUnit> {
      require('markPublished', unit, ['collected']);
      await store.markPublished(unit.unitKey, published);
      return { ...unit, published: Math.max(unit.published, published) };
    },

    async markContinued(unit: BulkUnit, next: string): Promise<BulkUnit> {
      require('markContinued', unit, ['collected']);
      return write(unit, { state: 'continued', next });
    },

    async markDone(unit: BulkUnit): Promise<BulkUnit> {
      require('markDone', unit, ['collected', 'continued', 'done']);
      if (unit.state === 'done') return unit;
      return write(unit, { state: 'done' }, { expire: true });
    },

    /** Forgets a unit whose job never processed anything (its job, if any, was aborted first). */
    async abandon(unit: BulkUnit): Promise<void> {
      require('abandon', unit, ['intent', 'created', 'uploaded']);
      await store.remove(unit);
      await store.releaseSlot(unit.group, unit.unitKey);
    },
  };
}

export type UnitLifecycle = ReturnType<typeof unitLifecycle>;
