// A deployment file: everything `cdk deploy` needs as plain JSON (the sink configuration, the Kafka
// source, existing secrets and networks by id or ARN), so deploying a sink needs no TypeScript. It is
// turned into SalesforceSink props here; the construct validates the values themselves.
import { readFileSync } from 'node:fs';
import { App, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { z } from 'zod';
import type { SinkConfigInput } from '../lib/config/index.ts';
import {
  configProblems,
  type KafkaSource,
  KMS_KEY_ARN,
  type SalesforceSinkProps,
  type SchemaRegistry,
  SECRET_ARN,
  sinkPropsProblems,
} from './props.ts';

const KEY_ERROR =
  'is not a KMS key ARN: arn:aws:kms:<region>:<account>:key/<key id> (an alias cannot be granted in IAM policies)';
const keyArn = z.string().regex(KMS_KEY_ARN, { error: KEY_ERROR });

/**
 * A secret by complete ARN, optionally with the customer managed KMS key that encrypts it:
 * `"arn:…:secret:name-AbCdEf"` or `{"arn": …, "kmsKeyArn": …}`.
 */
const secretRef = z
  .union([z.string(), z.strictObject({ arn: z.string(), kmsKeyArn: z.string().optional() })], {
    error: 'must be a secret ARN, or {"arn": "<secret ARN>", "kmsKeyArn": "<key ARN>"}',
  })
  .superRefine((ref, ctx) => {
    const arn = typeof ref === 'string' ? ref : ref.arn;
    if (!SECRET_ARN.test(arn)) {
      ctx.addIssue({
        code: 'custom',
        path: typeof ref === 'string' ? [] : ['arn'],
        message: `"${arn}" is not a complete secret ARN: copy the ARN from the Secrets Manager console (arn:aws:secretsmanager:<region>:<account>:secret:<name>-XXXXXX); a name is not enough`,
      });
    }
    if (typeof ref !== 'string' && ref.kmsKeyArn !== undefined && !KMS_KEY_ARN.test(ref.kmsKeyArn)) {
      ctx.addIssue({ code: 'custom', path: ['kmsKeyArn'], message: KEY_ERROR });
    }
  });
const id = (prefix: string, what: string) =>
  z.string().regex(new RegExp(`^${prefix}-[0-9a-f]{8,17}$`), {
    error: `is not a ${what} id (${prefix}-…)`,
  });
const vpcRef = {
  vpcId: id('vpc', 'VPC'),
  subnetIds: z.array(id('subnet', 'subnet')).min(1, { error: 'is empty: list the subnets' }),
  /** The route table of each subnet, in the order of subnetIds (for the gateway endpoints). */
  routeTableIds: z.array(id('rtb', 'route table')).optional(),
};
const clusterVpc = z.strictObject({ ...vpcRef, securityGroupId: id('sg', 'security group') });
const decode = z.array(z.enum(['key', 'value'], { error: 'must be key or value' })).optional();
/** The retention periods CloudWatch Logs accepts. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

export const deploymentSchema = z
  .strictObject({
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, {
        error: 'is not a CloudFormation stack name: a letter, then letters, digits and hyphens',
      })
      .default('sfsink'),
    /** Default: CDK_DEFAULT_ACCOUNT (the CLI's credentials), else an environment-agnostic stack. */
    account: z
      .string()
      .regex(/^\d{12}$/, { error: 'is not a 12-digit account id' })
      .optional(),
    /** Default: CDK_DEFAULT_REGION, else the region of the MSK cluster ARN. */
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: 'is not an AWS region, e.g. us-east-1' })
      .optional(),
    config: z.unknown(),
    source: z.discriminatedUnion(
      'kind',
      [
        z.strictObject({
          kind: z.literal('msk'),
          clusterArn: z.string(),
          auth: z.enum(['iam', 'sasl-scram'], { error: 'must be iam or sasl-scram' }).optional(),
          secret: secretRef.optional(),
          vpc: clusterVpc.optional(),
        }),
        z.strictObject({
          kind: z.literal('self-managed'),
          bootstrapServers: z.array(z.string()),
          auth: z.enum(['sasl-scram-512', 'sasl-scram-256', 'basic', 'mtls', 'none'], {
            error: 'must be sasl-scram-512, sasl-scram-256, basic, mtls or none',
          }),
          secret: secretRef.optional(),
          rootCaCertificate: secretRef.optional(),
          vpc: clusterVpc.optional(),
        }),
      ],
      { error: 'must have kind msk or self-managed' },
    ),
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
          .discriminatedUnion(
            'kind',
            [
              z.strictObject({ kind: z.literal('glue'), registryArn: z.string(), decode }),
              z.strictObject({
                kind: z.literal('confluent'),
                uri: z.string(),
                authentication: z.enum(['basic', 'mtls'], { error: 'must be basic or mtls' }),
                secret: secretRef,
                decode,
              }),
            ],
            { error: 'must have kind glue or confluent' },
          )
          .optional(),
      })
      .optional(),
    /** Where the event source mappings put the records they give up on. */
    onFailure: z
      .strictObject({
        destination: z.enum(['s3', 'sqs'], { error: 'must be s3 or sqs' }).optional(),
        retentionDays: z.number().int().min(1, { error: 'must be at least 1' }).optional(),
        kmsKeyArn: keyArn.optional(),
      })
      .optional(),
    salesforceSecret: secretRef.optional(),
    results: z
      .strictObject({
        createQueues: z.boolean().optional(),
        kafkaClusterArn: z.string().optional(),
        /** The customer managed key of the queues config.results.sqs names. */
        kmsKeyArn: keyArn.optional(),
      })
      .optional(),
    network: z
      .strictObject({
        vpcId: vpcRef.vpcId.optional(),
        subnetIds: vpcRef.subnetIds.optional(),
        routeTableIds: vpcRef.routeTableIds,
        securityGroupIds: z.array(id('sg', 'security group')).optional(),
        createEndpoints: z.boolean().optional(),
      })
      .refine((n) => (n.vpcId === undefined) === (n.subnetIds === undefined), {
        path: ['subnetIds'],
        error: 'goes with vpcId: give both (the functions’ VPC and its subnets) or neither',
      })
      .optional(),
    functions: z
      .strictObject({
        sinkMemorySize: z.number().int().optional(),
        sinkTimeoutSeconds: z
          .number()
          .int()
          .positive()
          .max(900, { error: 'must be at most 900 (Lambda limit)' })
          .optional(),
        pollerMemorySize: z.number().int().optional(),
        pollerTimeoutSeconds: z
          .number()
          .int()
          .positive()
          .max(900, { error: 'must be at most 900 (Lambda limit)' })
          .optional(),
        logRetentionDays: z
          .number()
          .refine((d) => LOG_RETENTION_DAYS.includes(d), {
            error: `must be one of CloudWatch Logs' periods: ${LOG_RETENTION_DAYS.join(', ')} days`,
          })
          .optional(),
        logKmsKeyArn: keyArn.optional(),
      })
      .optional(),
    monitoring: z
      .strictObject({
        alarmTopicArn: z
          .string()
          .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, {
            error: 'is not an SNS topic ARN: arn:aws:sns:<region>:<account>:<topic>',
          })
          .optional(),
        alarmEmail: z.string().optional(),
        offsetLagThreshold: z.number().optional(),
        errorQueueDepthThreshold: z.number().optional(),
        apiUsageThreshold: z.number().optional(),
        metricsService: z.string().optional(),
        dashboardName: z.string().optional(),
      })
      .optional(),
    /** `retain` (default) keeps the checkpoints and bulk jobs table on `cdk destroy`. */
    table: z
      .strictObject({
        removalPolicy: z.enum(['retain', 'destroy'], { error: 'must be retain or destroy' }).optional(),
      })
      .optional(),
  })
  .superRefine((d, ctx) => {
    if (d.network?.createEndpoints === false) return;
    const routeTables = (
      path: (string | number)[],
      ref: { subnetIds?: string[] | undefined; routeTableIds?: string[] | undefined },
      why: string,
    ) => {
      const subnets = ref.subnetIds?.length ?? 0;
      const tables = ref.routeTableIds?.length ?? 0;
      if (subnets === tables) return;
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'routeTableIds'],
        message: `${tables === 0 ? 'is required' : `lists ${tables} route tables for ${subnets} subnets`} to create ${why}: give the route table of each subnet, in the order of subnetIds, or set network.createEndpoints to false`,
      });
    };
    if (d.network?.subnetIds)
      routeTables(['network'], d.network, 'the DynamoDB gateway endpoint for the functions');
    if (d.source.vpc && (d.onFailure?.destination ?? 's3') === 's3') {
      routeTables(
        ['source', 'vpc'],
        d.source.vpc,
        'the S3 gateway endpoint the event pollers write discarded records through',
      );
    }
  });

export type Deployment = z.output<typeof deploymentSchema>;

/** The deployment file is unreadable or invalid; `problems` has one `path: what and the fix` each. */
export class DeploymentError extends Error {
  override name = 'DeploymentError';
  readonly file: string;
  readonly problems: string[];
  constructor(file: string, problems: string[]) {
    super(`Invalid deployment file ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.file = file;
    this.problems = problems;
  }
}

function pathOf(path: PropertyKey[]): string {
  return path.reduce<string>(
    (out, part) =>
      typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part),
    '',
  );
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = pathOf(issue.path) || '(top level)';
  if (issue.code === 'unrecognized_keys') {
    const many = issue.keys.length > 1;
    return `${path}: unknown key${many ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}: remove ${many ? 'them' : 'it'} or check the spelling (see the deployment file keys in the README)`;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return `${path}: is required (${issue.expected})`;
  }
  if (issue.code === 'invalid_type') {
    const got = issue.input === null ? 'null' : Array.isArray(issue.input) ? 'an array' : typeof issue.input;
    return `${path}: must be ${issue.expected === 'object' ? 'an object' : `a ${issue.expected}`}, not ${got}`;
  }
  return `${path}: ${issue.message}`;
}

/** Props paths that the deployment file spells differently. */
const FILE_PATHS: [RegExp, string][] = [
  [/^consumer\.batchingWindow:/, 'consumer.batchingWindowSeconds:'],
  [/^functions\.sinkTimeout:/, 'functions.sinkTimeoutSeconds:'],
  [/^functions\.pollerTimeout:/, 'functions.pollerTimeoutSeconds:'],
  [/^onFailure\.retention:/, 'onFailure.retentionDays:'],
];

/**
 * Every problem of a deployment: the file's own keys, the sink configuration (`config.…`), and, once
 * the file's shape is right, what the construct checks (ranges, names, secrets MSK refuses…).
 *
 * @example
 * deploymentProblems(JSON.parse(text)); // ['consumer.batchSize: must be at most 10000 (Lambda limit for Kafka)']
 */
export function deploymentProblems(raw: unknown): { deployment?: Deployment; problems: string[] } {
  const result = deploymentSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    const problems = result.error.issues.map(describeIssue);
    // The configuration is checked on its own, so its mistakes come in the same report.
    const config = (raw as { config?: unknown } | null)?.config;
    if (config !== undefined) problems.push(...configProblems(config as SinkConfigInput).problems);
    return { problems: [...new Set(problems)] };
  }
  // A scratch app that never synthesizes (the CLI's outdir belongs to the real one).
  const stack = new Stack(new App({ autoSynth: false }), 'DeploymentCheck');
  const problems = sinkPropsProblems(deploymentProps(stack, result.data)).map((p) =>
    FILE_PATHS.reduce((line, [from, to]) => line.replace(from, to), p),
  );
  return problems.length > 0 ? { problems } : { deployment: result.data, problems };
}

/**
 * Reads and checks a deployment file (JSON); a `DeploymentError` lists every problem found.
 *
 * @example
 * const deployment = loadDeployment('infra/sample-deployment.json');
 */
export function loadDeployment(path: string): Deployment {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DeploymentError(path, [
      code === 'ENOENT'
        ? '(file): does not exist: check the path given with -c deployment=<file>'
        : `(file): cannot be read (${code ?? 'error'})`,
    ]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new DeploymentError(path, [`(file): is not valid JSON: ${(error as Error).message}`]);
  }
  const { deployment, problems } = deploymentProblems(raw);
  if (!deployment) throw new DeploymentError(path, problems);
  return deployment;
}

function secretOf(scope: Construct, id: string, ref: z.output<typeof secretRef>): secretsmanager.ISecret {
  const { arn, kmsKeyArn } = typeof ref === 'string' ? { arn: ref, kmsKeyArn: undefined } : ref;
  return secretsmanager.Secret.fromSecretAttributes(scope, id, {
    secretCompleteArn: arn,
    ...(kmsKeyArn ? { encryptionKey: kms.Key.fromKeyArn(scope, `${id}Key`, kmsKeyArn) } : {}),
  });
}

const keyOf = (scope: Construct, id: string, arn: string | undefined) =>
  arn ? { key: kms.Key.fromKeyArn(scope, id, arn) } : {};

function subnetsOf(
  scope: Construct,
  id: string,
  ref: { vpcId: string; subnetIds: string[]; routeTableIds?: string[] | undefined },
) {
  return {
    // Only the explicit subnets are ever selected, so the VPC's own subnet and zone lists stay unknown.
    vpc: ec2.Vpc.fromVpcAttributes(scope, id, {
      vpcId: ref.vpcId,
      availabilityZones: [Fn.select(0, Fn.getAzs())],
    }),
    subnets: {
      subnets: ref.subnetIds.map((subnetId, i) =>
        ec2.Subnet.fromSubnetAttributes(scope, `${id}-${subnetId}`, {
          subnetId,
          ...(ref.routeTableIds?.[i] ? { routeTableId: ref.routeTableIds[i] } : {}),
        }),
      ),
    },
  };
}

function clusterNetworkOf(scope: Construct, ref: z.output<typeof clusterVpc> | undefined) {
  if (!ref) return {};
  const { vpc, subnets } = subnetsOf(scope, 'SourceVpc', ref);
  const securityGroup = ec2.SecurityGroup.fromSecurityGroupId(
    scope,
    'SourceSecurityGroup',
    ref.securityGroupId,
  );
  return { vpc: { vpc, subnets, securityGroup } };
}

/**
 * The SalesforceSink props a deployment describes, importing its secrets, keys, VPCs and topic by
 * reference.
 *
 * @example
 * new SalesforceSink(stack, 'Sink', deploymentProps(stack, loadDeployment(path)));
 */
export function deploymentProps(scope: Construct, d: Deployment): SalesforceSinkProps {
  const s = d.source;
  const source: KafkaSource =
    s.kind === 'msk'
      ? {
          kind: 'msk',
          clusterArn: s.clusterArn,
          ...(s.auth ? { auth: s.auth } : {}),
          ...(s.secret ? { secret: secretOf(scope, 'KafkaSecret', s.secret) } : {}),
          ...clusterNetworkOf(scope, s.vpc),
        }
      : {
          kind: 'self-managed',
          bootstrapServers: s.bootstrapServers,
          auth: s.auth,
          ...(s.secret ? { secret: secretOf(scope, 'KafkaSecret', s.secret) } : {}),
          ...(s.rootCaCertificate
            ? { rootCaCertificate: secretOf(scope, 'KafkaRootCa', s.rootCaCertificate) }
            : {}),
          ...clusterNetworkOf(scope, s.vpc),
        };
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
  const n = d.network;
  const network =
    n?.vpcId && n.subnetIds
      ? subnetsOf(scope, 'FunctionVpc', { ...n, vpcId: n.vpcId, subnetIds: n.subnetIds })
      : undefined;
  const f = d.functions;
  const { alarmTopicArn, ...monitoring } = d.monitoring ?? {};
  const { kmsKeyArn: queueKeyArn, ...results } = d.results ?? {};
  const queueKey = keyOf(scope, 'ResultQueueKey', queueKeyArn).key;
  const onFailureKey = keyOf(scope, 'OnFailureKey', d.onFailure?.kmsKeyArn).key;
  const logKey = keyOf(scope, 'LogKey', f?.logKmsKeyArn).key;
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
    ...(d.results ? { results: { ...results, ...(queueKey ? { queueKey } : {}) } } : {}),
    ...(d.onFailure
      ? {
          onFailure: {
            ...(d.onFailure.destination ? { destination: d.onFailure.destination } : {}),
            ...(d.onFailure.retentionDays ? { retention: Duration.days(d.onFailure.retentionDays) } : {}),
            ...(onFailureKey ? { encryptionKey: onFailureKey } : {}),
          },
        }
      : {}),
    ...(network && n
      ? {
          network: {
            vpc: network.vpc,
            subnets: network.subnets,
            ...(n.securityGroupIds
              ? {
                  securityGroups: n.securityGroupIds.map((sg) =>
                    ec2.SecurityGroup.fromSecurityGroupId(scope, `FunctionSecurityGroup-${sg}`, sg),
                  ),
                }
              : {}),
          },
        }
      : {}),
    ...(n?.createEndpoints === false ? { createVpcEndpoints: false } : {}),
    functions: {
      ...(f?.sinkMemorySize ? { sinkMemorySize: f.sinkMemorySize } : {}),
      ...(f?.sinkTimeoutSeconds ? { sinkTimeout: Duration.seconds(f.sinkTimeoutSeconds) } : {}),
      ...(f?.pollerMemorySize ? { pollerMemorySize: f.pollerMemorySize } : {}),
      ...(f?.pollerTimeoutSeconds ? { pollerTimeout: Duration.seconds(f.pollerTimeoutSeconds) } : {}),
      ...(f?.logRetentionDays ? { logRetention: f.logRetentionDays as logs.RetentionDays } : {}),
      ...(logKey ? { logEncryptionKey: logKey } : {}),
    },
    monitoring: {
      ...monitoring,
      ...(alarmTopicArn ? { alarmTopic: sns.Topic.fromTopicArn(scope, 'AlarmTopic', alarmTopicArn) } : {}),
    },
    ...(d.table?.removalPolicy === 'destroy' ? { tableRemovalPolicy: RemovalPolicy.DESTROY } : {}),
  };
}
