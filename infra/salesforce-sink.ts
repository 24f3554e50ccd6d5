// The sink as one construct: the Kafka event source mappings (one per mapped topic, provisioned mode,
// partial-batch responses, bounded retries, an on-failure bucket or queue), the sink and bulk poller
// functions, the bulk job state machine (the definition from lib/bulk/state-machine.ts), the DynamoDB
// table of checkpoints and bulk jobs, the outcome queues, the Salesforce secret, the VPC endpoints,
// alarms with a topic, and a dashboard. Every IAM statement names its resources; the few that AWS
// requires on `*` are acknowledged for cdk-nag next to where they arise, and so is every Control Tower
// rule (cdk-validator-cfnguard) the design does not follow, with its reason.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Names, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ConfluentSchemaRegistry, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, type IConstruct } from 'constructs';
import { bulkStateMachineDefinition } from '../lib/bulk/state-machine.ts';
import { parseConfig, type SinkConfig, type SinkConfigInput } from '../lib/config/index.ts';
import { ENVIRONMENT } from '../lib/runtime/environment.ts';
import { METRICS_ENV, METRICS_NAMESPACE } from '../lib/runtime/metrics.ts';
import { type EndpointNeed, SinkEndpoints } from './endpoints.ts';
import { mskPollerStatements, mskProducerStatements, networkInterfaceStatements } from './kafka-access.ts';
import { grantSecretRead, keyStatement } from './kms-access.ts';
import { SinkMonitoring } from './monitoring.ts';
import {
  type KafkaSource,
  type SalesforceSinkProps,
  type SchemaRegistry,
  SinkPropsError,
  validateSinkProps,
} from './props.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The table operations of lib/checkpoint/dynamodb-store.ts and lib/bulk/dynamodb-store.ts. */
export const TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchGetItem',
  'dynamodb:BatchWriteItem',
];

/** Defaults of the event source mappings (see ConsumerOptions). */
export const CONSUMER_DEFAULTS = {
  batchSize: 500,
  batchingWindow: Duration.seconds(1),
  startingPosition: 'TRIM_HORIZON',
  retryAttempts: 10_000,
  minimumPollers: 1,
  maximumPollers: 2,
} as const;

/** Lambda allows 4 KB for all environment variables of a function together. */
const ENVIRONMENT_BUDGET = 3_500;

/** The created secret's value until someone fills it in (the shape of `SalesforceCredentials`). */
export const SECRET_TEMPLATE = {
  authType: 'client_credentials',
  loginUrl: 'https://REPLACE-ME.my.salesforce.com',
  clientId: 'REPLACE_ME',
} as const;

function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** Acknowledges a Control Tower proactive control (cdk-validator-cfnguard) by its guard rule name. */
function acknowledgeControl(scope: IConstruct, rule: string, reason: string): void {
  acknowledge(scope, `cdk-validator-cfnguard::${rule}`, reason);
}

/** Default days the on-failure bucket keeps discarded invocations. */
export const ON_FAILURE_RETENTION_DAYS = 90;

/** `https://sqs.<region>.amazonaws.com/<account>/<name>` → the queue's ARN. */
function queueArnFromUrl(url: string, path: string): string {
  const match =
    /^https:\/\/(?:sqs\.([a-z0-9-]+)|([a-z0-9-]+)\.queue)\.amazonaws\.com(?:\.cn)?\/(\d{12})\/([^/]+)$/.exec(
      url,
    );
  if (!match) {
    throw new SinkPropsError([
      `${path}: is not an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)`,
    ]);
  }
  const partition = url.includes('.amazonaws.com.cn/') ? 'aws-cn' : 'aws';
  return `arn:${partition}:sqs:${match[1] ?? match[2]}:${match[3]}:${match[4]}`;
}

/**
 * A Kafka → Salesforce sink attached to the mapped topics of an MSK or self-managed Kafka cluster.
 *
 * @example
 * new SalesforceSink(stack, 'Sink', {
 *   config: { mappings: [{ topic: 'sfdc-pushtopic-lead', sobject: 'Lead', externalIdField: 'CustomId__c' }] },
 *   source: { kind: 'msk', clusterArn: 'arn:aws:kafka:us-east-1:123456789012:cluster/demo/abc-2' },
 * });
 */
export class SalesforceSink extends Construct {
  /** The validated sink configuration (defaults applied), as the functions will see it. */
  readonly config: SinkConfig;
  readonly table: dynamodb.Table;
  readonly salesforceSecret: secretsmanager.ISecret;
  readonly sinkFunction: lambda.Function;
  readonly pollerFunction: lambda.Function;
  readonly stateMachine: sfn.StateMachine;
  /** Where the event source mappings put the records they gave up on (onFailure.destination `s3`). */
  readonly onFailureBucket?: s3.Bucket;
  /** Where the event source mappings send the coordinates of records they gave up on (`sqs`). */
  readonly eventSourceDlq?: sqs.Queue;
  /** The topic the alarms notify (created unless monitoring.alarmTopic is given). */
  readonly alarmTopic: sns.ITopic;
  readonly endpoints?: SinkEndpoints;
  readonly resultQueue?: sqs.Queue;
  readonly errorQueue?: sqs.Queue;
  /** One event source mapping per topic. */
  readonly eventSourceMappings: Record<string, lambda.EventSourceMapping> = {};
  /** Scopes the checkpoints; each topic's mapping joins `<consumerGroup>-<topic>` unless overridden. */
  readonly consumerGroup: string;
  readonly monitoring: SinkMonitoring;

  constructor(scope: Construct, id: string, props: SalesforceSinkProps) {
    super(scope, id);
    validateSinkProps(props);
    this.config = parseConfig(props.config, `${this.node.path} props.config`);
    const consumer = props.consumer ?? {};
    const topics = this.config.mappings.map((m) => m.topic);
    this.consumerGroup =
      consumer.consumerGroupId ??
      `sfsink-${Names.uniqueResourceName(this, { maxLength: 80, separator: '-' })}`;
    const groups = Object.fromEntries(
      topics.map((t) => [t, consumer.consumerGroupIds?.[t] ?? `${this.consumerGroup}-${t}`]),
    );

    const logRetention = props.functions?.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const secureQueue = (name: string, deadLetterQueue?: sqs.IQueue) =>
      new sqs.Queue(this, name, {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
        ...(deadLetterQueue
          ? { deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: 5 } }
          : // A dead-letter queue takes messages only by redrive (Control Tower CT.SQS.PR.1).
            { redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.ALLOW_ALL } }),
      });

    // DynamoDB: checkpoints, bulk units and job slots (lib/checkpoint, lib/bulk/dynamodb-store.ts).
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'ttl',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: props.tableRemovalPolicy ?? RemovalPolicy.RETAIN,
    });

    this.salesforceSecret = this.salesforceSecretFrom(props.salesforceSecret);

    // Outcome queues: created unless the configuration names queues of its own.
    const sqsResults = props.config.results?.sqs;
    const createQueues = props.results?.createQueues ?? !sqsResults;
    const deadLetterQueues: Record<string, sqs.IQueue> = {};
    let resultsConfig: SinkConfigInput['results'] = props.config.results;
    const outcomeQueues: sqs.IQueue[] = [];
    if (createQueues) {
      const resultDlq = secureQueue('ResultDlq');
      const errorDlq = secureQueue('ErrorDlq');
      this.resultQueue = secureQueue('ResultQueue', resultDlq);
      this.errorQueue = secureQueue('ErrorQueue', errorDlq);
      Object.assign(deadLetterQueues, { ResultDlq: resultDlq, ErrorDlq: errorDlq });
      outcomeQueues.push(this.resultQueue, this.errorQueue);
      resultsConfig = {
        ...props.config.results,
        sqs: { resultQueueUrl: this.resultQueue.queueUrl, errorQueueUrl: this.errorQueue.queueUrl },
      };
    } else if (sqsResults) {
      for (const [key, url] of Object.entries(sqsResults)) {
        if (!url) continue;
        outcomeQueues.push(
          sqs.Queue.fromQueueArn(this, `Imported-${key}`, queueArnFromUrl(url, `config.results.sqs.${key}`)),
        );
      }
    }
    const configJson = Stack.of(this).toJsonString({ ...props.config, results: resultsConfig });
    // The created queues' URLs are tokens here (~20 characters); deployed they are ~90.
    const estimate =
      JSON.stringify({ ...props.config, results: resultsConfig }).length + (createQueues ? 2 * 80 : 0);
    if (estimate > ENVIRONMENT_BUDGET) {
      throw new SinkPropsError([
        `config: is about ${estimate} bytes as JSON, more than the ${ENVIRONMENT_BUDGET} that fit in the functions' environment (Lambda allows 4 KB in all): shorten ignoreFields lists or split the topics over two sinks`,
      ]);
    }

    const onFailure = props.onFailure?.destination ?? 's3';
    if (onFailure === 'sqs') {
      this.eventSourceDlq = secureQueue('EventSourceDlq');
      deadLetterQueues.EventSourceDlq = this.eventSourceDlq;
      acknowledge(
        this.eventSourceDlq,
        'AwsSolutions-SQS3',
        'This queue is itself a dead-letter queue: the on-failure destination of the Kafka event source mappings.',
      );
    } else {
      this.onFailureBucket = this.onFailureBucketOf(
        props.onFailure?.retention,
        props.onFailure?.encryptionKey,
      );
    }

    // Roles: one per function, so each gets only what it uses.
    const sinkRole = this.functionRole(
      'SinkRole',
      'sfsink: the Kafka event source mappings and the sink function',
    );
    const pollerRole = this.functionRole('PollerRole', 'sfsink: the bulk job poller function');
    for (const role of [sinkRole, pollerRole]) {
      this.table.grant(role, ...TABLE_ACTIONS);
      grantSecretRead(this.salesforceSecret, role);
      for (const queue of outcomeQueues) queue.grantSendMessages(role);
      if (props.results?.queueKey && !createQueues) {
        role.addToPrincipalPolicy(
          keyStatement(this, props.results.queueKey, 'sqs', ['kms:GenerateDataKey', 'kms:Decrypt']),
        );
      }
    }
    if (this.onFailureBucket) this.grantOnFailureBucket(sinkRole, props.onFailure?.encryptionKey);
    if (this.eventSourceDlq) this.eventSourceDlq.grantSendMessages(sinkRole);
    const kafkaResults = this.config.results.kafka;
    if (kafkaResults && kafkaResults.auth === 'iam' && props.results?.kafkaClusterArn) {
      const statements = mskProducerStatements({
        clusterArn: props.results.kafkaClusterArn,
        topics: [kafkaResults.resultTopic, kafkaResults.errorTopic].filter(
          (t): t is string => t !== undefined,
        ),
      });
      for (const role of [sinkRole, pollerRole]) {
        new iam.Policy(role, 'KafkaResultsAccess', { roles: [role], statements });
      }
    }
    const sourceInVpc = props.source.kind === 'msk' || props.source.vpc !== undefined;
    if (sourceInVpc || props.network) this.networkInterfaces(sinkRole, props.network !== undefined);
    if (props.network) this.networkInterfaces(pollerRole, true);

    // Functions.
    const metricsService = props.monitoring?.metricsService ?? this.consumerGroup;
    const environment = {
      [ENVIRONMENT.config]: configJson,
      [ENVIRONMENT.table]: this.table.tableName,
      [ENVIRONMENT.secretId]: this.salesforceSecret.secretArn,
      [METRICS_ENV.service]: metricsService,
      [METRICS_ENV.namespace]: METRICS_NAMESPACE,
      // Stack traces point into functions/ and lib/, not the minified bundle.
      NODE_OPTIONS: '--enable-source-maps',
    };
    this.pollerFunction = this.functionOf('PollerFunction', {
      entry: 'functions/bulk-poller/index.ts',
      role: pollerRole,
      memorySize: props.functions?.pollerMemorySize ?? 1024,
      timeout: props.functions?.pollerTimeout ?? Duration.minutes(5),
      environment,
      logRetention,
      logKey: props.functions?.logEncryptionKey,
      description: 'sfsink: checks a Bulk API 2.0 job, finishes it and publishes its outcomes',
      props,
      code: props.functions?.code?.poller,
    });

    // The bulk job state machine: the shared definition with the poller's ARN in its Task states.
    const stateMachineLogs = this.logGroupOf('BulkJobLogs', logRetention, props.functions?.logEncryptionKey, {
      logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(this, { maxLength: 200, separator: '-' })}`,
    });
    const definition = bulkStateMachineDefinition({ pollerFunctionArn: this.pollerFunction.functionArn });
    this.stateMachine = new sfn.StateMachine(this, 'BulkJobs', {
      definitionBody: sfn.DefinitionBody.fromString(Stack.of(this).toJsonString(definition)),
      stateMachineType: sfn.StateMachineType.STANDARD,
      logs: { destination: stateMachineLogs, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
    });
    // Only the unqualified ARN the Task states name (grantInvoke would add `<arn>:*` too).
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [this.pollerFunction.functionArn],
      }),
    );
    acknowledge(
      this.stateMachine.role,
      'AwsSolutions-IAM5[Resource::*]',
      'Step Functions adds these for logging and tracing: the CloudWatch Logs vended-log delivery actions (logs:*LogDelivery*, PutResourcePolicy, Describe*) and X-Ray PutTraceSegments/PutTelemetryRecords/GetSampling* support no resource-level permissions.',
    );
    this.stateMachine.grantStartExecution(sinkRole);
    // The sink checks that a bulk unit's execution still runs (else it starts a successor).
    this.stateMachine.grantExecution(sinkRole, 'states:DescribeExecution');
    const stack = Stack.of(this);
    const machineId = stack.getLogicalId(this.stateMachine.node.defaultChild as sfn.CfnStateMachine);
    const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
    acknowledge(
      sinkRole,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${region}:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${machineId}"}]}]}:*]`,
      "DescribeExecution names an execution ARN; executions are named per bulk job, so the grant covers this state machine's executions and no other's.",
    );
    // An execution hands its unit to a successor of the same state machine (continue-as-new). A policy
    // of its own: the state machine's default policy cannot name the state machine (a cycle).
    new iam.Policy(this, 'BulkJobsHandOver', {
      roles: [this.stateMachine.role],
      statements: [
        new iam.PolicyStatement({
          actions: ['states:StartExecution'],
          resources: [this.stateMachine.stateMachineArn],
        }),
      ],
    });

    this.sinkFunction = this.functionOf('SinkFunction', {
      entry: 'functions/sink/index.ts',
      role: sinkRole,
      memorySize: props.functions?.sinkMemorySize ?? 1024,
      timeout: props.functions?.sinkTimeout ?? Duration.minutes(5),
      environment: {
        ...environment,
        [ENVIRONMENT.stateMachineArn]: this.stateMachine.stateMachineArn,
        [ENVIRONMENT.consumerGroup]: this.consumerGroup,
      },
      logRetention,
      logKey: props.functions?.logEncryptionKey,
      description:
        'sfsink: writes Kafka records to Salesforce (Collections or Bulk API 2.0), one outcome per record',
      props,
      code: props.functions?.code?.sink,
    });

    // One event source mapping per topic.
    const sourceAccess = this.sourceAccess(props.source, sinkRole, topics, Object.values(groups));
    const schemaRegistry = consumer.schemaRegistry
      ? this.schemaRegistryOf(consumer.schemaRegistry, sinkRole)
      : undefined;
    const pollerGroupName =
      consumer.provisionedPollers?.groupName ??
      Names.uniqueResourceName(this, { maxLength: 64, separator: '-' });
    for (const topic of topics) {
      const startingPosition =
        lambda.StartingPosition[consumer.startingPosition ?? CONSUMER_DEFAULTS.startingPosition];
      const mapping = new lambda.EventSourceMapping(this, `Topic-${topic}`, {
        target: this.sinkFunction,
        ...(props.source.kind === 'msk'
          ? { eventSourceArn: props.source.clusterArn }
          : { kafkaBootstrapServers: props.source.bootstrapServers }),
        kafkaTopic: topic,
        kafkaConsumerGroupId: groups[topic],
        startingPosition,
        ...(consumer.startingPositionTimestamp !== undefined
          ? { startingPositionTimestamp: consumer.startingPositionTimestamp }
          : {}),
        batchSize: consumer.batchSize ?? CONSUMER_DEFAULTS.batchSize,
        maxBatchingWindow: consumer.batchingWindow ?? CONSUMER_DEFAULTS.batchingWindow,
        ...(sourceAccess.length > 0 ? { sourceAccessConfigurations: sourceAccess } : {}),
        reportBatchItemFailures: true,
        retryAttempts: consumer.retryAttempts ?? CONSUMER_DEFAULTS.retryAttempts,
        onFailure: this.eventSourceDlq
          ? new SqsDlq(this.eventSourceDlq)
          : // Only the bucket's ARN: CDK's S3OnFailureDestination would also grant reads and deletes.
            { bind: () => ({ destination: this.onFailureBucket!.bucketArn }) },
        provisionedPollerConfig: {
          minimumPollers: consumer.provisionedPollers?.minimum ?? CONSUMER_DEFAULTS.minimumPollers,
          maximumPollers: consumer.provisionedPollers?.maximum ?? CONSUMER_DEFAULTS.maximumPollers,
          pollerGroupName,
        },
        ...(schemaRegistry ? { schemaRegistryConfig: schemaRegistry } : {}),
      });
      // Lambda checks the role's Kafka, network and queue permissions when it creates the mapping.
      mapping.node.addDependency(sinkRole);
      this.eventSourceMappings[topic] = mapping;
    }

    if (props.createVpcEndpoints !== false) {
      const needs = this.endpointNeeds(props, sinkRole, pollerRole, outcomeQueues);
      if (needs.length > 0) this.endpoints = new SinkEndpoints(this, 'Endpoints', { needs });
    }
    if (!props.network) {
      for (const fn of [this.sinkFunction, this.pollerFunction]) {
        acknowledgeControl(
          fn,
          'lambda_inside_vpc_check',
          'The functions reach Salesforce over the internet and AWS services through their public endpoints; a VPC adds a NAT gateway or a proxy and VPC endpoints. Set network (deployment file) to run them in your VPC.',
        );
      }
    }

    this.alarmTopic = props.monitoring?.alarmTopic ?? this.alarmTopicOf(props.monitoring?.alarmEmail);
    this.monitoring = new SinkMonitoring(this, 'Monitoring', {
      sinkFunction: this.sinkFunction,
      pollerFunction: this.pollerFunction,
      stateMachine: this.stateMachine,
      deadLetterQueues,
      ...(this.errorQueue ? { errorQueue: this.errorQueue } : {}),
      ...(this.onFailureBucket ? { onFailureBucket: this.onFailureBucket } : {}),
      metricsService,
      offsetLagThreshold: props.monitoring?.offsetLagThreshold ?? 10_000,
      errorQueueDepthThreshold: props.monitoring?.errorQueueDepthThreshold ?? 100,
      apiUsageThreshold: props.monitoring?.apiUsageThreshold ?? 80,
      alarmTopic: this.alarmTopic,
      ...(props.monitoring?.dashboardName ? { dashboardName: props.monitoring.dashboardName } : {}),
    });
  }

  /** The bucket that keeps each invocation the event source mappings gave up on, records included. */
  private onFailureBucketOf(retention: Duration | undefined, key: kms.IKey | undefined): s3.Bucket {
    const bucket = new s3.Bucket(this, 'OnFailureBucket', {
      ...(key
        ? { encryption: s3.BucketEncryption.KMS, encryptionKey: key, bucketKeyEnabled: true }
        : { encryption: s3.BucketEncryption.S3_MANAGED }),
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: [
        {
          expiration: retention ?? Duration.days(ON_FAILURE_RETENTION_DAYS),
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      // Request metrics: the OnFailureObjects alarm counts the PUTs.
      metrics: [{ id: 'OnFailure' }],
      // It may hold the only copy of records nobody has re-sent yet.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(
      bucket,
      'AwsSolutions-S1',
      'Only the event source mappings write here (CloudTrail records that); an access log bucket would need its own log bucket and would log those writes again.',
    );
    const reasons: Record<string, string> = {
      s3_bucket_logging_enabled_check:
        'Only the event source mappings write here (CloudTrail records that); an access log bucket would need its own log bucket.',
      s3_bucket_object_lock_enabled_check:
        'Object Lock would keep discarded invocations past the lifecycle rule, which deletes them once they are handled.',
      s3_event_notifications_enabled_check:
        'The OnFailureObjects alarm (S3 request metrics) notifies the alarm topic when an object arrives.',
      ...(key
        ? {}
        : {
            s3_bucket_default_encryption_kms_check:
              'Encrypted with S3-managed keys by default; give onFailure.kmsKeyArn for a customer managed key.',
          }),
    };
    for (const [rule, reason] of Object.entries(reasons)) acknowledgeControl(bucket, rule, reason);
    return bucket;
  }

  private grantOnFailureBucket(role: iam.Role, key: kms.IKey | undefined): void {
    const bucket = this.onFailureBucket!;
    const policy = new iam.Policy(role, 'OnFailureDestination', {
      roles: [role],
      statements: [
        new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }),
        new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [bucket.arnForObjects('*')] }),
        ...(key ? [keyStatement(this, key, 's3', ['kms:GenerateDataKey'])] : []),
      ],
    });
    acknowledge(
      policy,
      `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(bucket.node.defaultChild as s3.CfnBucket)}.Arn>/*]`,
      'Lambda names each object of a discarded invocation itself (aws/lambda/<mapping>/<partition>/<date>/…); the role may only put objects into this one bucket.',
    );
  }

  private alarmTopicOf(email: string | undefined): sns.Topic {
    const topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'sfsink alarms',
      enforceSSL: true,
    });
    acknowledge(
      topic,
      'AwsSolutions-SNS2',
      'CloudWatch alarms cannot publish to a topic encrypted with the AWS managed SNS key, and alarm messages carry no record data; bring a topic encrypted with your own key as monitoring.alarmTopicArn.',
    );
    if (email) topic.addSubscription(new subscriptions.EmailSubscription(email));
    return topic;
  }

  private logGroupOf(
    id: string,
    retention: logs.RetentionDays,
    key: kms.IKey | undefined,
    extra: Partial<logs.LogGroupProps> = {},
  ): logs.LogGroup {
    const group = new logs.LogGroup(this, id, {
      retention,
      removalPolicy: RemovalPolicy.DESTROY,
      ...(key ? { encryptionKey: key } : {}),
      ...extra,
    });
    if (!key) {
      acknowledgeControl(
        group,
        'cloudwatch_log_group_encrypted_check',
        'CloudWatch Logs encrypts log data at rest with its own keys; the logs hold no secrets (redacted). Give functions.logKmsKeyArn for a customer managed key.',
      );
    }
    if (retention !== logs.RetentionDays.INFINITE && retention < logs.RetentionDays.ONE_YEAR) {
      acknowledgeControl(
        group,
        'cloudwatch_log_group_retention_period_check',
        `The deployment keeps these logs ${retention} days (functions.logRetentionDays), less than the one year Control Tower asks for.`,
      );
    }
    return group;
  }

  /** The endpoints of the cluster's VPC (event pollers) and of the functions' VPC. */
  private endpointNeeds(
    props: SalesforceSinkProps,
    sinkRole: iam.Role,
    pollerRole: iam.Role,
    outcomeQueues: sqs.IQueue[],
  ): EndpointNeed[] {
    const allow = (roles: iam.IRole[], actions: string[], resources: string[]) =>
      new iam.PolicyStatement({
        principals: roles.map((r) => new iam.ArnPrincipal(r.roleArn)),
        actions,
        resources,
      });
    const needs: EndpointNeed[] = [];
    const source = props.source;
    const clusterNetwork = source.vpc;
    if (clusterNetwork) {
      const sourceSecrets = [
        source.secret,
        source.kind === 'self-managed' ? source.rootCaCertificate : undefined,
      ].filter((x): x is secretsmanager.ISecret => x !== undefined);
      needs.push({
        vpc: clusterNetwork.vpc,
        subnets: clusterNetwork.subnets,
        clients: [clusterNetwork.securityGroup],
        services: {
          ...(this.onFailureBucket
            ? {
                s3: [
                  allow([sinkRole], ['s3:PutObject'], [this.onFailureBucket.arnForObjects('*')]),
                  allow([sinkRole], ['s3:ListBucket'], [this.onFailureBucket.bucketArn]),
                ],
              }
            : { sqs: [allow([sinkRole], ['sqs:SendMessage'], [this.eventSourceDlq!.queueArn])] }),
          ...(sourceSecrets.length > 0
            ? {
                secretsmanager: [
                  allow(
                    [sinkRole],
                    ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
                    sourceSecrets.map((x) => x.secretArn),
                  ),
                ],
              }
            : {}),
        },
      });
    }
    if (props.network) {
      const roles = [sinkRole, pollerRole];
      const hasBulk = this.config.mappings.some((m) => m.mode === 'bulk');
      needs.push({
        vpc: props.network.vpc,
        subnets: props.network.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        clients: [this.sinkFunction, this.pollerFunction],
        services: {
          dynamodb: [allow(roles, TABLE_ACTIONS, [this.table.tableArn])],
          secretsmanager: [
            allow(
              roles,
              ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
              [this.salesforceSecret.secretArn],
            ),
          ],
          ...(outcomeQueues.length > 0
            ? {
                sqs: [
                  allow(
                    roles,
                    ['sqs:SendMessage'],
                    outcomeQueues.map((q) => q.queueArn),
                  ),
                ],
              }
            : {}),
          ...(hasBulk
            ? { states: [allow([sinkRole], ['states:StartExecution'], [this.stateMachine.stateMachineArn])] }
            : {}),
        },
      });
    }
    return needs;
  }

  private salesforceSecretFrom(secret: SalesforceSinkProps['salesforceSecret']): secretsmanager.ISecret {
    if (typeof secret === 'string')
      return secretsmanager.Secret.fromSecretCompleteArn(this, 'SalesforceSecret', secret);
    if (secret) return secret;
    const created = new secretsmanager.Secret(this, 'SalesforceCredentials', {
      description:
        'sfsink Salesforce credentials (JSON): {"authType":"client_credentials","loginUrl":"https://<MyDomain>.my.salesforce.com","clientId":"…","clientSecret":"…"}, or authType "jwt" (clientId, username, privateKey) or "password" — see the README (Deploy to AWS). Replace every value.',
      generateSecretString: {
        secretStringTemplate: JSON.stringify(SECRET_TEMPLATE),
        generateStringKey: 'clientSecret',
        excludePunctuation: true,
      },
    });
    acknowledge(
      created,
      'AwsSolutions-SMG4',
      'The credentials are issued by Salesforce (a connected app); rotating them is a change in the org, so there is no rotation Lambda. The functions re-read the secret every 5 minutes, so a manually rotated value is picked up without a deploy.',
    );
    return created;
  }

  private functionRole(id: string, description: string): iam.Role {
    const role = new iam.Role(this, id, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description,
    });
    // The default policy gets X-Ray's statement from `tracing: ACTIVE`.
    acknowledge(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      'X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) supports no resource-level permissions; the EC2 network interface actions Lambda needs in a VPC (Describe*, Create/DeleteNetworkInterface) are not scoped either. Every other statement names its resources.',
    );
    return role;
  }

  private networkInterfaces(role: iam.Role, vpcFunction: boolean): void {
    new iam.Policy(role, 'NetworkInterfaces', {
      roles: [role],
      statements: networkInterfaceStatements({ vpcFunction }),
    });
  }

  private functionOf(
    id: string,
    options: {
      entry: string;
      role: iam.Role;
      memorySize: number;
      timeout: Duration;
      environment: Record<string, string>;
      logRetention: logs.RetentionDays;
      logKey: kms.IKey | undefined;
      description: string;
      props: SalesforceSinkProps;
      code: lambda.Code | undefined;
    },
  ): lambda.Function {
    const logGroup = this.logGroupOf(`${id}Logs`, options.logRetention, options.logKey);
    logGroup.grantWrite(options.role);
    const network = options.props.network;
    const common = {
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: options.memorySize,
      timeout: options.timeout,
      role: options.role,
      environment: options.environment,
      logGroup,
      tracing: lambda.Tracing.ACTIVE,
      description: options.description,
      ...(network
        ? {
            vpc: network.vpc,
            vpcSubnets: network.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
            ...(network.securityGroups ? { securityGroups: network.securityGroups } : {}),
          }
        : {}),
    };
    const fn = options.code
      ? new lambda.Function(this, id, { ...common, code: options.code, handler: 'index.handler' })
      : new nodejs.NodejsFunction(this, id, {
          ...common,
          entry: join(ROOT, options.entry),
          handler: 'handler',
          projectRoot: ROOT,
          depsLockFilePath: join(ROOT, 'package-lock.json'),
          bundling: BUNDLING,
        });
    // A VPC function is created only once its role may create network interfaces.
    fn.node.addDependency(options.role);
    return fn;
  }

  private sourceAccess(
    source: KafkaSource,
    role: iam.Role,
    topics: string[],
    groups: string[],
  ): lambda.SourceAccessConfiguration[] {
    const Type = lambda.SourceAccessConfigurationType;
    if (source.kind === 'msk') {
      const auth = source.auth ?? 'iam';
      new iam.Policy(role, 'KafkaSourceAccess', {
        roles: [role],
        statements: mskPollerStatements({ clusterArn: source.clusterArn, auth, topics, groups }),
      });
      if (auth === 'iam') return [];
      grantSecretRead(source.secret!, role);
      return [{ type: Type.SASL_SCRAM_512_AUTH, uri: source.secret!.secretArn }];
    }
    const access: lambda.SourceAccessConfiguration[] = [];
    const authType = {
      'sasl-scram-512': Type.SASL_SCRAM_512_AUTH,
      'sasl-scram-256': Type.SASL_SCRAM_256_AUTH,
      basic: Type.BASIC_AUTH,
      mtls: Type.CLIENT_CERTIFICATE_TLS_AUTH,
      none: undefined,
    }[source.auth];
    if (authType && source.secret) {
      grantSecretRead(source.secret, role);
      access.push({ type: authType, uri: source.secret.secretArn });
    }
    if (source.rootCaCertificate) {
      grantSecretRead(source.rootCaCertificate, role);
      access.push({ type: Type.SERVER_ROOT_CA_CERTIFICATE, uri: source.rootCaCertificate.secretArn });
    }
    if (source.vpc) {
      // The `subnet:` and `security_group:` prefixes are the Lambda API's URI format for these types.
      access.push({
        type: Type.VPC_SECURITY_GROUP,
        uri: `security_group:${source.vpc.securityGroup.securityGroupId}`,
      });
      for (const subnetId of source.vpc.vpc.selectSubnets(source.vpc.subnets).subnetIds) {
        access.push({ type: Type.VPC_SUBNET, uri: `subnet:${subnetId}` });
      }
    }
    return access;
  }

  private schemaRegistryOf(registry: SchemaRegistry, role: iam.Role): lambda.ISchemaRegistry {
    const schemaValidationConfigs = (registry.decode ?? ['value']).map((part) => ({
      attribute:
        part === 'key'
          ? lambda.KafkaSchemaValidationAttribute.KEY
          : lambda.KafkaSchemaValidationAttribute.VALUE,
    }));
    if (registry.kind === 'glue') {
      // CDK's GlueSchemaRegistry would write the schema ARN as an Fn::Sub; a literal keeps the grant and
      // its acknowledgement readable.
      const schemas = `${registry.registryArn.replace(':registry/', ':schema/')}/*`;
      const policy = new iam.Policy(role, 'SchemaRegistryAccess', {
        roles: [role],
        statements: [
          new iam.PolicyStatement({ actions: ['glue:GetRegistry'], resources: [registry.registryArn] }),
          new iam.PolicyStatement({
            actions: ['glue:GetSchemaVersion'],
            resources: [registry.registryArn, schemas],
          }),
        ],
      });
      acknowledge(
        policy,
        `AwsSolutions-IAM5[Resource::${schemas}]`,
        'The event pollers read the versions of any schema in the configured Glue registry (and only that registry): producers choose the schema names.',
      );
      return {
        bind: () => ({
          schemaRegistryUri: registry.registryArn,
          eventRecordFormat: lambda.EventRecordFormat.JSON,
          schemaValidationConfigs,
        }),
      };
    }
    // The event pollers read the registry credentials with the sink's role (and decrypt them).
    grantSecretRead(registry.secret, role);
    return new ConfluentSchemaRegistry({
      schemaRegistryUri: registry.uri,
      authenticationType:
        registry.authentication === 'basic'
          ? lambda.KafkaSchemaRegistryAccessConfigType.BASIC_AUTH
          : lambda.KafkaSchemaRegistryAccessConfigType.CLIENT_CERTIFICATE_TLS_AUTH,
      secret: registry.secret,
      eventRecordFormat: lambda.EventRecordFormat.JSON,
      schemaValidationConfigs,
    });
  }
}

/** esbuild, locally: ESM with a `require` for bundled CommonJS dependencies, minified, source maps. */
export const BUNDLING: nodejs.BundlingOptions = {
  format: nodejs.OutputFormat.ESM,
  target: 'node24',
  platform: 'node',
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  // Bundle the AWS SDK too: the versions in package-lock.json, not whatever the runtime ships.
  externalModules: [],
  banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  forceDockerBundling: false,
  logLevel: nodejs.LogLevel.WARNING,
};
