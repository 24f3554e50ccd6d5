// The deployment variants in infra/deployments/ and the sample, synthesized as `npm run synth` does:
// cdk-nag's AwsSolutions checks and the Control Tower proactive controls run on every synth and fail it
// on any finding that is neither fixed nor acknowledged. Then what each variant must grant and create
// for the stack to start: KMS grants for customer keys, the on-failure bucket, the VPC endpoints.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Deployment, deploymentProblems, loadDeployment } from './deployment.ts';
import { createSinkApp } from './sink-stack.ts';

const code = () => ({
  sink: lambda.Code.fromInline('export const handler = async () => ({});'),
  poller: lambda.Code.fromInline('export const handler = async () => ({});'),
});
const fixture = (name: string) => join(import.meta.dirname, name);
const readJson = (name: string) => JSON.parse(readFileSync(fixture(name), 'utf8')) as Record<string, unknown>;

// biome-ignore lint/suspicious/noExplicitAny: template JSON; the assertions check its shape
type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: string[] };
type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown; Principal?: unknown };

function synth(deployment: Deployment) {
  const { app, stack } = createSinkApp({ deployment, code: code(), env: {} });
  const template = app.synth().getStackByName(stack.stackName).template as {
    Resources: Record<string, Resource>;
  };
  return template.Resources;
}

/** Each role's statements (by the role's logical id), from the policies attached to it. */
function roleStatements(resources: Record<string, Resource>): Record<string, Statement[]> {
  const out: Record<string, Statement[]> = {};
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    for (const role of r.Properties.Roles as { Ref: string }[]) {
      out[role.Ref] = [...(out[role.Ref] ?? []), ...r.Properties.PolicyDocument.Statement];
    }
  }
  return out;
}
const actionsOf = (s: Statement) => ([] as string[]).concat(s.Action);
const roleId = (statements: Record<string, Statement[]>, name: 'Sink' | 'Poller') =>
  Object.keys(statements).find((id) => id.startsWith(`Sink${name}Role`))!;

/** The role's KMS statements on one key: actions and the service it may use the key through. */
function keyGrants(statements: Statement[], keyArn: string) {
  return statements
    .filter((s) => s.Resource === keyArn)
    .map((s) => ({
      actions: actionsOf(s).sort(),
      via: JSON.stringify(
        (s.Condition as { StringEquals: Record<string, unknown> }).StringEquals['kms:ViaService'],
      ),
    }));
}

const VARIANTS = [
  'sample-deployment.json',
  'deployments/msk-sasl-scram.json',
  'deployments/self-managed-scram.json',
  'deployments/vpc-functions.json',
];

describe('npm run synth’s policy checks on the sample and the variants', () => {
  for (const name of VARIANTS) {
    it(`${name}: cdk-nag and the Control Tower rules find nothing unacknowledged`, () => {
      const resources = synth(loadDeployment(fixture(name)));
      expect(Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function')).toHaveLength(2);
    });
  }

  it('fails the synth on a Control Tower finding nobody acknowledged, even beside acknowledged ones', () => {
    const { app, stack } = createSinkApp({
      deployment: loadDeployment(fixture('sample-deployment.json')),
      code: code(),
      env: {},
    });
    new logs.LogGroup(stack, 'ShortLived', { retention: logs.RetentionDays.ONE_WEEK });
    expect(() => app.synth()).toThrow(/CT\.CLOUDWATCH\.PR\.2/);
  });
});

describe('KMS grants for customer managed keys', () => {
  // The stack's region: literal for an MSK cluster's ARN, AWS::Region for an account-agnostic stack.
  const VIA_SECRETS = expect.stringMatching(
    /^"secretsmanager\.us-east-1\.|^\{"Fn::Join":\["",\["secretsmanager\./,
  );

  it('MSK SASL/SCRAM: the event pollers (sink role) decrypt the AmazonMSK_ secret; both functions the Salesforce secret', () => {
    const d = readJson('deployments/msk-sasl-scram.json') as {
      source: { secret: { kmsKeyArn: string } };
      salesforceSecret: { kmsKeyArn: string };
    };
    const statements = roleStatements(synth(loadDeployment(fixture('deployments/msk-sasl-scram.json'))));
    const sink = statements[roleId(statements, 'Sink')]!;
    const poller = statements[roleId(statements, 'Poller')]!;
    expect(keyGrants(sink, d.source.secret.kmsKeyArn)).toEqual([
      { actions: ['kms:Decrypt'], via: VIA_SECRETS },
    ]);
    expect(keyGrants(poller, d.source.secret.kmsKeyArn)).toEqual([]);
    for (const role of [sink, poller]) {
      expect(keyGrants(role, d.salesforceSecret.kmsKeyArn)).toEqual([
        { actions: ['kms:Decrypt'], via: VIA_SECRETS },
      ]);
    }
  });

  it('self-managed Kafka: SCRAM secret, root CA and Confluent registry secret, and the bucket key for the on-failure objects', () => {
    const d = readJson('deployments/self-managed-scram.json') as {
      source: { secret: { arn: string; kmsKeyArn: string }; rootCaCertificate: { arn: string } };
      consumer: { schemaRegistry: { secret: { arn: string; kmsKeyArn: string } } };
      onFailure: { kmsKeyArn: string };
    };
    const resources = synth(loadDeployment(fixture('deployments/self-managed-scram.json')));
    const statements = roleStatements(resources);
    const sink = statements[roleId(statements, 'Sink')]!;
    // One key encrypts the SCRAM secret, the root CA and the bucket: a Decrypt through Secrets Manager
    // (CDK merges the two identical statements) and a GenerateDataKey through S3.
    const shared = keyGrants(sink, d.source.secret.kmsKeyArn);
    expect(shared.filter((g) => g.via.includes('secretsmanager'))).toEqual([
      { actions: ['kms:Decrypt'], via: VIA_SECRETS },
    ]);
    expect(shared.filter((g) => g.via.includes('"s3.'))).toEqual([
      { actions: ['kms:GenerateDataKey'], via: expect.stringMatching(/\["s3\./) },
    ]);
    expect(keyGrants(sink, d.consumer.schemaRegistry.secret.kmsKeyArn)).toEqual([
      { actions: ['kms:Decrypt'], via: VIA_SECRETS },
    ]);
    const reads = sink
      .filter((s) => actionsOf(s).includes('secretsmanager:GetSecretValue'))
      .map((s) => s.Resource);
    expect(reads).toEqual(
      expect.arrayContaining([
        d.source.secret.arn,
        d.source.rootCaCertificate.arn,
        d.consumer.schemaRegistry.secret.arn,
      ]),
    );
    const [bucket] = Object.values(resources).filter((r) => r.Type === 'AWS::S3::Bucket');
    expect(bucket!.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0]).toMatchObject({
      ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: d.onFailure.kmsKeyArn },
      BucketKeyEnabled: true,
    });
  });

  it('imported result queues encrypted with a customer key: GenerateDataKey and Decrypt through SQS, for both functions', () => {
    const key = 'arn:aws:kms:us-east-1:123456789012:key/9999aaaa-22bb-33cc-44dd-555555eeeeee';
    const d = {
      ...readJson('sample-deployment.json'),
      results: { kmsKeyArn: key },
      config: {
        mappings: [{ topic: 'leads', sobject: 'Lead' }],
        results: { sqs: { errorQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/sf-errors' } },
      },
    };
    const { deployment, problems } = deploymentProblems(d);
    expect(problems).toEqual([]);
    const statements = roleStatements(synth(deployment!));
    for (const role of ['Sink', 'Poller'] as const) {
      expect(keyGrants(statements[roleId(statements, role)]!, key)).toEqual([
        { actions: ['kms:Decrypt', 'kms:GenerateDataKey'], via: expect.stringContaining('sqs.us-east-1.') },
      ]);
    }
  });

  it('a secret without a customer key gets no KMS statement at all', () => {
    const resources = synth(loadDeployment(fixture('sample-deployment.json')));
    expect(JSON.stringify(resources)).not.toContain('"kms:');
  });
});

describe('the on-failure destination', () => {
  let resources: Record<string, Resource>;
  beforeAll(() => {
    resources = synth(loadDeployment(fixture('sample-deployment.json')));
  });

  it('is an S3 bucket by default: encrypted, public access blocked, TLS only, expiring, kept on destroy', () => {
    const buckets = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::S3::Bucket');
    expect(buckets).toHaveLength(1);
    const [id, bucket] = buckets[0]!;
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        Rules: [expect.objectContaining({ ExpirationInDays: 90, Status: 'Enabled' })],
      },
      MetricsConfigurations: [{ Id: 'OnFailure' }],
    });
    expect((bucket as unknown as { DeletionPolicy: string }).DeletionPolicy).toBe('Retain');
    const policy = Object.values(resources).find((r) => r.Type === 'AWS::S3::BucketPolicy')!;
    expect(policy.Properties.Bucket).toEqual({ Ref: id });
    expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('the sink role (the event pollers’) may list the bucket and put objects in it, nothing else; the poller role nothing', () => {
    const statements = roleStatements(resources);
    const bucketId = Object.keys(resources).find((id) => resources[id]!.Type === 'AWS::S3::Bucket')!;
    const onBucket = (role: Statement[]) =>
      role
        .filter((s) => JSON.stringify(s.Resource).includes(bucketId))
        .map((s) => ({ actions: actionsOf(s), resource: s.Resource }));
    expect(onBucket(statements[roleId(statements, 'Sink')]!)).toEqual([
      { actions: ['s3:ListBucket'], resource: { 'Fn::GetAtt': [bucketId, 'Arn'] } },
      {
        actions: ['s3:PutObject'],
        resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] },
      },
    ]);
    expect(onBucket(statements[roleId(statements, 'Poller')]!)).toEqual([]);
    const mapping = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::EventSourceMapping')!;
    expect(mapping.Properties.DestinationConfig.OnFailure.Destination).toEqual({
      'Fn::GetAtt': [bucketId, 'Arn'],
    });
    expect(mapping.DependsOn).toEqual(
      expect.arrayContaining([expect.stringMatching(/^SinkSinkRoleOnFailureDestination/)]),
    );
  });

  it('an alarm on objects put into the bucket notifies the alarm topic, like every alarm', () => {
    const alarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    const topic = Object.keys(resources).find((id) => resources[id]!.Type === 'AWS::SNS::Topic')!;
    expect(alarms.filter((a) => a.Properties.MetricName === 'PutRequests')).toHaveLength(1);
    for (const a of alarms) {
      expect(a.Properties.AlarmActions).toEqual([{ Ref: topic }]);
      expect(a.Properties.OKActions).toEqual([{ Ref: topic }]);
    }
    expect(
      Object.values(resources).find((r) => r.Type === 'AWS::SNS::Subscription')!.Properties,
    ).toMatchObject({
      Protocol: 'email',
      Endpoint: 'sfsink-alarms@example.com',
    });
  });

  it('is a queue with `onFailure.destination: sqs`, and the bucket is gone', () => {
    const { deployment } = deploymentProblems({
      ...readJson('sample-deployment.json'),
      onFailure: { destination: 'sqs' },
    });
    const sqsResources = synth(deployment!);
    expect(Object.values(sqsResources).filter((r) => r.Type === 'AWS::S3::Bucket')).toHaveLength(0);
    const dlq = Object.keys(sqsResources).find((id) => id.startsWith('SinkEventSourceDlq'))!;
    const mapping = Object.values(sqsResources).find((r) => r.Type === 'AWS::Lambda::EventSourceMapping')!;
    expect(mapping.Properties.DestinationConfig.OnFailure.Destination).toEqual({
      'Fn::GetAtt': [dlq, 'Arn'],
    });
  });
});

describe('VPC endpoints', () => {
  const endpoints = (resources: Record<string, Resource>) =>
    Object.values(resources)
      .filter((r) => r.Type === 'AWS::EC2::VPCEndpoint')
      .map((r) => ({
        vpc: r.Properties.VpcId as string,
        service: JSON.stringify(r.Properties.ServiceName).match(
          /\.(s3|dynamodb|sqs|secretsmanager|states)"/,
        )![1],
        type: r.Properties.VpcEndpointType ?? 'Interface',
        routeTables: r.Properties.RouteTableIds as string[] | undefined,
        statements: r.Properties.PolicyDocument.Statement as Statement[],
      }));

  it('cluster and functions in one VPC: S3 gateway for the discarded records, DynamoDB gateway, Secrets Manager, SQS, Step Functions', () => {
    const found = endpoints(synth(loadDeployment(fixture('deployments/vpc-functions.json'))));
    expect(found.map((e) => `${e.service}:${e.type}`).sort()).toEqual([
      'dynamodb:Gateway',
      's3:Gateway',
      'secretsmanager:Interface',
      'sqs:Interface',
      'states:Interface',
    ]);
    for (const e of found) {
      expect(e.vpc).toBe('vpc-0c1b2c3d4e5f60718');
      // Least privilege: every statement names the sink's roles and the sink's resources.
      for (const s of e.statements) {
        expect(JSON.stringify(s.Principal)).toMatch(/Sink(Sink|Poller)Role/);
        expect(JSON.stringify(s.Resource)).not.toBe('"*"');
        for (const action of actionsOf(s)) expect(action).not.toMatch(/\*/);
      }
    }
    expect(found.find((e) => e.service === 's3')!.routeTables).toEqual([
      'rtb-0c23456789abcdef0',
      'rtb-0c23456789abcdef1',
    ]);
    expect(
      found
        .find((e) => e.service === 's3')!
        .statements.flatMap(actionsOf)
        .sort(),
    ).toEqual(['s3:ListBucket', 's3:PutObject']);
  });

  it('SASL/SCRAM cluster: the pollers get Secrets Manager and the S3 gateway in the cluster’s VPC', () => {
    const found = endpoints(synth(loadDeployment(fixture('deployments/msk-sasl-scram.json'))));
    expect(found.map((e) => `${e.service}:${e.type}`).sort()).toEqual([
      's3:Gateway',
      'secretsmanager:Interface',
    ]);
    const secrets = found.find((e) => e.service === 'secretsmanager')!;
    expect(secrets.statements.map((s) => s.Resource)).toEqual([
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:AmazonMSK_sfsink-AbCdEf',
    ]);
  });

  it('none with network.createEndpoints false', () => {
    const { deployment, problems } = deploymentProblems({
      ...readJson('deployments/vpc-functions.json'),
      network: {
        vpcId: 'vpc-0c1b2c3d4e5f60718',
        subnetIds: ['subnet-0ccc1111bbbb2222c'],
        createEndpoints: false,
      },
    });
    expect(problems).toEqual([]);
    expect(endpoints(synth(deployment!))).toEqual([]);
  });
});
