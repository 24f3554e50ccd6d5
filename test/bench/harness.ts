// Driving the embedded sink for the bench, the soak and the fuzz: start it, deliver, and read back what
// the emulator and the outcome publisher saw.
import { parseConfig, type SinkConfigInput } from '../../lib/config/index.ts';
import type { LambdaKafkaEvent } from '../../lib/decode/index.ts';
import type { Outcome } from '../../lib/outcomes/index.ts';
import type { EmulatorOptions } from '../../local/emulator/server.ts';
import type { EventRecordInput } from '../../local/events/build-event.ts';
import { type Embedded, startEmbedded } from '../../local/runtime/embedded.ts';

export interface SinkRun {
  sink: Embedded;
  close(): Promise<void>;
}

/** Starts the embedded sink with the emulator's call log large enough to keep every call. */
export async function startSink(
  config: SinkConfigInput,
  emulator: EmulatorOptions = {},
  waitMs = 10,
): Promise<Embedded> {
  return startEmbedded({
    config: parseConfig(config),
    emulator: { bulkProcessingDelayMs: 5, callLogLimit: 1_000_000, ...emulator },
    waitMs,
  });
}

/** Runs `fn` with a fresh embedded sink and always closes it. */
export async function withSink<T>(
  config: SinkConfigInput,
  emulator: EmulatorOptions,
  fn: (sink: Embedded) => Promise<T>,
  waitMs = 10,
): Promise<T> {
  const sink = await startSink(config, emulator, waitMs);
  try {
    return await fn(sink);
  } finally {
    await sink.close();
  }
}

export interface CallCounts {
  /** What Salesforce counts against the daily API limit (every authenticated REST call). */
  apiCalls: number;
  bulkBatches: number;
  /** Calls by emulator route (oauth included, though Salesforce does not count it). */
  byRoute: Record<string, number>;
}

export function callCounts(sink: Embedded): CallCounts {
  const emulator = sink.emulator!;
  const byRoute: Record<string, number> = {};
  for (const call of emulator.calls()) byRoute[call.route] = (byRoute[call.route] ?? 0) + 1;
  return { apiCalls: emulator.counters.apiCalls, bulkBatches: emulator.counters.bulkBatches, byRoute };
}

/** `after - before`, route by route. */
export function callDelta(after: CallCounts, before: CallCounts): CallCounts {
  const byRoute: Record<string, number> = {};
  for (const route of new Set([...Object.keys(after.byRoute), ...Object.keys(before.byRoute)])) {
    const n = (after.byRoute[route] ?? 0) - (before.byRoute[route] ?? 0);
    if (n !== 0) byRoute[route] = n;
  }
  return {
    apiCalls: after.apiCalls - before.apiCalls,
    bulkBatches: after.bulkBatches - before.bulkBatches,
    byRoute,
  };
}

export const recordKey = (r: { topic: string; partition: number; offset: number }): string =>
  `${r.topic}/${r.partition}/${r.offset}`;

/** Outcomes grouped by the record they are about. */
export function outcomesByRecord(outcomes: readonly Outcome[]): Map<string, Outcome[]> {
  const map = new Map<string, Outcome[]>();
  for (const o of outcomes) {
    const key = recordKey(o);
    const list = map.get(key);
    if (list) list.push(o);
    else map.set(key, [o]);
  }
  return map;
}

/**
 * What an outcome says, without when it was said (`timestamp`) or how many HTTP attempts it took
 * (`attempts`): two publications of one record's result must agree on all of it — status, Id, `created`,
 * errors, bulk job.
 */
export function outcomeMeaning(o: Outcome): string {
  const { timestamp: _timestamp, attempts: _attempts, ...rest } = o;
  return JSON.stringify(rest);
}

/** Everything but the timestamp. */
function outcomeText(o: Outcome): string {
  const { timestamp: _timestamp, ...rest } = o;
  return JSON.stringify(rest);
}

/** The fields in which the outcomes of one record differ (timestamp aside). */
function differingFields(list: readonly Outcome[]): string[] {
  const fields = new Set<string>();
  for (const o of list) for (const k of Object.keys(o)) fields.add(k);
  fields.delete('timestamp');
  return [...fields].filter(
    (k) => new Set(list.map((o) => JSON.stringify((o as unknown as Record<string, unknown>)[k]))).size > 1,
  );
}

export interface OutcomeAudit {
  /** Input records with no outcome at all. */
  withoutOutcome: number;
  /** Input records with ≥ 1 outcome. */
  withOutcome: number;
  /** Outcomes beyond the first for a record (a crash after publishing re-publishes). */
  rawDuplicates: number;
  /** Records whose repeated outcomes disagree on what happened (status, Id, `created`, errors, job). */
  conflicting: number;
  /** The fields the conflicting outcomes disagree on, with how many records. */
  conflictFields: Record<string, number>;
  /** Conflicting records by `sObject operation mode`. */
  conflictOperations: Record<string, number>;
  /** Records whose repeated outcomes differ only in `attempts`. */
  attemptsDiffer: number;
  /** Outcomes about records that were never delivered. */
  phantom: number;
  byStatus: Record<string, number>;
  /** A few conflicting outcome lists, for the report. */
  conflictExamples: Outcome[][];
  /** Error codes of failed and rejected outcomes (first error), counted per record. */
  errorCodes: Record<string, number>;
}

export function auditOutcomes(
  records: readonly { topic: string; partition: number; offset: number }[],
  outcomes: readonly Outcome[],
): OutcomeAudit {
  const byRecord = outcomesByRecord(outcomes);
  const expected = new Set(records.map(recordKey));
  const audit: OutcomeAudit = {
    withoutOutcome: 0,
    withOutcome: 0,
    rawDuplicates: 0,
    conflicting: 0,
    conflictFields: {},
    conflictOperations: {},
    attemptsDiffer: 0,
    phantom: 0,
    byStatus: {},
    conflictExamples: [],
    errorCodes: {},
  };
  for (const key of expected) {
    const list = byRecord.get(key);
    if (!list) {
      audit.withoutOutcome++;
      continue;
    }
    audit.withOutcome++;
    audit.rawDuplicates += list.length - 1;
    if (list.length > 1) {
      if (new Set(list.map(outcomeMeaning)).size > 1) {
        audit.conflicting++;
        for (const field of differingFields(list))
          if (field !== 'attempts') audit.conflictFields[field] = (audit.conflictFields[field] ?? 0) + 1;
        const operation = `${list[0]!.sobject ?? '?'} ${list[0]!.operation ?? '?'} ${list[0]!.mode ?? '?'}`;
        audit.conflictOperations[operation] = (audit.conflictOperations[operation] ?? 0) + 1;
        if (audit.conflictExamples.length < 3) audit.conflictExamples.push(list);
      } else if (new Set(list.map(outcomeText)).size > 1) audit.attemptsDiffer++;
    }
    const first = list[0]!;
    audit.byStatus[first.status] = (audit.byStatus[first.status] ?? 0) + 1;
    if (first.status !== 'succeeded') {
      const code = first.errors[0]?.code ?? '(none)';
      audit.errorCodes[code] = (audit.errorCodes[code] ?? 0) + 1;
    }
  }
  for (const key of byRecord.keys()) if (!expected.has(key)) audit.phantom++;
  return audit;
}

/** Records of a topic that follow `records` in each partition (offsets continue where they end). */
export function continueOffsets(
  records: readonly EventRecordInput[],
  next: readonly Omit<EventRecordInput, 'offset'>[],
): EventRecordInput[] {
  const nextOffset = new Map<string, number>();
  for (const r of records) {
    const key = `${r.topic}-${r.partition}`;
    nextOffset.set(key, Math.max(nextOffset.get(key) ?? 0, r.offset + 1));
  }
  return next.map((r) => {
    const key = `${r.topic}-${r.partition}`;
    const offset = nextOffset.get(key) ?? 0;
    nextOffset.set(key, offset + 1);
    return { ...r, offset };
  });
}

export function eventSize(event: LambdaKafkaEvent): number {
  return Buffer.byteLength(JSON.stringify(event));
}
