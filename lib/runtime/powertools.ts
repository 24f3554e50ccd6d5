import type { Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes } from '@aws-lambda-powertools/logger/types';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SinkLogger } from '../logger.ts';
import { METRICS_ENV, METRICS_NAMESPACE, metricsServiceOf } from './metrics.ts';

/**
 * The sink's logger interface over Powertools' Logger (structured JSON lines with the Lambda context).
 *
 * @example
 * const log = sinkLogger(new Logger({ serviceName: 'sfsink' }));
 */
export function sinkLogger(logger: Logger): SinkLogger {
  return {
    debug: (message, attributes = {}) => logger.debug(message, attributes as LogAttributes),
    info: (message, attributes = {}) => logger.info(message, attributes as LogAttributes),
    warn: (message, attributes = {}) => logger.warn(message, attributes as LogAttributes),
    error: (message, attributes = {}) => logger.error(message, attributes as LogAttributes),
  };
}

/**
 * Powertools Metrics with the namespace and service the stack set in the environment, so the EMF
 * carries exactly the dimension the alarms filter on.
 *
 * @example
 * const metrics = sinkMetrics(process.env);
 * metrics.addMetric(METRIC.recordsFailed, MetricUnit.Count, 1);
 */
export function sinkMetrics(env: NodeJS.ProcessEnv): Metrics {
  return new Metrics({
    namespace: env[METRICS_ENV.namespace] || METRICS_NAMESPACE,
    serviceName: metricsServiceOf(env),
  });
}
