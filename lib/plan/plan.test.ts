import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.ts';
import type { Operation } from '../config/schema.ts';
import type { ShapedRecord } from '../shape/shape.ts';
import { COLLECTIONS_LIMIT, planWrites, type WritePlan } from './plan.ts';

const config = parseConfig({
  mappings: [
    { topic: 'leads', sobject: 'Lead' },
    { topic: 'accounts', sobject: 'Account', externalIdField: 'External_Id__c' },
    { topic: 'bulk-leads', sobject: 'Lead', mode: 'bulk' },
  ],
});
const mapping = (topic: string) => config.mappings.find((m) => m.topic === topic)!;

let offsets = 0;
function rec(id: string | undefined, operation: Operation, topic = 'leads', partition = 0): ShapedRecord {
  const m = mapping(topic);
  const key = m.externalIdField ? `${m.externalIdField}=${id}` : id === undefined ? undefined : `Id=${id}`;
  return {
    topic,
    partition,
    offset: offsets++,
    timestamp: 0,
    key: id ?? null,
    headers: [],
    value: {},
    mapping: m,
    operation,
    ...(key ? { recordKey: key } : {}),
    ...(operation !== 'insert' && id ? { address: { field: m.externalIdField ?? 'Id', value: id } } : {}),
    fields: {},
  };
}

const unitCount = (plan: WritePlan) => plan.stages.reduce((n, s) => n + s.length, 0);

/** Checks the two ordering invariants; returns the stage and unit index of every record. */
function checkOrder(records: ShapedRecord[], plan: WritePlan): void {
  const where = new Map<ShapedRecord, { stage: number; unit: number }>();
  plan.stages.forEach((units, stage) => {
    units.forEach((unit, u) => {
      for (const r of unit.records) where.set(r, { stage, unit: u });
    });
  });
  expect(where.size).toBe(records.length);
  const lastStage = new Map<string, number>();
  for (const r of records) {
    if (!r.recordKey) continue;
    const key = `${r.mapping.sobject}|${r.recordKey}`;
    const at = where.get(r)!;
    const before = lastStage.get(key);
    // A later change to the same record runs in a strictly later stage: never in the same unit nor in a
    // concurrently running one.
    if (before !== undefined) expect(at.stage).toBeGreaterThan(before);
    lastStage.set(key, at.stage);
  }
}

describe('planWrites', () => {
  it('puts 1,000 distinct records of one group in ⌈1000/200⌉ = 5 units of one stage', () => {
    const records = Array.from({ length: 1000 }, (_, i) => rec(`id${i}`, 'update'));
    const plan = planWrites(records, { bulkUnitSize: 10_000 });
    expect(plan.stages).toHaveLength(1);
    expect(plan.stages[0]!.map((u) => u.records.length)).toEqual([200, 200, 200, 200, 200]);
  });

  it('keeps created → updated → deleted of one record in three stages, batched with other records', () => {
    const records = [
      rec('a', 'insert'),
      rec('b', 'insert'),
      rec('a', 'update'),
      rec('c', 'update'),
      rec('a', 'delete'),
      rec('b', 'update'),
    ];
    const plan = planWrites(records, { bulkUnitSize: 10_000 });
    checkOrder(records, plan);
    const describeStage = (s: number) =>
      plan.stages[s]!.map((u) => `${u.group.operation}:${u.records.map((r) => r.key).join('')}`).sort();
    expect(plan.stages).toHaveLength(3);
    // The update of c could run in stage 0, but joining the stage-1 updates saves a call.
    expect(describeStage(0)).toEqual(['insert:ab']);
    expect(describeStage(1)).toEqual(['update:cab']);
    expect(describeStage(2)).toEqual(['delete:a']);
    expect(unitCount(plan)).toBe(3);
  });

  it('separates groups by sObject, operation, mode and external id field', () => {
    const records = [rec('a', 'insert'), rec('x', 'upsert', 'accounts'), rec('b', 'insert', 'bulk-leads')];
    const plan = planWrites(records, { bulkUnitSize: 10_000 });
    expect(plan.stages[0]!.map((u) => u.group)).toEqual([
      { sobject: 'Lead', operation: 'insert', mode: 'realtime', allOrNone: false },
      {
        sobject: 'Account',
        operation: 'upsert',
        mode: 'realtime',
        allOrNone: false,
        externalIdField: 'External_Id__c',
      },
      { sobject: 'Lead', operation: 'insert', mode: 'bulk', allOrNone: false },
    ]);
  });

  it('cuts bulk units at the configured size', () => {
    const records = Array.from({ length: 25_000 }, (_, i) => rec(`b${i}`, 'insert', 'bulk-leads'));
    const plan = planWrites(records, { bulkUnitSize: 10_000 });
    expect(plan.stages[0]!.map((u) => u.records.length)).toEqual([10_000, 10_000, 5_000]);
  });

  it('defers records so two updates of one record among 1,000 still take ⌈1001/200⌉ + 0 extra units', () => {
    // 1,002 updates, one record changed twice: 6 units is the minimum (1,002 / 200 → 6).
    const records = [
      rec('twice', 'update'),
      ...Array.from({ length: 1000 }, (_, i) => rec(`u${i}`, 'update')),
    ];
    records.push(rec('twice', 'update'));
    const plan = planWrites(records, { bulkUnitSize: 10_000 });
    checkOrder(records, plan);
    expect(unitCount(plan)).toBe(6);
  });

  it('inserts without a key never constrain anything', () => {
    const records = Array.from({ length: 450 }, () => rec(undefined, 'insert'));
    const plan = planWrites(records, { bulkUnitSize: 10_000 });
    expect(plan.stages).toHaveLength(1);
    expect(unitCount(plan)).toBe(3);
  });

  it('never reorders two records of one key, never exceeds 200 a realtime unit, and loses nothing (property)', () => {
    const step = fc.record({
      id: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
      op: fc.constantFrom<Operation>('insert', 'update', 'delete', 'upsert'),
      topic: fc.constantFrom('leads', 'accounts', 'bulk-leads'),
      partition: fc.integer({ min: 0, max: 2 }),
    });
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 900 }),
        fc.integer({ min: 1, max: 300 }),
        (steps, bulkUnitSize) => {
          const records = steps.map((s) => {
            const op = s.topic === 'accounts' ? 'upsert' : s.op === 'upsert' ? 'update' : s.op;
            const id = s.id === undefined && op !== 'insert' ? 0 : s.id;
            return rec(id === undefined ? undefined : `k${id}`, op, s.topic, s.partition);
          });
          const plan = planWrites(records, { bulkUnitSize });
          checkOrder(records, plan);
          for (const unit of plan.stages.flat()) {
            const limit = unit.group.mode === 'realtime' ? COLLECTIONS_LIMIT : bulkUnitSize;
            expect(unit.records.length).toBeLessThanOrEqual(limit);
            expect(unit.records.length).toBeGreaterThan(0);
            for (const r of unit.records) expect(r.mapping.mode).toBe(unit.group.mode);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('ordering keys', () => {
  it('15- and 18-character forms of one Id (in any letter case) are one key: two updates never share a unit', () => {
    const forms = ['00Q7R00001lsWLi', '00Q7R00001lsWLiUAM', '00q7r00001lswliuam'];
    const records = forms.map((id) => rec(id, 'update'));
    const plan = planWrites(records, { bulkUnitSize: 10_000 });
    expect(plan.stages.map((s) => s.map((u) => u.records.map((r) => r.address!.value)))).toEqual(
      forms.map((id) => [[id]]),
    );
  });

  it('15-character Ids that differ only in case are two records', () => {
    const plan = planWrites([rec('00Q7R00001lsWLi', 'update'), rec('00Q7R00001LSWLI', 'update')], {
      bulkUnitSize: 10_000,
    });
    expect(plan.stages).toHaveLength(1);
  });
});

describe('bulk relationship columns', () => {
  it('bulk records with different relationship columns go in different units (a bad column fails only its job); the same columns share one', () => {
    const withRef = (field: string, inner: string) => {
      const r = rec(undefined, 'insert', 'bulk-leads');
      r.fields = { LastName: 'x', [field]: { [inner]: 'v' } };
      return r;
    };
    const plain = rec(undefined, 'insert', 'bulk-leads');
    const records = [
      plain,
      withRef('Owner', 'External_Id__c'),
      withRef('Owner', 'external_id__c'),
      withRef('Account__r', 'Ext__c'),
    ];
    const plan = planWrites(records, { bulkUnitSize: 10_000 });
    expect(plan.stages).toHaveLength(1);
    expect(plan.stages[0]!.map((u) => u.records.length).sort()).toEqual([1, 1, 2]);
  });
});
