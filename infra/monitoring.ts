// Alarms and a dashboard for one sink: is Kafka being consumed (offset lag, errors, throttles), are
// records failing or being rejected, is Salesforce's daily API allowance running out, are bulk jobs
// failing, is anything stuck in a dead-letter queue or the on-failure bucket. The custom metrics are
// the functions' Powertools EMF metrics (names, namespace and dimension from lib/runtime/metrics.ts).
// Every alarm notifies the alarm topic on ALARM and OK.
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE, SERVICE_DIMENSION } from '../lib/runtime/metrics.ts';

export interface SinkMonitoringProps {
  readonly sinkFunction: lambda.IFunction;
  readonly pollerFunction: lambda.IFunction;
  readonly stateMachine: sfn.IStateMachine;
  /** Dead-letter queues: anything in them needs an operator. */
  readonly deadLetterQueues: Record<string, sqs.IQueue>;
  /** The queue of `failed` and `rejected` outcomes, when the stack created it. */
  readonly errorQueue?: sqs.IQueue;
  /** The on-failure destination bucket, with request metrics under filter id `OnFailure`. */
  readonly onFailureBucket?: s3.IBucket;
  readonly metricsService: string;
  readonly offsetLagThreshold: number;
  readonly errorQueueDepthThreshold: number;
  readonly apiUsageThreshold: number;
  readonly alarmTopic: sns.ITopic;
  readonly dashboardName?: string;
}

const PERIOD = Duration.minutes(5);

export class SinkMonitoring extends Construct {
  /** Every alarm, by a stable name (also its construct id). */
  readonly alarms: Record<string, cloudwatch.Alarm> = {};
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: SinkMonitoringProps) {
    super(scope, id);
    const custom = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { [SERVICE_DIMENSION]: props.metricsService },
        statistic,
        period: PERIOD,
      });
    const alarm = (
      name: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      description: string,
      evaluationPeriods = 1,
    ) => {
      const a = new cloudwatch.Alarm(this, name, {
        metric,
        threshold,
        evaluationPeriods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      a.addAlarmAction(new actions.SnsAction(props.alarmTopic));
      a.addOkAction(new actions.SnsAction(props.alarmTopic));
      this.alarms[name] = a;
      return a;
    };

    const offsetLag = props.sinkFunction.metric('OffsetLag', { statistic: 'Maximum', period: PERIOD });
    alarm(
      'OffsetLag',
      offsetLag,
      props.offsetLagThreshold,
      'The sink is falling behind a topic (OffsetLag, the most behind partition) for 15 minutes: check function errors, throttles, Salesforce limits and long bulk jobs.',
      3,
    );
    const fnMetrics = (fn: lambda.IFunction) => ({
      errors: fn.metricErrors({ statistic: 'Sum', period: PERIOD }),
      throttles: fn.metricThrottles({ statistic: 'Sum', period: PERIOD }),
      invocations: fn.metricInvocations({ statistic: 'Sum', period: PERIOD }),
      duration: fn.metricDuration({ statistic: 'p99', period: PERIOD }),
    });
    const sink = fnMetrics(props.sinkFunction);
    const poller = fnMetrics(props.pollerFunction);
    alarm(
      'SinkErrors',
      sink.errors,
      1,
      'The sink function failed: Kafka redelivers the batch; see its logs.',
    );
    alarm(
      'SinkThrottles',
      sink.throttles,
      1,
      'The sink function was throttled: raise the account concurrency or lower the pollers.',
    );
    alarm(
      'PollerErrors',
      poller.errors,
      1,
      'The bulk poller failed: the state machine retries it; see its logs.',
    );
    alarm('PollerThrottles', poller.throttles, 1, 'The bulk poller was throttled.');

    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      alarm(
        `${name}Depth`,
        queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: PERIOD }),
        1,
        `Messages in ${name}: records or outcomes that nothing processed; inspect and redrive them.`,
      );
    }
    if (props.errorQueue) {
      alarm(
        'ErrorQueueDepth',
        props.errorQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: PERIOD }),
        props.errorQueueDepthThreshold,
        'Failed and rejected outcomes are piling up on the error queue: nobody consumes it, or many records fail.',
      );
    }

    if (props.onFailureBucket) {
      alarm(
        'OnFailureObjects',
        new cloudwatch.Metric({
          namespace: 'AWS/S3',
          metricName: 'PutRequests',
          dimensionsMap: { BucketName: props.onFailureBucket.bucketName, FilterId: 'OnFailure' },
          statistic: 'Sum',
          period: PERIOD,
        }),
        1,
        'The event source mappings gave up on records and put them in the on-failure bucket: inspect them and re-send them.',
      );
    }

    const succeeded = custom(METRIC.recordsSucceeded, 'Sum');
    const failed = custom(METRIC.recordsFailed, 'Sum');
    const rejected = custom(METRIC.recordsRejected, 'Sum');
    const apiUsage = custom(METRIC.salesforceApiUsagePercent, 'Maximum');
    const bulkFailed = custom(METRIC.bulkJobsFailed, 'Sum');
    alarm(
      'RecordsFailed',
      failed,
      1,
      'Salesforce refused records (failed outcomes on the error destination).',
    );
    alarm(
      'RecordsRejected',
      rejected,
      1,
      'Records were rejected as bad input (rejected outcomes on the error destination).',
    );
    alarm(
      'SalesforceApiUsage',
      apiUsage,
      props.apiUsageThreshold,
      `The org has used ${props.apiUsageThreshold}% of its daily API requests: writes stop when it runs out.`,
    );
    alarm(
      'BulkJobsFailed',
      bulkFailed,
      1,
      'A bulk job could not be followed to its end; its records got failed outcomes.',
    );
    const sfnFailed = props.stateMachine.metricFailed({ statistic: 'Sum', period: PERIOD });
    const sfnTimedOut = props.stateMachine.metricTimedOut({ statistic: 'Sum', period: PERIOD });
    alarm('StateMachineFailed', sfnFailed, 1, 'A bulk job execution failed.');
    alarm(
      'StateMachineTimedOut',
      sfnTimedOut,
      1,
      'A bulk job execution timed out (job older than Salesforce keeps it).',
    );

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      ...(props.dashboardName ? { dashboardName: props.dashboardName } : {}),
      defaultInterval: Duration.hours(6),
    });
    const graph = (title: string, left: cloudwatch.IMetric[], width = 8) =>
      new cloudwatch.GraphWidget({ title, left, width, height: 6 });
    this.dashboard.addWidgets(
      graph('Kafka offset lag (max over partitions)', [offsetLag]),
      graph('Sink function', [sink.invocations, sink.errors, sink.throttles]),
      graph('Sink duration p99', [sink.duration]),
    );
    this.dashboard.addWidgets(
      graph('Outcomes', [succeeded, failed, rejected]),
      graph('Records handed back / submitted to bulk', [
        custom(METRIC.recordsHandedBack, 'Sum'),
        custom(METRIC.recordsSubmittedToBulk, 'Sum'),
      ]),
      graph('Salesforce API usage (% of daily limit)', [apiUsage]),
    );
    this.dashboard.addWidgets(
      graph('Bulk jobs', [
        props.stateMachine.metricStarted({ statistic: 'Sum', period: PERIOD }),
        props.stateMachine.metricSucceeded({ statistic: 'Sum', period: PERIOD }),
        sfnFailed,
        sfnTimedOut,
        bulkFailed,
      ]),
      graph('Bulk poller', [poller.invocations, poller.errors, poller.throttles]),
      graph('Checkpoint lag (max) / bulk jobs in flight', [
        custom(METRIC.checkpointLag, 'Maximum'),
        custom(METRIC.bulkJobsInFlight, 'Maximum'),
      ]),
      graph('Queues (messages visible)', [
        ...(props.errorQueue
          ? [
              props.errorQueue.metricApproximateNumberOfMessagesVisible({
                label: 'error queue',
                period: PERIOD,
              }),
            ]
          : []),
        ...Object.entries(props.deadLetterQueues).map(([name, q]) =>
          q.metricApproximateNumberOfMessagesVisible({ label: name, period: PERIOD }),
        ),
      ]),
    );
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: Object.values(this.alarms), width: 24 }),
    );
  }
}
