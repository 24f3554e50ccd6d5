// Unit keys: the same records give the same key; another source, a re-created topic or another parent
// gives another; a follow-up's key (rows without timestamps) is the one earlier versions computed.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { unitKeyOf } from './correlation.ts';

const records = [
  { topic: 'orders', partition: 0, offset: 7, timestamp: 1_700_000_000_007 },
  { topic: 'orders', partition: 1, offset: 3, timestamp: 1_700_000_000_003 },
];

describe('unitKeyOf', () => {
  it('gives the same records the same key, and other records, sources or timestamps another', () => {
    const key = unitKeyOf('g\u0000arn:a', records);
    expect(
      unitKeyOf(
        'g\u0000arn:a',
        records.map((r) => ({ ...r })),
      ),
    ).toBe(key);
    expect(unitKeyOf('g\u0000arn:b', records)).not.toBe(key);
    expect(
      unitKeyOf(
        'g\u0000arn:a',
        records.map((r) => ({ ...r, timestamp: r.timestamp + 1 })),
      ),
    ).not.toBe(key);
    expect(unitKeyOf('g\u0000arn:a', records.slice(1))).not.toBe(key);
  });

  it('keys rows without timestamps as earlier versions did (a follow-up recorded before an upgrade is found)', () => {
    const rows = records.map(({ timestamp: _, ...r }) => r);
    const earlier = createHash('sha256').update('g#1');
    for (const r of rows) earlier.update(`\u0000${r.topic}\u0000${r.partition}\u0000${r.offset}`);
    expect(unitKeyOf('g#1', rows)).toBe(earlier.digest('hex').slice(0, 32));
  });
});
