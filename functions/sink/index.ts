// Lambda entry point for the Kafka event source mapping (MSK or self-managed Kafka): wiring only.
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { Executions } from '../../lib/bulk/executions.ts';
import type { LambdaKafkaEvent } from '../../lib/decode/index.ts';
import { awsDeps } from '../../lib/runtime/aws.ts';
import { ENVIRONMENT } from '../../lib/runtime/environment.ts';
import { METRIC } from '../../lib/runtime/metrics.ts';
import { sinkLogger, sinkMetrics } from '../../lib/runtime/powertools.ts';
import type { SalesforceClient } from '../../lib/salesforce/types.ts';
import { processBatch } from '../../lib/sink/process-batch.ts';

const logger = new Logger({ serviceName: 'sfsink' });
const metrics = sinkMetrics(process.env);
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
  const group = process.env[ENVIRONMENT.consumerGroup] || event.eventSourceArn || 'default';
  let salesforce: SalesforceClient | undefined;
  const result = await processBatch(event, {
    ...deps,
    executions: deps.executions ?? noBulk,
    salesforce: async () => {
      salesforce = await deps.salesforce();
      return salesforce;
    },
    group,
    invocationId: context.awsRequestId,
    deadline: Date.now() + context.getRemainingTimeInMillis(),
    logger: log,
  });
  const { summary } = result;
  metrics.addMetric(METRIC.recordsSucceeded, MetricUnit.Count, summary.succeeded);
  metrics.addMetric(METRIC.recordsFailed, MetricUnit.Count, summary.failed);
  metrics.addMetric(METRIC.recordsRejected, MetricUnit.Count, summary.rejected);
  metrics.addMetric(METRIC.recordsSubmittedToBulk, MetricUnit.Count, summary.tracked);
  metrics.addMetric(METRIC.recordsHandedBack, MetricUnit.Count, summary.handedBack);
  for (const [target, counts] of Object.entries(summary.byTarget)) {
    const [sobject, mode] = target.split('|');
    const perTarget = metrics.singleMetric();
    perTarget.addDimensions({ sobject: sobject!, mode: mode || 'none' });
    perTarget.addMetric(METRIC.recordsSucceeded, MetricUnit.Count, counts.succeeded);
    perTarget.addMetric(METRIC.recordsFailed, MetricUnit.Count, counts.failed);
    perTarget.addMetric(METRIC.recordsRejected, MetricUnit.Count, counts.rejected);
  }
  if (result.held) {
    // Also without the reason dimension: the alarm watches the total.
    metrics.addMetric(METRIC.salesforceUnavailable, MetricUnit.Count, 1);
    const held = metrics.singleMetric();
    held.addDimensions({ reason: result.held.reason });
    held.addMetric(METRIC.salesforceUnavailable, MetricUnit.Count, 1);
  }
  const invalid = Object.values(summary.invalidMappings).reduce((a, b) => a + b, 0);
  if (invalid > 0) metrics.addMetric(METRIC.mappingInvalid, MetricUnit.Count, invalid);
  for (const [code, count] of Object.entries(summary.invalidMappings)) {
    const perCode = metrics.singleMetric();
    perCode.addDimensions({ code });
    perCode.addMetric(METRIC.mappingInvalid, MetricUnit.Count, count);
  }
  metrics.addMetric(METRIC.checkpointLag, MetricUnit.Count, summary.checkpointLag);
  if (!salesforce) return { batchItemFailures: result.batchItemFailures };
  metrics.addMetric(METRIC.salesforceApiCalls, MetricUnit.Count, salesforce.callCount());
  if (hasBulkMappings)
    metrics.addMetric(METRIC.bulkJobsInFlight, MetricUnit.Count, await deps.jobs.inFlight(group));
  const usage = salesforce.apiUsage();
  if (usage && usage.max > 0)
    metrics.addMetric(METRIC.salesforceApiUsagePercent, MetricUnit.Percent, (100 * usage.used) / usage.max);
  return { batchItemFailures: result.batchItemFailures };
}

export const handler = middy(sink)
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }));
