// Salesforce id format: the 18-char checksum suffix and case-insensitive normalization.

import { describe, expect, it } from 'vitest';
import { checksumSuffix, keyPrefixOf, makeId, normalizeId } from './ids.ts';

describe('ids', () => {
  it('computes the checksum suffix Salesforce gives real ids', () => {
    expect(checksumSuffix('00Q7R00001lsWLi')).toBe('UAM');
    expect(checksumSuffix('0052X00000AJGNC')).toBe('QA5');
  });

  it('normalizes 15-char ids and 18-char ids in any case to the canonical 18-char form', () => {
    expect(normalizeId('00Q7R00001lsWLi')).toBe('00Q7R00001lsWLiUAM');
    expect(normalizeId('00Q7R00001LSWLIUAM')).toBe('00Q7R00001lsWLiUAM');
    expect(normalizeId('00q7r00001lswliuam')).toBe('00Q7R00001lsWLiUAM');
  });

  it.each([['garbage'], ['00Q7R00001lsWLiUA'], ['001RM000003oLrB000'], ['00Q7R00001lsWL!UAM'], [42], [null]])(
    'rejects %j',
    (value) => {
      expect(normalizeId(value)).toBeUndefined();
    },
  );

  it('makes distinct valid ids with the key prefix', () => {
    const ids = [1, 2, 62, 3844].map((n) => makeId('a0X', n));
    expect(new Set(ids).size).toBe(4);
    for (const id of ids) {
      expect(id).toHaveLength(18);
      expect(keyPrefixOf(id)).toBe('a0X');
      expect(normalizeId(id.toLowerCase())).toBe(id);
    }
  });
});
