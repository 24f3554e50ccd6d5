// The sink as one construct: the Kafka event source mappings (one per mapped topic, provisioned mode,
// partial-batch responses, bounded retries, an on-failure queue), the sink and bulk poller functions,
// the bulk job state machine (the definition from lib/bulk/state-machine.ts), the DynamoDB table of
// checkpoints and bulk jobs, the outcome queues, the Salesforce secret, alarms and a dashboard. Every
// IAM statement names its resources; the few that AWS requires on `*` are acknowledged for cdk-nag
// next to where they arise.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Names, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ConfluentSchemaRegistry, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, type IConstruct } from 'constructs';
import { bulkStateMachineDefinition } from '../lib/bulk/state-machine.ts';
import { parseConfig, type SinkConfig, type SinkConfigInput } from '../lib/config/index.ts';
import { ENVIRONMENT } from '../lib/runtime/environment.ts';
import { mskPollerStatements, mskProducerStatements, networkInterfaceStatements } from './kafka-access.ts';
import { METRICS_NAMESPACE, SinkMonitoring } from './monitoring.ts';
import {
  GROUP_ID,
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

/** The topic names an event source mapping accepts. */
const KAFKA_TOPIC = /^[^.][a-zA-Z0-9\-_.]{1,248}$/;

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
  /** Where the event source mappings send the coordinates of records they gave up on. */
  readonly eventSourceDlq: sqs.Queue;
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
    const badTopics = this.config.mappings
      .map((m, i) => [m.topic, i] as const)
      .filter(([t]) => !KAFKA_TOPIC.test(t));
    if (badTopics.length > 0) {
      throw new SinkPropsError(
        badTopics.map(
          ([t, i]) =>
            `config.mappings[${i}].topic: "${t}" is not a topic Lambda can read: 2–249 characters of a-z A-Z 0-9 . _ -, not starting with a dot`,
        ),
      );
    }
    const unknownTopics = Object.keys(consumer.consumerGroupIds ?? {}).filter((t) => !topics.includes(t));
    if (unknownTopics.length > 0) {
      throw new SinkPropsError([
        `consumer.consumerGroupIds: names topics without a mapping (${unknownTopics.join(', ')}): remove them or add mappings`,
      ]);
    }
    this.consumerGroup =
      consumer.consumerGroupId ??
      `sfsink-${Names.uniqueResourceName(this, { maxLength: 80, separator: '-' })}`;
    const groups = Object.fromEntries(
      topics.map((t) => [t, consumer.consumerGroupIds?.[t] ?? `${this.consumerGroup}-${t}`]),
    );
    const badGroups = Object.entries(groups).filter(([, g]) => !Token.isUnresolved(g) && !GROUP_ID.test(g));
    if (badGroups.length > 0) {
      throw new SinkPropsError(
        badGroups.map(
          ([t, g]) =>
            `consumer.consumerGroupId: makes the group of topic ${t} "${g}", which is not 1–200 characters of a-z A-Z 0-9 - / * : _ + = . @: shorten it or set consumerGroupIds.${t}`,
        ),
      );
    }

    const logRetention = props.functions?.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const secureQueue = (name: string, deadLetterQueue?: sqs.IQueue) =>
      new sqs.Queue(this, name, {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
        ...(deadLetterQueue ? { deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: 5 } } : {}),
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

    this.eventSourceDlq = secureQueue('EventSourceDlq');
    deadLetterQueues.EventSourceDlq = this.eventSourceDlq;
    acknowledge(
      this.eventSourceDlq,
      'AwsSolutions-SQS3',
      'This queue is itself a dead-letter queue: the on-failure destination of the Kafka event source mappings.',
    );

    // Roles: one per function, so each gets only what it uses.
    const sinkRole = this.functionRole(
      'SinkRole',
      'sfsink: the Kafka event source mappings and the sink function',
    );
    const pollerRole = this.functionRole('PollerRole', 'sfsink: the bulk job poller function');
    for (const role of [sinkRole, pollerRole]) {
      this.table.grant(role, ...TABLE_ACTIONS);
      this.salesforceSecret.grantRead(role);
      for (const queue of outcomeQueues) queue.grantSendMessages(role);
    }
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
    const metricsService = props.monitoring?.metricsService ?? 'sfsink';
    const environment = {
      [ENVIRONMENT.config]: configJson,
      [ENVIRONMENT.table]: this.table.tableName,
      [ENVIRONMENT.secretId]: this.salesforceSecret.secretArn,
      POWERTOOLS_SERVICE_NAME: metricsService,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
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
      description: 'sfsink: checks a Bulk API 2.0 job, finishes it and publishes its outcomes',
      props,
      code: props.functions?.code?.poller,
    });

    // The bulk job state machine: the shared definition with the poller's ARN in its Task states.
    const stateMachineLogs = new logs.LogGroup(this, 'BulkJobLogs', {
      logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(this, { maxLength: 200, separator: '-' })}`,
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
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
        onFailure: new SqsDlq(this.eventSourceDlq),
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

    this.monitoring = new SinkMonitoring(this, 'Monitoring', {
      sinkFunction: this.sinkFunction,
      pollerFunction: this.pollerFunction,
      stateMachine: this.stateMachine,
      deadLetterQueues,
      ...(this.errorQueue ? { errorQueue: this.errorQueue } : {}),
      metricsService,
      offsetLagThreshold: props.monitoring?.offsetLagThreshold ?? 10_000,
      errorQueueDepthThreshold: props.monitoring?.errorQueueDepthThreshold ?? 100,
      apiUsageThreshold: props.monitoring?.apiUsageThreshold ?? 80,
      ...(props.monitoring?.alarmTopic ? { alarmTopic: props.monitoring.alarmTopic } : {}),
      ...(props.monitoring?.dashboardName ? { dashboardName: props.monitoring.dashboardName } : {}),
    });
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
      description: string;
      props: SalesforceSinkProps;
      code: lambda.Code | undefined;
    },
  ): lambda.Function {
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: options.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
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
      source.secret!.grantRead(role);
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
      source.secret.grantRead(role);
      access.push({ type: authType, uri: source.secret.secretArn });
    }
    if (source.rootCaCertificate) {
      source.rootCaCertificate.grantRead(role);
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
