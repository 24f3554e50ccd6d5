// The environment the Lambda functions read, set by the CDK stack. One place, so the stack and the
// functions cannot disagree.

export const ENVIRONMENT = {
  /** The sink configuration as JSON (lib/config/schema.ts). */
  config: 'SFSINK_CONFIG',
  /** DynamoDB table: checkpoints, bulk units, job slots (partition key `pk`, TTL attribute `ttl`). */
  table: 'SFSINK_TABLE',
  /** ARN of the bulk job state machine (the sink starts one execution per job). */
  stateMachineArn: 'SFSINK_STATE_MACHINE_ARN',
  /** ARN or name of the Secrets Manager secret with the Salesforce credentials JSON. */
  secretId: 'SFSINK_SECRET_ID',
  /** Scopes checkpoints; default: the event source ARN of the first event. */
  consumerGroup: 'SFSINK_CONSUMER_GROUP',
} as const;

/** The value of a required variable, or an error that says which one to set. */
export function requireEnv(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value)
    throw new Error(
      `environment variable ${name} is not set: the CDK stack sets it; set it when running by hand`,
    );
  return value;
}
