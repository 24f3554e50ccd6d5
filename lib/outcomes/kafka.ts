// Outcomes to Kafka topics, like Connect Reporter's result and error topics: key = the input record's
// key (its digest when over 16 KiB), value = the outcome JSON, headers = status and the input record's
// coordinates. One kafkajs producer per publisher, connected on first use and kept for the life of the
// process. Brokers refuse produce requests and record batches over `message.max.bytes` (about 1 MB by
// default, MSK too), so a publish is cut into sendBatch calls of at most `maxRequestBytes` each, sent
// one after another with acks=all, and no single outcome record exceeds it (messages are shortened).
import { generateAuthToken } from 'aws-msk-iam-sasl-signer-js';
import {
  Kafka,
  type KafkaConfig,
  type LogEntry,
  logLevel,
  type Message,
  Partitioners,
  type Producer,
  type TopicMessages,
} from 'kafkajs';
import { ConfigError } from '../errors.ts';
import { withDefaults } from './defaults.ts';
import { encodeOutcome } from './encode.ts';
import { OutcomePublishError } from './errors.ts';
import { type PublisherLogger, silentLogger } from './logger.ts';
import { boundedKey, isErrorOutcome, type Outcome } from './outcome.ts';
import type { OutcomePublisher } from './publisher.ts';

export interface KafkaPublisherOptions {
  /** Bootstrap brokers, `host:port`. */
  brokers: string[];
  /** Topic for `succeeded` outcomes; without it successes are not sent to Kafka. */
  resultTopic?: string;
  /** Topic for `failed` and `rejected` outcomes; without it those are not sent to Kafka. */
  errorTopic?: string;
  /** `iam`: MSK IAM (SASL OAUTHBEARER over TLS) with the process's AWS credentials. `none`: plaintext. */
  auth: 'none' | 'iam';
  /** AWS region that MSK IAM tokens are signed for; required with `auth: 'iam'`. */
  region?: string;
  clientId?: string;
  /**
   * Ask for an idempotent producer, so the producer's own retries never duplicate a message. When the
   * cluster refuses (no `kafka-cluster:WriteDataIdempotently` permission, or no controller to give a
   * producer id, as in librdkafka's mock cluster) the publisher falls back to a plain producer, still
   * acks=all, and says so through the logger.
   */
  idempotent?: boolean;
  /** Retries of retriable errors (kafkajs' retrier, exponential backoff) when connecting and sending. */
  retries?: number;
  connectionTimeoutMs?: number;
  /** How long the brokers may take to acknowledge a send (all in-sync replicas). */
  ackTimeoutMs?: number;
  /** Largest value sent; bigger outcomes are shortened (brokers take about 1 MB by default). */
  maxMessageBytes?: number;
  /**
   * Largest produce request (the sum of its records, with Kafka's framing): a publish is split into
   * requests under it, and no record exceeds it. Keep it below the brokers' `message.max.bytes`.
   */
  maxRequestBytes?: number;
  logger?: PublisherLogger;
  /** Creates the kafkajs client; replace to observe the client (tests) or to set extra options. */
  createKafka?: (config: KafkaConfig) => Kafka;
  /** Signs MSK IAM tokens; `aws-msk-iam-sasl-signer-js` with the default credential chain. */
  signToken?: (options: { region: string }) => Promise<{ token: string }>;
}

const defaults: Required<
  Pick<
    KafkaPublisherOptions,
    | 'clientId'
    | 'idempotent'
    | 'retries'
    | 'connectionTimeoutMs'
    | 'ackTimeoutMs'
    | 'maxMessageBytes'
    | 'maxRequestBytes'
    | 'logger'
    | 'createKafka'
    | 'signToken'
  >
> = {
  clientId: 'sfsink-outcomes',
  idempotent: true,
  retries: 5,
  connectionTimeoutMs: 3_000,
  ackTimeoutMs: 30_000,
  maxMessageBytes: 1_000_000,
  maxRequestBytes: 1_000_000,
  logger: silentLogger,
  createKafka: (config: KafkaConfig) => new Kafka(config),
  signToken: generateAuthToken,
};

type Resolved = typeof defaults & KafkaPublisherOptions;

/** Reasons a cluster gives for refusing a producer id to a non-transactional idempotent producer. */
const IDEMPOTENCE_REFUSED = new Set([
  'CLUSTER_AUTHORIZATION_FAILED',
  'UNSUPPORTED_VERSION',
  'KafkaJSBrokerNotFound',
]);

const HINTS: Record<string, string> = {
  UNKNOWN_TOPIC_OR_PARTITION: 'create the topic (clusters such as MSK do not create topics on first use)',
  TOPIC_AUTHORIZATION_FAILED: 'allow kafka-cluster:WriteData and DescribeTopic on the topic',
  CLUSTER_AUTHORIZATION_FAILED: 'allow kafka-cluster:Connect on the cluster',
  SASL_AUTHENTICATION_FAILED: "check the function's role and the region the MSK IAM token is signed for",
  MESSAGE_TOO_LARGE: "lower results.kafka.maxRequestBytes below the brokers' message.max.bytes",
};

/**
 * The kafkajs client configuration for the options: MSK IAM uses SASL OAUTHBEARER with tokens from
 * `aws-msk-iam-sasl-signer-js`, over TLS.
 *
 * @example
 * const kafka = new Kafka(kafkaClientConfig({ brokers: ['b-1.msk:9098'], auth: 'iam', region: 'eu-west-1' }));
 */
export function kafkaClientConfig(options: KafkaPublisherOptions): KafkaConfig {
  const o: Resolved = withDefaults(defaults, options);
  const config: KafkaConfig = {
    clientId: o.clientId,
    brokers: o.brokers,
    connectionTimeout: o.connectionTimeoutMs,
    retry: { retries: o.retries, initialRetryTime: 100, maxRetryTime: 5_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, log }: LogEntry) =>
        o.logger.warn(`kafkajs ${namespace}: ${log.message}`, log),
  };
  if (o.auth === 'none') return config;
  const region = o.region;
  if (!region) {
    throw new ConfigError('results.kafka', [
      'region: is not set, and MSK IAM signs its tokens for a region: set it, or run where AWS_REGION is set',
    ]);
  }
  return {
    ...config,
    ssl: true,
    sasl: {
      mechanism: 'oauthbearer',
      oauthBearerProvider: async () => ({ value: (await o.signToken({ region })).token }),
    },
  };
}

/**
 * Publishes outcomes to Kafka topics. `publish` resolves when the brokers acknowledged every message
 * with acks=all; it rejects with `OutcomePublishError` after kafkajs' bounded retries, and the next
 * publish starts with a fresh producer.
 *
 * @example
 * const publisher = createKafkaPublisher({ brokers, errorTopic: 'sfsink.errors', auth: 'iam', region: 'eu-west-1' });
 * await publisher.publish(outcomes);
 * await publisher.close();
 */
export function createKafkaPublisher(options: KafkaPublisherOptions): OutcomePublisher {
  const o: Resolved = withDefaults(defaults, options);
  const config = kafkaClientConfig(o);
  let kafka: Kafka | undefined;
  let producer: Promise<Producer> | undefined;

  async function open(): Promise<Producer> {
    kafka ??= o.createKafka(config);
    const settings = { maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner };
    if (o.idempotent) {
      const idempotent = kafka.producer({ ...settings, idempotent: true });
      try {
        await idempotent.connect();
        return idempotent;
      } catch (error) {
        if (!IDEMPOTENCE_REFUSED.has(reasonOf(rootOf(error)))) throw error;
        await idempotent.disconnect().catch(() => {});
        const warning =
          'The Kafka cluster refused an idempotent producer; publishing outcomes without idempotence';
        o.logger.warn(warning, { reason: describe(error) });
      }
    }
    const plain = kafka.producer({ ...settings, idempotent: false });
    await plain.connect();
    return plain;
  }

  function connected(): Promise<Producer> {
    producer ??= open().catch((error) => {
      producer = undefined;
      throw error;
    });
    return producer;
  }

  /** After a failed send the producer's state (sequence numbers, connections) is suspect: start over. */
  function discard(failed: Producer): void {
    producer = undefined;
    failed.disconnect().catch(() => {});
  }

  return {
    async publish(outcomes) {
      const messages: Sized[] = [];
      for (const outcome of outcomes) {
        const topic = isErrorOutcome(outcome) ? o.errorTopic : o.resultTopic;
        if (!topic) continue;
        try {
          messages.push(toMessage(outcome, topic, o));
        } catch (error) {
          throw new OutcomePublishError('kafka', topic, 1, describe(error), {
            retryable: false,
            cause: error,
          });
        }
      }
      if (messages.length === 0) return;
      const topics = [...new Set(messages.map((m) => m.topic))].join(', ');
      let ready: Producer;
      try {
        ready = await connected();
      } catch (error) {
        throw publishError(topics, messages.length, `could not connect to ${o.brokers.join(',')}`, error);
      }
      // In order, one request after another: a partition's outcomes keep their order.
      for (const request of requests(messages, o.maxRequestBytes)) {
        try {
          await ready.sendBatch({ acks: -1, timeout: o.ackTimeoutMs, topicMessages: request });
        } catch (error) {
          discard(ready);
          throw publishError(topics, messages.length, 'the brokers did not acknowledge them', error);
        }
      }
    },
    async close() {
      const current = producer;
      producer = undefined;
      const ready = await current?.catch(() => undefined);
      await ready?.disconnect();
    },
  };
}

/** A message with its topic and the bytes it adds to a produce request. */
interface Sized {
  topic: string;
  message: Message;
  bytes: number;
}

/**
 * Kafka's framing around a record's key, value and headers, bounded from above: the record's varints
 * and attributes (≤ 41 bytes, 10 per header), and its share of a record batch header (61 bytes) when
 * it lands alone in a partition's batch.
 */
const RECORD_FRAMING = 110;
const HEADER_FRAMING = 10;
/** A produce request's own fields (acks, timeout, transactional id, client id) and a topic's entry. */
const REQUEST_FRAMING = 512;
const TOPIC_FRAMING = 64;

function toMessage(outcome: Outcome, topic: string, o: Resolved): Sized {
  const key = boundedKey(outcome.key);
  const headers: Record<string, string> = {
    status: outcome.status,
    input_record_topic: outcome.topic,
    input_record_partition: String(outcome.partition),
    input_record_offset: String(outcome.offset),
    truncated: 'true',
  };
  const framing =
    RECORD_FRAMING +
    Object.entries(headers).reduce(
      (sum, [k, v]) => sum + HEADER_FRAMING + Buffer.byteLength(k) + Buffer.byteLength(v),
      0,
    ) +
    (key === null ? 0 : Buffer.byteLength(key));
  const limit = Math.min(
    o.maxMessageBytes,
    o.maxRequestBytes - REQUEST_FRAMING - TOPIC_FRAMING - topic.length - framing,
  );
  const { body, bytes, truncated } = encodeOutcome({ ...outcome, key }, limit);
  if (truncated) {
    o.logger.warn('Outcome shortened to fit the Kafka message size limit', {
      topic: outcome.topic,
      partition: outcome.partition,
      offset: outcome.offset,
    });
  } else delete headers.truncated;
  return { topic, message: { key, value: body, headers }, bytes: framing + bytes };
}

/** Messages in order, cut into produce requests of at most `maxBytes` each (framing included). */
function requests(messages: readonly Sized[], maxBytes: number): TopicMessages[][] {
  const out: TopicMessages[][] = [];
  let current = new Map<string, Message[]>();
  let bytes = REQUEST_FRAMING;
  const flush = () => {
    if (current.size === 0) return;
    out.push([...current].map(([topic, list]) => ({ topic, messages: list })));
    current = new Map();
    bytes = REQUEST_FRAMING;
  };
  for (const { topic, message, bytes: size } of messages) {
    let topicCost = current.has(topic) ? 0 : TOPIC_FRAMING + Buffer.byteLength(topic);
    if (current.size > 0 && bytes + topicCost + size > maxBytes) {
      flush();
      topicCost = TOPIC_FRAMING + Buffer.byteLength(topic);
    }
    const list = current.get(topic);
    if (list) list.push(message);
    else current.set(topic, [message]);
    bytes += topicCost + size;
  }
  flush();
  return out;
}

function publishError(topics: string, count: number, what: string, error: unknown): OutcomePublishError {
  const root = rootOf(error);
  const hint = HINTS[reasonOf(root)];
  const detail = `${what}: ${describe(error)}${hint ? ` (${hint})` : ''}`;
  return new OutcomePublishError('kafka', topics, count, detail, {
    retryable: root.retriable !== false,
    cause: error,
  });
}

interface KafkaJsError {
  type?: string;
  name?: string;
  retriable?: boolean;
  cause?: unknown;
}

/** The error under kafkajs' wrapping (retries exceeded → the last protocol or connection error). */
function rootOf(error: unknown): KafkaJsError {
  let current = (error ?? {}) as KafkaJsError;
  while (current.cause) current = current.cause as KafkaJsError;
  return current;
}

/** The protocol error type (e.g. `UNKNOWN_TOPIC_OR_PARTITION`), else the error's name. */
function reasonOf(error: KafkaJsError): string {
  return error.type ?? error.name ?? 'Error';
}

function describe(error: unknown): string {
  const messages: string[] = [];
  for (let e = error as { message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.message && !messages.includes(e.message)) messages.push(e.message);
  }
  return messages.join(': ') || String(error);
}
