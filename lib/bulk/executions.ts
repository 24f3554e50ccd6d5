// Executions of the bulk state machine: starting one by name, and asking whether one still runs. A
// Standard workflow's StartExecution is idempotent only while the execution runs with the same input;
// AWS answers ExecutionAlreadyExists both for a running one with another input and for a *closed* one of
// that name (names are reserved for 90 days), so a start tells the two apart by describing it.
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { BulkExecutionInput } from './state-machine.ts';

export type ExecutionStatus =
  | 'RUNNING'
  | 'SUCCEEDED'
  | 'FAILED'
  | 'TIMED_OUT'
  | 'ABORTED'
  | 'PENDING_REDRIVE';

export interface Executions {
  /**
   * Starts an execution of the bulk state machine: `running` when it runs now (started, or already
   * running under that name), `closed` when the name belongs to an execution that has ended.
   */
  start(name: string, input: BulkExecutionInput): Promise<'running' | 'closed'>;
  /** The execution's status; undefined when no execution has that name. */
  status(name: string): Promise<ExecutionStatus | undefined>;
}

/**
 * The state machine's executions on AWS Step Functions.
 *
 * @example
 * const executions = sfnExecutions(new SFNClient({}), process.env.SFSINK_STATE_MACHINE_ARN!);
 * if ((await executions.start(jobId, input)) === 'closed') startSuccessor();
 */
export function sfnExecutions(client: SFNClient, stateMachineArn: string): Executions {
  // arn:aws:states:<region>:<account>:stateMachine:<name> → …:execution:<name>:<execution>
  const executionArn = (name: string) =>
    `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  const status = async (name: string): Promise<ExecutionStatus | undefined> => {
    try {
      const described = await client.send(new DescribeExecutionCommand({ executionArn: executionArn(name) }));
      return described.status as ExecutionStatus;
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) return undefined;
      throw error;
    }
  };
  return {
    async start(name, input) {
      try {
        await client.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
        return 'running';
      } catch (error) {
        if (!(error instanceof ExecutionAlreadyExists)) throw error;
        return (await status(name)) === 'RUNNING' ? 'running' : 'closed';
      }
    },
    status,
  };
}
