// Outcomes of a real sink run land on real destinations: local-aws-sqs queues and Kafka topics on
// librdkafka's mock cluster (kcat).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/index.ts';
import { createPublishers } from '../../lib/outcomes/index.ts';
import { mskEvent } from '../../local/events/build-event.ts';
import { type Embedded, startEmbedded } from '../../local/runtime/embedded.ts';
import { type KafkaMock, type SqsStandIn, startKafkaMock, startSqs } from '../support/index.ts';

let sqs: SqsStandIn;
let kafka: KafkaMock;
let sink: Embedded;
let resultQueueUrl: string;
let errorQueueUrl: string;

beforeAll(async () => {
  [sqs, kafka] = await Promise.all([startSqs(), startKafkaMock()]);
  resultQueueUrl = await sqs.createQueue('sfsink-results');
  errorQueueUrl = await sqs.createQueue('sfsink-errors');
  const results = {
    sqs: { resultQueueUrl, errorQueueUrl },
    kafka: {
      brokers: kafka.brokers,
      resultTopic: 'sfsink-success',
      errorTopic: 'sfsink-error',
      auth: 'none' as const,
    },
  };
  const config = parseConfig({
    mappings: [{ topic: 'leads', sobject: 'Lead', externalIdField: 'CustomId__c', unknownFields: 'ignore' }],
    results,
  });
  sink = await startEmbedded({
    config,
    publisher: createPublishers(config.results, { sqsClient: sqs.client }),
  });
});

afterAll(async () => {
  await sink?.close();
  await Promise.all([sqs?.close(), kafka?.close()]);
});

describe('outcome destinations', () => {
  it('publishes successes to the result queue and topic, failures and rejections to the error ones, keyed by the input key', async () => {
    const event = mskEvent([
      {
        topic: 'leads',
        partition: 0,
        offset: 0,
        key: 'k-ok',
        value: { _EventType: 'created', LastName: 'A', Company: 'C', CustomId__c: 'X-1' },
      },
      { topic: 'leads', partition: 0, offset: 1, key: 'k-bad', value: 'not json' },
      // Company is required on Lead: Salesforce fails this one.
      {
        topic: 'leads',
        partition: 1,
        offset: 0,
        key: 'k-fail',
        value: { _EventType: 'created', LastName: 'B', CustomId__c: 'X-2' },
      },
    ]);
    const result = await sink.invoke(event);
    expect(result.batchItemFailures).toEqual([]);

    const succeeded = (await sqs.receiveAll(resultQueueUrl)).map((m) => JSON.parse(m.Body!));
    const errors = (await sqs.receiveAll(errorQueueUrl)).map((m) => JSON.parse(m.Body!));
    expect(succeeded.map((o) => [o.offset, o.status, o.key])).toEqual([[0, 'succeeded', 'k-ok']]);
    expect(succeeded[0].salesforceId).toMatch(/^00Q/);
    expect(errors.map((o) => [o.partition, o.offset, o.status, o.errors[0].code]).sort()).toEqual([
      [0, 1, 'rejected', 'INVALID_JSON'],
      [1, 0, 'failed', 'REQUIRED_FIELD_MISSING'],
    ]);

    const [ok] = await kafka.consume('sfsink-success', 1);
    expect(ok!.key).toBe('k-ok');
    expect(JSON.parse(ok!.value!).status).toBe('succeeded');
    const failed = await kafka.consume('sfsink-error', 2);
    expect(failed.map((m) => m.key).sort()).toEqual(['k-bad', 'k-fail']);
  });
});
