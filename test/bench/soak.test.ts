// The fault soak at a small size, inside the suite: faults on ~10 % of calls and random handler kills
// must lose nothing, write nothing twice and leave every record with an outcome. The full-size soak and
// its cost figures are in `npm run bench` / `npm run soak`.
import { describe, expect, it } from 'vitest';
import { mskEvent } from '../../local/events/build-event.ts';
import { leadStream } from '../../local/events/generate.ts';
import { outcomeMeaning, startSink } from './harness.ts';
import { runSoak } from './soak.ts';

describe('fault soak (small)', () => {
  it('1,500 records under faults and random crashes: nothing lost or duplicated, every record has an outcome', async () => {
    const report = await runSoak({
      records: 1_500,
      rate: 0.1,
      crashRate: 0.1,
      batch: 250,
      seed: 3,
      faults: true,
    });
    expect(report.delivery.crashes).toBeGreaterThan(0);
    expect(Object.values(report.faultsFired).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(report.delivery.uncommitted).toBe(0);
    expect(report.org).toEqual({
      leadsMissing: 0,
      leadsStale: 0,
      leadsNotDeleted: 0,
      leadDuplicates: 0,
      ordersMissing: 0,
      orderDuplicates: 0,
    });
    expect(report.lost).toBe(0);
    expect(report.duplicated).toBe(0);
    expect(report.outcomes.withoutOutcome).toBe(0);
    expect(report.outcomes.phantom).toBe(0);
    expect(report.outcomes.byStatus).toEqual({ succeeded: 1_500 });
    // A crash right after publishing re-publishes, identically.
    expect(report.outcomes.conflicting).toBe(0);
    expect(report.withoutExactlyOneOutcome).toBe(0);
  });

  // Regression (found by the soak, fixed in 1437eab): upserts and deletes used to be replayed after a
  // crash between publishing and marking done, and the second publication said `created: false` after
  // `created: true`, or lost the deleted record's salesforceId.
  it('a crash right after publishing re-publishes identical outcomes (upsert and delete by external id)', async () => {
    const sink = await startSink({
      mappings: [
        {
          topic: 'sfdc-pushtopic-lead',
          sobject: 'Lead',
          externalIdField: 'CustomId__c',
          unknownFields: 'ignore',
        },
      ],
    });
    try {
      const records = leadStream({ leads: 3, partitions: 1, updates: 0, deleteEvery: 1 });
      let publishes = 0;
      await sink.deliver(mskEvent(records), {
        after: (step) => {
          // Crash after the first publish (the upserts) and after the second (the deletes).
          if (step === 'publish' && ++publishes <= 3 && publishes !== 2) throw new Error('injected crash');
        },
      });
      const byRecord = new Map<number, Set<string>>();
      for (const o of sink.outcomes.outcomes)
        byRecord.set(o.offset, (byRecord.get(o.offset) ?? new Set()).add(outcomeMeaning(o)));
      expect(byRecord.size).toBe(records.length);
      for (const [offset, meanings] of byRecord) expect([...meanings], `offset ${offset}`).toHaveLength(1);
    } finally {
      await sink.close();
    }
  });
});
