// Groups shaped records into write units: as few Salesforce calls (or bulk jobs) as possible, while
// two changes to the same source record are applied in Kafka order.
//
// Algorithm (levelling, then deferral):
// 1. Walk the records in delivery order (partition by partition, offsets ascending; Kafka orders a
//    key only within its partition). A record's level is one more than the level of the previous
//    record with the same key (`sobject` + `Id`/external id value), or 0 when it has none. Records
//    without a key (inserts of records without Id) are level 0. So every key's records are at strictly
//    increasing levels, in Kafka order.
// 2. Stages run one after another; the units of a stage may run concurrently. Within a stage, the
//    records of one group (sObject, operation, mode, external id field, allOrNone; for bulk also the
//    relationship columns, see `relationshipColumns`) are cut into units
//    of at most the unit size, in delivery order. Two records with one key are never in one stage, so
//    never in one unit nor in concurrent units.
// 3. Deferral: a group present in stages s < t whose units both end partly full can save a unit by
//    moving records of stage s into stage t, when each moved record's next change (if any) is at a level
//    above t. Working from the last stage backwards, the planner moves as many as fit. The levelling
//    alone gives ⌈n/size⌉ units per group whenever keys do not repeat; deferral recovers the common
//    case where a few keys repeat (e.g. two updates of one record among hundreds).
import type { Mode, Operation } from '../config/index.ts';
import { isExactNumber } from '../decode/exact-number.ts';
import { canonicalId } from '../resolve/salesforce-id.ts';
import type { ShapedRecord } from '../shape/shape.ts';

export interface UnitGroup {
  sobject: string;
  operation: Operation;
  mode: Mode;
  externalIdField?: string;
  allOrNone: boolean;
}

export interface WriteUnit {
  group: UnitGroup;
  /** The stage it belongs to: all units of stage n finish before any unit of stage n + 1 starts. */
  stage: number;
  records: ShapedRecord[];
}

export interface WritePlan {
  /** `stages[n]` holds the units that may run concurrently once stages 0…n-1 are done. */
  stages: WriteUnit[][];
}

export interface PlanOptions {
  /** Records per realtime unit: sObject Collections take at most 200. */
  realtimeUnitSize?: number;
  /** Records per bulk unit (one Bulk API 2.0 job). */
  bulkUnitSize: number;
}

export const COLLECTIONS_LIMIT = 200;

function groupKeyOf(record: ShapedRecord): string {
  const m = record.mapping;
  const ext = record.address && record.address.field !== 'Id' ? record.address.field : '';
  const key = `${m.sobject}\u0000${record.operation}\u0000${m.mode}\u0000${ext}\u0000${m.allOrNone}`;
  return m.mode === 'bulk' ? `${key}\u0000${relationshipColumns(record)}` : key;
}

/**
 * The relationship columns a bulk record adds to its job's CSV header (`Account.External_Id__c`). A
 * header column Salesforce cannot resolve fails the whole job, and the sink cannot check it (it knows
 * the mapping's sObject, not the referenced one): records with different relationship columns go in
 * different jobs, so a bad column fails only the records that carry it.
 */
function relationshipColumns(record: ShapedRecord): string {
  let columns: string[] | undefined;
  for (const name in record.fields) {
    const value = record.fields[name]!;
    if (typeof value !== 'object' || value === null || Array.isArray(value) || isExactNumber(value)) continue;
    columns ??= [];
    for (const inner of Object.keys(value)) columns.push(`${name}.${inner}`.toLowerCase());
  }
  return columns ? columns.sort().join(',') : '';
}

function groupOf(record: ShapedRecord): UnitGroup {
  const m = record.mapping;
  const group: UnitGroup = {
    sobject: m.sobject,
    operation: record.operation,
    mode: m.mode,
    allOrNone: m.allOrNone,
  };
  if (record.address && record.address.field !== 'Id') group.externalIdField = record.address.field;
  return group;
}

/**
 * The ordering key: one source record of one sObject. Field names and sObjects are case-insensitive.
 * An Id counts in its 18-character form: `00Q…lsWLi` and `00Q…lsWLiUAM` are one record (and lower-casing
 * the 18-character form loses nothing, its suffix encodes the case).
 */
function orderingKey(record: ShapedRecord): string | undefined {
  const key = record.recordKey;
  if (key === undefined) return undefined;
  const id = key.startsWith('Id=') ? canonicalId(key.slice(3)) : undefined;
  // Salesforce matches external id values case-insensitively: so do the keys.
  return `${record.mapping.sobject.toLowerCase()}\u0000${id === undefined ? key.toLowerCase() : `id=${id.toLowerCase()}`}`;
}

interface Placed {
  record: ShapedRecord;
  /** The stage it is planned in: its level, or a later one after deferral. */
  stage: number;
  /** Level of the next record with the same key, or Infinity. */
  nextLevel: number;
}

/**
 * Plans the writes of one invocation's shaped records.
 *
 * @example
 * const plan = planWrites(shaped, { bulkUnitSize: config.bulk.batchSize });
 * for (const stage of plan.stages) await Promise.all(stage.map(write));
 */
export function planWrites(records: readonly ShapedRecord[], options: PlanOptions): WritePlan {
  const realtimeSize = Math.min(options.realtimeUnitSize ?? COLLECTIONS_LIMIT, COLLECTIONS_LIMIT);
  const sizeOf = (mode: Mode) => (mode === 'realtime' ? realtimeSize : options.bulkUnitSize);

  // 1. Levels. buckets[level] maps group key → placed records in delivery order.
  const buckets: Map<string, Placed[]>[] = [];
  const lastOfKey = new Map<string, Placed & { level: number }>();
  for (const record of records) {
    const key = orderingKey(record);
    const previous = key === undefined ? undefined : lastOfKey.get(key);
    const level = previous ? previous.level + 1 : 0;
    const placed: Placed = { record, stage: level, nextLevel: Number.POSITIVE_INFINITY };
    if (previous) previous.nextLevel = level;
    if (key !== undefined) lastOfKey.set(key, Object.assign(placed, { level }));
    buckets[level] ??= new Map();
    const groupKey = groupKeyOf(record);
    const bucket = buckets[level]!.get(groupKey);
    if (bucket) bucket.push(placed);
    else buckets[level]!.set(groupKey, [placed]);
  }

  // 3. Deferral, from the last stage backwards, between consecutive occurrences of a group.
  const lastStageOfGroup = new Map<string, number>();
  for (let s = buckets.length - 1; s >= 0; s--) {
    for (const [groupKey, placed] of buckets[s]!) {
      const t = lastStageOfGroup.get(groupKey);
      if (t !== undefined && deferInto(placed, buckets[t]!.get(groupKey)!, t)) {
        const staying = placed.filter((p) => p.stage === s);
        buckets[t]!.set(groupKey, [...placed.filter((p) => p.stage === t), ...buckets[t]!.get(groupKey)!]);
        if (staying.length === 0) {
          buckets[s]!.delete(groupKey);
          continue;
        }
        buckets[s]!.set(groupKey, staying);
      }
      lastStageOfGroup.set(groupKey, s);
    }
  }

  /** Marks the records to move from `placed` into stage `t` (returns false if moving saves nothing). */
  function deferInto(placed: Placed[], later: Placed[], t: number): boolean {
    const size = sizeOf(placed[0]!.record.mapping.mode);
    const spare = later.length % size === 0 ? 0 : size - (later.length % size);
    const overflow = placed.length % size;
    // Moving saves a unit only if every record of the partly full unit fits.
    if (overflow === 0 || spare < overflow) return false;
    const movable = placed.filter((p) => p.nextLevel > t);
    if (movable.length < overflow) return false;
    for (const p of movable.slice(movable.length - overflow)) p.stage = t;
    return true;
  }

  // 2. Cut each stage's groups into units.
  const stages: WriteUnit[][] = [];
  for (const level of buckets) {
    const units: WriteUnit[] = [];
    for (const placed of level.values()) {
      const size = sizeOf(placed[0]!.record.mapping.mode);
      const group = groupOf(placed[0]!.record);
      for (let i = 0; i < placed.length; i += size) {
        units.push({ group, stage: stages.length, records: placed.slice(i, i + size).map((p) => p.record) });
      }
    }
    if (units.length > 0) stages.push(units);
  }
  return { stages };
}
