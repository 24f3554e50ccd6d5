// The Kafka publisher against librdkafka's mock cluster (kcat).
import { Kafka, type KafkaConfig } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKafkaPublisher,
  isErrorOutcome,
  type KafkaPublisherOptions,
  kafkaClientConfig,
  type Outcome,
  OutcomePublishError,
} from '../../lib/outcomes/index.ts';
import { type ConsumedMessage, type KafkaMock, startKafkaMock } from '../support/index.ts';
import { byCoordinates, outcome, outcomes } from './outcomes.ts';

let kafka: KafkaMock;
let topics = 0;

beforeAll(async () => {
  kafka = await startKafkaMock();
});
afterAll(() => kafka.close());

/** Fresh topics per test: the mock cluster keeps what earlier tests wrote. */
function freshTopics() {
  topics += 1;
  return { resultTopic: `results-${topics}`, errorTopic: `errors-${topics}` };
}

/** Counts the kafkajs clients and producers the publisher creates, and the producers' disconnects. */
function counting() {
  const created = { clients: 0, producers: 0 };
  let disconnects = 0;
  const createKafka = (config: KafkaConfig) => {
    created.clients += 1;
    const client = new Kafka(config);
    const producer = client.producer.bind(client);
    client.producer = (options) => {
      created.producers += 1;
      const made = producer(options);
      made.on(made.events.DISCONNECT, () => {
        disconnects += 1;
      });
      return made;
    };
    return client;
  };
  return { created, createKafka, disconnects: () => disconnects };
}

function warnings() {
  const logged: string[] = [];
  return { logged, logger: { warn: (message: string) => void logged.push(message) } };
}

function values(messages: ConsumedMessage[]): Outcome[] {
  return messages.map((m) => JSON.parse(m.value!) as Outcome).sort(byCoordinates);
}

function publisherFor(options: Partial<KafkaPublisherOptions> = {}) {
  return createKafkaPublisher({ brokers: kafka.brokers, auth: 'none', retries: 2, ...options });
}

describe('createKafkaPublisher', () => {
  it('sends successes to the result topic and the rest to the error topic: key = input key, value = outcome JSON', async () => {
    const destinations = freshTopics();
    const publisher = publisherFor(destinations);
    const batch = outcomes(12);
    await publisher.publish(batch);
    await publisher.close();

    const results = await kafka.consumeAll(destinations.resultTopic);
    const errors = await kafka.consumeAll(destinations.errorTopic);
    expect(values(results)).toEqual(batch.filter((o) => !isErrorOutcome(o)).sort(byCoordinates));
    expect(values(errors)).toEqual(batch.filter(isErrorOutcome).sort(byCoordinates));
    for (const message of [...results, ...errors]) {
      const sent = JSON.parse(message.value!) as Outcome;
      expect(message.key).toBe(sent.key);
      expect(message.headers).toEqual({
        status: sent.status,
        input_record_topic: 'leads',
        input_record_partition: String(sent.partition),
        input_record_offset: String(sent.offset),
      });
    }
    expect(results.some((m) => m.key === null)).toBe(true);
  });

  it('creates the producer once, on the first publish, and reuses it for the next', async () => {
    const destinations = freshTopics();
    const { created, createKafka } = counting();
    const publisher = publisherFor({ ...destinations, createKafka, idempotent: false });
    expect(created).toEqual({ clients: 0, producers: 0 });

    await publisher.publish([outcome(0), outcome(1)]);
    await publisher.publish([outcome(3), outcome(4)]);
    await publisher.close();

    expect(created).toEqual({ clients: 1, producers: 1 });
    expect(values(await kafka.consume(destinations.resultTopic, 2))).toEqual([outcome(0), outcome(3)]);
    expect(values(await kafka.consume(destinations.errorTopic, 2))).toEqual([outcome(1), outcome(4)]);
  });

  it('disconnects on close, and connects again if published to afterwards', async () => {
    const destinations = freshTopics();
    const { created, createKafka, disconnects } = counting();
    const publisher = publisherFor({ ...destinations, createKafka, idempotent: false });
    await publisher.publish([outcome(0)]);
    await publisher.close();
    expect(disconnects()).toBe(1);
    await publisher.publish([outcome(3)]);
    await publisher.close();

    expect(disconnects()).toBe(2);
    expect(created).toEqual({ clients: 1, producers: 2 });
    expect(values(await kafka.consume(destinations.resultTopic, 2))).toEqual([outcome(0), outcome(3)]);
  });

  it('falls back to a plain producer, once and saying so, when the cluster gives no producer id', async () => {
    // librdkafka's mock cluster names controller 0, which is none of its brokers, so kafkajs cannot ask
    // for a producer id: the same path as an MSK role without kafka-cluster:WriteDataIdempotently.
    const destinations = freshTopics();
    const { created, createKafka } = counting();
    const { logged, logger } = warnings();
    const publisher = publisherFor({ ...destinations, createKafka, logger });

    await publisher.publish([outcome(0)]);
    await publisher.publish([outcome(3)]);
    await publisher.close();

    expect(created).toEqual({ clients: 1, producers: 2 });
    expect(logged.filter((m) => m.includes('refused an idempotent producer'))).toHaveLength(1);
    expect(values(await kafka.consume(destinations.resultTopic, 2))).toEqual([outcome(0), outcome(3)]);
  });

  it('shortens an outcome over the message size limit and marks it with a truncated header', async () => {
    const destinations = freshTopics();
    const publisher = publisherFor({ ...destinations, maxMessageBytes: 10_000, idempotent: false });
    const long = outcome(1, {
      errors: [{ code: 'UNKNOWN_EXCEPTION', message: 'x'.repeat(50_000), fields: [] }],
    });
    await publisher.publish([long]);
    await publisher.close();

    const [message] = await kafka.consume(destinations.errorTopic, 1);
    expect(Buffer.byteLength(message!.value!)).toBeLessThanOrEqual(10_000);
    expect(message!.headers.truncated).toBe('true');
    expect(JSON.parse(message!.value!)).toMatchObject({
      topic: 'leads',
      partition: 1,
      offset: 1,
      status: 'failed',
    });
  });

  it('10,000 rejections go out in produce requests under maxRequestBytes (default 1,000,000), not one 4 MB request', async () => {
    const destinations = freshTopics();
    const requests: number[] = [];
    const createKafka = (config: KafkaConfig) => {
      const client = new Kafka(config);
      const producer = client.producer.bind(client);
      client.producer = (options) => {
        const made = producer(options);
        const sendBatch = made.sendBatch.bind(made);
        made.sendBatch = (batch) => {
          let bytes = 0;
          for (const { messages } of batch.topicMessages ?? []) {
            for (const m of messages) {
              bytes += Buffer.byteLength(String(m.key ?? '')) + Buffer.byteLength(String(m.value ?? ''));
              for (const [k, v] of Object.entries(m.headers ?? {}))
                bytes += Buffer.byteLength(k) + Buffer.byteLength(String(v));
            }
          }
          requests.push(bytes);
          return sendBatch(batch);
        };
        return made;
      };
      return client;
    };
    const publisher = publisherFor({ ...destinations, createKafka, idempotent: false });
    const rejections = Array.from({ length: 10_000 }, (_, i) =>
      outcome(i * 3 + 2, {
        errors: [{ code: 'INVALID_FIELD_VALUE', message: `value ${i} `.repeat(40), fields: ['Title'] }],
      }),
    );
    await publisher.publish(rejections);
    await publisher.close();

    const total = requests.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(3_000_000);
    expect(requests.length).toBeGreaterThan(3);
    for (const bytes of requests) expect(bytes).toBeLessThanOrEqual(1_000_000);
    expect(await kafka.consumeAll(destinations.errorTopic)).toHaveLength(10_000);
  });

  it('an outcome record never exceeds the request limit: a 600 KB key is replaced by its digest and length', async () => {
    const destinations = freshTopics();
    const publisher = publisherFor({ ...destinations, idempotent: false });
    const key = 'k'.repeat(600_000);
    await publisher.publish([outcome(0, { key })]);
    await publisher.close();

    const [message] = await kafka.consume(destinations.resultTopic, 1);
    const digest = /^sha256:[0-9a-f]{64} \(600000 bytes\)$/;
    expect(message!.key).toMatch(digest);
    expect(JSON.parse(message!.value!).key).toMatch(digest);
    expect(Buffer.byteLength(message!.key!) + Buffer.byteLength(message!.value!)).toBeLessThan(1_000_000);
  });

  it('with a small maxRequestBytes, a long message is shortened so the record fits', async () => {
    const destinations = freshTopics();
    const publisher = publisherFor({ ...destinations, maxRequestBytes: 20_000, idempotent: false });
    await publisher.publish([
      outcome(1, { errors: [{ code: 'UNKNOWN_EXCEPTION', message: 'x'.repeat(50_000), fields: [] }] }),
    ]);
    await publisher.close();

    const [message] = await kafka.consume(destinations.errorTopic, 1);
    expect(Buffer.byteLength(message!.value!)).toBeLessThan(20_000);
    expect(message!.headers.truncated).toBe('true');
  });

  it('sends nothing of a kind whose topic is not configured', async () => {
    const { errorTopic } = freshTopics();
    const { created, createKafka } = counting();
    const publisher = publisherFor({ errorTopic, createKafka });
    await publisher.publish([outcome(0), outcome(3)]);

    expect(created.clients).toBe(0);
  });

  it('rejects with a clear error when no broker answers, and connects afresh on the next publish', async () => {
    const { created, createKafka } = counting();
    const publisher = createKafkaPublisher({
      brokers: ['127.0.0.1:1'],
      errorTopic: 'errors',
      auth: 'none',
      retries: 1,
      connectionTimeoutMs: 200,
      createKafka,
    });
    for (let i = 0; i < 2; i++) {
      const error = await publisher.publish([outcome(1), outcome(2)]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OutcomePublishError);
      expect(error).toMatchObject({ destination: 'kafka', target: 'errors', count: 2 });
      expect((error as Error).message).toMatch(
        /^2 outcome\(s\) were not published to Kafka topic\(s\) errors: could not connect to 127\.0\.0\.1:1: .*ECONNREFUSED/,
      );
    }
    expect(created.producers).toBe(2);
    await publisher.close();
  });
});

describe('kafkaClientConfig', () => {
  it('uses SASL OAUTHBEARER over TLS with an MSK IAM token signed for the region', async () => {
    const signed: string[] = [];
    const config = kafkaClientConfig({
      brokers: ['b-1.example.kafka.eu-west-1.amazonaws.com:9098'],
      auth: 'iam',
      region: 'eu-west-1',
      signToken: async ({ region }) => {
        signed.push(region);
        return { token: 'signed-token' };
      },
    });

    expect(config.ssl).toBe(true);
    expect(config.sasl?.mechanism).toBe('oauthbearer');
    const sasl = config.sasl as { oauthBearerProvider: () => Promise<{ value: string }> };
    expect(await sasl.oauthBearerProvider()).toEqual({ value: 'signed-token' });
    expect(signed).toEqual(['eu-west-1']);
  });

  it('is plaintext without SASL for auth none', () => {
    const config = kafkaClientConfig({ brokers: ['127.0.0.1:9092'], auth: 'none' });
    expect(config.ssl).toBeUndefined();
    expect(config.sasl).toBeUndefined();
  });

  it('refuses MSK IAM without a region', () => {
    expect(() => kafkaClientConfig({ brokers: ['b:9098'], auth: 'iam' })).toThrow(
      /results\.kafka[\s\S]*region: is not set/,
    );
  });
});
