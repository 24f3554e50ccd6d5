// What Lambda's Kafka event source mapping does with the handler's answer, for local runs and tests:
// a thrown invocation gets the same batch again; a partial-batch response gets, for each listed
// partition, its records from the listed offset on; everything else counts as committed.
import type { LambdaKafkaEvent, LambdaKafkaRecord } from '../../lib/decode/index.ts';

export interface HandlerAnswer {
  batchItemFailures?: { itemIdentifier: { partition: string; offset: number } }[];
  /** The sink's answer when an org-wide condition held the batch (nothing failed for it). */
  held?: { reason: string; message: string };
}

export interface DeliveryReport {
  invocations: number;
  /** Invocations that threw (each was followed by a full redelivery). */
  crashes: number;
  /** Records still uncommitted when the attempts ran out (0 when all were committed). */
  uncommitted: number;
  /** Why delivery stopped early: an org-wide condition held the batch (with `stopWhenHeld`). */
  held?: { reason: string; message: string };
}

/** The part of an event that a partial-batch response asks for again. */
export function redeliveryOf(event: LambdaKafkaEvent, answer: HandlerAnswer): LambdaKafkaEvent | undefined {
  const from = new Map(
    (answer.batchItemFailures ?? []).map((f) => [f.itemIdentifier.partition, f.itemIdentifier.offset]),
  );
  if (from.size === 0) return undefined;
  const records: Record<string, LambdaKafkaRecord[]> = {};
  for (const [key, list] of Object.entries(event.records)) {
    const first = list[0];
    if (!first) continue;
    const offset = from.get(`${first.topic}-${first.partition}`);
    if (offset === undefined) continue;
    const again = list.filter((r) => r.offset >= offset);
    if (again.length > 0) records[key] = again;
  }
  return Object.keys(records).length > 0 ? { ...event, records } : undefined;
}

/**
 * Delivers one event to a handler until every record is committed or `maxInvocations` is reached,
 * redelivering as the event source mapping would.
 *
 * @example
 * const report = await deliverUntilCommitted(event, (e) => handler(e));
 */
export async function deliverUntilCommitted(
  event: LambdaKafkaEvent,
  handler: (event: LambdaKafkaEvent) => Promise<HandlerAnswer>,
  options: {
    maxInvocations?: number;
    onRetry?: (attempt: number) => Promise<void>;
    /** Stop at the first answer an org-wide condition held (the CLI reports it instead of retrying). */
    stopWhenHeld?: boolean;
  } = {},
): Promise<DeliveryReport> {
  const max = options.maxInvocations ?? 50;
  let pending: LambdaKafkaEvent | undefined = event;
  let invocations = 0;
  let crashes = 0;
  let held: DeliveryReport['held'];
  while (pending && invocations < max) {
    if (invocations > 0) await options.onRetry?.(invocations);
    invocations++;
    try {
      const answer = await handler(pending);
      pending = redeliveryOf(pending, answer);
      if (answer.held && options.stopWhenHeld) {
        held = answer.held;
        break;
      }
    } catch {
      crashes++;
    }
  }
  const uncommitted = pending ? Object.values(pending.records).reduce((n, list) => n + list.length, 0) : 0;
  return { invocations, crashes, uncommitted, ...(held ? { held } : {}) };
}

/**
 * Consumes a stream the way the event source mapping does: per partition from the committed offset,
 * batches of a varying size (so a redelivery can group records differently than the first delivery),
 * committing what the handler did not report failed; a throw commits nothing.
 *
 * @example
 * const report = await consumeStream(records, handler, { maxBatch: 50, random: seededRandom(3) });
 */
export async function consumeStream(
  event: LambdaKafkaEvent,
  handler: (event: LambdaKafkaEvent) => Promise<HandlerAnswer>,
  options: { maxBatch: number; random: () => number; maxInvocations?: number; onRetry?: () => Promise<void> },
): Promise<DeliveryReport> {
  const partitions = Object.entries(event.records).map(([key, list]) => ({
    key,
    records: [...list].sort((a, b) => a.offset - b.offset),
    next: 0,
  }));
  const max = options.maxInvocations ?? 500;
  let invocations = 0;
  let crashes = 0;
  const remaining = () => partitions.reduce((n, p) => n + p.records.length - p.next, 0);
  while (remaining() > 0 && invocations < max) {
    if (invocations > 0) await options.onRetry?.();
    invocations++;
    const batch: Record<string, LambdaKafkaRecord[]> = {};
    for (const p of partitions) {
      if (p.next >= p.records.length) continue;
      const size = 1 + Math.floor(options.random() * options.maxBatch);
      batch[p.key] = p.records.slice(p.next, p.next + size);
    }
    let answer: HandlerAnswer;
    try {
      answer = await handler({ ...event, records: batch });
    } catch {
      crashes++;
      continue;
    }
    const failed = new Map(
      (answer.batchItemFailures ?? []).map((f) => [f.itemIdentifier.partition, f.itemIdentifier.offset]),
    );
    for (const p of partitions) {
      const delivered = batch[p.key];
      if (!delivered) continue;
      const first = delivered[0]!;
      const from = failed.get(`${first.topic}-${first.partition}`);
      const committed =
        from === undefined ? delivered.length : delivered.filter((r) => r.offset < from).length;
      p.next += committed;
    }
  }
  return { invocations, crashes, uncommitted: remaining() };
}
