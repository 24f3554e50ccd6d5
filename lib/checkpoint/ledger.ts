// The delivery ledger: where each Kafka record stands on its way to one outcome, and the only code that
// changes it. The event source mapping redelivers a partition from the first offset the handler reports
// failed (or the whole batch when the handler throws); records of one partition may finish out of
// offset order (the planner runs unrelated records in different stages), so a partition's checkpoint
// keeps a watermark (every offset at or below it is finished) and one entry per offset above it that is
// not plain "not started".
//
// States of an entry:
//
// | state      | the record…                                                              | finished |
// | ---------- | ------------------------------------------------------------------------ | -------- |
// | (none)     | has not been sent, or nothing of an attempt needs remembering             | no       |
// | retrying   | was handed back after a retryable failure; nothing carrying it is in flight | no     |
// | sent       | was carried by a write that may have taken effect; until `until` its sender | no     |
// |            | (`by`) may still be writing                                                |          |
// | applied    | has its outcome decided and stored (`outcome`), maybe not published yet    | no       |
// | submitting | is in a recorded bulk unit (`unitKey`) whose job is being set up           | no       |
// | tracked    | is in a bulk job (`jobId`) being followed; the poller publishes its outcome | yes     |
// | done       | has its outcome published                                                 | yes      |
//
// `deliveries` (retrying, sent, submitting) counts the hand-backs a record's own retryable failures
// caused; it survives every transition between those states, so `maxRedeliveries` always runs out.
//
// Transitions — anything else is a bug and throws `LedgerTransitionError`:
//
// | function            | from                                   | to         | keeps                        |
// | ------------------- | -------------------------------------- | ---------- | ---------------------------- |
// | `markSent`          | none, retrying, sent (sender gone)      | sent       | deliveries, lastError        |
// | `restoreUnsent`     | sent (marked by this invocation)        | the entry before `markSent`            |
// | `handBackSent`      | sent                                   | sent       | the marker; deliveries + 1   |
// | `holdSent`          | sent                                   | sent       | the marker; deliveries       |
// | `markRetrying`      | none, retrying, sent, submitting        | retrying   | deliveries + 1               |
// |   … past budget     |                                        | applied    | (failed with the last error) |
// | `markApplied`       | none, retrying, sent, submitting        | applied    |                              |
// | `markSubmitting`    | none, retrying, sent (sender gone)      | submitting | deliveries                   |
// | `forgetSubmission`  | submitting                             | retrying or none | deliveries            |
// | `markTracked`       | submitting                             | tracked    |                              |
// | `markDone`          | applied                                | done       |                              |
// | `startOver`         | any (the partition's log was replaced)  | none       |                              |
//
// A sent record is never written again blindly: an insert is looked up first (found → succeeded), a
// delete's "already deleted" is its success, an update or upsert is replayed (idempotent) — and none of
// them before its sender is gone (`mayStillBeWriting`), so no write of one key overlaps or overtakes an
// earlier one. An applied record is only published again, with the outcome stored the first time.
//
// Checkpoint writes (each a conditional put of the partition's item; see dynamodb-store.ts), per
// realtime stage:
// 1. before the calls: the stage's records marked `sent` — this write is also the fence that stops an
//    older invocation of the same partitions at its next write;
// 2. after each unit's call: its records `applied` (or retrying) — before any outcome is published, so a
//    crash from here on republishes the same outcomes and writes nothing again;
// 3. after each unit's outcomes are published: its records `done` — so a crash later in the invocation
//    publishes none of them again (only a crash between a publish and this write does, identically).
// Outside stages: outcomes decided without a write (rejections, lookups, stored ones) are stored (2)
// and marked done (3) the same way; a bulk unit writes `submitting` once before its job is created and
// `tracked` once after its poller is started; the invocation's last write moves the watermark.
import type { OutcomeError } from '../outcomes/outcome.ts';
import type { LegacyResult, StoredOutcome } from '../outcomes/outcome-of.ts';

export type { LegacyResult, StoredOutcome };

/** Who sent a write and until when it may still be writing (epoch ms). */
export interface Sender {
  /** The invocation's id (Lambda's request id). */
  by: string;
  until: number;
}

export type Entry =
  | { state: 'retrying'; deliveries: number; lastError: OutcomeError }
  | { state: 'sent'; deliveries: number; lastError?: OutcomeError; sender?: Sender }
  | { state: 'applied'; outcome: StoredOutcome }
  | { state: 'applied'; legacy: LegacyResult }
  | { state: 'submitting'; unitKey: string; deliveries: number }
  | { state: 'tracked'; jobId: string }
  | { state: 'done' };

export type EntryState = Entry['state'];

export interface PartitionCheckpoint {
  /** `topic-partition` */
  partition: string;
  /** Every offset at or below it is finished. -1 before the first record. */
  watermark: number;
  entries: Map<number, Entry>;
  /** Bulk units holding records of this partition that have not finished yet. */
  bulkJobs: string[];
  /**
   * The latest Kafka timestamp among the records delivered so far. A record at a finished offset with a
   * later timestamp was never delivered: the partition's log was replaced (the topic was re-created).
   */
  seenUntil?: number;
  /** Optimistic-lock version: a write succeeds only if nobody wrote since this was read. */
  version: number;
}

/** A transition the table above does not have: a bug in the caller, never bad input. */
export class LedgerTransitionError extends Error {
  override name = 'LedgerTransitionError';
  constructor(transition: string, partition: string, offset: number, from: EntryState | 'none') {
    super(`ledger: ${transition} is not allowed from ${from} (${partition} offset ${offset})`);
  }
}

/** Error messages kept per record, and their length: a stored outcome must stay small. */
export const MAX_STORED_ERRORS = 10;
export const MAX_MESSAGE_CHARS = 1_000;
const MAX_ERROR_FIELDS = 100;

/**
 * An outcome error as the ledger stores (and the sink therefore publishes) it: the message capped at
 * 1,000 characters, at most 100 field names.
 *
 * @example
 * capError({ code: 'X', message: 'm'.repeat(5000), fields: [] }).message.length; // 1000
 */
export function capError(error: OutcomeError): OutcomeError {
  const message =
    error.message.length > MAX_MESSAGE_CHARS
      ? `${error.message.slice(0, MAX_MESSAGE_CHARS - 1)}…`
      : error.message;
  const fields =
    error.fields.length > MAX_ERROR_FIELDS ? error.fields.slice(0, MAX_ERROR_FIELDS) : error.fields;
  return message === error.message && fields === error.fields ? error : { ...error, message, fields };
}

function capOutcome(outcome: StoredOutcome): StoredOutcome {
  const errors = outcome.errors.slice(0, MAX_STORED_ERRORS).map(capError);
  return { ...outcome, errors };
}

export function emptyCheckpoint(partition: string): PartitionCheckpoint {
  return { partition, watermark: -1, entries: new Map(), bulkJobs: [], version: 0 };
}

export function isFinished(checkpoint: PartitionCheckpoint, offset: number): boolean {
  if (offset <= checkpoint.watermark) return true;
  const state = checkpoint.entries.get(offset)?.state;
  return state === 'done' || state === 'tracked';
}

/**
 * Whether the sender of a `sent` entry may still have a write carrying it in flight: its deadline has not
 * passed, and the runtime cannot tell that its invocation ended.
 *
 * @example
 * if (mayStillBeWriting(entry, Date.now(), hasEnded)) handBack(record);
 */
export function mayStillBeWriting(
  entry: Entry | undefined,
  now: number,
  hasEnded?: (invocation: string) => boolean,
): boolean {
  if (entry?.state !== 'sent' || !entry.sender) return false;
  if (hasEnded?.(entry.sender.by)) return false;
  return now < entry.sender.until;
}

function deliveriesOf(entry: Entry | undefined): number {
  return entry && 'deliveries' in entry ? entry.deliveries : 0;
}

function stateOf(entry: Entry | undefined): EntryState | 'none' {
  return entry?.state ?? 'none';
}

/**
 * The transitions of one partition's entries. Each function checks its source state, keeps what the
 * header says it keeps, and returns the new entry.
 */
function transitions(checkpoint: PartitionCheckpoint) {
  const { entries, partition } = checkpoint;
  const require = (name: string, offset: number, allowed: readonly (EntryState | 'none')[]) => {
    const entry = entries.get(offset);
    if (!allowed.includes(stateOf(entry)))
      throw new LedgerTransitionError(name, partition, offset, stateOf(entry));
    return entry;
  };
  const set = <E extends Entry>(offset: number, entry: E): E => {
    entries.set(offset, entry);
    return entry;
  };
  return {
    markSent(offset: number, sender: Sender) {
      const before = require('markSent', offset, ['none', 'retrying', 'sent']);
      const lastError = before && 'lastError' in before ? before.lastError : undefined;
      return set(offset, {
        state: 'sent',
        deliveries: deliveriesOf(before),
        ...(lastError ? { lastError } : {}),
        sender,
      });
    },
    restoreUnsent(offset: number, before: Entry | undefined) {
      require('restoreUnsent', offset, ['sent']);
      if (before) entries.set(offset, before);
      else entries.delete(offset);
    },
    handBackSent(offset: number, error: OutcomeError, max: number): 'handed-back' | 'exhausted' {
      const before = require('handBackSent', offset, ['sent']) as Extract<Entry, { state: 'sent' }>;
      const deliveries = before.deliveries + 1;
      if (deliveries > max) return 'exhausted';
      // The sender (this invocation) has stopped writing it: only the maybe-applied marker stays.
      set(offset, { state: 'sent', deliveries, lastError: capError(error) });
      return 'handed-back';
    },
    holdSent(offset: number) {
      // An org-wide condition stopped the record, not the record itself: nothing is counted, but a write
      // that may have taken effect keeps its marker.
      const before = require('holdSent', offset, ['sent']) as Extract<Entry, { state: 'sent' }>;
      const { sender: _, ...kept } = before;
      return set(offset, kept);
    },
    markRetrying(
      offset: number,
      error: OutcomeError,
      max: number,
      failed: (deliveries: number) => StoredOutcome,
    ) {
      const before = require('markRetrying', offset, ['none', 'retrying', 'sent', 'submitting']);
      const deliveries = deliveriesOf(before) + 1;
      if (deliveries > max) return set(offset, { state: 'applied', outcome: capOutcome(failed(deliveries)) });
      return set(offset, { state: 'retrying', deliveries, lastError: capError(error) });
    },
    markApplied(offset: number, outcome: StoredOutcome) {
      require('markApplied', offset, ['none', 'retrying', 'sent', 'submitting']);
      return set(offset, { state: 'applied', outcome: capOutcome(outcome) });
    },
    markSubmitting(offset: number, unitKey: string) {
      // From sent: a record written realtime before its mapping moved to bulk (an upsert or update is
      // replayed, an insert was looked up first).
      const before = require('markSubmitting', offset, ['none', 'retrying', 'sent']);
      return set(offset, { state: 'submitting', unitKey, deliveries: deliveriesOf(before) });
    },
    forgetSubmission(offset: number) {
      const before = require('forgetSubmission', offset, ['submitting']) as Extract<
        Entry,
        { state: 'submitting' }
      >;
      if (before.deliveries === 0) entries.delete(offset);
      else
        set(offset, {
          state: 'retrying',
          deliveries: before.deliveries,
          lastError: { code: 'BULK_RESUBMITTED', message: 'the bulk unit was planned again', fields: [] },
        });
    },
    markTracked(offset: number, jobId: string) {
      require('markTracked', offset, ['submitting', 'tracked']);
      return set(offset, { state: 'tracked', jobId });
    },
    markDone(offset: number) {
      require('markDone', offset, ['applied', 'done']);
      return set(offset, { state: 'done' });
    },
  };
}

export type PartitionLedger = ReturnType<typeof transitions>;

/**
 * The transitions of a partition's entries (see the table in the header).
 *
 * @example
 * ledgerOf(checkpoint).markSent(42, { by: context.awsRequestId, until: deadline });
 */
export function ledgerOf(checkpoint: PartitionCheckpoint): PartitionLedger {
  return transitions(checkpoint);
}

/**
 * Notes a delivery: if a record sits at an offset the checkpoint counts as finished (or has an entry for)
 * but is newer than every record delivered so far, the partition's log was replaced (the topic was
 * re-created, offsets start over): the checkpoint starts over instead of skipping those records.
 * Returns whether it started over.
 *
 * @example
 * if (noteDelivery(checkpoint, records)) log.warn('partition log replaced', { partition });
 */
export function noteDelivery(
  checkpoint: PartitionCheckpoint,
  records: readonly { offset: number; timestamp: number }[],
): boolean {
  const seen = checkpoint.seenUntil;
  let replaced = false;
  if (seen !== undefined) {
    replaced = records.some(
      (r) => r.timestamp > seen && (r.offset <= checkpoint.watermark || checkpoint.entries.has(r.offset)),
    );
  }
  if (replaced) {
    checkpoint.watermark = -1;
    checkpoint.entries.clear();
    checkpoint.seenUntil = undefined;
  }
  for (const r of records) {
    if (r.timestamp > 0 && r.timestamp > (checkpoint.seenUntil ?? Number.NEGATIVE_INFINITY))
      checkpoint.seenUntil = r.timestamp;
  }
  return replaced;
}

/**
 * Moves the watermark over the finished offsets directly above it and forgets their entries. `done`
 * entries are dropped as the watermark passes; `tracked` ones too (the bulk job's own record in the job
 * store holds what the poller needs). Offsets between the watermark and the first entry are not
 * finished, so the watermark stops there unless `delivered` says they were all seen and finished.
 *
 * @example
 * advance(checkpoint, [5, 6, 7]); // offsets the handler saw in this batch
 */
export function advance(checkpoint: PartitionCheckpoint, delivered: readonly number[]): void {
  const seen = [...delivered].sort((a, b) => a - b);
  for (const offset of seen) {
    if (offset <= checkpoint.watermark) continue;
    if (!isFinished(checkpoint, offset)) break;
    // Offsets Kafka never delivers (compaction, transaction markers) leave gaps: a delivered offset that
    // is finished moves the watermark to it when every delivered offset before it is finished.
    checkpoint.watermark = offset;
    checkpoint.entries.delete(offset);
  }
  for (const offset of [...checkpoint.entries.keys()]) {
    if (offset <= checkpoint.watermark) checkpoint.entries.delete(offset);
  }
}

/** The bulk units holding this partition that are still running (the barrier's bookkeeping). */
export function keepBulkJobs(checkpoint: PartitionCheckpoint, running: readonly string[]): boolean {
  if (running.length === checkpoint.bulkJobs.length) return false;
  checkpoint.bulkJobs = [...running];
  return true;
}

export function addBulkJob(checkpoint: PartitionCheckpoint, unitKey: string): void {
  if (!checkpoint.bulkJobs.includes(unitKey)) checkpoint.bulkJobs.push(unitKey);
}

/** Entries as compact JSON: `{offset: [tag, …payload]}`. */
export function encodeEntries(entries: ReadonlyMap<number, Entry>): string {
  const out: Record<string, unknown> = {};
  for (const [offset, entry] of entries) {
    switch (entry.state) {
      case 'applied':
        out[offset] = 'outcome' in entry ? ['o', entry.outcome] : ['a', entry.legacy];
        break;
      case 'tracked':
        out[offset] = ['t', entry.jobId];
        break;
      case 'submitting':
        out[offset] = ['b', entry.unitKey, entry.deliveries];
        break;
      case 'retrying':
        out[offset] = ['r', entry.deliveries, entry.lastError];
        break;
      case 'sent':
        out[offset] = ['s', entry.deliveries, entry.lastError ?? null, entry.sender ?? null];
        break;
      case 'done':
        out[offset] = ['d'];
    }
  }
  return JSON.stringify(out);
}

/** Reads what `encodeEntries` wrote, and the forms earlier versions wrote. */
export function decodeEntries(text: string): Map<number, Entry> {
  const parsed = JSON.parse(text) as Record<string, [string, ...unknown[]]>;
  const entries = new Map<number, Entry>();
  for (const [offset, [tag, a, b, c]] of Object.entries(parsed)) {
    let entry: Entry;
    switch (tag) {
      case 'o':
        entry = { state: 'applied', outcome: a as StoredOutcome };
        break;
      case 'a':
        entry = { state: 'applied', legacy: a as LegacyResult };
        break;
      case 'b':
        entry = { state: 'submitting', unitKey: a as string, deliveries: (b as number | undefined) ?? 0 };
        break;
      case 'r':
        entry = { state: 'retrying', deliveries: a as number, lastError: b as OutcomeError };
        break;
      case 't':
        entry = { state: 'tracked', jobId: a as string };
        break;
      case 's':
        entry = {
          state: 'sent',
          deliveries: (a as number | undefined) ?? 0,
          ...(b ? { lastError: b as OutcomeError } : {}),
          ...(c ? { sender: c as Sender } : {}),
        };
        break;
      default:
        entry = { state: 'done' };
    }
    entries.set(Number(offset), entry);
  }
  return entries;
}

/** A record as the ledger knows it. */
export interface LedgerRecord {
  topic: string;
  partition: number;
  offset: number;
}

const partitionOf = (r: LedgerRecord) => `${r.topic}-${r.partition}`;

/**
 * One invocation's view of the ledger: the transitions above addressed by record, over the partitions'
 * checkpoints as loaded, with every partition a transition touched saved by the next `save`.
 *
 * @example
 * const ledger = openLedger(checkpoints, createPersister(store, scope, checkpoints));
 * ledger.markSent(unit.records, { by: invocationId, until: deadline });
 * await ledger.save(); // durable before the call goes out
 */
export function openLedger(
  checkpoints: ReadonlyMap<string, PartitionCheckpoint>,
  persister: {
    now(partitions: Iterable<string>): Promise<void>;
    later(partitions: Iterable<string>): void;
    forget(partition: string): void;
  },
) {
  const checkpointOf = (partition: string) => {
    const checkpoint = checkpoints.get(partition);
    if (!checkpoint) throw new Error(`ledger: partition ${partition} was not loaded`);
    return checkpoint;
  };
  const perPartition = new Map<string, PartitionLedger>();
  /** Partitions this invocation gave up on: what it loaded is stale, so it never writes them. */
  const released = new Set<string>();
  const of = (r: LedgerRecord) => {
    const partition = partitionOf(r);
    if (released.has(partition)) throw new Error(`ledger: partition ${partition} was released`);
    let ledger = perPartition.get(partition);
    if (!ledger) {
      ledger = ledgerOf(checkpointOf(partition));
      perPartition.set(partition, ledger);
    }
    persister.later([partition]);
    return ledger;
  };
  return {
    checkpointOf,
    entry: (r: LedgerRecord): Entry | undefined => checkpointOf(partitionOf(r)).entries.get(r.offset),
    isFinished: (r: LedgerRecord) => isFinished(checkpointOf(partitionOf(r)), r.offset),
    markSent: (records: readonly LedgerRecord[], sender: Sender) => {
      for (const r of records) of(r).markSent(r.offset, sender);
    },
    restoreUnsent: (r: LedgerRecord, before: Entry | undefined) => of(r).restoreUnsent(r.offset, before),
    handBackSent: (r: LedgerRecord, error: OutcomeError, max: number) =>
      of(r).handBackSent(r.offset, error, max),
    holdSent: (r: LedgerRecord) => of(r).holdSent(r.offset),
    markRetrying: (
      r: LedgerRecord,
      error: OutcomeError,
      max: number,
      failed: (deliveries: number) => StoredOutcome,
    ) => of(r).markRetrying(r.offset, error, max, failed),
    markApplied: (r: LedgerRecord, outcome: StoredOutcome) => of(r).markApplied(r.offset, outcome),
    markSubmitting: (r: LedgerRecord, unitKey: string) => of(r).markSubmitting(r.offset, unitKey),
    forgetSubmission: (r: LedgerRecord) => of(r).forgetSubmission(r.offset),
    markTracked: (r: LedgerRecord, jobId: string) => of(r).markTracked(r.offset, jobId),
    markDone: (r: LedgerRecord) => of(r).markDone(r.offset),
    /**
     * Saves every partition changed since the last save, and these even if unchanged (a conditional
     * write that fences off an older invocation of them), and waits.
     */
    save: (records: Iterable<LedgerRecord> = []) =>
      persister.now([...records].map(partitionOf).filter((p) => !released.has(p))),
    /**
     * Gives a partition up for this invocation: another invocation wrote it since it was loaded, so
     * nothing of it is written back (its records are handed back and redelivered with fresh state).
     */
    release: (partition: string) => {
      released.add(partition);
      persister.forget(partition);
    },
  };
}

export type Ledger = ReturnType<typeof openLedger>;
