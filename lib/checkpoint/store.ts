// Where partition checkpoints are kept, and how one invocation saves them.
import type { PartitionCheckpoint } from './ledger.ts';

/**
 * What a checkpoint belongs to besides its topic-partition: the consumer group, and the Kafka cluster
 * the records come from (a new cluster, or a re-created one, has offsets of its own).
 */
export interface CheckpointScope {
  /** The consumer group id, or the event source mapping's id. */
  group: string;
  /** The event's cluster ARN (MSK) or bootstrap servers (self-managed Kafka). */
  source: string;
}

/** Where checkpoints are kept. `save` fails with `CheckpointConflictError` if another writer got there first. */
export interface CheckpointStore {
  load(scope: CheckpointScope, partitions: readonly string[]): Promise<Map<string, PartitionCheckpoint>>;
  save(scope: CheckpointScope, checkpoint: PartitionCheckpoint): Promise<void>;
}

/**
 * Another invocation wrote this partition's checkpoint since this one read it (a timed-out invocation
 * still running while the redelivery runs). The older invocation must stop writing to Salesforce.
 */
export class CheckpointConflictError extends Error {
  override name = 'CheckpointConflictError';
  constructor(partition: string) {
    super(
      `checkpoint of ${partition} was written by another invocation; this one stops so a record is not applied twice (the event source mapping redelivers what is left)`,
    );
  }
}

/**
 * The scope of an event's records: its cluster ARN, else its bootstrap servers.
 *
 * @example
 * scopeOf('my-group', event); // { group: 'my-group', source: 'arn:aws:kafka:…:cluster/orders/…' }
 */
export function scopeOf(
  group: string,
  event: { eventSourceArn?: string; bootstrapServers?: string },
): CheckpointScope {
  return { group, source: event.eventSourceArn || event.bootstrapServers || 'unknown-source' };
}

/** Saves an invocation's checkpoints. */
export interface Persister {
  /** Saves these partitions and every one marked for later, and waits: durable when it resolves. */
  now(partitions: Iterable<string>): Promise<void>;
  /** Marks partitions to be saved with the next `now`. */
  later(partitions: Iterable<string>): void;
  /** Drops a partition's pending mark: it is not saved unless asked for again. */
  forget(partition: string): void;
}

/**
 * Saves partition checkpoints, one write at a time per partition; a save asked for while another is
 * queued joins it (the queued write captures every change made before it starts).
 *
 * @example
 * const persist = createPersister(store, scope, checkpoints);
 * await persist.now(['leads-0']);
 */
export function createPersister(
  store: CheckpointStore,
  scope: CheckpointScope,
  checkpoints: ReadonlyMap<string, PartitionCheckpoint>,
): Persister {
  const running = new Map<string, Promise<void>>();
  const queued = new Map<string, Promise<void>>();
  const dirty = new Set<string>();
  const one = (partition: string): Promise<void> => {
    dirty.delete(partition);
    const waiting = queued.get(partition);
    if (waiting) return waiting;
    const previous = running.get(partition) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(() => {
        queued.delete(partition);
        const write = store.save(scope, checkpoints.get(partition)!);
        running.set(partition, write);
        return write;
      });
    queued.set(partition, next);
    return next;
  };
  return {
    now: async (partitions) => {
      await Promise.all([...new Set([...partitions, ...dirty])].map(one));
    },
    later: (partitions) => {
      for (const p of partitions) dirty.add(p);
    },
    forget: (partition) => {
      dirty.delete(partition);
    },
  };
}
