// Errors of outcome publishing. Each says which destination refused what, why, and what to do; none
// carries an outcome body (it may hold record data) or a credential.

export type Destination = 'sqs' | 'kafka';

/**
 * Outcomes could not be stored by a destination after the publisher's own retries. The records they
 * belong to must not be acknowledged: the event source redelivers them and the outcomes are published
 * again (consumers dedupe by topic, partition and offset).
 */
export class OutcomePublishError extends Error {
  override name = 'OutcomePublishError';
  readonly destination: Destination;
  /** The queue URL or topic names that did not take the outcomes. */
  readonly target: string;
  /** How many outcomes were not stored. */
  readonly count: number;
  /** What went wrong, without the destination and count (those are in `message`). */
  readonly detail: string;
  /** False when retrying cannot help (SQS `SenderFault`, missing queue, access denied, bad config). */
  readonly retryable: boolean;
  constructor(
    destination: Destination,
    target: string,
    count: number,
    detail: string,
    options: { retryable: boolean; cause?: unknown },
  ) {
    const where = destination === 'sqs' ? `SQS queue ${target}` : `Kafka topic(s) ${target}`;
    super(`${count} outcome(s) were not published to ${where}: ${detail}`, { cause: options.cause });
    this.destination = destination;
    this.target = target;
    this.count = count;
    this.detail = detail;
    this.retryable = options.retryable;
  }
}

/** An outcome is larger than the destination accepts even after its error messages were shortened. */
export class OutcomeTooLargeError extends Error {
  override name = 'OutcomeTooLargeError';
  constructor(coordinates: string, bytes: number, limit: number) {
    super(
      `The outcome of ${coordinates} is ${bytes} bytes after truncation, over the ${limit}-byte limit of the destination; ` +
        'its topic name or key is too long to publish',
    );
  }
}
