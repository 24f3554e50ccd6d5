import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decimalOf, exactOrNumber, isExactNumber, parseJsonExact, plainText } from './exact-number.ts';

describe('exact numbers', () => {
  it('every double parses back to itself, as a plain number (property)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
        const parsed = parseJsonExact(`{"v":${JSON.stringify(d)}}`) as { v: unknown };
        expect(parsed.v).toBe(d === 0 ? 0 : d);
      }),
    );
  });

  it('any decimal literal keeps its value: the digits written are the digits sent (property)', () => {
    const literal = fc
      .tuple(
        fc.boolean(),
        fc.stringMatching(/^(0|[1-9]\d{0,40})$/),
        fc.option(fc.stringMatching(/^\d{1,30}$/)),
        fc.option(fc.integer({ min: -400, max: 400 })),
      )
      .map(([negative, whole, fraction, exponent]) => {
        const e = exponent === null ? '' : `e${exponent}`;
        return `${negative ? '-' : ''}${whole}${fraction === null ? '' : `.${fraction}`}${e}`;
      });
    fc.assert(
      fc.property(literal, (text) => {
        const value = (parseJsonExact(`[${text}]`) as unknown[])[0];
        const written = JSON.stringify(value);
        const a = decimalOf(text)!;
        const b = decimalOf(written)!;
        expect([b.digits, b.digits === '' ? 0 : b.exponent]).toEqual([
          a.digits,
          a.digits === '' ? 0 : a.exponent,
        ]);
        if (a.digits !== '') expect(b.negative).toBe(a.negative);
      }),
    );
  });

  it('integers beyond 2^53 stay exact; 2^53 itself is a double', () => {
    expect(isExactNumber(exactOrNumber('9007199254740993'))).toBe(true);
    expect(exactOrNumber('9007199254740992')).toBe(9007199254740992);
    expect(plainText(decimalOf('1.5e3')!)).toBe('1500');
    expect(plainText(decimalOf('-0.00012e-2')!)).toBe('-0.0000012');
    expect(exactOrNumber('0x10')).toBeUndefined();
  });
});
