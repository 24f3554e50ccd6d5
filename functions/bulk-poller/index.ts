// Lambda entry point for the bulk job state machine's poll task: wiring only.
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { pollBulkJob } from '../../lib/bulk/poll.ts';
import type { BulkExecutionInput } from '../../lib/bulk/state-machine.ts';
import { awsDeps } from '../../lib/runtime/aws.ts';
import { METRIC } from '../../lib/runtime/metrics.ts';
import { sinkLogger, sinkMetrics } from '../../lib/runtime/powertools.ts';

const logger = new Logger({ serviceName: 'sfsink-bulk-poller' });
const metrics = sinkMetrics(process.env);
const tracer = new Tracer({ serviceName: 'sfsink-bulk-poller' });
const log = sinkLogger(logger);
const deps = awsDeps(process.env, log);

async function poll(input: BulkExecutionInput, context: Context) {
  const next = await pollBulkJob(input, {
    ...deps,
    // Loaded only when the round talks to Salesforce: recording a failure must work with a broken secret.
    salesforce: deps.salesforce,
    deadline: Date.now() + context.getRemainingTimeInMillis() - 5_000,
    logger: log,
  });
  if (next.result) {
    metrics.addMetric(METRIC.recordsSucceeded, MetricUnit.Count, next.result.succeeded);
    metrics.addMetric(METRIC.recordsFailed, MetricUnit.Count, next.result.failed);
    const perTarget = metrics.singleMetric();
    perTarget.addDimensions({ sobject: next.result.sobject, mode: 'bulk' });
    perTarget.addMetric(METRIC.recordsSucceeded, MetricUnit.Count, next.result.succeeded);
    perTarget.addMetric(METRIC.recordsFailed, MetricUnit.Count, next.result.failed);
    if (next.result.jobState !== 'JobComplete') metrics.addMetric(METRIC.bulkJobsFailed, MetricUnit.Count, 1);
  }
  return next;
}

export const handler = middy(poll)
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics));
