import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { StateMachine } from 'aws-local-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type BulkExecutionInput,
  bulkStateMachineDefinition,
  STATE_NAMES,
} from '../lib/bulk/state-machine.ts';
import { SalesforceSink } from './salesforce-sink.ts';
import { placeholderArn, stateMachineDefinitionFromTemplate } from './state-machine-template.ts';

const input: BulkExecutionInput = {
  unitKey: 'unit-1',
  jobId: '750000000000001',
  waitSeconds: 5,
  submittedAt: '2026-01-01T00:00:00.000Z',
};

describe('stateMachineDefinitionFromTemplate', () => {
  let template: ReturnType<Template['toJSON']>;
  let pollerId: string;
  beforeAll(() => {
    const stack = new Stack(new App(), 'S');
    const sink = new SalesforceSink(stack, 'Sink', {
      config: {
        mappings: [{ topic: 'orders', sobject: 'Order__c', externalIdField: 'Key__c', mode: 'bulk' }],
      },
      source: { kind: 'msk', clusterArn: 'arn:aws:kafka:us-east-1:123456789012:cluster/c/uuid-1' },
      createVpcEndpoints: false,
      functions: {
        code: {
          sink: lambda.Code.fromInline('export const handler = async () => ({});'),
          poller: lambda.Code.fromInline('export const handler = async () => ({});'),
        },
      },
    });
    template = Template.fromStack(stack).toJSON();
    pollerId = stack.getLogicalId(sink.pollerFunction.node.defaultChild as lambda.CfnFunction);
  });

  it('reads back exactly the shared definition, with the poller ARN as a placeholder', () => {
    expect(stateMachineDefinitionFromTemplate(template)).toEqual(
      bulkStateMachineDefinition({ pollerFunctionArn: placeholderArn(pollerId) }),
    );
  });

  it('runs in aws-local-stepfunctions: wait, poll until done, succeed', async () => {
    const definition = stateMachineDefinitionFromTemplate(template);
    const machine = new StateMachine(definition as never, { validationOptions: { checkArn: false } });
    const polled: unknown[] = [];
    const execution = machine.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: {
          [STATE_NAMES.poll]: (state) => {
            polled.push(state);
            return { ...(state as object), done: true };
          },
        },
        waitTimeOverrides: { [STATE_NAMES.wait]: 0 },
      },
    });
    const entered: string[] = [];
    for await (const event of execution.eventLogs) {
      if (event.type === 'StateEntered') entered.push(event.state.name);
    }
    expect(await execution.result).toEqual({ ...input, done: true });
    expect(polled).toEqual([input]);
    expect(entered).toEqual([STATE_NAMES.wait, STATE_NAMES.poll, STATE_NAMES.choice, 'Done']);
  });

  it('says what it cannot read', () => {
    expect(() => stateMachineDefinitionFromTemplate({ Resources: {} })).toThrow(/found 0/);
    expect(() =>
      stateMachineDefinitionFromTemplate({
        Resources: {
          M: {
            Type: 'AWS::StepFunctions::StateMachine',
            Properties: { DefinitionString: { 'Fn::Sub': 'x' } },
          },
        },
      }),
    ).toThrow(/cannot resolve/);
  });
});
