// Making sure an execution follows each unit that needs one. The sink starts the first when it has closed
// a job; when it later finds a unit whose execution has ended (failed, timed out, aborted, or never
// started) while the unit is not done, it starts a successor named `<jobId>-<n>` and records it on the
// unit first, so only one successor wins and the ended execution, were it still to run, stops.
import type { SinkLogger } from '../logger.ts';
import { UnitStateConflictError } from './errors.ts';
import type { Executions } from './executions.ts';
import type { BulkExecutionInput } from './state-machine.ts';
import type { BulkUnit } from './store.ts';
import { executionOf, needsExecution, successorName, type UnitLifecycle } from './unit.ts';

export interface FollowDeps {
  units: UnitLifecycle;
  executions: Executions;
  log: SinkLogger;
  /** Seconds before an execution's first check. */
  firstWaitSeconds: number;
}

/** Names tried before giving up on starting an execution (each a fresh successor name). */
const MAX_STARTS = 5;

function inputFor(unit: BulkUnit, name: string, waitSeconds: number): BulkExecutionInput {
  return {
    unitKey: unit.unitKey,
    jobId: unit.jobId!,
    execution: name,
    waitSeconds,
    submittedAt: unit.createdAt,
  };
}

/**
 * Starts the execution that follows a `closed` unit — the first, named after its job, or a successor
 * when that name belongs to an execution that has ended — and marks the unit `started`.
 *
 * @example
 * unit = await startFollowing(unit, { units, executions, log, firstWaitSeconds: 5 }, () => after('start-execution'));
 */
export async function startFollowing(
  closed: BulkUnit,
  deps: FollowDeps,
  started?: () => Promise<void>,
): Promise<BulkUnit> {
  let unit = closed;
  let name = executionOf(unit);
  for (let tries = 0; ; tries++) {
    if ((await deps.executions.start(name, inputFor(unit, name, deps.firstWaitSeconds))) === 'running') break;
    if (tries >= MAX_STARTS) throw new Error(`bulk unit ${unit.unitKey}: no execution could be started`);
    const next = successorName(unit);
    unit = await deps.units.follow(unit, name, next, true);
    name = next;
  }
  await started?.();
  try {
    return await deps.units.markStarted(unit, name);
  } catch (error) {
    // The execution got there first (it may follow a unit the sink has not marked started yet).
    const stored = error instanceof UnitStateConflictError ? await deps.units.get(unit.unitKey) : undefined;
    if (stored && stored.state !== 'closed') return stored;
    throw error;
  }
}

/**
 * Starts a successor for a unit whose execution has ended (or never started) while the unit still needs
 * one; returns the unit as it is now. A unit another writer revived or moved first is left to it.
 *
 * @example
 * for (const key of await jobs.slotHolders(group)) await keepFollowed(await tailOf(key), deps);
 */
export async function keepFollowed(unit: BulkUnit, deps: FollowDeps): Promise<BulkUnit> {
  if (!needsExecution(unit)) return unit;
  const name = executionOf(unit);
  const status = await deps.executions.status(name);
  if (status === 'RUNNING') return unit;
  let current = unit;
  for (let tries = 0; tries < MAX_STARTS; tries++) {
    const next = successorName(current);
    deps.log.warn('bulk unit not followed by a running execution: starting a successor', {
      unitKey: current.unitKey,
      execution: executionOf(current),
      status: status ?? 'none',
      successor: next,
    });
    try {
      current = await deps.units.follow(current, executionOf(current), next, true);
    } catch (error) {
      if (error instanceof UnitStateConflictError) return (await deps.units.get(unit.unitKey)) ?? unit;
      throw error;
    }
    if ((await deps.executions.start(next, inputFor(current, next, deps.firstWaitSeconds))) === 'running')
      return current;
  }
  throw new Error(`bulk unit ${unit.unitKey}: no successor execution could be started`);
}

/**
 * The last unit of the chain starting at `unitKey` (a `continued` unit's rows went on in its next), or
 * undefined when the chain's unit is gone.
 *
 * @example
 * const tail = await tailOf(units, checkpoint.bulkJobs[0]);
 */
export async function tailOf(units: UnitLifecycle, unitKey: string): Promise<BulkUnit | undefined> {
  let unit = await units.get(unitKey);
  // A chain is at most maxRetries (20) + MAX_HELD_FOLLOW_UPS (288) units long.
  for (let hops = 0; unit?.state === 'continued' && unit.next && hops < 1_000; hops++) {
    const next = await units.get(unit.next);
    if (!next) break;
    unit = next;
  }
  return unit;
}
