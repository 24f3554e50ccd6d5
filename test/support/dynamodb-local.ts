// vitest globalSetup: one DynamoDB Local process (AWS's own DynamoDB, Java 17) for the whole suite.
// Every worker inherits its endpoint in SFSINK_DYNAMODB_ENDPOINT, so startLocalDynamo() creates each
// test's table there instead of on dynalite. Without Java the suite fails here, at once: DynamoDB Local
// is the suite's DynamoDB, never silently replaced.
import {
  DYNAMODB_ENDPOINT_ENV,
  type DynamoDbLocal,
  startDynamoDbLocal,
} from '../../local/stand-ins/dynamodb.ts';

let local: DynamoDbLocal | undefined;

export async function setup(): Promise<void> {
  local = await startDynamoDbLocal();
  process.env[DYNAMODB_ENDPOINT_ENV] = local.endpoint;
}

export async function teardown(): Promise<void> {
  await local?.stop();
}
