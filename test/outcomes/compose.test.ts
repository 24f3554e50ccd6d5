// The configured destinations as one publisher, against local-aws-sqs and librdkafka's mock cluster.
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SinkConfig } from '../../lib/config/index.ts';
import {
  combinePublishers,
  createMemoryPublisher,
  createPublishers,
  isErrorOutcome,
  type Outcome,
  OutcomePublishError,
} from '../../lib/outcomes/index.ts';
import { type KafkaMock, type SqsStandIn, startKafkaMock, startSqs } from '../support/index.ts';
import { byCoordinates, outcome, outcomes } from './outcomes.ts';

let sqs: SqsStandIn;
let kafka: KafkaMock;
let sqsClient: SQSClient;

beforeAll(async () => {
  [sqs, kafka] = await Promise.all([startSqs(), startKafkaMock()]);
  sqsClient = sqs.client;
});
afterAll(() => Promise.all([sqs.close(), kafka.close()]));

function sorted(list: Outcome[]): Outcome[] {
  return [...list].sort(byCoordinates);
}

function parsed(bodies: (string | null | undefined)[]): Outcome[] {
  return sorted(bodies.map((b) => JSON.parse(b!) as Outcome));
}

describe('createPublishers', () => {
  it('publishes every outcome to both SQS and Kafka', async () => {
    const results: SinkConfig['results'] = {
      sqs: {
        resultQueueUrl: await sqs.createQueue('both-results'),
        errorQueueUrl: await sqs.createQueue('both-errors'),
      },
      kafka: {
        brokers: kafka.brokers,
        resultTopic: 'both-results',
        errorTopic: 'both-errors',
        auth: 'none',
        maxRequestBytes: 1_000_000,
      },
    };
    const publisher = createPublishers(results, { sqsClient });
    const batch = outcomes(15);
    await publisher.publish(batch);
    await publisher.close();

    const successes = sorted(batch.filter((o) => !isErrorOutcome(o)));
    const failures = sorted(batch.filter(isErrorOutcome));
    expect(parsed((await sqs.receiveAll(results.sqs!.resultQueueUrl!)).map((m) => m.Body))).toEqual(
      successes,
    );
    expect(parsed((await sqs.receiveAll(results.sqs!.errorQueueUrl!)).map((m) => m.Body))).toEqual(failures);
    expect(parsed((await kafka.consumeAll('both-results')).map((m) => m.value))).toEqual(successes);
    expect(parsed((await kafka.consumeAll('both-errors')).map((m) => m.value))).toEqual(failures);
  });

  it('rejects when one destination fails, after the other has published', async () => {
    const results: SinkConfig['results'] = {
      sqs: { errorQueueUrl: `${sqs.endpoint}/123456789012/missing-queue` },
      kafka: { brokers: kafka.brokers, errorTopic: 'half-errors', auth: 'none', maxRequestBytes: 1_000_000 },
    };
    const publisher = createPublishers(results, { sqsClient });
    const error = await publisher.publish([outcome(1), outcome(2)]).catch((e: unknown) => e);
    await publisher.close();

    expect(error).toBeInstanceOf(OutcomePublishError);
    expect(error).toMatchObject({ destination: 'sqs', count: 2 });
    expect(parsed((await kafka.consumeAll('half-errors')).map((m) => m.value))).toEqual([
      outcome(1),
      outcome(2),
    ]);
  });

  it('discards outcomes when no destination has a queue or topic', async () => {
    const publisher = createPublishers({ sqs: {} }, { sqsClient });
    await expect(publisher.publish(outcomes(3))).resolves.toBeUndefined();
    await publisher.close();
  });
});

describe('combinePublishers', () => {
  it('resolves only when every publisher stored the outcomes', async () => {
    const [a, b] = [createMemoryPublisher(), createMemoryPublisher()];
    await combinePublishers([a, b]).publish(outcomes(4));

    expect(a.outcomes).toEqual(outcomes(4));
    expect(b.outcomes).toEqual(outcomes(4));
  });

  it('rejects with every failure when several publishers fail', async () => {
    const [a, b, c] = [createMemoryPublisher(), createMemoryPublisher(), createMemoryPublisher()];
    a.failWith(new Error('queue gone'));
    b.failWith(new Error('broker down'));
    const error = await combinePublishers([a, b, c])
      .publish([outcome(1)])
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors.map((e: Error) => e.message)).toEqual([
      'queue gone',
      'broker down',
    ]);
    expect((error as Error).message).toBe(
      'Outcomes were not published to 2 destinations: queue gone; broker down',
    );
    expect(c.outcomes).toEqual([outcome(1)]);
  });
});

describe('createMemoryPublisher', () => {
  it('records each publish in order and forgets on clear', async () => {
    const memory = createMemoryPublisher();
    await memory.publish([outcome(0)]);
    await memory.publish([outcome(1), outcome(2)]);

    expect(memory.outcomes).toEqual([outcome(0), outcome(1), outcome(2)]);
    expect(memory.publishes).toBe(2);
    memory.clear();
    expect(memory.outcomes).toEqual([]);
  });
});
