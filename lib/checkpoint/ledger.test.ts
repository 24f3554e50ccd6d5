import { describe, expect, it } from 'vitest';
import {
  advance,
  decodeEntries,
  type Entry,
  emptyCheckpoint,
  encodeEntries,
  isFinished,
  LedgerTransitionError,
  ledgerOf,
  MAX_MESSAGE_CHARS,
  mayStillBeWriting,
  noteDelivery,
  type StoredOutcome,
} from './ledger.ts';

const error = (code: string) => ({ code, message: `${code} message`, fields: [] });
const failed = (deliveries: number): StoredOutcome => ({
  status: 'failed',
  sobject: 'Lead',
  operation: 'upsert',
  mode: 'realtime',
  errors: [error('SERVER_UNAVAILABLE')],
  attempts: deliveries,
  timestamp: '2026-01-01T00:00:00.000Z',
});

describe('partition checkpoint', () => {
  it('moves the watermark over finished offsets only, keeping entries above the first unfinished one', () => {
    const cp = emptyCheckpoint('leads-0');
    cp.entries.set(10, { state: 'done' });
    cp.entries.set(11, { state: 'retrying', deliveries: 1, lastError: error('SERVER_UNAVAILABLE') });
    cp.entries.set(12, { state: 'done' });
    cp.entries.set(13, { state: 'tracked', jobId: '750x' });
    advance(cp, [10, 11, 12, 13]);
    expect(cp.watermark).toBe(10);
    expect([...cp.entries.keys()]).toEqual([11, 12, 13]);
    expect(isFinished(cp, 12)).toBe(true);
    expect(isFinished(cp, 11)).toBe(false);

    cp.entries.set(11, { state: 'done' });
    advance(cp, [11, 12, 13]);
    expect(cp.watermark).toBe(13);
    expect(cp.entries.size).toBe(0);
    expect(isFinished(cp, 5)).toBe(true);
  });

  it('passes gaps Kafka never delivers (compaction) but never an undelivered unfinished offset', () => {
    const cp = emptyCheckpoint('t-0');
    cp.entries.set(3, { state: 'done' });
    cp.entries.set(7, { state: 'done' });
    advance(cp, [3, 7]);
    expect(cp.watermark).toBe(7);
    cp.entries.set(9, { state: 'sent', deliveries: 0 });
    cp.entries.set(10, { state: 'done' });
    advance(cp, [9, 10]);
    expect(cp.watermark).toBe(7);
  });

  it('round-trips every entry state through its stored form, and reads the forms earlier versions wrote', () => {
    const entries = new Map<number, Entry>([
      [1, { state: 'sent', deliveries: 0 }],
      [
        8,
        {
          state: 'sent',
          deliveries: 2,
          lastError: error('RESPONSE_LOST'),
          sender: { by: 'inv-1', until: 99 },
        },
      ],
      [
        2,
        {
          state: 'applied',
          outcome: { ...failed(1), status: 'succeeded', errors: [], salesforceId: '00Q000000000001AAA' },
        },
      ],
      [3, { state: 'tracked', jobId: '750000000000001AAA' }],
      [4, { state: 'submitting', unitKey: 'abc', deliveries: 0 }],
      [7, { state: 'submitting', unitKey: 'abc', deliveries: 2 }],
      [5, { state: 'retrying', deliveries: 3, lastError: error('UNABLE_TO_LOCK_ROW') }],
      [6, { state: 'done' }],
    ]);
    expect(decodeEntries(encodeEntries(entries))).toEqual(entries);
    const legacy = decodeEntries(
      JSON.stringify({
        1: ['s'],
        2: ['a', { status: 'succeeded', errors: [], attempts: 1 }],
        4: ['b', 'abc'],
      }),
    );
    expect(legacy.get(1)).toEqual({ state: 'sent', deliveries: 0 });
    expect(legacy.get(2)).toEqual({
      state: 'applied',
      legacy: { status: 'succeeded', errors: [], attempts: 1 },
    });
    expect(legacy.get(4)).toEqual({ state: 'submitting', unitKey: 'abc', deliveries: 0 });
  });
});

describe('ledger transitions', () => {
  it('a record marked sent keeps the deliveries its retryable failures counted', () => {
    const cp = emptyCheckpoint('t-0');
    const ledger = ledgerOf(cp);
    ledger.markRetrying(5, error('SERVER_UNAVAILABLE'), 2, failed);
    ledger.markSent(5, { by: 'a', until: 1 });
    expect(cp.entries.get(5)).toMatchObject({ state: 'sent', deliveries: 1 });
    ledger.markRetrying(5, error('SERVER_UNAVAILABLE'), 2, failed);
    ledger.markSent(5, { by: 'b', until: 1 });
    const final = ledger.markRetrying(5, error('SERVER_UNAVAILABLE'), 2, failed);
    expect(final).toMatchObject({ state: 'applied', outcome: { status: 'failed', attempts: 3 } });
  });

  it('a sent record handed back keeps its maybe-applied marker and counts the delivery, up to the budget', () => {
    const cp = emptyCheckpoint('t-0');
    const ledger = ledgerOf(cp);
    ledger.markSent(1, { by: 'a', until: 10 });
    expect(ledger.handBackSent(1, error('RESPONSE_LOST'), 2)).toBe('handed-back');
    expect(cp.entries.get(1)).toEqual({ state: 'sent', deliveries: 1, lastError: error('RESPONSE_LOST') });
    ledger.markSent(1, { by: 'b', until: 10 });
    expect(ledger.handBackSent(1, error('RESPONSE_LOST'), 2)).toBe('handed-back');
    ledger.markSent(1, { by: 'c', until: 10 });
    expect(ledger.handBackSent(1, error('RESPONSE_LOST'), 2)).toBe('exhausted');
  });

  it('refuses transitions the table does not have', () => {
    const cp = emptyCheckpoint('t-0');
    const ledger = ledgerOf(cp);
    ledger.markApplied(1, failed(1));
    expect(() => ledger.markSent(1, { by: 'a', until: 1 })).toThrow(LedgerTransitionError);
    expect(() => ledger.markTracked(2, 'job')).toThrow(LedgerTransitionError);
    ledger.markDone(1);
    expect(() => ledger.markApplied(1, failed(1))).toThrow(LedgerTransitionError);
  });

  it('stores outcomes with capped messages, so any batch fits the store', () => {
    const cp = emptyCheckpoint('t-0');
    const entry = ledgerOf(cp).markApplied(1, {
      ...failed(1),
      errors: [{ code: 'X', message: 'm'.repeat(50_000), fields: [] }],
    });
    expect((entry as { outcome: StoredOutcome }).outcome.errors[0]!.message).toHaveLength(MAX_MESSAGE_CHARS);
  });

  it('a sender may still be writing until its deadline, unless the runtime knows its invocation ended', () => {
    const entry: Entry = { state: 'sent', deliveries: 0, sender: { by: 'a', until: 1_000 } };
    expect(mayStillBeWriting(entry, 999)).toBe(true);
    expect(mayStillBeWriting(entry, 1_000)).toBe(false);
    expect(mayStillBeWriting(entry, 999, (id) => id === 'a')).toBe(false);
    expect(mayStillBeWriting({ state: 'sent', deliveries: 0 }, 0)).toBe(false);
  });

  it('starts a partition over when a finished offset brings a record newer than any delivered before', () => {
    const cp = emptyCheckpoint('t-0');
    expect(
      noteDelivery(cp, [
        { offset: 0, timestamp: 100 },
        { offset: 1, timestamp: 101 },
      ]),
    ).toBe(false);
    cp.watermark = 1;
    // The same records again (a redelivery): nothing replaced.
    expect(
      noteDelivery(cp, [
        { offset: 0, timestamp: 100 },
        { offset: 1, timestamp: 101 },
      ]),
    ).toBe(false);
    expect(cp.watermark).toBe(1);
    // Offset 0 again, written after everything seen: the topic was re-created.
    expect(noteDelivery(cp, [{ offset: 0, timestamp: 500 }])).toBe(true);
    expect(cp.watermark).toBe(-1);
    expect(cp.seenUntil).toBe(500);
  });
});
