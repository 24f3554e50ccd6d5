// The pure stages in order: decode → resolve → shape → plan. Effects (Salesforce, DynamoDB, outcome
// publishing) happen around this, never inside.
import type { SinkConfig } from './config/index.ts';
import { csvRowProblem } from './csv/index.ts';
import { decodeValue } from './decode/index.ts';
import { planWrites, type WritePlan } from './plan/plan.ts';
import type { KafkaRecord, Rejection } from './records.ts';
import { isRejection, reject } from './records.ts';
import { type MappingIndex, type ResolvedRecord, resolveRecord } from './resolve/resolve.ts';
import { type ShapedRecord, shapeRecord } from './shape/shape.ts';
import type { SObjectSchema } from './shape/sobject-schema.ts';

export interface PreparedBatch {
  plan: WritePlan;
  /** Records that can never be written as they are, in delivery order. */
  rejections: Rejection[];
  /** Every shaped record, in delivery order (the plan holds the same objects). */
  shaped: ShapedRecord[];
}

export interface PrepareOptions {
  config: Pick<SinkConfig, 'bulk'>;
  mappings: MappingIndex;
  /** Describe-based schema of an sObject, when known; without it no field is filtered or type-checked. */
  schemaOf?: (sobject: string) => SObjectSchema | undefined;
}

/** Runs one record through decode → resolve → shape (and the CSV check for bulk mappings). */
export function prepareRecord(record: KafkaRecord, options: PrepareOptions): ShapedRecord | Rejection {
  const decoded = decodeValue(record);
  if (isRejection(decoded)) return decoded;
  const resolved = resolveRecord(decoded, options.mappings);
  if (isRejection(resolved)) return resolved;
  return shapeResolved(resolved, options.schemaOf?.(resolved.mapping.sobject));
}

/** The schema-dependent part: shape, and for bulk mappings check that a CSV can carry the values. */
export function shapeResolved(
  resolved: ResolvedRecord,
  schema: SObjectSchema | undefined,
): ShapedRecord | Rejection {
  const shaped = shapeRecord(resolved, schema);
  if (isRejection(shaped) || shaped.mapping.mode !== 'bulk') return shaped;
  const problem = csvRowProblem(shaped.fields);
  return problem
    ? reject(
        shaped,
        'VALUE_NOT_ENCODABLE',
        `bulk CSV cannot carry these values: ${problem.message}`,
        problem.fields,
      )
    : shaped;
}

/**
 * Prepares a batch of Kafka records: every record is either in the plan or rejected. Never throws on
 * bad records.
 *
 * @example
 * const { plan, rejections } = prepareBatch(recordsOfEvent(event), { config, mappings: indexMappings(config) });
 */
export function prepareBatch(records: readonly KafkaRecord[], options: PrepareOptions): PreparedBatch {
  const rejections: Rejection[] = [];
  const shaped: ShapedRecord[] = [];
  for (const record of records) {
    const result = prepareRecord(record, options);
    if (isRejection(result)) rejections.push(result);
    else shaped.push(result);
  }
  return { plan: planWrites(shaped, { bulkUnitSize: options.config.bulk.batchSize }), rejections, shaped };
}

/**
 * The sObjects whose cached describe may be behind the org: a record was rejected for a field the
 * describe lacks (UNKNOWN_FIELD), perhaps just added to the org. The caller asks for a refreshed
 * describe of each (`schemaOf(…, { refresh: true })`, at most once a minute per sObject) and shapes
 * the records again when a schema changed, so a field added to the org and to the stream at once is
 * written, not rejected.
 *
 * @example
 * for (const sobject of sobjectsWithUnknownFields(prepared, mappings)) await schemaOf(sobject, ctx, { refresh: true });
 */
export function sobjectsWithUnknownFields(prepared: Iterable<unknown>, mappings: MappingIndex): string[] {
  const sobjects = new Set<string>();
  for (const item of prepared) {
    if (!isRejection(item) || item.code !== 'UNKNOWN_FIELD') continue;
    const mapping = mappings.get(item.record.topic);
    if (mapping) sobjects.add(mapping.sobject);
  }
  return [...sobjects];
}
