import { describe, expect, it } from 'vitest';
import {
  advance,
  decodeEntries,
  type Entry,
  emptyCheckpoint,
  encodeEntries,
  isFinished,
} from './checkpoint.ts';

describe('partition checkpoint', () => {
  it('moves the watermark over finished offsets only, keeping entries above the first unfinished one', () => {
    const cp = emptyCheckpoint('leads-0');
    cp.entries.set(10, { state: 'done' });
    cp.entries.set(11, {
      state: 'retrying',
      deliveries: 1,
      lastError: { code: 'SERVER_UNAVAILABLE', message: '', fields: [] },
    });
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
    cp.entries.set(9, { state: 'sent' });
    cp.entries.set(10, { state: 'done' });
    advance(cp, [9, 10]);
    expect(cp.watermark).toBe(7);
  });

  it('round-trips every entry state through its stored form', () => {
    const entries = new Map<number, Entry>([
      [1, { state: 'sent' }],
      [
        2,
        {
          state: 'applied',
          result: {
            status: 'succeeded',
            salesforceId: '00Q000000000001AAA',
            created: true,
            errors: [],
            attempts: 1,
          },
        },
      ],
      [3, { state: 'tracked', jobId: '750000000000001AAA' }],
      [4, { state: 'submitting', unitKey: 'abc' }],
      [7, { state: 'submitting', unitKey: 'abc', deliveries: 2 }],
      [
        5,
        {
          state: 'retrying',
          deliveries: 3,
          lastError: { code: 'UNABLE_TO_LOCK_ROW', message: 'locked', fields: [] },
        },
      ],
      [6, { state: 'done' }],
    ]);
    expect(decodeEntries(encodeEntries(entries))).toEqual(entries);
  });
});
