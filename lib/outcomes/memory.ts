// Publishers that store nothing durably: for the local runtime and tests, and for a sink configured
// without result destinations.
import type { Outcome } from './outcome.ts';
import type { OutcomePublisher } from './publisher.ts';

export interface MemoryPublisher extends OutcomePublisher {
  /** Every outcome published so far, in publish order (the objects given, not copies). */
  readonly outcomes: readonly Outcome[];
  /** How many publish calls resolved. */
  readonly publishes: number;
  /** Forgets what was published. */
  clear(): void;
  /** Makes publish reject with this error (nothing is recorded) until called with undefined. */
  failWith(error: Error | undefined): void;
}

/**
 * An in-memory publisher that records what was published, for the local runtime to show and for tests.
 *
 * @example
 * const memory = createMemoryPublisher();
 * await memory.publish(outcomes);
 * memory.outcomes.filter(isErrorOutcome);
 */
export function createMemoryPublisher(): MemoryPublisher {
  const outcomes: Outcome[] = [];
  let publishes = 0;
  let failure: Error | undefined;
  return {
    get outcomes() {
      return outcomes;
    },
    get publishes() {
      return publishes;
    },
    async publish(batch) {
      if (failure) throw failure;
      outcomes.push(...batch);
      publishes += 1;
    },
    async close() {},
    clear() {
      outcomes.length = 0;
      publishes = 0;
    },
    failWith(error) {
      failure = error;
    },
  };
}

/**
 * A publisher that discards outcomes: what `createPublishers` returns when no destination is configured.
 *
 * @example
 * const publisher = createNoopPublisher();
 * await publisher.publish(outcomes); // resolves, stores nothing
 */
export function createNoopPublisher(): OutcomePublisher {
  return { async publish() {}, async close() {} };
}
