import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { BulkExecutionInput } from './state-machine.ts';

/** Starts the poller state machine for a job. Idempotent per name: a second start is a no-op. */
export interface ExecutionStarter {
  start(name: string, input: BulkExecutionInput): Promise<void>;
}

/**
 * Starts executions of the bulk state machine on AWS Step Functions; the execution is named after the
 * job id, so a repeated start after a crash finds the running one.
 *
 * @example
 * const executions = sfnExecutionStarter(new SFNClient({}), process.env.SFSINK_STATE_MACHINE_ARN!);
 */
export function sfnExecutionStarter(client: SFNClient, stateMachineArn: string): ExecutionStarter {
  return {
    async start(name, input) {
      try {
        await client.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
      } catch (error) {
        // Same name, different input (the submission time differs on a resume): already running.
        if (!(error instanceof ExecutionAlreadyExists)) throw error;
      }
    },
  };
}
