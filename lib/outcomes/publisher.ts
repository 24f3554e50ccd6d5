import type { Outcome } from './outcome.ts';

/**
 * Publishes outcomes durably. Resolves only when every outcome given is stored by the destination
 * (SQS accepted it, Kafka acked it with acks=all); rejects if any could not be, after its own retries,
 * so the caller does not acknowledge the records to Kafka.
 */
export interface OutcomePublisher {
  publish(outcomes: readonly Outcome[]): Promise<void>;
  /** Releases connections (Kafka producer); the Lambda keeps publishers for the life of the process. */
  close(): Promise<void>;
}
