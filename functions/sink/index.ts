// Lambda entry point for the Kafka event source mapping (MSK or self-managed Kafka): wiring only.
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { Executions } from '../../lib/bulk/executions.ts';
import type { LambdaKafkaEvent } from '../../lib/decode/index.ts';
import { awsDeps } from '../../lib/runtime/aws.ts';
import { ENVIRONMENT } from '../../lib/runtime/environment.ts';
import { sinkLogger } from '../../lib/runtime/powertools.ts';
import { processBatch } from '../../lib/sink/process-batch.ts';

const logger = new Logger({ serviceName: 'sfsink' });
const metrics = new Metrics({ namespace: 'sfsink', serviceName: 'sfsink' });
const tracer = new Tracer({ serviceName: 'sfsink' });
const log = sinkLogger(logger);
const deps = awsDeps(process.env, log);
const hasBulkMappings = deps.config.mappings.some((m) => m.mode === 'bulk');
if (hasBulkMappings && !deps.executions) {
  throw new Error(`${ENVIRONMENT.stateMachineArn} is not set: bulk mappings need the bulk job state machine`);
}
const noBulk: Executions = {
  start: () => Promise.reject(new Error('no bulk job state machine is configured')),
  status: () => Promise.reject(new Error('no bulk job state machine is configured')),
};

async function sink(event: LambdaKafkaEvent, context: Context) {
  const salesforce = await deps.salesforce();
  const group = process.env[ENVIRONMENT.consumerGroup] || event.eventSourceArn || 'default';
  const result = await processBatch(event, {
    ...deps,
    executions: deps.executions ?? noBulk,
    salesforce,
    group,
    invocationId: context.awsRequestId,
    deadline: Date.now() + context.getRemainingTimeInMillis(),
    logger: log,
  });
  const { summary } = result;
  metrics.addMetric('RecordsSucceeded', MetricUnit.Count, summary.succeeded);
  metrics.addMetric('RecordsFailed', MetricUnit.Count, summary.failed);
  metrics.addMetric('RecordsRejected', MetricUnit.Count, summary.rejected);
  metrics.addMetric('RecordsSubmittedToBulk', MetricUnit.Count, summary.tracked);
  metrics.addMetric('RecordsHandedBack', MetricUnit.Count, summary.handedBack);
  for (const [target, counts] of Object.entries(summary.byTarget)) {
    const [sobject, mode] = target.split('|');
    const perTarget = metrics.singleMetric();
    perTarget.addDimensions({ sobject: sobject!, mode: mode || 'none' });
    perTarget.addMetric('RecordsSucceeded', MetricUnit.Count, counts.succeeded);
    perTarget.addMetric('RecordsFailed', MetricUnit.Count, counts.failed);
    perTarget.addMetric('RecordsRejected', MetricUnit.Count, counts.rejected);
  }
  metrics.addMetric('SalesforceApiCalls', MetricUnit.Count, salesforce.callCount());
  metrics.addMetric('CheckpointLag', MetricUnit.Count, summary.checkpointLag);
  if (hasBulkMappings)
    metrics.addMetric('BulkJobsInFlight', MetricUnit.Count, await deps.jobs.inFlight(group));
  const usage = salesforce.apiUsage();
  if (usage && usage.max > 0)
    metrics.addMetric('SalesforceApiUsagePercent', MetricUnit.Percent, (100 * usage.used) / usage.max);
  return { batchItemFailures: result.batchItemFailures };
}

export const handler = middy(sink)
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }));
