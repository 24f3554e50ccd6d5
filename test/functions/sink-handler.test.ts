// The Lambda entry point itself (middy, Powertools, clients built from the environment), invoked as
// Lambda would, with every AWS endpoint pointed at a local stand-in.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../local/emulator/server.ts';
import { mskEvent } from '../../local/events/build-event.ts';
import { type LocalDynamo, startLocalDynamo } from '../../local/stand-ins/dynamodb.ts';
import { type SqsStandIn, startSqs } from '../../local/stand-ins/sqs.ts';

let emulator: Emulator;
let dynamo: LocalDynamo;
let sqs: SqsStandIn;
let secrets: Server;
let resultQueue: string;
let errorQueue: string;

/** Secrets Manager's GetSecretValue (JSON protocol), answering one secret. */
function secretsStandIn(secretString: string): Promise<Server> {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      const { SecretId } = JSON.parse(body) as { SecretId: string };
      response.setHeader('content-type', 'application/x-amz-json-1.1');
      response.end(
        JSON.stringify({ ARN: SecretId, Name: 'sfsink', SecretString: secretString, VersionId: 'v1' }),
      );
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  [emulator, dynamo, sqs] = await Promise.all([startEmulator(), startLocalDynamo('sfsink-fn'), startSqs()]);
  resultQueue = await sqs.createQueue('results');
  errorQueue = await sqs.createQueue('errors');
  secrets = await secretsStandIn(
    JSON.stringify({
      authType: 'client_credentials',
      loginUrl: emulator.url,
      clientId: emulator.credentials.clientId,
      clientSecret: emulator.credentials.clientSecret,
    }),
  );
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(secrets.address() as AddressInfo).port}`,
    POWERTOOLS_TRACE_ENABLED: 'false',
    POWERTOOLS_LOG_LEVEL: 'WARN',
    SFSINK_TABLE: dynamo.table,
    SFSINK_SECRET_ID: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:sfsink-AbCdEf',
    SFSINK_CONFIG: JSON.stringify({
      mappings: [
        { topic: 'leads', sobject: 'Lead', externalIdField: 'CustomId__c', unknownFields: 'ignore' },
      ],
      results: { sqs: { resultQueueUrl: resultQueue, errorQueueUrl: errorQueue } },
    }),
  });
});

afterAll(async () => {
  await Promise.all([emulator?.close(), dynamo?.close(), sqs?.close()]);
  secrets?.close();
});

const context = {
  functionName: 'sfsink-sink',
  awsRequestId: 'req-1',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:sfsink-sink',
  getRemainingTimeInMillis: () => 300_000,
} as unknown as Context;

describe('functions/sink (the Lambda handler)', () => {
  it('writes the batch, publishes outcomes to SQS and answers with the partial-batch response', async () => {
    const { handler } = await import('../../functions/sink/index.ts');
    const event = mskEvent([
      {
        topic: 'leads',
        partition: 0,
        offset: 0,
        key: 'a',
        value: { _EventType: 'created', LastName: 'A', Company: 'C', CustomId__c: 'F-1' },
      },
      { topic: 'leads', partition: 0, offset: 1, key: 'b', value: 'broken {' },
    ]);
    const response = await handler(event, context);
    expect(response).toEqual({ batchItemFailures: [] });
    expect(emulator.org.list('Lead').map((r) => r.fields.CustomId__c)).toEqual(['F-1']);
    expect(await sqs.depth(resultQueue)).toBe(1);
    expect(await sqs.depth(errorQueue)).toBe(1);
    // A redelivery of the same batch is skipped: nothing written twice, nothing published twice.
    await handler(event, context);
    expect(emulator.org.list('Lead')).toHaveLength(1);
    expect(await sqs.depth(resultQueue)).toBe(1);
  });
});

describe('functions/bulk-poller (the Lambda handler)', () => {
  it('answers a state machine step: a unit that is not (or no longer) there is done', async () => {
    const { handler } = await import('../../functions/bulk-poller/index.ts');
    const input = {
      unitKey: 'gone',
      jobId: '750000000000000AAA',
      waitSeconds: 5,
      submittedAt: new Date().toISOString(),
    };
    await expect(handler(input, context)).resolves.toMatchObject({ ...input, done: true });
  });
});
