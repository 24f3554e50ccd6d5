import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { bulkStateMachineDefinition, STATE_NAMES } from './state-machine.ts';

const definition = bulkStateMachineDefinition({
  pollerFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:sfsink-bulk-poller',
});
type State = { Type: string; Catch?: { ErrorEquals: string[]; Next: string }[]; Next?: string };
const states = definition.States as Record<string, State>;

describe('bulk state machine definition', () => {
  it('is valid Amazon States Language (asl-validator)', async () => {
    const { isValid, errors } = await aslValidator(definition as never);
    expect(errors).toEqual([]);
    expect(isValid).toBe(true);
  });

  it('uses JSONPath only (the local runner ignores JSONata)', () => {
    expect(JSON.stringify(definition)).not.toContain('JSONata');
    expect(definition).not.toHaveProperty('QueryLanguage');
  });

  it('covers every Task state with a Catch: failures are recorded on the unit, and a failed record ends it', () => {
    const tasks = Object.entries(states).filter(([, s]) => s.Type === 'Task');
    expect(tasks.map(([name]) => name).sort()).toEqual(
      [STATE_NAMES.poll, STATE_NAMES.handOver, STATE_NAMES.recordFailure].sort(),
    );
    for (const [name, state] of tasks) {
      expect(state.Catch?.[0]?.ErrorEquals, name).toEqual(['States.ALL']);
      expect(state.Catch?.[0]?.Next, name).toBe(
        name === STATE_NAMES.recordFailure ? 'Failed' : STATE_NAMES.recordFailure,
      );
    }
    expect(states[STATE_NAMES.recordFailure]!.Next).toBe(STATE_NAMES.choice);
  });

  it('hands over to a successor execution of itself (continue-as-new)', () => {
    const handOver = states[STATE_NAMES.handOver] as State & {
      Resource: string;
      Parameters: Record<string, string>;
    };
    expect(handOver.Resource).toBe('arn:aws:states:::states:startExecution');
    expect(handOver.Parameters['StateMachineArn.$']).toBe('$$.StateMachine.Id');
  });
});
