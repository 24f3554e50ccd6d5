// Salesforce record ids: 3-char key prefix, 2-char pod, 1 reserved char, 9 base-62 digits (15 chars,
// case-sensitive), plus a 3-char checksum suffix that makes the 18-char form case-insensitive.

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const POD = '5E0';
const ID15 = /^[0-9A-Za-z]{15}$/;
const ID18 = /^[0-9A-Za-z]{15}[A-Za-z0-5]{3}$/;

const isUpper = (c: string): boolean => c >= 'A' && c <= 'Z';

/**
 * The 3-char checksum suffix of a 15-char id: one char per 5-char chunk, encoding which chars are upper case.
 *
 * @example
 * checksumSuffix('00Q7R00001lsWLi'); // 'UAM'
 */
export function checksumSuffix(id15: string): string {
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let flags = 0;
    for (let i = 0; i < 5; i++) {
      if (isUpper(id15.charAt(chunk * 5 + i))) flags |= 1 << i;
    }
    suffix += SUFFIX_ALPHABET.charAt(flags);
  }
  return suffix;
}

/**
 * The canonical 18-char form of a 15- or 18-char id (an 18-char id may come in any letter case), or
 * `undefined` when the value is not a well-formed id.
 *
 * @example
 * normalizeId('00Q7R00001lsWLi'); // '00Q7R00001lsWLiUAM'
 * normalizeId('00q7r00001lswliuam'); // '00Q7R00001lsWLiUAM'
 */
export function normalizeId(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (ID15.test(value)) return value + checksumSuffix(value);
  if (!ID18.test(value)) return undefined;
  const suffix = value.slice(15).toUpperCase();
  let id15 = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    const flags = SUFFIX_ALPHABET.indexOf(suffix.charAt(chunk));
    for (let i = 0; i < 5; i++) {
      const c = value.charAt(chunk * 5 + i);
      const upper = (flags & (1 << i)) !== 0;
      if (upper && !/[A-Za-z]/.test(c)) return undefined;
      id15 += upper ? c.toUpperCase() : c.toLowerCase();
    }
  }
  return id15 + suffix;
}

/** The key prefix (first 3 chars) of an id. */
export const keyPrefixOf = (id: string): string => id.slice(0, 3);

function base62(n: number, width: number): string {
  let out = '';
  let rest = n;
  while (rest > 0) {
    out = BASE62.charAt(rest % 62) + out;
    rest = Math.floor(rest / 62);
  }
  return out.padStart(width, '0');
}

/**
 * A new 18-char id with the given key prefix and record number.
 *
 * @example
 * makeId('001', 1); // '0015E000000000001AAA'.slice(0, 18)
 */
export function makeId(keyPrefix: string, recordNumber: number): string {
  const id15 = keyPrefix + POD + base62(recordNumber, 9);
  return id15 + checksumSuffix(id15);
}
