// Starting and describing executions on AWS Step Functions, against an SFN client whose answers follow
// the StartExecution contract (no Step Functions stand-in serves that API): a name that exists answers
// ExecutionAlreadyExists whether its execution runs (with another input) or has closed.
import {
  type DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { sfnExecutions } from './executions.ts';

const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:sfsink-bulk';

/** Executions by name, as Step Functions keeps them; `send` answers the two commands used. */
function stepFunctions(existing: Record<string, { status: string; input: string }>) {
  const sent: unknown[] = [];
  const client = {
    async send(command: StartExecutionCommand | DescribeExecutionCommand) {
      sent.push(command.input);
      if (command instanceof StartExecutionCommand) {
        const { name, input } = command.input;
        const found = existing[name!];
        if (found && !(found.status === 'RUNNING' && found.input === input))
          throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${name}'`, $metadata: {} });
        existing[name!] = { status: 'RUNNING', input: input! };
        return {};
      }
      const name = command.input.executionArn!.split(':').at(-1)!;
      if (!existing[name])
        throw new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} });
      return { status: existing[name].status };
    },
  };
  return { client: client as unknown as SFNClient, sent };
}

const input = { unitKey: 'u', jobId: 'J', waitSeconds: 5, submittedAt: '2026-01-01T00:00:00.000Z' };

describe('sfnExecutions', () => {
  it('starts an execution; the same start again (same input, still running) is fine', async () => {
    const { client } = stepFunctions({});
    const executions = sfnExecutions(client, MACHINE);
    expect(await executions.start('J', input)).toBe('running');
    expect(await executions.start('J', input)).toBe('running');
    expect(await executions.status('J')).toBe('RUNNING');
  });

  it('tells a running execution with another input from a closed one of the same name', async () => {
    const { client } = stepFunctions({
      running: { status: 'RUNNING', input: '{"other":true}' },
      failed: { status: 'FAILED', input: JSON.stringify(input) },
      done: { status: 'SUCCEEDED', input: JSON.stringify(input) },
    });
    const executions = sfnExecutions(client, MACHINE);
    expect(await executions.start('running', input)).toBe('running');
    expect(await executions.start('failed', input)).toBe('closed');
    expect(await executions.start('done', input)).toBe('closed');
  });

  it('describes executions by their ARN, and answers undefined for a name never used', async () => {
    const { client, sent } = stepFunctions({ 'J-1': { status: 'TIMED_OUT', input: '{}' } });
    const executions = sfnExecutions(client, MACHINE);
    expect(await executions.status('J-1')).toBe('TIMED_OUT');
    expect(await executions.status('J-2')).toBeUndefined();
    expect(sent[0]).toEqual({
      executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:sfsink-bulk:J-1',
    });
  });
});
