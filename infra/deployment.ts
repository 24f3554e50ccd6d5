// A deployment file: everything `cdk deploy` needs as plain JSON (the sink configuration, the Kafka
// source, existing secrets and networks by id or ARN), so deploying a sink needs no TypeScript. It is
// turned into SalesforceSink props here; the construct validates the values themselves.
import { readFileSync } from 'node:fs';
import { Duration, Fn, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { z } from 'zod';
import type { SinkConfigInput } from '../lib/config/index.ts';
import type { KafkaSource, SalesforceSinkProps, SchemaRegistry } from './props.ts';

/** A secret by complete ARN, optionally with the customer managed KMS key that encrypts it. */
const secretRef = z.union([
  z.string(),
  z.strictObject({ arn: z.string(), kmsKeyArn: z.string().optional() }),
]);
const vpcRef = z.strictObject({
  vpcId: z.string(),
  subnetIds: z.array(z.string()).min(1, { error: 'is empty: list the subnets' }),
});
const decode = z.array(z.enum(['key', 'value'])).optional();

export const deploymentSchema = z.strictObject({
  stackName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, { error: 'is not a CloudFormation stack name' })
    .default('sfsink'),
  /** Default: CDK_DEFAULT_ACCOUNT (the CLI's credentials), else an environment-agnostic stack. */
  account: z
    .string()
    .regex(/^\d{12}$/, { error: 'is not a 12-digit account id' })
    .optional(),
  /** Default: CDK_DEFAULT_REGION, else the region of the MSK cluster ARN. */
  region: z.string().optional(),
  config: z.unknown(),
  source: z.discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('msk'),
      clusterArn: z.string(),
      auth: z.enum(['iam', 'sasl-scram']).optional(),
      secret: secretRef.optional(),
    }),
    z.strictObject({
      kind: z.literal('self-managed'),
      bootstrapServers: z.array(z.string()),
      auth: z.enum(['sasl-scram-512', 'sasl-scram-256', 'basic', 'mtls', 'none']),
      secret: secretRef.optional(),
      rootCaCertificate: secretRef.optional(),
      vpc: vpcRef.extend({ securityGroupId: z.string() }).optional(),
    }),
  ]),
  consumer: z
    .strictObject({
      batchSize: z.number().optional(),
      batchingWindowSeconds: z.number().nonnegative().optional(),
      startingPosition: z.enum(['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP']).optional(),
      startingPositionTimestamp: z.number().optional(),
      consumerGroupId: z.string().optional(),
      consumerGroupIds: z.record(z.string(), z.string()).optional(),
      provisionedPollers: z
        .strictObject({
          minimum: z.number().optional(),
          maximum: z.number().optional(),
          groupName: z.string().optional(),
        })
        .optional(),
      retryAttempts: z.number().optional(),
      schemaRegistry: z
        .discriminatedUnion('kind', [
          z.strictObject({ kind: z.literal('glue'), registryArn: z.string(), decode }),
          z.strictObject({
            kind: z.literal('confluent'),
            uri: z.string(),
            authentication: z.enum(['basic', 'mtls']),
            secret: secretRef,
            decode,
          }),
        ])
        .optional(),
    })
    .optional(),
  salesforceSecret: secretRef.optional(),
  results: z
    .strictObject({ createQueues: z.boolean().optional(), kafkaClusterArn: z.string().optional() })
    .optional(),
  network: vpcRef.extend({ securityGroupIds: z.array(z.string()).optional() }).optional(),
  functions: z
    .strictObject({
      sinkMemorySize: z.number().int().optional(),
      sinkTimeoutSeconds: z.number().int().positive().max(900).optional(),
      pollerMemorySize: z.number().int().optional(),
      pollerTimeoutSeconds: z.number().int().positive().max(900).optional(),
    })
    .optional(),
  monitoring: z
    .strictObject({
      alarmTopicArn: z.string().optional(),
      offsetLagThreshold: z.number().optional(),
      errorQueueDepthThreshold: z.number().optional(),
      apiUsageThreshold: z.number().optional(),
      metricsService: z.string().optional(),
      dashboardName: z.string().optional(),
    })
    .optional(),
  /** `retain` (default) keeps the checkpoints and bulk jobs table on `cdk destroy`. */
  table: z.strictObject({ removalPolicy: z.enum(['retain', 'destroy']).optional() }).optional(),
});

export type Deployment = z.output<typeof deploymentSchema>;

/** The deployment file is unreadable or invalid. */
export class DeploymentError extends Error {
  override name = 'DeploymentError';
}

/**
 * Reads and checks a deployment file (JSON).
 *
 * @example
 * const deployment = loadDeployment('infra/sample-deployment.json');
 */
export function loadDeployment(path: string): Deployment {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new DeploymentError(`deployment file ${path}: ${(error as Error).message}`);
  }
  const result = deploymentSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `  - ${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new DeploymentError(`Invalid deployment file ${path}:\n${problems.join('\n')}`);
  }
  return result.data;
}

function secretOf(scope: Construct, id: string, ref: z.output<typeof secretRef>): secretsmanager.ISecret {
  const { arn, kmsKeyArn } = typeof ref === 'string' ? { arn: ref, kmsKeyArn: undefined } : ref;
  return secretsmanager.Secret.fromSecretAttributes(scope, id, {
    secretCompleteArn: arn,
    ...(kmsKeyArn ? { encryptionKey: kms.Key.fromKeyArn(scope, `${id}Key`, kmsKeyArn) } : {}),
  });
}

function subnetsOf(scope: Construct, id: string, ref: z.output<typeof vpcRef>) {
  return {
    // Only the explicit subnets are ever selected, so the VPC's own subnet and zone lists stay unknown.
    vpc: ec2.Vpc.fromVpcAttributes(scope, id, {
      vpcId: ref.vpcId,
      availabilityZones: [Fn.select(0, Fn.getAzs())],
    }),
    subnets: { subnets: ref.subnetIds.map((s) => ec2.Subnet.fromSubnetId(scope, `${id}-${s}`, s)) },
  };
}

/**
 * The SalesforceSink props a deployment describes, importing its secrets, VPC and topic by reference.
 *
 * @example
 * new SalesforceSink(stack, 'Sink', deploymentProps(stack, loadDeployment(path)));
 */
export function deploymentProps(scope: Construct, d: Deployment): SalesforceSinkProps {
  const s = d.source;
  let source: KafkaSource;
  if (s.kind === 'msk') {
    source = {
      kind: 'msk',
      clusterArn: s.clusterArn,
      ...(s.auth ? { auth: s.auth } : {}),
      ...(s.secret ? { secret: secretOf(scope, 'KafkaSecret', s.secret) } : {}),
    };
  } else {
    const vpc = s.vpc ? subnetsOf(scope, 'SourceVpc', s.vpc) : undefined;
    source = {
      kind: 'self-managed',
      bootstrapServers: s.bootstrapServers,
      auth: s.auth,
      ...(s.secret ? { secret: secretOf(scope, 'KafkaSecret', s.secret) } : {}),
      ...(s.rootCaCertificate
        ? { rootCaCertificate: secretOf(scope, 'KafkaRootCa', s.rootCaCertificate) }
        : {}),
      ...(vpc && s.vpc
        ? {
            vpc: {
              vpc: vpc.vpc,
              subnets: vpc.subnets,
              securityGroup: ec2.SecurityGroup.fromSecurityGroupId(
                scope,
                'SourceSecurityGroup',
                s.vpc.securityGroupId,
              ),
            },
          }
        : {}),
    };
  }
  const c = d.consumer;
  let schemaRegistry: SchemaRegistry | undefined;
  if (c?.schemaRegistry?.kind === 'glue') schemaRegistry = { ...c.schemaRegistry };
  else if (c?.schemaRegistry?.kind === 'confluent') {
    schemaRegistry = {
      ...c.schemaRegistry,
      secret: secretOf(scope, 'SchemaRegistrySecret', c.schemaRegistry.secret),
    };
  }
  const { batchingWindowSeconds, schemaRegistry: _registry, ...consumer } = c ?? {};
  const network = d.network ? subnetsOf(scope, 'FunctionVpc', d.network) : undefined;
  const f = d.functions;
  const m = d.monitoring;
  const { alarmTopicArn, ...monitoring } = m ?? {};
  return {
    config: d.config as SinkConfigInput,
    source,
    consumer: {
      ...consumer,
      ...(batchingWindowSeconds !== undefined
        ? { batchingWindow: Duration.seconds(batchingWindowSeconds) }
        : {}),
      ...(schemaRegistry ? { schemaRegistry } : {}),
    },
    ...(d.salesforceSecret
      ? { salesforceSecret: secretOf(scope, 'SalesforceSecret', d.salesforceSecret) }
      : {}),
    ...(d.results ? { results: d.results } : {}),
    ...(network && d.network
      ? {
          network: {
            vpc: network.vpc,
            subnets: network.subnets,
            ...(d.network.securityGroupIds
              ? {
                  securityGroups: d.network.securityGroupIds.map((id) =>
                    ec2.SecurityGroup.fromSecurityGroupId(scope, `FunctionSecurityGroup-${id}`, id),
                  ),
                }
              : {}),
          },
        }
      : {}),
    functions: {
      ...(f?.sinkMemorySize ? { sinkMemorySize: f.sinkMemorySize } : {}),
      ...(f?.sinkTimeoutSeconds ? { sinkTimeout: Duration.seconds(f.sinkTimeoutSeconds) } : {}),
      ...(f?.pollerMemorySize ? { pollerMemorySize: f.pollerMemorySize } : {}),
      ...(f?.pollerTimeoutSeconds ? { pollerTimeout: Duration.seconds(f.pollerTimeoutSeconds) } : {}),
    },
    monitoring: {
      ...monitoring,
      ...(alarmTopicArn ? { alarmTopic: sns.Topic.fromTopicArn(scope, 'AlarmTopic', alarmTopicArn) } : {}),
    },
    ...(d.table?.removalPolicy === 'destroy' ? { tableRemovalPolicy: RemovalPolicy.DESTROY } : {}),
  };
}
