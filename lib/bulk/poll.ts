// One round of following a bulk unit, as the state machine's poller task runs it: check the job; once it
// has ended (or Salesforce no longer has it), store every row's result, set up a follow-up job for the
// rows worth another try, publish one outcome per record from the stored results, and close the chain.
// A round of an execution that no longer follows the unit does nothing; a round after a failure records
// it on the unit (never touching Salesforce, so a broken secret cannot stop that); after its budget of
// rounds an execution hands the unit to a successor.
import type { SinkConfig } from '../config/index.ts';
import { encodeCsvRows } from '../csv/index.ts';
import { type SinkLogger, silentLogger } from '../logger.ts';
import type { Outcome } from '../outcomes/outcome.ts';
import { outcomeFrom, storedResult, unknownBulkRow } from '../outcomes/outcome-of.ts';
import type { OutcomePublisher } from '../outcomes/publisher.ts';
import { isJobGone, parseSalesforceDate } from '../salesforce/bulk.ts';
import { isOrgWide, SalesforceClientError } from '../salesforce/errors.ts';
import type { BulkJobInfo, SalesforceClient } from '../salesforce/types.ts';
import { unitKeyOf } from './correlation.ts';
import { JobLostBeforeCloseError, UnitStateConflictError } from './errors.ts';
import { abandonUnit, setUpJob } from './job-setup.ts';
import { collectResults, heldRow } from './results.ts';
import { type BulkExecutionInput, JOB_LIFETIME_SECONDS, POLLS_PER_EXECUTION } from './state-machine.ts';
import type { BulkUnit, CorrelationRow, JobEnd, JobStore, RowResult } from './store.ts';
import { executionOf, needsExecution, successorName, type UnitLifecycle, unitLifecycle } from './unit.ts';

/** Steps of a round after which a test can make the poller fail. */
export type PollStep = 'check' | 'collect' | 'follow-up' | 'publish';

export interface PollDeps {
  config: Pick<SinkConfig, 'bulk' | 'maxRetries'>;
  /** Only asked for when Salesforce is needed (recording a failure never is). */
  salesforce: () => Promise<SalesforceClient>;
  jobs: JobStore;
  publisher: OutcomePublisher;
  deadline: number;
  now?: () => Date;
  logger?: SinkLogger;
  /** Rounds an execution makes before handing over (default POLLS_PER_EXECUTION). */
  pollsPerExecution?: number;
  /** Called after each step; throwing from it stands for the poller failing there. */
  after?: (step: PollStep) => void | Promise<void>;
}

const FINAL = new Set(['JobComplete', 'Failed', 'Aborted']);
/** Outcomes published per step of progress saved: a crash re-publishes at most this many. */
const PUBLISH_CHUNK = 500;
/** Failures in a row after which an execution stops (the sink starts a successor). */
const MAX_FAILURES = 12;
const MAX_FAILURE_WAIT_SECONDS = 300;

interface Round {
  deps: PollDeps;
  units: UnitLifecycle;
  log: SinkLogger;
  now: () => Date;
  /** This execution's name. */
  name: string;
  /** The input as the next state gets it, without what this round does not pass on. */
  base: BulkExecutionInput;
}

/**
 * Runs one round for the state machine; returns the next state's input (`done`, `stopped` or
 * `handOver` end the execution). Running it again after a crash, or from another execution, publishes
 * nothing twice but identical outcomes.
 *
 * @example
 * export const handler = (input) => pollBulkJob(input, deps);
 */
export async function pollBulkJob(input: BulkExecutionInput, deps: PollDeps): Promise<BulkExecutionInput> {
  const { error: _error, handOver: _handOver, result: _result, mode: _mode, done: _done, ...base } = input;
  const round: Round = {
    deps,
    units: unitLifecycle(deps.jobs),
    log: deps.logger ?? silentLogger,
    now: deps.now ?? (() => new Date()),
    name: input.execution ?? input.jobId,
    base: { ...base, polls: (input.polls ?? 0) + 1 },
  };
  if (input.error !== undefined || input.mode === 'fail') return recordFailure(input, round);

  const unit = await round.units.get(input.unitKey);
  if (!unit) return { ...round.base, done: true };
  if (unit.state === 'done') {
    // An earlier round may have failed while closing the chain: finishing it again is harmless.
    await closeChain(unit, round);
    return { ...round.base, done: true };
  }
  if (unit.state === 'continued') {
    // An earlier round handed the rest to a follow-up unit (followed by this execution).
    const next = await round.units.get(unit.next!);
    if (!next) return { ...round.base, done: true };
    return { ...switchTo(round, next), failures: 0 };
  }
  if (executionOf(unit) !== round.name) {
    round.log.info('bulk unit followed by another execution: this one ends', {
      unitKey: unit.unitKey,
      execution: round.name,
      following: executionOf(unit),
    });
    return { ...round.base, done: true };
  }
  if (!needsExecution(unit) && unit.state !== 'closed') {
    round.log.warn('bulk unit not set up yet: nothing to follow', {
      unitKey: unit.unitKey,
      state: unit.state,
    });
    return { ...round.base, done: true };
  }
  if (round.base.polls! > (deps.pollsPerExecution ?? POLLS_PER_EXECUTION)) return handOver(unit, round);

  let current = unit;
  if (current.state !== 'collected') {
    const end = await checkJob(current, round);
    if (!end) {
      const max = Math.max(1, Math.round(deps.config.bulk.maxPollInterval / 1000));
      return { ...round.base, failures: 0, waitSeconds: Math.min(max, Math.max(1, input.waitSeconds * 2)) };
    }
    current = await collect(current, end, round);
  }
  return finish(current, round);
}

/**
 * Follow-ups a chain may take for rows Salesforce refuses for a reason of the whole org, one every
 * HELD_WAIT_SECONDS at least: a day. Past it, such rows keep the refusal as their outcome.
 */
export const MAX_HELD_FOLLOW_UPS = 288;
/** The least wait before checking a follow-up of held rows (the condition is paced, not the row). */
const HELD_WAIT_SECONDS = 300;

/**
 * Whether a row goes on in a follow-up job: a row worth another try while retries are left (follow-ups
 * of held rows spend none), and a row refused for a reason of the whole org while the chain may still
 * wait for the org (the org holds it, not the row).
 */
const goesOn = (result: RowResult, unit: BulkUnit, deps: PollDeps) => {
  if (result.again === undefined) return false;
  const held = unit.held ?? 0;
  return heldRow(result) ? held < MAX_HELD_FOLLOW_UPS : unit.attempt - held < deps.config.maxRetries;
};

/** Salesforce refused for good (not a passing condition, not the whole org). */
const isFinalRefusal = (error: unknown): error is SalesforceClientError =>
  error instanceof SalesforceClientError && !error.retryable && !isOrgWide(error);

const firstWait = (deps: PollDeps) => Math.max(1, Math.round(deps.config.bulk.pollInterval / 1000));

function switchTo(round: Round, unit: BulkUnit): BulkExecutionInput {
  return {
    ...round.base,
    unitKey: unit.unitKey,
    jobId: unit.jobId ?? round.base.jobId,
    waitSeconds: firstWait(round.deps),
  };
}

/** Whether the unit's job is older than Salesforce's job lifetime (the poller stops it then). */
const pastLifetime = (unit: BulkUnit, round: Round) =>
  (round.now().getTime() - Date.parse(unit.createdAt)) / 1000 >= JOB_LIFETIME_SECONDS;

/** The job's end (`gone` when Salesforce no longer has it), or undefined while it runs. */
async function checkJob(unit: BulkUnit, round: Round): Promise<BulkJobInfo | 'gone' | undefined> {
  const salesforce = await round.deps.salesforce();
  const context = { deadline: round.deps.deadline };
  let info: BulkJobInfo;
  try {
    info = await salesforce.bulk.check(unit.jobId!, context);
    await round.deps.after?.('check');
    if (FINAL.has(info.state)) return info;
    if (!pastLifetime(unit, round)) return undefined;
    // Past Salesforce's job lifetime and still running: stop it so its partitions may move on. Only its
    // answer, an ended job, lets the unit close; a failed abort keeps it open.
    info = await salesforce.bulk.abort(unit.jobId!, context);
    return FINAL.has(info.state) ? info : undefined;
  } catch (error) {
    if (isJobGone(error)) return 'gone';
    throw error;
  }
}

/** Stores every row's result and the job's end on the unit (`collected`). */
async function collect(unit: BulkUnit, end: BulkJobInfo | 'gone', round: Round): Promise<BulkUnit> {
  const { deps } = round;
  const rows = await deps.jobs.rows(unit);
  let results: RowResult[];
  let ended: JobEnd;
  if (end === 'gone') {
    results = rows.map(() => ({ status: 'failed', errors: [unknownBulkRow(unit.jobId!)] }));
    ended = { state: 'Gone', at: round.now().toISOString(), followUp: 'none' };
  } else {
    const salesforce = await deps.salesforce();
    const collected = await collectResults(
      unit,
      rows,
      end,
      salesforce.bulk,
      { deadline: deps.deadline },
      // An Aborted job past its lifetime was aborted by this poller (checkJob).
      { givenUp: end.state === 'Aborted' && pastLifetime(unit, round) },
    );
    // Which rows go on is decided here, once: the others keep their result without `again`.
    results = collected.results.map((r) => {
      if (r.again === undefined || (!collected.gone && goesOn(r, unit, deps))) return r;
      const { again: _, ...kept } = r;
      return kept;
    });
    const retry = results.some((r) => r.again !== undefined);
    ended = {
      state: collected.gone ? 'Gone' : (end.state as JobEnd['state']),
      ...(end.errorMessage ? { errorMessage: end.errorMessage } : {}),
      // The job's end dates every outcome, so a re-run publishes identical ones.
      at: (parseSalesforceDate(end.systemModstamp) ?? round.now()).toISOString(),
      followUp: retry ? 'wanted' : 'none',
    };
    round.log.info('bulk job ended', {
      jobId: unit.jobId,
      state: end.state,
      processed: end.numberRecordsProcessed,
      failed: end.numberRecordsFailed,
      attempt: unit.attempt,
    });
  }
  await deps.after?.('collect');
  return round.units.markCollected(unit, ended, results);
}

/**
 * A collected unit: the follow-up for the rows worth another try, the outcomes of the others, and then
 * either the follow-up (this execution follows it) or the end of the chain.
 */
async function finish(collected: BulkUnit, round: Round): Promise<BulkExecutionInput> {
  const { deps } = round;
  let unit = collected;
  const rows = await deps.jobs.rows(unit);
  const results = await deps.jobs.results(unit);
  const again = new Set<number>();
  results.forEach((r, i) => {
    if (r.again) again.add(i);
  });
  // Rows going on in a follow-up get their outcome there; the others' outcomes go out first.
  const held = unit.ended!.followUp === 'none' ? new Set<number>() : again;
  const counts = await publishFrom(unit, rows, results, held, round);
  let next: BulkUnit | undefined;
  if (unit.ended!.followUp === 'wanted' && again.size > 0) {
    next = await continueUnit(
      unit,
      rows,
      results,
      [...again].sort((a, b) => a - b),
      round,
    );
    if (!next) unit = await round.units.giveUpResubmission(unit);
  }
  if (unit.ended!.followUp === 'given-up') {
    // The follow-up could not be set up: those rows keep the results they had.
    const extra = await publishOnly(unit, rows, results, again, round);
    counts.succeeded += extra.succeeded;
    counts.failed += extra.failed;
  }
  const result = { jobState: unit.ended!.state, sobject: unit.sobject, ...counts };
  if (next) {
    await round.units.markContinued(unit, next.unitKey);
    round.log.info('bulk rows resubmitted', {
      jobId: unit.jobId,
      next: next.jobId,
      rows: again.size,
      attempt: next.attempt,
    });
    // Rows Salesforce refused for the whole org: the follow-up is checked at the longest interval.
    const goingOn = [...again].map((i) => results[i]!);
    const held = goingOn.every(heldRow);
    if (held)
      round.log.warn(
        'Salesforce refuses bulk rows org-wide; they go on in a follow-up job until it accepts them',
        { jobId: unit.jobId, code: goingOn[0]!.errors[0]?.code, rows: again.size },
      );
    const waitSeconds = held
      ? Math.max(HELD_WAIT_SECONDS, Math.round(deps.config.bulk.maxPollInterval / 1000))
      : firstWait(deps);
    return { ...switchTo(round, next), waitSeconds, failures: 0, result };
  }
  await closeChain(unit, round);
  return { ...round.base, done: true, result };
}

/**
 * Records and sets up the follow-up unit for the rows worth another try — same group and columns, one
 * attempt more, the chain of earlier units remembered (they keep the job slot and the partitions'
 * order until the chain ends) — and makes this execution follow it. Safe to run again: its key comes
 * from its parent, rows and attempt. Undefined when it cannot be set up for good (its job, if any, aborted).
 */
async function continueUnit(
  unit: BulkUnit,
  rows: readonly CorrelationRow[],
  results: readonly RowResult[],
  indices: readonly number[],
  round: Round,
): Promise<BulkUnit | undefined> {
  const { deps, units } = round;
  const subset = indices.map((i) => rows[i]!);
  const attempt = unit.attempt + 1;
  const held = (unit.held ?? 0) + (indices.every((i) => heldRow(results[i]!)) ? 1 : 0);
  // A poller of an earlier version keyed the follow-up by the group: one it recorded before it stopped
  // is carried on, not recorded twice.
  const earlier = await units.get(unitKeyOf(`${unit.group}#${attempt}`, subset));
  const recorded = earlier?.chain.at(-1) === unit.unitKey ? earlier : undefined;
  let next =
    recorded ??
    (await units.recordIntent(
      {
        unitKey: unitKeyOf(`${unit.unitKey}#${attempt}`, subset),
        group: unit.group,
        sobject: unit.sobject,
        operation: unit.operation,
        ...(unit.externalIdField ? { externalIdField: unit.externalIdField } : {}),
        matchColumns: unit.matchColumns,
        records: subset.length,
        createdAt: round.now().toISOString(),
        attempt,
        ...(held > 0 ? { held } : {}),
        chain: [...unit.chain, unit.unitKey],
      },
      subset,
    ));
  const header = Object.keys(results[indices[0]!]!.again!);
  const csv = encodeCsvRows(
    header,
    indices.map((i) => header.map((c) => results[i]!.again![c] ?? '')),
  );
  const salesforce = await deps.salesforce();
  const setup = {
    bulk: salesforce.bulk,
    units,
    jobs: deps.jobs,
    context: { deadline: deps.deadline },
    now: round.now,
    log: round.log,
  };
  try {
    next = await setUpJob(next, csv, setup);
  } catch (error) {
    const aborted = error instanceof JobLostBeforeCloseError;
    if (!aborted && !isFinalRefusal(error)) throw error;
    const stored = await units.get(next.unitKey);
    const closed = stored ? await abandonUnit(stored, setup) : undefined;
    if (closed) next = closed;
    // A job aborted under us: the next round sets the follow-up up afresh.
    else if (aborted) throw error;
    else {
      round.log.warn('bulk follow-up job could not be set up: its rows keep their results', {
        unitKey: next.unitKey,
        code: (error as SalesforceClientError).code,
      });
      return undefined;
    }
  }
  await deps.after?.('follow-up');
  if (next.state === 'closed') return units.markStarted(next, round.name);
  // Set up by an earlier execution that is gone: this one follows it now.
  if (executionOf(next) !== round.name) return units.follow(next, executionOf(next), round.name, false);
  return next;
}

function outcomeOf(unit: BulkUnit, row: CorrelationRow, result: RowResult): Outcome {
  const target = { sobject: unit.sobject, operation: unit.operation, mode: 'bulk' as const };
  const stored = storedResult(target, { ...result, attempts: unit.attempt + 1 }, new Date(unit.ended!.at), {
    bulkJobId: unit.jobId!,
  });
  return outcomeFrom(row, stored);
}

/**
 * Publishes the unit's outcomes in record order from where an earlier run stopped, leaving out `held`
 * rows; progress is saved after each chunk.
 */
async function publishFrom(
  unit: BulkUnit,
  rows: readonly CorrelationRow[],
  results: readonly RowResult[],
  held: ReadonlySet<number>,
  round: Round,
) {
  const counts = { succeeded: 0, failed: 0 };
  let current = unit;
  for (let start = unit.published; start < rows.length; start += PUBLISH_CHUNK) {
    const end = Math.min(rows.length, start + PUBLISH_CHUNK);
    const outcomes: Outcome[] = [];
    for (let i = start; i < end; i++) if (!held.has(i)) outcomes.push(outcomeOf(unit, rows[i]!, results[i]!));
    if (outcomes.length > 0) await round.deps.publisher.publish(outcomes);
    await round.deps.after?.('publish');
    current = await round.units.markPublished(current, end);
    for (const o of outcomes) counts[o.status === 'succeeded' ? 'succeeded' : 'failed']++;
  }
  return counts;
}

/** Publishes just these rows' outcomes (again on a re-run: identical). */
async function publishOnly(
  unit: BulkUnit,
  rows: readonly CorrelationRow[],
  results: readonly RowResult[],
  indices: ReadonlySet<number>,
  round: Round,
) {
  const outcomes = [...indices].sort((a, b) => a - b).map((i) => outcomeOf(unit, rows[i]!, results[i]!));
  if (outcomes.length > 0) await round.deps.publisher.publish(outcomes);
  const succeeded = outcomes.filter((o) => o.status === 'succeeded').length;
  return { succeeded, failed: outcomes.length - succeeded };
}

/** Marks the unit and the earlier units of its chain done, and frees the chain's job slot. */
async function closeChain(unit: BulkUnit, round: Round) {
  const { units, deps } = round;
  // The earlier units and the slots first, the unit itself last: until it is done, a re-run of the
  // poller comes back here, so a failure half-way never leaves a partition's barrier shut.
  for (const key of unit.chain) {
    const earlier = await units.get(key);
    if (earlier && earlier.state === 'continued') await units.markDone(earlier);
  }
  for (const key of [...unit.chain, unit.unitKey]) await deps.jobs.releaseSlot(unit.group, key);
  await units.markDone(unit);
}

/** The round budget is spent: a successor execution follows the unit from here (continue-as-new). */
async function handOver(unit: BulkUnit, round: Round): Promise<BulkExecutionInput> {
  const name = successorName(unit);
  const followed = await round.units.follow(unit, round.name, name, true);
  round.log.info('bulk unit handed to a successor execution', {
    unitKey: unit.unitKey,
    from: round.name,
    to: name,
  });
  return {
    ...round.base,
    handOver: {
      name,
      input: {
        unitKey: followed.unitKey,
        jobId: followed.jobId!,
        execution: name,
        waitSeconds: round.base.waitSeconds,
        submittedAt: round.base.submittedAt,
        polls: 0,
        failures: 0,
      },
    },
  };
}

/**
 * The round after a failure the state machine caught: recorded on the unit (by the execution that
 * follows it), then a wait that grows with the failures in a row; past MAX_FAILURES the execution stops.
 * A failed hand-over is taken back: this execution goes on following the unit.
 */
async function recordFailure(input: BulkExecutionInput, round: Round): Promise<BulkExecutionInput> {
  const { units, log } = round;
  const failures = (input.failures ?? 0) + 1;
  let unit = await units.get(input.unitKey);
  if (!unit || unit.state === 'done') return { ...round.base, done: true };
  const handedTo = input.handOver?.name;
  if (handedTo && executionOf(unit) === handedTo && unit.state !== 'continued') {
    unit = await units.follow(unit, handedTo, round.name, false).catch((error: unknown) => {
      if (error instanceof UnitStateConflictError) return unit!;
      throw error;
    });
  }
  if (executionOf(unit) !== round.name && unit.state !== 'continued') return { ...round.base, done: true };
  const failure = {
    at: round.now().toISOString(),
    execution: round.name,
    error: input.error?.Error ?? 'BulkJobPollingFailed',
    cause: (input.error?.Cause ?? '').slice(0, 1000),
  };
  await units.recordFailure(unit, failure);
  log.warn('bulk poller failed; trying again later', {
    unitKey: unit.unitKey,
    jobId: unit.jobId,
    execution: round.name,
    error: failure.error,
    failures,
  });
  if (failures >= MAX_FAILURES || input.mode === 'fail') return { ...round.base, failures, stopped: true };
  const waitSeconds = Math.min(MAX_FAILURE_WAIT_SECONDS, 10 * 2 ** (failures - 1));
  return { ...round.base, failures, waitSeconds };
}
