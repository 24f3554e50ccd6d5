// Runs the units of one plan stage with at most `maxInFlight` in flight. The planner guarantees that
// the units of a stage are independent (no key appears twice), so any order is correct; stages
// themselves run one after another, which is the caller's loop.
import { StageAbortedError } from './errors.ts';

/**
 * Runs `fn` over the items with at most `maxInFlight` running at once; one settled result per item,
 * in item order. After the first rejection no further item starts (those get a StageAbortedError,
 * having sent nothing); items already running finish and keep their results, so no write that
 * happened is lost to the caller.
 *
 * @example
 * for (const stage of plan.stages) {
 *   const settled = await runStage(stage, (unit) => client.writeUnit(unit, context), config.maxInFlight);
 * }
 */
export async function runStage<T, R>(
  items: readonly T[],
  fn: (item: T, index: number) => Promise<R>,
  maxInFlight: number,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  let firstFailure: { reason: unknown } | undefined;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const index = next++;
      if (firstFailure) {
        results[index] = { status: 'rejected', reason: new StageAbortedError(firstFailure.reason) };
        continue;
      }
      try {
        results[index] = { status: 'fulfilled', value: await fn(items[index]!, index) };
      } catch (reason) {
        firstFailure ??= { reason };
        results[index] = { status: 'rejected', reason };
      }
    }
  }
  const workers = Math.max(1, Math.min(Math.floor(maxInFlight) || 1, items.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return results;
}
