import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeOutcome, TRUNCATED_CODE } from './encode.ts';
import { OutcomeTooLargeError } from './errors.ts';
import type { Outcome, OutcomeError } from './outcome.ts';

function failed(errors: OutcomeError[], overrides: Partial<Outcome> = {}): Outcome {
  return {
    status: 'failed',
    topic: 'leads',
    partition: 2,
    offset: 41,
    key: 'lead-41',
    sobject: 'Lead',
    operation: 'insert',
    mode: 'realtime',
    errors,
    attempts: 1,
    timestamp: '2025-01-02T03:04:05.000Z',
    ...overrides,
  };
}

const bytes = (text: string) => Buffer.byteLength(text);

describe('encodeOutcome', () => {
  it('is the outcome as JSON when it fits', () => {
    const outcome = failed([
      { code: 'REQUIRED_FIELD_MISSING', message: 'Required fields are missing', fields: ['LastName'] },
    ]);
    const encoded = encodeOutcome(outcome, 262_144);
    expect(encoded).toEqual({
      body: JSON.stringify(outcome),
      bytes: bytes(JSON.stringify(outcome)),
      truncated: false,
    });
  });

  it('shortens the longest error message to fit, with the marker, leaving the rest as it was', () => {
    const outcome = failed([
      { code: 'A', message: 'short', fields: ['Email'] },
      { code: 'B', message: 'ü'.repeat(30_000), fields: [] },
    ]);
    const encoded = encodeOutcome(outcome, 10_000);
    const body = JSON.parse(encoded.body) as Outcome;

    expect(encoded.truncated).toBe(true);
    expect(encoded.bytes).toBeLessThanOrEqual(10_000);
    expect(encoded.bytes).toBeGreaterThan(9_900);
    expect(body.errors[0]).toEqual({ code: 'A', message: 'short', fields: ['Email'] });
    expect(body.errors[1]!.message).toMatch(/^ü+ …\[truncated\]$/);
    expect({ ...body, errors: [] }).toEqual({ ...outcome, errors: [] });
  });

  it('leaves out later errors and counts them in an OUTCOME_TRUNCATED error when messages are short already', () => {
    const errors = Array.from({ length: 2_000 }, (_, i) => ({
      code: `E${i}`,
      message: 'm'.repeat(100),
      fields: [],
    }));
    const encoded = encodeOutcome(failed(errors), 20_000);
    const body = JSON.parse(encoded.body) as Outcome;

    expect(encoded.bytes).toBeLessThanOrEqual(20_000);
    const summary = body.errors.at(-1)!;
    expect(summary.code).toBe(TRUNCATED_CODE);
    const kept = body.errors.length - 1;
    expect(body.errors.slice(0, kept)).toEqual(errors.slice(0, kept));
    expect(summary.message).toBe(
      `${2_000 - kept} more error(s) and 0 field name(s) were left out to fit the destination's message size limit`,
    );
  });

  it('halves a huge field list, counting what it left out', () => {
    const fields = Array.from({ length: 10_000 }, (_, i) => `Field_${i}__c`);
    const encoded = encodeOutcome(
      failed([{ code: 'UNKNOWN_FIELD', message: 'unknown fields', fields }]),
      50_000,
    );
    const body = JSON.parse(encoded.body) as Outcome;

    expect(encoded.bytes).toBeLessThanOrEqual(50_000);
    const kept = body.errors[0]!.fields;
    expect(kept).toEqual(fields.slice(0, kept.length));
    expect(body.errors[1]!.message).toContain(`${10_000 - kept.length} field name(s)`);
  });

  it('stores a key over 16 KiB as its digest and length, whatever the limit', () => {
    const key = 'k'.repeat(100_000);
    const encoded = encodeOutcome(failed([], { status: 'succeeded', key }), 1_000_000);
    const body = JSON.parse(encoded.body) as Outcome;
    expect(body.key).toBe(`sha256:${createHash('sha256').update(key).digest('hex')} (100000 bytes)`);
    expect(body.errors).toEqual([]);
  });

  it('replaces a key by its digest as a last resort when the outcome is still too large', () => {
    const key = 'k'.repeat(10_000);
    const encoded = encodeOutcome(failed([], { status: 'succeeded', key }), 5_000);
    const body = JSON.parse(encoded.body) as Outcome;
    expect(encoded.bytes).toBeLessThanOrEqual(5_000);
    expect(body.key).toMatch(/^sha256:[0-9a-f]{64} \(10000 bytes\)$/);
    expect(encoded.truncated).toBe(true);
  });

  it('throws OutcomeTooLargeError when the limit is below what cannot be cut', () => {
    expect(() => encodeOutcome(failed([], { topic: 't'.repeat(2_000) }), 1_000)).toThrow(
      OutcomeTooLargeError,
    );
  });

  it('escapes U+FFFE and U+FFFF, which SQS refuses, keeping the JSON equal', () => {
    const outcome = failed([{ code: 'X', message: 'a\uFFFFb\uFFFEc', fields: [] }]);
    const { body } = encodeOutcome(outcome, 262_144);
    expect(body).not.toMatch(/[\uFFFE\uFFFF]/);
    expect(JSON.parse(body)).toEqual(outcome);
  });

  it('always fits the limit, keeps the coordinates and status, and is exact when not truncated', () => {
    const text = fc.string({ unit: 'binary', maxLength: 1_000 });
    const error = fc.record({
      code: fc.string({ maxLength: 40 }),
      message: text,
      fields: fc.array(text, { maxLength: 20 }),
    });
    const outcome = fc.record({
      status: fc.constantFrom('succeeded', 'failed', 'rejected'),
      topic: fc.stringMatching(/^[a-zA-Z0-9._-]{1,249}$/),
      partition: fc.nat(1_000),
      offset: fc.maxSafeNat(),
      key: fc.option(text),
      errors: fc.array(error, { maxLength: 30 }),
    });
    fc.assert(
      fc.property(outcome, fc.integer({ min: 8_192, max: 100_000 }), (partial, limit) => {
        const input = failed(partial.errors, partial as Partial<Outcome>);
        const encoded = encodeOutcome(input, limit);
        expect(encoded.bytes).toBe(bytes(encoded.body));
        expect(encoded.bytes).toBeLessThanOrEqual(limit);
        expect(encoded.body).not.toMatch(/[\uFFFE\uFFFF]/);
        const body = JSON.parse(encoded.body) as Outcome;
        expect([body.status, body.topic, body.partition, body.offset]).toEqual([
          input.status,
          input.topic,
          input.partition,
          input.offset,
        ]);
        if (!encoded.truncated) expect(body).toEqual(input);
      }),
      { numRuns: 100 },
    );
  });
});
