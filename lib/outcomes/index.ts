export { combinePublishers, createPublishers, type PublishersDeps } from './compose.ts';
export { type EncodedOutcome, encodeOutcome, TRUNCATED_CODE, TRUNCATION_MARKER } from './encode.ts';
export { type Destination, OutcomePublishError, OutcomeTooLargeError } from './errors.ts';
export { createKafkaPublisher, type KafkaPublisherOptions, kafkaClientConfig } from './kafka.ts';
export type { PublisherLogger } from './logger.ts';
export { createMemoryPublisher, createNoopPublisher, type MemoryPublisher } from './memory.ts';
export {
  isErrorOutcome,
  type Outcome,
  type OutcomeError,
  type OutcomeStatus,
  rejectedOutcome,
} from './outcome.ts';
export type { OutcomePublisher } from './publisher.ts';
export { createSqsPublisher, type SqsPublisherOptions } from './sqs.ts';
