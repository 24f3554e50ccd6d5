// The stack `cdk deploy` creates from a deployment file, and the app around it with two policy checks
// registered, cdk-nag's AwsSolutions rules and the AWS Control Tower proactive controls
// (@cdklabs/cdk-validator-cfnguard, guard rules and cfn-guard binary shipped in the npm package, so it
// runs offline): every synth fails on a finding that is neither fixed nor acknowledged in code.
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import {
  App,
  type AppProps,
  CfnOutput,
  type IPolicyValidationContextBeta1,
  type IPolicyValidationPluginBeta1,
  type PolicyValidationPluginReportBeta1,
  Stack,
  type StackProps,
  Tags,
  Validations,
} from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { type Deployment, deploymentProps } from './deployment.ts';
import { MSK_CLUSTER_ARN } from './props.ts';
import { SalesforceSink } from './salesforce-sink.ts';

export interface SalesforceSinkStackProps extends StackProps {
  readonly deployment: Deployment;
  /** Prebuilt function code instead of esbuild bundling (tests, or `npm run build`'s dist/). */
  readonly code?: { readonly sink: lambda.Code; readonly poller: lambda.Code };
}

export class SalesforceSinkStack extends Stack {
  readonly sink: SalesforceSink;

  constructor(scope: Construct, id: string, props: SalesforceSinkStackProps) {
    super(scope, id, props);
    const sinkProps = deploymentProps(this, props.deployment);
    this.sink = new SalesforceSink(this, 'Sink', {
      ...sinkProps,
      functions: { ...sinkProps.functions, ...(props.code ? { code: props.code } : {}) },
    });
    Tags.of(this).add('app', 'sfsink');
    const out = (name: string, value: string, description: string) =>
      new CfnOutput(this, name, { value, description });
    out('SinkFunctionName', this.sink.sinkFunction.functionName, 'The Kafka event source mappings invoke it');
    out('StateMachineArn', this.sink.stateMachine.stateMachineArn, 'One execution per bulk job');
    out(
      'SalesforceSecretArn',
      this.sink.salesforceSecret.secretArn,
      'Put the Salesforce credentials JSON here',
    );
    if (this.sink.onFailureBucket) {
      out(
        'OnFailureBucketName',
        this.sink.onFailureBucket.bucketName,
        'Invocations the event source mappings gave up on, records included',
      );
    }
    if (this.sink.eventSourceDlq) {
      out(
        'EventSourceDlqUrl',
        this.sink.eventSourceDlq.queueUrl,
        'Coordinates of records the event source mappings gave up on',
      );
    }
    out('AlarmTopicArn', this.sink.alarmTopic.topicArn, 'Every alarm notifies it (ALARM and OK)');
    if (this.sink.resultQueue) out('ResultQueueUrl', this.sink.resultQueue.queueUrl, 'succeeded outcomes');
    if (this.sink.errorQueue)
      out('ErrorQueueUrl', this.sink.errorQueue.queueUrl, 'failed and rejected outcomes');
    out('TableName', this.sink.table.tableName, 'Checkpoints and bulk jobs');
  }
}

/**
 * The Control Tower proactive controls (cdk-validator-cfnguard) with every finding an error. The
 * plugin reports findings without a severity; once any finding of it is acknowledged, CDK recomputes
 * the report's success from the severities, and the unacknowledged findings would no longer fail the
 * synth.
 */
class ControlTowerChecks implements IPolicyValidationPluginBeta1 {
  private readonly guard = new CfnGuardValidator();
  readonly name = this.guard.name;
  readonly version = this.guard.version;
  readonly ruleIds = this.guard.ruleIds;

  validate(context: IPolicyValidationContextBeta1): PolicyValidationPluginReportBeta1 {
    const report = this.guard.validate(context);
    return {
      ...report,
      violations: report.violations.map((v) => ({ ...v, severity: v.severity ?? 'error' })),
    };
  }
}

/** The MSK cluster's region, so a synth without credentials still gets a concrete region. */
function clusterRegion(deployment: Deployment): string | undefined {
  const arn = deployment.source.kind === 'msk' ? deployment.source.clusterArn : undefined;
  return arn && MSK_CLUSTER_ARN.test(arn) ? arn.split(':')[3] : undefined;
}

/**
 * The CDK app of one deployment, with cdk-nag's AwsSolutions checks and the Control Tower proactive
 * controls on every synth.
 *
 * @example
 * const { app } = createSinkApp({ deployment: loadDeployment('infra/sample-deployment.json') });
 * app.synth();
 */
export function createSinkApp(options: {
  deployment: Deployment;
  env?: NodeJS.ProcessEnv;
  code?: SalesforceSinkStackProps['code'];
  /** Default: a new App with `appProps`. */
  app?: App;
  appProps?: AppProps;
}): { app: App; stack: SalesforceSinkStack } {
  const env = options.env ?? process.env;
  const { deployment } = options;
  const app = options.app ?? new App(options.appProps);
  const account = deployment.account ?? env.CDK_DEFAULT_ACCOUNT;
  const region = deployment.region ?? env.CDK_DEFAULT_REGION ?? clusterRegion(deployment);
  const stack = new SalesforceSinkStack(app, deployment.stackName, {
    deployment,
    env: { ...(account ? { account } : {}), ...(region ? { region } : {}) },
    description: 'sfsink: Kafka → Salesforce sink (event source mappings, functions, bulk job state machine)',
    ...(options.code ? { code: options.code } : {}),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ControlTowerChecks());
  return { app, stack };
}
