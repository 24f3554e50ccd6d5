// Step Functions for local runs and tests: aws-local-stepfunctions runs the bulk state machine definition
// (the same one the CDK stack deploys), with the poller Lambda replaced by a local function and the
// HandOver state's StartExecution by a start here. Names behave as on AWS: starting a running execution's
// name again is a no-op, and a closed execution's name cannot be used again.
import { ExecutionAbortedError, ExecutionTimeoutError, StateMachine } from 'aws-local-stepfunctions';
import type { ExecutionStatus, Executions } from '../../lib/bulk/executions.ts';
import { type BulkExecutionInput, STATE_NAMES } from '../../lib/bulk/state-machine.ts';

/** The state machine's ARN inside local executions (`$$.StateMachine.Id`). */
export const LOCAL_STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:sfsink-bulk-jobs';

export interface EndedExecution {
  name: string;
  status: ExecutionStatus;
  /** The error of a failed execution. */
  error?: string;
}

export interface LocalExecutions extends Executions {
  /** Names of every execution started, in order. */
  readonly names: string[];
  /** Resolves when every execution started so far (and every one they started) has ended. */
  settle(): Promise<void>;
  /** The executions that have ended, in the order they ended. */
  ended(): EndedExecution[];
  /** Stops a running execution, as StopExecution does (status ABORTED, or TIMED_OUT to stand for a timeout). */
  stop(name: string, as?: 'ABORTED' | 'TIMED_OUT'): boolean;
  /** Names of the executions running now. */
  running(): string[];
}

export interface LocalExecutionOptions {
  /** The state machine definition (e.g. `bulkStateMachineDefinition(...)`, or one from a template). */
  definition: Record<string, unknown>;
  /** The poller Lambda's handler, called with the state input. */
  poller: (input: BulkExecutionInput) => Promise<BulkExecutionInput>;
  /** Milliseconds every Wait state lasts (instead of its seconds); default 20. */
  waitMs?: number;
  /** Milliseconds a Retry waits (instead of its interval); default 10. */
  retryMs?: number;
}

interface Run {
  status: ExecutionStatus;
  abort: () => void;
  stoppedAs?: 'ABORTED' | 'TIMED_OUT';
  result: Promise<unknown>;
}

/** StartExecution's answer for a name a closed execution holds. */
class ExecutionAlreadyExistsError extends Error {
  override name = 'ExecutionAlreadyExists';
}

/**
 * Runs bulk executions in-process.
 *
 * @example
 * const executions = localExecutions({ definition, poller: (input) => pollBulkJob(input, deps) });
 */
export function localExecutions(options: LocalExecutionOptions): LocalExecutions {
  const machine = new StateMachine(options.definition as never, {
    validationOptions: { checkArn: false, checkPaths: true },
  });
  const names: string[] = [];
  const runs = new Map<string, Run>();
  const ended: EndedExecution[] = [];
  const retryMs = options.retryMs ?? 10;

  const start = (name: string, input: BulkExecutionInput): 'running' | 'closed' => {
    const existing = runs.get(name);
    if (existing) return existing.status === 'RUNNING' ? 'running' : 'closed';
    names.push(name);
    const execution = machine.run(input as never, {
      context: {
        StateMachine: { Id: LOCAL_STATE_MACHINE_ARN },
        Execution: {
          Name: name,
          Id: `${LOCAL_STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`,
        },
      } as never,
      overrides: {
        taskResourceLocalHandlers: {
          [STATE_NAMES.poll]: (state: unknown) => options.poller(state as BulkExecutionInput),
          [STATE_NAMES.recordFailure]: (state: unknown) => options.poller(state as BulkExecutionInput),
          [STATE_NAMES.handOver]: async (request: unknown) => {
            const { Name, Input } = request as { Name: string; Input: BulkExecutionInput };
            if (start(Name, Input) === 'closed')
              throw new ExecutionAlreadyExistsError(`Execution Already Exists: '${Name}'`);
            return { ExecutionArn: Name, StartDate: new Date().toISOString() };
          },
        } as never,
        waitTimeOverrides: { [STATE_NAMES.wait]: options.waitMs ?? 20 },
        retryIntervalOverrides: {
          [STATE_NAMES.poll]: retryMs,
          [STATE_NAMES.recordFailure]: retryMs,
          [STATE_NAMES.handOver]: retryMs,
        },
      },
    });
    const run: Run = { status: 'RUNNING', abort: execution.abort, result: execution.result };
    runs.set(name, run);
    execution.result.then(
      () => {
        run.status = 'SUCCEEDED';
        ended.push({ name, status: run.status });
      },
      (error: unknown) => {
        if (error instanceof ExecutionAbortedError) run.status = run.stoppedAs ?? 'ABORTED';
        else if (error instanceof ExecutionTimeoutError) run.status = 'TIMED_OUT';
        else run.status = 'FAILED';
        ended.push({ name, status: run.status, error: (error as Error)?.message ?? String(error) });
      },
    );
    return 'running';
  };

  return {
    names,
    async start(name, input) {
      return start(name, input);
    },
    async status(name) {
      return runs.get(name)?.status;
    },
    stop(name, as = 'ABORTED') {
      const run = runs.get(name);
      if (run?.status !== 'RUNNING') return false;
      run.stoppedAs = as;
      run.abort();
      return true;
    },
    running: () => [...runs].filter(([, run]) => run.status === 'RUNNING').map(([name]) => name),
    ended: () => [...ended],
    async settle() {
      for (;;) {
        const open = [...runs.values()].filter((run) => run.status === 'RUNNING');
        if (open.length === 0) return;
        await Promise.allSettled(open.map((run) => run.result));
        // Let the status callbacks run before looking again.
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
  };
}
