// The configured destinations (`results.sqs`, `results.kafka`) as one publisher.
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SinkConfig } from '../config/index.ts';
import { createKafkaPublisher, type KafkaPublisherOptions } from './kafka.ts';
import type { PublisherLogger } from './logger.ts';
import { createNoopPublisher } from './memory.ts';
import type { OutcomePublisher } from './publisher.ts';
import { createSqsPublisher, type SqsPublisherOptions } from './sqs.ts';

export interface PublishersDeps {
  /** The process's SQS client; one with the SDK's defaults (region and credentials from the environment) when absent. */
  sqsClient?: SQSClient;
  /** Region MSK IAM tokens are signed for when `results.kafka.region` is unset: the function's region. */
  region?: string;
  logger?: PublisherLogger;
  /** Tuning of the SQS publisher (attempts, backoff, size limit). */
  sqs?: Omit<SqsPublisherOptions, 'client' | 'resultQueueUrl' | 'errorQueueUrl'>;
  /** Tuning of the Kafka publisher (retries, timeouts, idempotence, client factory). */
  kafka?: Omit<KafkaPublisherOptions, 'brokers' | 'resultTopic' | 'errorTopic' | 'auth' | 'region'>;
}

/**
 * One publisher for every configured destination; a no-op publisher when none is configured. A
 * destination without any queue or topic set is left out.
 *
 * @example
 * const publisher = createPublishers(config.results, { sqsClient, region: process.env.AWS_REGION });
 * await publisher.publish(outcomes); // resolves once SQS and Kafka both stored them
 */
export function createPublishers(
  results: SinkConfig['results'],
  deps: PublishersDeps = {},
): OutcomePublisher {
  const publishers: OutcomePublisher[] = [];
  const { sqs, kafka } = results;
  if (sqs && (sqs.resultQueueUrl || sqs.errorQueueUrl)) {
    publishers.push(
      createSqsPublisher({
        logger: deps.logger,
        ...deps.sqs,
        client: deps.sqsClient ?? new SQSClient({}),
        resultQueueUrl: sqs.resultQueueUrl,
        errorQueueUrl: sqs.errorQueueUrl,
      }),
    );
  }
  if (kafka && (kafka.resultTopic || kafka.errorTopic)) {
    publishers.push(
      createKafkaPublisher({
        logger: deps.logger,
        ...deps.kafka,
        brokers: kafka.brokers,
        resultTopic: kafka.resultTopic,
        errorTopic: kafka.errorTopic,
        auth: kafka.auth,
        region: kafka.region ?? deps.region,
        maxRequestBytes: kafka.maxRequestBytes,
      }),
    );
  }
  return combinePublishers(publishers);
}

/**
 * Publishes to every publisher at once; `publish` resolves only when all of them stored the outcomes,
 * and rejects (after all have settled) with the error, or an AggregateError when several failed.
 *
 * @example
 * const publisher = combinePublishers([createPublishers(config.results), createMemoryPublisher()]);
 */
export function combinePublishers(publishers: readonly OutcomePublisher[]): OutcomePublisher {
  if (publishers.length === 0) return createNoopPublisher();
  if (publishers.length === 1) return publishers[0]!;
  return {
    publish: (outcomes) =>
      settleAll(
        publishers.map((p) => p.publish(outcomes)),
        'Outcomes were not published',
      ),
    close: () =>
      settleAll(
        publishers.map((p) => p.close()),
        'Outcome publishers did not close',
      ),
  };
}

async function settleAll(calls: Promise<void>[], summary: string): Promise<void> {
  const errors = (await Promise.allSettled(calls)).flatMap((s) =>
    s.status === 'rejected' ? [s.reason] : [],
  );
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) {
    const messages = errors.map((e) => (e instanceof Error ? e.message : String(e)));
    throw new AggregateError(errors, `${summary} to ${errors.length} destinations: ${messages.join('; ')}`);
  }
}
