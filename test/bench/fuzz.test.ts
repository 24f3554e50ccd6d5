// Fuzz at a small size, inside the suite: generated garbage, random JSON and mutated PushTopic records
// never crash the handler and all get one outcome. `npm run bench` runs ≥ 10,000 cases.
import { describe, expect, it } from 'vitest';
import { fuzzHandler, fuzzPipeline } from './fuzz.ts';

describe('fuzz (small)', () => {
  it('the pure stages never throw on 2,000 generated records', () => {
    const result = fuzzPipeline({ cases: 2_000, seed: 11 });
    expect(result.failure).toBeUndefined();
  });

  it('the handler never crashes and gives every one of ≥ 300 generated records one outcome', async () => {
    const report = await fuzzHandler({ cases: 300, seed: 11, maxBatch: 40 });
    expect(report.failure).toBeUndefined();
    expect(report.cases).toBeGreaterThanOrEqual(300);
    expect(report.crashes).toBe(0);
    expect(report.uncommitted).toBe(0);
    expect(report.withoutOutcome).toBe(0);
    expect(report.conflicting).toBe(0);
  });
});
