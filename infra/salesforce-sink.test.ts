import { join } from 'node:path';
import { App, Duration, Fn, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../lib/config/index.ts';
import { ENVIRONMENT } from '../lib/runtime/environment.ts';
import { type Deployment, DeploymentError, deploymentSchema, loadDeployment } from './deployment.ts';
import { mskResourceArn } from './kafka-access.ts';
import { type SalesforceSinkProps, SinkPropsError, validateSinkProps } from './props.ts';
import { SalesforceSink } from './salesforce-sink.ts';
import { createSinkApp } from './sink-stack.ts';
import { placeholderArn } from './state-machine-template.ts';

// Inline code instead of esbuild bundling keeps each synth to a few seconds; the resources are the same.
const code = () => ({
  sink: lambda.Code.fromInline('export const handler = async () => ({});'),
  poller: lambda.Code.fromInline('export const handler = async () => ({});'),
});
const CLUSTER =
  'arn:aws:kafka:us-east-1:123456789012:cluster/demo-cluster/fc2f5bdf-fd1b-45ad-85dd-15b4a5a6247e-2';
const RESULTS_CLUSTER =
  'arn:aws:kafka:us-east-1:123456789012:cluster/results/0000aaaa-bbbb-cccc-dddd-eeeeffff0000-1';

// biome-ignore lint/suspicious/noExplicitAny: template JSON; the assertions check its shape
type Resources = Record<string, { Type: string; Properties: Record<string, any>; DependsOn?: string[] }>;

function synth(deployment: Deployment) {
  const { app, stack } = createSinkApp({ deployment, code: code(), env: {} });
  // Synthesis runs cdk-nag's AwsSolutions checks and throws on any unacknowledged finding.
  const assembly = app.synth();
  const json = assembly.getStackByName(stack.stackName).template as { Resources: Resources };
  return { stack, json, template: Template.fromJSON(json) };
}

const ofType = (resources: Resources, type: string) =>
  Object.entries(resources).filter(([, r]) => r.Type === type);

/** Every IAM statement of the template (managed/inline policies and role inline policies). */
function statements(
  resources: Resources,
): { policy: string; Action: string | string[]; Resource: unknown }[] {
  const out: { policy: string; Action: string | string[]; Resource: unknown }[] = [];
  for (const [id, r] of Object.entries(resources)) {
    const documents =
      r.Type === 'AWS::IAM::Policy'
        ? [r.Properties.PolicyDocument]
        : r.Type === 'AWS::IAM::Role'
          ? (r.Properties.Policies ?? []).map((p: { PolicyDocument: unknown }) => p.PolicyDocument)
          : [];
    for (const doc of documents) for (const s of doc.Statement) out.push({ policy: id, ...s });
  }
  return out;
}

const sample = loadDeployment(join(import.meta.dirname, 'sample-deployment.json'));

/** Two topics (one bulk), outcomes to SQS and to MSK topics, functions in a VPC. */
const full: Deployment = deploymentSchema.parse({
  stackName: 'sfsink-full',
  source: {
    kind: 'msk',
    clusterArn: CLUSTER,
    vpc: {
      vpcId: 'vpc-0fedcba987654321f',
      subnetIds: ['subnet-cccc3333'],
      routeTableIds: ['rtb-cccc3333'],
      securityGroupId: 'sg-cccc3333',
    },
  },
  consumer: { consumerGroupId: 'sfsink-test', batchSize: 1000, batchingWindowSeconds: 5 },
  network: {
    vpcId: 'vpc-0123456789abcdef0',
    subnetIds: ['subnet-aaaa1111', 'subnet-bbbb2222'],
    routeTableIds: ['rtb-aaaa1111', 'rtb-bbbb2222'],
  },
  results: { kafkaClusterArn: RESULTS_CLUSTER },
  config: {
    mappings: [
      { topic: 'sfdc-pushtopic-lead', sobject: 'Lead', externalIdField: 'CustomId__c' },
      { topic: 'orders', sobject: 'Order__c', externalIdField: 'Order_Key__c', mode: 'bulk' },
    ],
    results: {
      kafka: {
        brokers: ['b-1.results.kafka.us-east-1.amazonaws.com:9098'],
        resultTopic: 'sf-results',
        errorTopic: 'sf-errors',
      },
    },
  },
});

describe('SalesforceSink stack (sample deployment)', () => {
  let json: { Resources: Resources };
  let template: Template;
  beforeAll(() => {
    ({ json, template } = synth(sample));
  });

  it('synthesizes with cdk-nag AwsSolutions checks and no unacknowledged finding', () => {
    expect(ofType(json.Resources, 'AWS::Lambda::Function')).toHaveLength(2);
  });

  it('attaches one event source mapping to the topic, with partial-batch responses, bounded retries and an on-failure bucket', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    const [[, mapping]] = ofType(json.Resources, 'AWS::Lambda::EventSourceMapping') as [
      [string, Resources[string]],
    ];
    const bucket = ofType(json.Resources, 'AWS::S3::Bucket')[0]![0];
    expect(mapping.Properties).toMatchObject({
      EventSourceArn: CLUSTER,
      Topics: ['sfdc-pushtopic-lead'],
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRetryAttempts: 10_000,
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 500,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [bucket, 'Arn'] } } },
      ProvisionedPollerConfig: { MinimumPollers: 1, MaximumPollers: 2 },
      AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: 'sfsink-pushtopic-lead-sfdc-pushtopic-lead' },
    });
    expect(mapping.Properties.MaximumRecordAgeInSeconds).toBeUndefined();
  });

  it('creates the table with TTL on ttl, point-in-time recovery, encryption and on-demand billing', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
  });

  it('encrypts every queue, requires TLS on each, and gives the outcome queues DLQs', () => {
    const queues = ofType(json.Resources, 'AWS::SQS::Queue');
    expect(queues.map(([id]) => id.replace(/^Sink|[A-F0-9]{8}$/g, '')).sort()).toEqual([
      'ErrorDlq',
      'ErrorQueue',
      'ResultDlq',
      'ResultQueue',
    ]);
    for (const [, q] of queues) expect(q.Properties.SqsManagedSseEnabled).toBe(true);
    for (const name of ['ResultQueue', 'ErrorQueue']) {
      const [, queue] = queues.find(([id]) => id.includes(name))!;
      const dlq = queues.find(([id]) => id.includes(name.replace('Queue', 'Dlq')))![0];
      expect(queue.Properties.RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] },
        maxReceiveCount: 5,
      });
    }
    const policies = ofType(json.Resources, 'AWS::SQS::QueuePolicy');
    expect(policies).toHaveLength(queues.length);
    for (const [, p] of policies) {
      expect(p.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });

  it('runs the functions on Node 24, arm64, traced, with the environment the functions read', () => {
    const functions = ofType(json.Resources, 'AWS::Lambda::Function');
    for (const [, fn] of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        Handler: 'index.handler',
      });
      const variables = fn.Properties.Environment.Variables;
      expect(Object.keys(variables)).toEqual(
        expect.arrayContaining([ENVIRONMENT.config, ENVIRONMENT.table, ENVIRONMENT.secretId]),
      );
    }
    const sink = functions.find(([id]) => id.includes('SinkFunction'))![1];
    expect(sink.Properties.Environment.Variables).toMatchObject({
      [ENVIRONMENT.stateMachineArn]: { Ref: expect.stringContaining('BulkJobs') },
      [ENVIRONMENT.consumerGroup]: 'sfsink-pushtopic-lead',
    });
  });

  it('hands the functions a configuration that the sink accepts, pointed at the created queues', () => {
    const [, sink] = ofType(json.Resources, 'AWS::Lambda::Function').find(([id]) =>
      id.includes('SinkFunction'),
    )!;
    const value = sink.Properties.Environment.Variables[ENVIRONMENT.config];
    const text = (value['Fn::Join'][1] as unknown[])
      .map((part) => (typeof part === 'string' ? part : 'https://sqs.us-east-1.amazonaws.com/123456789012/q'))
      .join('');
    const config = parseConfig(JSON.parse(text));
    expect(config.mappings[0]).toMatchObject({
      topic: 'sfdc-pushtopic-lead',
      sobject: 'Lead',
      operation: 'upsert',
    });
    expect(config.results.sqs).toEqual({
      resultQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/q',
      errorQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/q',
    });
  });

  it('creates the Salesforce secret with the credentials shape and no real value in the template', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: {
        SecretStringTemplate: JSON.stringify({
          authType: 'client_credentials',
          loginUrl: 'https://REPLACE-ME.my.salesforce.com',
          clientId: 'REPLACE_ME',
        }),
        GenerateStringKey: 'clientSecret',
      },
    });
  });

  it('runs the bulk job state machine as a Standard workflow, logging ALL, traced', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
      TracingConfiguration: { Enabled: true },
    });
  });

  it('alarms on offset lag, function errors and throttles, queue depths, outcomes, API usage and bulk failures', () => {
    const alarms = ofType(json.Resources, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const byMetric = (name: string) => alarms.filter((a) => a.MetricName === name);
    expect(byMetric('OffsetLag')).toEqual([
      expect.objectContaining({
        Namespace: 'AWS/Lambda',
        Statistic: 'Maximum',
        Threshold: 10_000,
        EvaluationPeriods: 3,
      }),
    ]);
    expect(byMetric('Errors')).toHaveLength(2);
    expect(byMetric('Throttles')).toHaveLength(2);
    expect(byMetric('ApproximateNumberOfMessagesVisible')).toHaveLength(3);
    expect(byMetric('PutRequests')).toEqual([
      expect.objectContaining({ Namespace: 'AWS/S3', Threshold: 1, Statistic: 'Sum' }),
    ]);
    for (const name of ['RecordsFailed', 'RecordsRejected', 'SalesforceApiUsagePercent', 'BulkJobsFailed']) {
      // The service dimension defaults to the consumer group prefix: two sinks never share metrics.
      expect(byMetric(name)).toEqual([
        expect.objectContaining({
          Namespace: 'sfsink',
          Dimensions: [{ Name: 'service', Value: 'sfsink-pushtopic-lead' }],
        }),
      ]);
    }
    expect(byMetric('SalesforceApiUsagePercent')[0]).toMatchObject({ Threshold: 80, Statistic: 'Maximum' });
    expect(byMetric('ExecutionsFailed')).toHaveLength(1);
    expect(byMetric('ExecutionsTimedOut')).toHaveLength(1);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

describe('SalesforceSink stack (two topics, Kafka results, VPC functions)', () => {
  let json: { Resources: Resources };
  beforeAll(() => {
    ({ json } = synth(full));
  });

  it('attaches one event source mapping per topic, each in its own consumer group, sharing one poller group', () => {
    const mappings = ofType(json.Resources, 'AWS::Lambda::EventSourceMapping').map(([, m]) => m.Properties);
    expect(mappings.map((m) => m.Topics)).toEqual([['sfdc-pushtopic-lead'], ['orders']]);
    expect(mappings.map((m) => m.AmazonManagedKafkaEventSourceConfig.ConsumerGroupId)).toEqual([
      'sfsink-test-sfdc-pushtopic-lead',
      'sfsink-test-orders',
    ]);
    for (const m of mappings) {
      expect(m).toMatchObject({
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        MaximumRetryAttempts: 10_000,
        DestinationConfig: { OnFailure: { Destination: expect.anything() } },
        BatchSize: 1000,
        MaximumBatchingWindowInSeconds: 5,
      });
    }
    expect(new Set(mappings.map((m) => m.ProvisionedPollerConfig.PollerGroupName)).size).toBe(1);
  });

  it('creates the mappings only after the role may read the topics (Lambda checks on create)', () => {
    const kafkaPolicy = ofType(json.Resources, 'AWS::IAM::Policy').find(([id]) =>
      id.includes('KafkaSourceAccess'),
    )![0];
    for (const [, m] of ofType(json.Resources, 'AWS::Lambda::EventSourceMapping')) {
      expect(m.DependsOn).toContain(kafkaPolicy);
    }
  });

  it('names the cluster, the mapped topics and the consumer groups in the Kafka statements', () => {
    const all = statements(json.Resources);
    const find = (action: string) => all.filter((s) => ([] as string[]).concat(s.Action).includes(action));
    expect(find('kafka-cluster:ReadData')[0]!.Resource).toEqual([
      mskResourceArn(CLUSTER, 'topic', 'sfdc-pushtopic-lead'),
      mskResourceArn(CLUSTER, 'topic', 'orders'),
    ]);
    expect(find('kafka-cluster:AlterGroup')[0]!.Resource).toEqual([
      mskResourceArn(CLUSTER, 'group', 'sfsink-test-sfdc-pushtopic-lead'),
      mskResourceArn(CLUSTER, 'group', 'sfsink-test-orders'),
    ]);
    const writes = find('kafka-cluster:WriteData');
    expect(writes).toHaveLength(2);
    for (const w of writes) {
      expect(w.Resource).toEqual([
        mskResourceArn(RESULTS_CLUSTER, 'topic', 'sf-results'),
        mskResourceArn(RESULTS_CLUSTER, 'topic', 'sf-errors'),
      ]);
    }
  });

  it('grants `*` only for the actions AWS offers no resource-level permissions for (pinned list)', () => {
    const starred = statements(json.Resources)
      .filter((s) => ([] as unknown[]).concat(s.Resource).some((r) => r === '*'))
      .map(
        (s) =>
          `${s.policy.replace(/[A-F0-9]{8}$/, '')}: ${([] as string[]).concat(s.Action).sort().join(',')}`,
      )
      .sort();
    expect(starred).toEqual([
      'SinkBulkJobsRoleDefaultPolicy: logs:CreateLogDelivery,logs:DeleteLogDelivery,logs:DescribeLogGroups,logs:DescribeResourcePolicies,logs:GetLogDelivery,logs:ListLogDeliveries,logs:PutResourcePolicy,logs:UpdateLogDelivery',
      'SinkBulkJobsRoleDefaultPolicy: xray:GetSamplingRules,xray:GetSamplingTargets,xray:PutTelemetryRecords,xray:PutTraceSegments',
      'SinkPollerRoleDefaultPolicy: xray:PutTelemetryRecords,xray:PutTraceSegments',
      'SinkPollerRoleNetworkInterfaces: ec2:AssignPrivateIpAddresses,ec2:CreateNetworkInterface,ec2:DeleteNetworkInterface,ec2:DescribeNetworkInterfaces,ec2:DescribeSecurityGroups,ec2:DescribeSubnets,ec2:DescribeVpcs,ec2:UnassignPrivateIpAddresses',
      'SinkSinkRoleDefaultPolicy: xray:PutTelemetryRecords,xray:PutTraceSegments',
      'SinkSinkRoleNetworkInterfaces: ec2:AssignPrivateIpAddresses,ec2:CreateNetworkInterface,ec2:DeleteNetworkInterface,ec2:DescribeNetworkInterfaces,ec2:DescribeSecurityGroups,ec2:DescribeSubnets,ec2:DescribeVpcs,ec2:UnassignPrivateIpAddresses',
    ]);
  });

  it('never grants a wildcard action, a whole service, or an ARN ending in * (but the on-failure bucket’s objects)', () => {
    for (const s of statements(json.Resources)) {
      for (const action of ([] as string[]).concat(s.Action)) expect(action).not.toMatch(/\*/);
      for (const resource of ([] as unknown[]).concat(s.Resource)) {
        if (typeof resource === 'string' && resource !== '*') expect(resource).not.toMatch(/\*$/);
        if (typeof resource === 'object') {
          const text = JSON.stringify(resource);
          if (text.includes('/*')) {
            expect(s.Action).toBe('s3:PutObject');
            expect(text).toContain('OnFailureBucket');
          }
        }
      }
    }
  });

  it('gives the table exactly the operations the checkpoint and job stores use', () => {
    const tableStatements = statements(json.Resources).filter((s) =>
      ([] as string[]).concat(s.Action).some((a) => a.startsWith('dynamodb:')),
    );
    expect(tableStatements).toHaveLength(2);
    for (const s of tableStatements) {
      expect(([] as string[]).concat(s.Action).sort()).toEqual([
        'dynamodb:BatchGetItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
      ]);
      expect(s.Resource).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^SinkTable/), 'Arn'] }]);
    }
  });

  it('puts both functions in the VPC, after their network permissions exist', () => {
    for (const [, fn] of ofType(json.Resources, 'AWS::Lambda::Function')) {
      expect(fn.Properties.VpcConfig.SubnetIds).toEqual(['subnet-aaaa1111', 'subnet-bbbb2222']);
      expect(fn.DependsOn!.some((d) => d.includes('NetworkInterfaces'))).toBe(true);
    }
  });
});

describe('SalesforceSink stack (self-managed Kafka in a VPC, Glue schema registry, existing secrets)', () => {
  let json: { Resources: Resources };
  beforeAll(() => {
    ({ json } = synth(
      deploymentSchema.parse({
        stackName: 'sfsink-self-managed',
        source: {
          kind: 'self-managed',
          bootstrapServers: ['kafka-1.example.com:9096'],
          auth: 'sasl-scram-512',
          secret: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:kafka-AbCdEf',
          vpc: {
            vpcId: 'vpc-11111111',
            subnetIds: ['subnet-11111111', 'subnet-22222222'],
            routeTableIds: ['rtb-11111111', 'rtb-11111111'],
            securityGroupId: 'sg-11111111',
          },
        },
        consumer: {
          schemaRegistry: {
            kind: 'glue',
            registryArn: 'arn:aws:glue:us-east-1:123456789012:registry/events',
          },
        },
        salesforceSecret: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:salesforce-AbCdEf',
        config: { mappings: [{ topic: 'leads', sobject: 'Lead' }] },
      }),
    ));
  });

  it('reads through the VPC with the SCRAM secret, and decodes values with the registry to JSON', () => {
    const [[, mapping]] = ofType(json.Resources, 'AWS::Lambda::EventSourceMapping') as [
      [string, Resources[string]],
    ];
    expect(mapping.Properties).toMatchObject({
      SelfManagedEventSource: { Endpoints: { KafkaBootstrapServers: ['kafka-1.example.com:9096'] } },
      SourceAccessConfigurations: [
        {
          Type: 'SASL_SCRAM_512_AUTH',
          URI: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:kafka-AbCdEf',
        },
        { Type: 'VPC_SECURITY_GROUP', URI: 'security_group:sg-11111111' },
        { Type: 'VPC_SUBNET', URI: 'subnet:subnet-11111111' },
        { Type: 'VPC_SUBNET', URI: 'subnet:subnet-22222222' },
      ],
      SelfManagedKafkaEventSourceConfig: {
        SchemaRegistryConfig: {
          SchemaRegistryURI: 'arn:aws:glue:us-east-1:123456789012:registry/events',
          EventRecordFormat: 'JSON',
          SchemaValidationConfigs: [{ Attribute: 'VALUE' }],
        },
      },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('uses the existing Salesforce secret instead of creating one, and reads only the named registry', () => {
    expect(ofType(json.Resources, 'AWS::SecretsManager::Secret')).toHaveLength(0);
    const glue = statements(json.Resources).filter((s) =>
      ([] as string[]).concat(s.Action).some((a) => a.startsWith('glue:')),
    );
    expect(glue.flatMap((s) => ([] as string[]).concat(s.Resource as string))).toEqual([
      'arn:aws:glue:us-east-1:123456789012:registry/events',
      'arn:aws:glue:us-east-1:123456789012:registry/events',
      'arn:aws:glue:us-east-1:123456789012:schema/events/*',
    ]);
  });
});

describe('SalesforceSink props validation', () => {
  const base = (): SalesforceSinkProps => ({
    config: { mappings: [{ topic: 'leads', sobject: 'Lead' }] },
    source: { kind: 'msk', clusterArn: CLUSTER },
    createVpcEndpoints: false,
    functions: { code: code() },
  });
  const build = (props: SalesforceSinkProps) => new SalesforceSink(new Stack(new App(), 'S'), 'Sink', props);
  const problems = (props: SalesforceSinkProps) => {
    try {
      build(props);
    } catch (error) {
      if (error instanceof SinkPropsError) return error.problems;
      throw error;
    }
    return [];
  };

  it('rejects an invalid sink configuration with the sink schema’s message, under config.', () => {
    expect(
      problems({
        ...base(),
        config: { mappings: [{ topic: 'leads', sobject: 'Lead', operation: 'upsert' }] },
      }),
    ).toEqual([expect.stringMatching(/^config\.mappings\[0\]\.externalIdField: is required for upsert/)]);
    expect(problems({ ...base(), config: { mappings: [] } })).toEqual([
      expect.stringMatching(/^config\.mappings: is empty/),
    ]);
  });

  it('says which option is wrong and how to fix it', () => {
    expect(problems({ ...base(), consumer: { batchSize: 20_000 } })).toEqual([
      'consumer.batchSize: must be at most 10000 (Lambda limit for Kafka)',
    ]);
    expect(problems({ ...base(), source: { kind: 'msk', clusterArn: 'demo-cluster' } })[0]).toMatch(
      /^source.clusterArn: is not an MSK cluster ARN/,
    );
    expect(
      problems({ ...base(), source: { kind: 'msk', clusterArn: CLUSTER, auth: 'sasl-scram' } })[0],
    ).toMatch(/^source.secret: is required with auth sasl-scram/);
    expect(problems({ ...base(), consumer: { retryAttempts: -1 } })[0]).toMatch(
      /^consumer.retryAttempts: .*turns it into 10/,
    );
    expect(problems({ ...base(), config: { mappings: [{ topic: 'x', sobject: 'Lead' }] } })[0]).toMatch(
      /^config.mappings\[0\].topic: "x" is not a topic Lambda can read/,
    );
    expect(problems({ ...base(), consumer: { batchingWindow: Duration.minutes(6) } })).toEqual([
      'consumer.batchingWindow: must be at most 5 minutes',
    ]);
    expect(problems({ ...base(), consumer: { startingPosition: 'AT_TIMESTAMP' } })[0]).toMatch(
      /^consumer.startingPositionTimestamp: goes with startingPosition AT_TIMESTAMP/,
    );
    expect(problems({ ...base(), consumer: { consumerGroupIds: { orders: 'g' } } })[0]).toMatch(
      /^consumer.consumerGroupIds: names topics without a mapping \(orders\)/,
    );
    expect(
      problems({
        ...base(),
        config: {
          mappings: [{ topic: 'leads', sobject: 'Lead' }],
          results: { kafka: { brokers: ['b:9098'], resultTopic: 'r' } },
        },
      })[0],
    ).toMatch(/^results.kafkaClusterArn: is required/);
    expect(
      problems({
        ...base(),
        source: { kind: 'self-managed', bootstrapServers: ['kafka.example.com:9092'], auth: 'none' },
      })[0],
    ).toMatch(/^source.vpc: is required with auth none/);
  });

  it('accepts a self-managed cluster with a SCRAM secret and a Confluent schema registry', () => {
    const stack = new Stack(new App(), 'S');
    const secret = secretsmanager.Secret.fromSecretCompleteArn(
      stack,
      'Kafka',
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:kafka-AbCdEf',
    );
    new SalesforceSink(stack, 'Sink', {
      ...base(),
      source: {
        kind: 'self-managed',
        bootstrapServers: ['kafka.example.com:9096'],
        auth: 'sasl-scram-256',
        secret,
      },
      consumer: {
        schemaRegistry: {
          kind: 'confluent',
          uri: 'https://registry.example.com',
          authentication: 'basic',
          secret,
        },
      },
    });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      SelfManagedEventSource: { Endpoints: { KafkaBootstrapServers: ['kafka.example.com:9096'] } },
      SourceAccessConfigurations: [{ Type: 'SASL_SCRAM_256_AUTH', URI: secret.secretArn }],
      SelfManagedKafkaEventSourceConfig: {
        SchemaRegistryConfig: {
          SchemaRegistryURI: 'https://registry.example.com',
          EventRecordFormat: 'JSON',
          SchemaValidationConfigs: [{ Attribute: 'VALUE' }],
        },
      },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ProvisionedPollerConfig: Match.objectLike({ MinimumPollers: 1 }),
    });
  });
});

describe('cdk-nag wiring', () => {
  it('fails the synth on a finding nobody acknowledged', () => {
    const { app, stack } = createSinkApp({ deployment: sample, code: code(), env: {} });
    new sqs.Queue(stack, 'Unencrypted', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS2/);
  });
});

describe('deployment files', () => {
  it('reads the sample, the PushTopic Lead example', () => {
    expect(sample.config).toEqual({
      mappings: [{ topic: 'sfdc-pushtopic-lead', sobject: 'Lead', externalIdField: 'CustomId__c' }],
    });
  });

  it('says which key is wrong', () => {
    expect(() => loadDeployment(join(import.meta.dirname, 'no-such-deployment.json'))).toThrow(
      DeploymentError,
    );
    expect(deploymentSchema.safeParse({ ...sample, sourc: {} }).success).toBe(false);
  });
});

describe('mskResourceArn', () => {
  it('derives topic and group ARNs from the cluster ARN, literal or token', () => {
    expect(mskResourceArn(CLUSTER, 'topic', 'leads')).toBe(
      'arn:aws:kafka:us-east-1:123456789012:topic/demo-cluster/fc2f5bdf-fd1b-45ad-85dd-15b4a5a6247e-2/leads',
    );
    const stack = new Stack();
    const resolved = stack.resolve(mskResourceArn(Fn.importValue('Cluster'), 'group', 'g'));
    expect(resolved['Fn::Join'][1]).toContain(':group/');
    expect(placeholderArn('X')).toMatch(/^arn:aws:lambda:/);
  });
});

describe('function timeouts', () => {
  it('refuse a sink timeout too short for one Salesforce request and the checkpoint writes', () => {
    expect(() =>
      validateSinkProps({
        config: { requestTimeout: '60s', mappings: [{ topic: 't', sobject: 'Lead' }] },
        source: {
          kind: 'msk',
          clusterArn:
            'arn:aws:kafka:us-east-1:123456789012:cluster/demo/11111111-2222-3333-4444-555555555555-1',
        },
        createVpcEndpoints: false,
        functions: { sinkTimeout: Duration.seconds(90) },
      }),
    ).toThrow(/functions.sinkTimeout: 90 s leaves no room for a 60 s Salesforce request/);
  });
});
