// Fuzz at suite size: schema-aware edge values mixed with good records, garbage and mutated PushTopic
// records through the whole handler against the strict emulator. `npm run bench` runs ≥ 20,000.
import { describe, expect, it } from 'vitest';
import { fuzzHandler, fuzzPipeline } from './fuzz.ts';

describe('fuzz', () => {
  it('the pure stages never throw, and never accept a realtime body Salesforce would refuse whole, on 3,000 generated records', () => {
    const result = fuzzPipeline({ cases: 3_000, seed: 11 });
    expect(result.failure).toBeUndefined();
  });

  it('through the handler, ≥ 2,000 generated records: no invocation throws, one outcome each, listed codes, no good record fails', async () => {
    const report = await fuzzHandler({ cases: 2_000, seed: 11 });
    expect(report.failure).toBeUndefined();
    expect(report.cases).toBeGreaterThanOrEqual(2_000);
    expect(report.crashes).toBe(0);
    expect(report.uncommitted).toBe(0);
    expect(report.withoutOutcome).toBe(0);
    expect(report.repeated).toBe(0);
    expect(report.conflicting).toBe(0);
    expect(report.unlistedCodes).toBe(0);
    expect(report.goodFailed).toBe(0);
    // The generators reach the checks they exist for.
    expect(report.byStatus.succeeded).toBeGreaterThan(200);
    expect(report.byStatus.rejected).toBeGreaterThan(200);
    for (const code of [
      'INVALID_FIELD_VALUE',
      'NUMBER_OUTSIDE_VALID_RANGE',
      'STRING_TOO_LONG',
      'INVALID_FIELD_NAME',
    ])
      expect(report.codes[code], code).toBeGreaterThan(0);
  }, 240_000);
});
