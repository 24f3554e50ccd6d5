// Step Functions for local runs and tests: aws-local-stepfunctions runs the bulk state machine
// definition (the same one the CDK stack deploys), with the poller Lambda replaced by a local function.
import { StateMachine } from 'aws-local-stepfunctions';
import type { ExecutionStarter } from '../../lib/bulk/executions.ts';
import { type BulkExecutionInput, STATE_NAMES } from '../../lib/bulk/state-machine.ts';

export interface LocalExecutions extends ExecutionStarter {
  /** Names of every execution started, in order. */
  readonly names: string[];
  /** Resolves when every execution started so far has ended; rejects with the first failure. */
  settle(): Promise<void>;
}

export interface LocalExecutionOptions {
  /** The state machine definition (e.g. `bulkStateMachineDefinition(...)`, or one from a template). */
  definition: Record<string, unknown>;
  /** The poller Lambda's handler, called with the state input. */
  poller: (input: BulkExecutionInput) => Promise<BulkExecutionInput>;
  /** Milliseconds every Wait state lasts (instead of its seconds); default 20. */
  waitMs?: number;
}

/**
 * Runs bulk executions in-process. Starting a name twice is a no-op, as with StartExecution.
 *
 * @example
 * const executions = localExecutions({ definition, poller: (input) => pollBulkJob(input, deps) });
 */
export function localExecutions(options: LocalExecutionOptions): LocalExecutions {
  const machine = new StateMachine(options.definition as never, {
    validationOptions: { checkArn: false, checkPaths: true },
  });
  const names: string[] = [];
  const running: Promise<unknown>[] = [];
  const handler = (input: unknown) => options.poller(input as BulkExecutionInput);
  return {
    names,
    async start(name, input) {
      if (names.includes(name)) return;
      names.push(name);
      const execution = machine.run(input as never, {
        overrides: {
          taskResourceLocalHandlers: { [STATE_NAMES.poll]: handler, [STATE_NAMES.fail]: handler } as never,
          waitTimeOverrides: { [STATE_NAMES.wait]: options.waitMs ?? 20 },
          retryIntervalOverrides: { [STATE_NAMES.poll]: 10, [STATE_NAMES.fail]: 10 },
        },
      });
      // Observed so an early failure is not an unhandled rejection; settle() reports it.
      execution.result.catch(() => undefined);
      running.push(execution.result);
    },
    async settle() {
      let seen = 0;
      while (seen < running.length) {
        const batch = running.slice(seen);
        seen = running.length;
        await Promise.all(batch);
      }
    },
  };
}
