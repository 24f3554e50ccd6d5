// Builds the sink's dependencies from the Lambda environment: one set of clients per process, reused
// across invocations. The Salesforce credentials come from Secrets Manager (cached, refreshed every
// few minutes so a rotated secret is picked up).

import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { dynamoJobStore } from '../bulk/dynamodb-store.ts';
import { type Executions, sfnExecutions } from '../bulk/executions.ts';
import type { JobStore } from '../bulk/store.ts';
import { dynamoCheckpointStore } from '../checkpoint/dynamodb-store.ts';
import type { CheckpointStore } from '../checkpoint/store.ts';
import { loadConfigFromEnv, type SinkConfig } from '../config/index.ts';
import type { SinkLogger } from '../logger.ts';
import { dynamoOrgHealthStore } from '../org-health/dynamodb-store.ts';
import type { OrgHealthStore } from '../org-health/health.ts';
import { createPublishers, type OutcomePublisher } from '../outcomes/index.ts';
import { indexMappings, type MappingIndex } from '../resolve/resolve.ts';
import { CredentialsError, createSalesforceClient, parseCredentials } from '../salesforce/index.ts';
import type { SalesforceClient } from '../salesforce/types.ts';
import { ENVIRONMENT, requireEnv } from './environment.ts';

export interface AwsDeps {
  config: SinkConfig;
  mappings: MappingIndex;
  checkpoints: CheckpointStore;
  jobs: JobStore;
  executions: Executions | undefined;
  publisher: OutcomePublisher;
  health: OrgHealthStore;
  /** The Salesforce client for the current secret value (rebuilt when the secret changes). */
  salesforce(): Promise<SalesforceClient>;
}

const SECRET_MAX_AGE_SECONDS = 300;

/**
 * Reads the environment once and creates the clients; call at module scope (cold start).
 *
 * @example
 * const deps = awsDeps(process.env, logger);
 */
export function awsDeps(env: NodeJS.ProcessEnv, logger: SinkLogger): AwsDeps {
  const config = loadConfigFromEnv(env);
  const table = requireEnv(env, ENVIRONMENT.table);
  const secretId = requireEnv(env, ENVIRONMENT.secretId);
  const stateMachineArn = env[ENVIRONMENT.stateMachineArn];
  const dynamo = new DynamoDBClient({});
  if (!config.results.sqs && !config.results.kafka) {
    logger.warn('no result destination is configured: outcomes are only logged', {});
  }
  const publisher = createPublishers(config.results, {
    sqsClient: new SQSClient({}),
    region: env.AWS_REGION,
    logger,
  });
  let current: { raw: string; client: SalesforceClient } | undefined;
  return {
    config,
    mappings: indexMappings(config),
    checkpoints: dynamoCheckpointStore(dynamo, table),
    jobs: dynamoJobStore(dynamo, table),
    health: dynamoOrgHealthStore(dynamo, table),
    executions: stateMachineArn ? sfnExecutions(new SFNClient({}), stateMachineArn) : undefined,
    publisher,
    async salesforce() {
      // Every way the secret can be unusable is for an operator to fix: a credentials error holds the
      // stream (nothing fails) until the secret, read again within its cache time, works.
      let raw: unknown;
      try {
        raw = await getSecret<string>(secretId, { maxAge: SECRET_MAX_AGE_SECONDS });
      } catch (error) {
        throw new CredentialsError(
          `The credentials secret ${secretId} cannot be read (${(error as Error).name}): check that it exists and that the function's role may read it (and decrypt it, for a customer-managed key)`,
        );
      }
      if (typeof raw !== 'string')
        throw new CredentialsError(
          `The credentials secret ${secretId} has no SecretString: store the credentials JSON as text`,
        );
      if (current?.raw !== raw) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(raw);
        } catch {
          throw new CredentialsError(
            `The credentials secret ${secretId} is not JSON: store the credentials object described in the README`,
          );
        }
        current = {
          raw,
          client: createSalesforceClient({ credentials: parseCredentials(parsed), config, logger }),
        };
      }
      return current.client;
    },
  };
}
