// What Lambda's Kafka event source mapping does with the handler's answer, for local runs and tests:
// a thrown invocation gets the same batch again; a partial-batch response gets, for each listed
// partition, its records from the listed offset on; everything else counts as committed.
import type { LambdaKafkaEvent, LambdaKafkaRecord } from '../../lib/decode/index.ts';

export interface HandlerAnswer {
  batchItemFailures?: { itemIdentifier: { partition: string; offset: number } }[];
}

export interface DeliveryReport {
  invocations: number;
  /** Invocations that threw (each was followed by a full redelivery). */
  crashes: number;
  /** Records still uncommitted when the attempts ran out (0 when all were committed). */
  uncommitted: number;
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
  options: { maxInvocations?: number; onRetry?: (attempt: number) => Promise<void> } = {},
): Promise<DeliveryReport> {
  const max = options.maxInvocations ?? 50;
  let pending: LambdaKafkaEvent | undefined = event;
  let invocations = 0;
  let crashes = 0;
  while (pending && invocations < max) {
    if (invocations > 0) await options.onRetry?.(invocations);
    invocations++;
    try {
      pending = redeliveryOf(pending, await handler(pending));
    } catch {
      crashes++;
    }
  }
  const uncommitted = pending ? Object.values(pending.records).reduce((n, list) => n + list.length, 0) : 0;
  return { invocations, crashes, uncommitted };
}
