// The SalesforceSink construct's props: the sink's own configuration (lib/config, validated by its zod
// schema) plus what only the infrastructure knows — where the records come from, how the event source
// mapping reads them, where the functions run. The plain-data parts are validated here, before any
// resource is created, so a mistake fails `cdk synth` with the path and the fix.
import { Duration, type RemovalPolicy, Token } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { z } from 'zod';
import { parseConfig, type SinkConfigInput } from '../lib/config/index.ts';

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
  /** The SASL/SCRAM secret; required with `auth: 'sasl-scram'`. */
  readonly secret?: secretsmanager.ISecret;
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
  /** Default one month, for the functions' and the state machine's log groups. */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Prebuilt code instead of bundling `functions/*` with esbuild (e.g. `npm run build`'s `dist/`, or
   * inline code in tests). The handler is `index.handler`.
   */
  readonly code?: { readonly sink: lambda.Code; readonly poller: lambda.Code };
}

export interface MonitoringOptions {
  /** Alarms notify this topic (OK and ALARM). Default: alarms without actions. */
  readonly alarmTopic?: sns.ITopic;
  /** Records behind the newest offset, any topic, for 15 minutes. Default 10,000. */
  readonly offsetLagThreshold?: number;
  /** Unconsumed outcomes on the error queue. Default 100. */
  readonly errorQueueDepthThreshold?: number;
  /** Salesforce daily API requests used, percent. Default 80. */
  readonly apiUsageThreshold?: number;
  /** The `service` dimension of the functions' metrics (Powertools). Default `sfsink`. */
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
  readonly network?: FunctionNetwork;
  readonly functions?: FunctionOptions;
  readonly monitoring?: MonitoringOptions;
  /** Of the DynamoDB table (checkpoints and bulk jobs). Default RETAIN. */
  readonly tableRemovalPolicy?: RemovalPolicy;
}

const token = (s: string) => Token.isUnresolved(s);
const literal = (pattern: RegExp, error: string) =>
  z.string().refine((s) => token(s) || pattern.test(s), { error });

export const MSK_CLUSTER_ARN = /^arn:aws[a-z-]*:kafka:[a-z0-9-]+:\d{12}:cluster\/[^/]+\/[^/]+$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/;
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
          /^[a-zA-Z0-9\-_.]{1,64}$/,
          'must be 1–64 characters of a-z A-Z 0-9 - _ .',
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
      metricsService: z.string().min(1).optional(),
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

/**
 * Checks the infrastructure props (everything but `config`, which `parseConfig` checks) and throws a
 * `SinkPropsError` listing every problem.
 *
 * @example
 * validateSinkProps({ config, source: { kind: 'msk', clusterArn } });
 */
export function validateSinkProps(props: SalesforceSinkProps): void {
  const result = propsSchema.safeParse(props);
  const problems = result.success
    ? []
    : result.error.issues.map((i) => `${pathOf(i.path) || '(props)'}: ${i.message}`);
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
  // An invocation keeps a request timeout plus a reserve for its last insert and its checkpoints.
  const sinkTimeoutSeconds = props.functions?.sinkTimeout?.toSeconds() ?? 300;
  const requestTimeoutSeconds = parseConfig(props.config).requestTimeout / 1000;
  if (result.success && sinkTimeoutSeconds < requestTimeoutSeconds + 60) {
    problems.push(
      `functions.sinkTimeout: ${sinkTimeoutSeconds} s leaves no room for a ${requestTimeoutSeconds} s Salesforce request (config.requestTimeout) and the checkpoint writes: make it at least ${requestTimeoutSeconds + 60} s`,
    );
  }
  if (problems.length > 0) throw new SinkPropsError(problems);
}
