import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { bulkStateMachineDefinition } from './state-machine.ts';

describe('bulk state machine definition', () => {
  it('is valid Amazon States Language (asl-validator)', async () => {
    const definition = bulkStateMachineDefinition({
      pollerFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:sfsink-bulk-poller',
    });
    const { isValid, errors } = await aslValidator(definition as never);
    expect(errors).toEqual([]);
    expect(isValid).toBe(true);
  });

  it('uses JSONPath only (the local runner ignores JSONata) and has a failure branch', () => {
    const definition = bulkStateMachineDefinition({
      pollerFunctionArn: 'arn:aws:lambda:us-east-1:1:function:p',
    });
    expect(JSON.stringify(definition)).not.toContain('JSONata');
    expect(definition).not.toHaveProperty('QueryLanguage');
    const states = definition.States as Record<string, { Catch?: { Next: string }[] }>;
    expect(states.PollJob!.Catch![0]!.Next).toBe('PublishFailure');
  });
});
