// The functions' custom metrics, named once: the handlers emit them (Powertools EMF) and
// infra/monitoring.ts alarms on and graphs them, so a renamed metric cannot silence an alarm. The
// `service` dimension comes from POWERTOOLS_SERVICE_NAME, which the stack sets from
// `monitoring.metricsService`; the handlers never hard-code it (Powertools prefers a constructor
// value over the environment).

/** CloudWatch namespace of every custom metric. */
export const METRICS_NAMESPACE = 'sfsink';

/** The dimension that tells one sink's metrics from another's in the same account. */
export const SERVICE_DIMENSION = 'service';

/** The service name when the environment sets none (local runs). */
export const DEFAULT_METRICS_SERVICE = 'sfsink';

/** The variables Powertools reads; the stack sets both. */
export const METRICS_ENV = {
  service: 'POWERTOOLS_SERVICE_NAME',
  namespace: 'POWERTOOLS_METRICS_NAMESPACE',
} as const;

/** Metric names. Per-target copies carry `sobject` and `mode` dimensions besides `service`. */
export const METRIC = {
  recordsSucceeded: 'RecordsSucceeded',
  recordsFailed: 'RecordsFailed',
  recordsRejected: 'RecordsRejected',
  recordsSubmittedToBulk: 'RecordsSubmittedToBulk',
  recordsHandedBack: 'RecordsHandedBack',
  salesforceApiCalls: 'SalesforceApiCalls',
  salesforceApiUsagePercent: 'SalesforceApiUsagePercent',
  checkpointLag: 'CheckpointLag',
  bulkJobsInFlight: 'BulkJobsInFlight',
  bulkJobsFailed: 'BulkJobsFailed',
} as const;

/**
 * The service dimension's value for an environment.
 *
 * @example
 * metricsServiceOf({ POWERTOOLS_SERVICE_NAME: 'orders-sink' }); // 'orders-sink'
 */
export function metricsServiceOf(env: NodeJS.ProcessEnv): string {
  return env[METRICS_ENV.service] || DEFAULT_METRICS_SERVICE;
}
