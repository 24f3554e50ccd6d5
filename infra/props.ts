// The SalesforceSink construct's props: the sink's own configuration (lib/config, validated by its zod
// schema) plus what only the infrastructure knows — where the records come from, how the event source
// mapping reads them, where the functions run. The plain-data parts are validated here, before any
// resource is created, so a mistake fails `cdk synth` with the path and the fix.
import { Duration, type RemovalPolicy, Token } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { z } from 'zod';
import { parseConfig, type SinkConfig, type SinkConfigInput } from '../lib/config/index.ts';
import { ConfigError } from '../lib/errors.ts';

/** An Amazon MSK cluster, provisioned or serverless. */
export interface MskSource {
  readonly kind: 'msk';
  /** `arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>`. */
  readonly clusterArn: string;
  /**
   * `iam` (default): the event source mapping signs in with the sink function's role (MSK IAM); the
   * construct grants it read access to exactly the mapped topics and the consumer groups.
   * `sasl-scram`: SASL/SCRAM-512 with `secret` (MSK requires its name to start with `AmazonMSK_`).
   */
  readonly auth?: 'iam' | 'sasl-scram';
  /**
   * The SASL/SCRAM secret; required with `auth: 'sasl-scram'`. MSK requires its name to start with
   * `AmazonMSK_` and a customer managed KMS key (import it with `encryptionKey`, so the role gets
   * `kms:Decrypt`).
   */
  readonly secret?: secretsmanager.ISecret;
  /**
   * The cluster's network, where the stack creates the VPC endpoints the event pollers need (the
   * on-failure destination's, Secrets Manager's for a SCRAM secret). Required unless
   * `createVpcEndpoints` is false. The subnets need their route tables (for the S3 gateway endpoint).
   */
  readonly vpc?: {
    readonly vpc: ec2.IVpc;
    readonly subnets: ec2.SubnetSelection;
    readonly securityGroup: ec2.ISecurityGroup;
  };
}

/** A Kafka cluster that is not MSK: bootstrap servers, an auth secret, optionally a VPC. */
export interface SelfManagedSource {
  readonly kind: 'self-managed';
  /** `host:port` of one or more brokers. */
  readonly bootstrapServers: string[];
  /** How the event source mapping signs in; `none` only for brokers reachable through `vpc`. */
  readonly auth: 'sasl-scram-512' | 'sasl-scram-256' | 'basic' | 'mtls' | 'none';
  /** The credentials (SASL/SCRAM, SASL/PLAIN or the mTLS client certificate); required unless `auth: 'none'`. */
  readonly secret?: secretsmanager.ISecret;
  /** The root CA certificate secret, when the brokers' certificates come from a private CA. */
  readonly rootCaCertificate?: secretsmanager.ISecret;
  /** When the brokers are only reachable inside a VPC: where the event pollers connect from. */
  readonly vpc?: {
    readonly vpc: ec2.IVpc;
    readonly subnets: ec2.SubnetSelection;
    readonly securityGroup: ec2.ISecurityGroup;
  };
}

export type KafkaSource = MskSource | SelfManagedSource;

/**
 * A schema registry for Avro, Protobuf or JSON Schema topics: the event source mapping decodes the
 * records and hands them to the sink as JSON.
 */
export type SchemaRegistry =
  | {
      readonly kind: 'glue';
      /** `arn:aws:glue:<region>:<account>:registry/<name>`. */
      readonly registryArn: string;
      /** Which parts of each record the registry decodes; default `['value']`. */
      readonly decode?: ('key' | 'value')[];
    }
  | {
      readonly kind: 'confluent';
      /** The registry's URL, e.g. `https://psrc-xxxx.us-east-2.aws.confluent.cloud`. */
      readonly uri: string;
      /** `basic`: API key and secret; `mtls`: client certificate. */
      readonly authentication: 'basic' | 'mtls';
      /** The registry credentials. */
      readonly secret: secretsmanager.ISecret;
      readonly decode?: ('key' | 'value')[];
    };

/** How the event source mappings (one per topic) read Kafka. */
export interface ConsumerOptions {
  /** Records per invocation at most (1–10,000). Default 500. */
  readonly batchSize?: number;
  /** How long to gather records before invoking (≤ 5 minutes). Default 1 second. */
  readonly batchingWindow?: Duration;
  /** Where a new consumer group starts. Default `TRIM_HORIZON` (nothing is skipped). */
  readonly startingPosition?: 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';
  /** Unix seconds; required with `AT_TIMESTAMP`. */
  readonly startingPositionTimestamp?: number;
  /**
   * The consumer group prefix: each topic's event source mapping joins `<prefix>-<topic>` (Lambda needs
   * a group id per mapping), and the sink's DynamoDB checkpoints are scoped by the prefix. Changing it
   * replaces the mappings. Default: derived from the construct's path (stable across deploys).
   */
  readonly consumerGroupId?: string;
  /** Exact group ids for some topics (e.g. to take over a Kafka Connect group's committed offsets). */
  readonly consumerGroupIds?: Record<string, string>;
  /**
   * Provisioned mode of the event pollers. Always on: Lambda accepts partial-batch responses, retry
   * limits and on-failure destinations for Kafka only in provisioned mode. All topics of one sink share
   * one poller group, so they share their Event Poller Units.
   */
  readonly provisionedPollers?: {
    /** Default 1 (each poller: ≤ 5 MB/s or ≤ 5 concurrent invocations). */
    readonly minimum?: number;
    /** Default 2: Salesforce, not Kafka, is the bottleneck (25 concurrent long requests per org). */
    readonly maximum?: number;
    /** Default: derived from the construct's path. */
    readonly groupName?: string;
  };
  /**
   * Retries of a partition that the sink hands back (partial-batch response) before Lambda gives up on
   * its records and sends their coordinates to the on-failure queue. Default 10,000, the maximum: the
   * sink hands a partition back while an earlier bulk job of that partition is still running, and
   * enforces its own, smaller redelivery budget (`maxRedeliveries`) for failing records. -1 is not
   * offered: with an on-failure destination Lambda turns it into 10.
   */
  readonly retryAttempts?: number;
  /** Decode Avro/Protobuf/JSON Schema records to JSON with a schema registry. */
  readonly schemaRegistry?: SchemaRegistry;
}

/** Where outcomes go, beyond what `config.results` already says. */
export interface ResultOptions {
  /**
   * Create the SQS result and error queues (each with its own DLQ, SSE, TLS only) and point
   * `config.results.sqs` at them. Default: true, unless `config.results.sqs` already names queues.
   */
  readonly createQueues?: boolean;
  /**
   * The MSK cluster of `config.results.kafka` when its `auth` is `iam`: the functions get Connect on it
   * and WriteData on exactly the result and error topics.
   */
  readonly kafkaClusterArn?: string;
  /**
   * The customer managed KMS key of the queues `config.results.sqs` names (SSE-KMS): the functions get
   * `kms:GenerateDataKey` and `kms:Decrypt` on it, through SQS only.
   */
  readonly queueKey?: kms.IKey;
}

/** Where the event source mappings put the records they give up on. */
export interface OnFailureOptions {
  /**
   * `s3` (default): an S3 bucket that keeps each discarded invocation whole (records, keys, headers,
   * values), so the records can be re-sent. `sqs`: a queue that keeps only their coordinates.
   */
  readonly destination?: 's3' | 'sqs';
  /** How long the bucket keeps the discarded invocations. Default 90 days. */
  readonly retention?: Duration;
  /** A customer managed key for the bucket (SSE-KMS). Default: S3-managed keys. */
  readonly encryptionKey?: kms.IKey;
}

/** The functions' network, e.g. to reach a Kafka cluster for results inside a VPC. */
export interface FunctionNetwork {
  readonly vpc: ec2.IVpc;
  /** Default: the VPC's private subnets. The functions reach Salesforce through a NAT gateway. */
  readonly subnets?: ec2.SubnetSelection;
  readonly securityGroups?: ec2.ISecurityGroup[];
}

export interface FunctionOptions {
  /** Default 1024 MB (CSV building and several Collections calls in flight). */
  readonly sinkMemorySize?: number;
  /** Default 5 minutes; a bulk submission uploads up to `bulk.batchSize` records. */
  readonly sinkTimeout?: Duration;
  /** Default 1024 MB (result files of up to `bulk.batchSize` rows). */
  readonly pollerMemorySize?: number;
  /** Default 5 minutes. */
  readonly pollerTimeout?: Duration;
  /** Default one year, for the functions' and the state machine's log groups. */
  readonly logRetention?: logs.RetentionDays;
  /**
   * A customer managed key that encrypts the log groups. Its key policy must allow the CloudWatch Logs
   * service principal of the region (`logs.<region>.amazonaws.com`). Default: CloudWatch Logs' own
   * encryption.
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * Prebuilt code instead of bundling `functions/*` with esbuild (e.g. `npm run build`'s `dist/`, or
   * inline code in tests). The handler is `index.handler`.
   */
  readonly code?: { readonly sink: lambda.Code; readonly poller: lambda.Code };
}

export interface MonitoringOptions {
  /** Alarms notify this topic (OK and ALARM). Default: a topic is created (TLS only). */
  readonly alarmTopic?: sns.ITopic;
  /** Subscribes this address to the created alarm topic (the recipient confirms by mail). */
  readonly alarmEmail?: string;
  /** Records behind the newest offset, any topic, for 15 minutes. Default 10,000. */
  readonly offsetLagThreshold?: number;
  /** Unconsumed outcomes on the error queue. Default 100. */
  readonly errorQueueDepthThreshold?: number;
  /** Salesforce daily API requests used, percent. Default 80. */
  readonly apiUsageThreshold?: number;
  /**
   * The `service` dimension of the functions' metrics (POWERTOOLS_SERVICE_NAME). Default: the
   * consumer group prefix, so two sinks in one account keep their metrics apart.
   */
  readonly metricsService?: string;
  /** Default: derived from the construct's path. */
  readonly dashboardName?: string;
}

export interface SalesforceSinkProps {
  /**
   * The sink configuration (mappings, Salesforce and bulk settings, result destinations), validated
   * with the sink's own schema. The functions receive it as `SFSINK_CONFIG`, with `results.sqs` pointed
   * at the created queues.
   */
  readonly config: SinkConfigInput;
  readonly source: KafkaSource;
  readonly consumer?: ConsumerOptions;
  /**
   * The Salesforce credentials: an existing secret, or its complete ARN. Default: an empty secret is
   * created with the expected JSON shape (`SalesforceCredentials`); fill it in before the first record.
   */
  readonly salesforceSecret?: secretsmanager.ISecret | string;
  readonly results?: ResultOptions;
  readonly onFailure?: OnFailureOptions;
  readonly network?: FunctionNetwork;
  /**
   * Create the VPC endpoints the event pollers (in the cluster's VPC) and VPC functions need, with
   * policies that allow only the sink's roles on the sink's resources. Default true. Set false when the
   * VPC already has them (or a NAT gateway): a second endpoint with private DNS for a service fails.
   */
  readonly createVpcEndpoints?: boolean;
  readonly functions?: FunctionOptions;
  readonly monitoring?: MonitoringOptions;
  /** Of the DynamoDB table (checkpoints and bulk jobs). Default RETAIN. */
  readonly tableRemovalPolicy?: RemovalPolicy;
}

const token = (s: string) => Token.isUnresolved(s);
const literal = (pattern: RegExp, error: string) =>
  z.string().refine((s) => token(s) || pattern.test(s), { error });

export const MSK_CLUSTER_ARN = /^arn:aws[a-z-]*:kafka:[a-z0-9-]+:\d{12}:cluster\/[^/]+\/[^/]+$/;
export const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/;
export const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;
/** CloudFormation's pattern for a provisioned poller group name (no dots, unlike consumer groups). */
export const POLLER_GROUP_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const GLUE_REGISTRY_ARN = /^arn:aws[a-z-]*:glue:[a-z0-9-]+:\d{12}:registry\/[^/]+$/;
/** Lambda's pattern for consumer group ids and poller group names. */
export const GROUP_ID = /^[a-zA-Z0-9\-/*:_+=.@]{1,200}$/;

const mskArn = literal(
  MSK_CLUSTER_ARN,
  'is not an MSK cluster ARN: copy it from the MSK console, arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>',
);

const sourceSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('msk'),
      clusterArn: mskArn,
      auth: z.enum(['iam', 'sasl-scram'], { error: 'must be iam or sasl-scram' }).optional(),
      secret: z.unknown().optional(),
    })
    .refine((s) => s.auth !== 'sasl-scram' || s.secret !== undefined, {
      path: ['secret'],
      error:
        'is required with auth sasl-scram: pass the AmazonMSK_… secret with the SCRAM username and password',
    })
    .refine((s) => s.auth === 'sasl-scram' || s.secret === undefined, {
      path: ['secret'],
      error: 'is only used with auth sasl-scram: remove it, or set auth to sasl-scram',
    }),
  z
    .object({
      kind: z.literal('self-managed'),
      bootstrapServers: z
        .array(literal(/^[^\s:]+:\d+$/, 'is not host:port'))
        .min(1, { error: 'is empty: list the bootstrap brokers as host:port' }),
      auth: z.enum(['sasl-scram-512', 'sasl-scram-256', 'basic', 'mtls', 'none'], {
        error: 'must be sasl-scram-512, sasl-scram-256, basic, mtls or none',
      }),
      secret: z.unknown().optional(),
      rootCaCertificate: z.unknown().optional(),
      vpc: z.unknown().optional(),
    })
    .refine((s) => s.auth === 'none' || s.secret !== undefined, {
      path: ['secret'],
      error:
        'is required: pass the secret with the Kafka credentials, or set auth to none (VPC brokers only)',
    })
    .refine((s) => s.auth !== 'none' || s.vpc !== undefined, {
      path: ['vpc'],
      error: 'is required with auth none: unauthenticated brokers must be reached inside a VPC',
    }),
]);

const duration = (max: number, error: string) =>
  z
    .custom<Duration>((d) => d instanceof Duration, { error: 'must be a Duration' })
    .refine((d) => d.toSeconds() <= max, { error });
const memory = z
  .number()
  .int()
  .min(128, { error: 'must be 128–10240 MB' })
  .max(10_240, { error: 'must be 128–10240 MB' })
  .optional();
const decode = z
  .array(z.enum(['key', 'value'], { error: 'must be key or value' }))
  .min(1)
  .optional();

const consumerSchema = z
  .object({
    batchSize: z
      .number()
      .int()
      .min(1, { error: 'must be at least 1' })
      .max(10_000, { error: 'must be at most 10000 (Lambda limit for Kafka)' })
      .optional(),
    batchingWindow: duration(300, 'must be at most 5 minutes').optional(),
    startingPosition: z
      .enum(['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'], {
        error: 'must be TRIM_HORIZON, LATEST or AT_TIMESTAMP',
      })
      .optional(),
    startingPositionTimestamp: z.number().int().positive().optional(),
    consumerGroupId: literal(
      /^[a-zA-Z0-9\-/*:_+=.@]{1,150}$/,
      'must be 1–150 characters of a-z A-Z 0-9 - / * : _ + = . @',
    ).optional(),
    consumerGroupIds: z
      .record(z.string(), literal(GROUP_ID, 'must be 1–200 characters of a-z A-Z 0-9 - / * : _ + = . @'))
      .optional(),
    provisionedPollers: z
      .object({
        minimum: z.number().int().min(1).max(200, { error: 'must be 1–200' }).optional(),
        maximum: z.number().int().min(1).max(2000, { error: 'must be 1–2000' }).optional(),
        groupName: literal(
          POLLER_GROUP_NAME,
          'must be 1–64 characters of a-z A-Z 0-9 - _ (CloudFormation allows no dots here)',
        ).optional(),
      })
      .refine((p) => (p.minimum ?? 1) <= (p.maximum ?? 2), {
        path: ['minimum'],
        error: 'is above maximum: raise maximum or lower minimum',
      })
      .optional(),
    retryAttempts: z
      .number()
      .int()
      .min(0, {
        error: 'must be 0–10000 (-1 is not offered: with an on-failure queue Lambda turns it into 10)',
      })
      .max(10_000, { error: 'must be at most 10000 (Lambda limit)' })
      .optional(),
    schemaRegistry: z
      .discriminatedUnion('kind', [
        z.object({
          kind: z.literal('glue'),
          registryArn: literal(
            GLUE_REGISTRY_ARN,
            'is not a Glue registry ARN: arn:aws:glue:<region>:<account>:registry/<name>',
          ),
          decode,
        }),
        z.object({
          kind: z.literal('confluent'),
          uri: literal(/^https?:\/\/\S+$/, 'is not an http(s) URL'),
          authentication: z.enum(['basic', 'mtls'], { error: 'must be basic or mtls' }),
          secret: z
            .unknown()
            .refine((s) => s !== undefined, { error: 'is required: the registry credentials' }),
          decode,
        }),
      ])
      .optional(),
  })
  .refine((c) => (c.startingPosition === 'AT_TIMESTAMP') === (c.startingPositionTimestamp !== undefined), {
    path: ['startingPositionTimestamp'],
    error: 'goes with startingPosition AT_TIMESTAMP, and only with it',
  });

const propsSchema = z.object({
  source: sourceSchema,
  consumer: consumerSchema.optional(),
  salesforceSecret: z
    .union([
      literal(
        SECRET_ARN,
        'is not a complete secret ARN (it ends in -XXXXXX): copy it from the Secrets Manager console',
      ),
      z.object({}).passthrough(),
    ])
    .optional(),
  results: z
    .object({
      createQueues: z.boolean().optional(),
      kafkaClusterArn: mskArn.optional(),
    })
    .optional(),
  onFailure: z
    .object({
      destination: z.enum(['s3', 'sqs'], { error: 'must be s3 or sqs' }).optional(),
      retention: z
        .custom<Duration>((d) => d instanceof Duration, { error: 'must be a Duration' })
        .refine((d) => d.toDays() >= 1, { error: 'must be at least 1 day' })
        .optional(),
    })
    .passthrough()
    .optional(),
  functions: z
    .object({
      sinkMemorySize: memory,
      pollerMemorySize: memory,
      sinkTimeout: duration(900, 'must be at most 15 minutes (Lambda limit)').optional(),
      pollerTimeout: duration(900, 'must be at most 15 minutes (Lambda limit)').optional(),
    })
    .passthrough()
    .optional(),
  monitoring: z
    .object({
      offsetLagThreshold: z.number().positive().optional(),
      errorQueueDepthThreshold: z.number().positive().optional(),
      apiUsageThreshold: z.number().positive().max(100, { error: 'is a percentage: at most 100' }).optional(),
      metricsService: literal(
        /^[A-Za-z0-9._-]{1,255}$/,
        'must be 1–255 characters of A-Z a-z 0-9 . _ - (a CloudWatch dimension value)',
      ).optional(),
      alarmEmail: z
        .string()
        .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, { error: 'is not an email address' })
        .optional(),
      dashboardName: literal(
        /^[A-Za-z0-9\-_]{1,255}$/,
        'must be 1–255 characters of A-Z a-z 0-9 - _',
      ).optional(),
    })
    .passthrough()
    .optional(),
});

/** The props are invalid; `problems` lists each one as `path: what is wrong and the fix`. */
export class SinkPropsError extends Error {
  override name = 'SinkPropsError';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid SalesforceSink props:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
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

/** The topic names an event source mapping accepts. */
export const KAFKA_TOPIC = /^[^.][a-zA-Z0-9\-_.]{1,248}$/;

/** The secret's name from its complete ARN (`…:secret:<name>-XXXXXX`), or undefined for a token. */
function secretName(secret: secretsmanager.ISecret): string | undefined {
  const arn = secret.secretArn;
  if (token(arn)) return undefined;
  return /:secret:(.+)-[A-Za-z0-9]{6}$/.exec(arn)?.[1];
}

/**
 * The sink configuration's problems, each as `config.<path>: …`, and the parsed configuration when
 * there are none.
 *
 * @example
 * configProblems({ mappings: [] }).problems; // ['config.mappings: is empty: …']
 */
export function configProblems(config: SinkConfigInput): { config?: SinkConfig; problems: string[] } {
  try {
    return { config: parseConfig(config), problems: [] };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return {
      problems: error.problems.map((p) =>
        p.startsWith('(top level): ') ? `config: ${p.slice('(top level): '.length)}` : `config.${p}`,
      ),
    };
  }
}

/**
 * Every problem of the props, each as `path: what is wrong and the fix`: the infrastructure options,
 * the sink configuration (paths under `config.`), and what only the two together can tell (topics
 * Lambda cannot read, group ids, timeouts, secrets MSK refuses, endpoints that cannot be created).
 *
 * @example
 * sinkPropsProblems({ config, source: { kind: 'msk', clusterArn } }); // []
 */
export function sinkPropsProblems(props: SalesforceSinkProps): string[] {
  const result = propsSchema.safeParse(props);
  const problems = result.success
    ? []
    : result.error.issues.map((i) => `${pathOf(i.path) || '(props)'}: ${i.message}`);
  const { config, problems: invalidConfig } = configProblems(props.config);
  problems.push(...invalidConfig);
  if (props.results?.createQueues === true && props.config.results?.sqs) {
    problems.push('results.createQueues: config.results.sqs already names queues: remove one of them');
  }
  if (
    props.config.results?.kafka?.auth !== 'none' &&
    props.config.results?.kafka &&
    !props.results?.kafkaClusterArn
  ) {
    problems.push(
      'results.kafkaClusterArn: is required when config.results.kafka uses MSK IAM: the functions need WriteData on its topics',
    );
  }
  const source = props.source;
  if (source?.kind === 'msk' && source.auth === 'sasl-scram' && source.secret) {
    const name = secretName(source.secret);
    if (name !== undefined && !name.startsWith('AmazonMSK_')) {
      problems.push(
        `source.secret: "${name}" cannot be a SASL/SCRAM secret of MSK, whose names start with AmazonMSK_: create the secret as AmazonMSK_${name} and associate it with the cluster`,
      );
    }
    if (!source.secret.encryptionKey) {
      problems.push(
        'source.secret: has no KMS key: MSK accepts only SASL/SCRAM secrets encrypted with a customer managed key; give the key (kmsKeyArn) so the event pollers may decrypt the secret',
      );
    }
  }
  if (props.createVpcEndpoints !== false && source?.kind === 'msk' && !source.vpc) {
    problems.push(
      "source.vpc: is required to create the VPC endpoints the event pollers need in the cluster's VPC (the on-failure destination's): give the cluster's vpcId, subnetIds, securityGroupId and routeTableIds, or set createVpcEndpoints (deployment file: network.createEndpoints) to false when the VPC has them or a NAT gateway",
    );
  }
  if (config) {
    config.mappings.forEach((m, i) => {
      if (!KAFKA_TOPIC.test(m.topic)) {
        problems.push(
          `config.mappings[${i}].topic: "${m.topic}" is not a topic Lambda can read: 2–249 characters of a-z A-Z 0-9 . _ -, not starting with a dot`,
        );
      }
    });
    const topics = config.mappings.map((m) => m.topic);
    const unknownTopics = Object.keys(props.consumer?.consumerGroupIds ?? {}).filter(
      (t) => !topics.includes(t),
    );
    if (unknownTopics.length > 0) {
      problems.push(
        `consumer.consumerGroupIds: names topics without a mapping (${unknownTopics.join(', ')}): remove them or add mappings`,
      );
    }
    const prefix = props.consumer?.consumerGroupId;
    if (prefix !== undefined && !token(prefix) && result.success) {
      for (const t of topics) {
        const group = props.consumer?.consumerGroupIds?.[t] ?? `${prefix}-${t}`;
        if (!GROUP_ID.test(group)) {
          problems.push(
            `consumer.consumerGroupId: makes the group of topic ${t} "${group}", which is not 1–200 characters of a-z A-Z 0-9 - / * : _ + = . @: shorten it or set consumerGroupIds.${t}`,
          );
        }
      }
    }
    // An invocation keeps a request timeout plus a reserve for its last insert and its checkpoints.
    const sinkTimeoutSeconds = props.functions?.sinkTimeout?.toSeconds() ?? 300;
    const requestTimeoutSeconds = config.requestTimeout / 1000;
    if (result.success && sinkTimeoutSeconds < requestTimeoutSeconds + 60) {
      problems.push(
        `functions.sinkTimeout: ${sinkTimeoutSeconds} s leaves no room for a ${requestTimeoutSeconds} s Salesforce request (config.requestTimeout) and the checkpoint writes: make it at least ${requestTimeoutSeconds + 60} s`,
      );
    }
  }
  if (props.monitoring?.alarmEmail && props.monitoring.alarmTopic) {
    problems.push(
      'monitoring.alarmEmail: only subscribes to the topic the stack creates: subscribe the address to your alarmTopic yourself, or remove one of them',
    );
  }
  return problems;
}

/**
 * Checks the props and throws a `SinkPropsError` listing every problem (see `sinkPropsProblems`).
 *
 * @example
 * validateSinkProps({ config, source: { kind: 'msk', clusterArn } });
 */
export function validateSinkProps(props: SalesforceSinkProps): void {
  const problems = sinkPropsProblems(props);
  if (problems.length > 0) throw new SinkPropsError(problems);
}
