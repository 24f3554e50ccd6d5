// Which mapping a record belongs to, which Salesforce operation it needs, and how it is addressed.
import type { Operation, SinkConfig, TopicMapping } from '../config/index.ts';
import type { DecodedRecord, Rejection } from '../records.ts';
import { reject } from '../records.ts';

/** How a record is found in the target org. */
export interface Address {
  /** `Id`, or the mapping's external id field. */
  field: string;
  value: string;
}

export interface ResolvedRecord extends DecodedRecord {
  mapping: TopicMapping;
  operation: Operation;
  /** Absent for insert: Salesforce assigns the Id. */
  address?: Address;
  /**
   * Identifies the source record across the stream (`Id` or external id value, even for inserts), so
   * the planner keeps two changes to the same record in Kafka order.
   */
  recordKey?: string;
}

/** Mappings by topic, built once per configuration. */
export type MappingIndex = ReadonlyMap<string, TopicMapping>;

export function indexMappings(config: Pick<SinkConfig, 'mappings'>): MappingIndex {
  return new Map(config.mappings.map((m) => [m.topic, m]));
}

export const EVENT_TYPES = ['created', 'updated', 'deleted', 'undeleted'] as const;

/**
 * The operation for an `_EventType` under a mapping that honours it. `undeleted` is treated like
 * `created`: the record exists again in the source, so it must exist again in the target (a new record,
 * or with an external id an upsert that revives the data without a duplicate).
 */
function operationForEvent(eventType: string, mapping: TopicMapping): Operation | undefined {
  switch (eventType) {
    case 'created':
    case 'undeleted':
      return mapping.externalIdField ? 'upsert' : 'insert';
    case 'updated':
      return mapping.externalIdField ? 'upsert' : 'update';
    case 'deleted':
      return mapping.operation === 'hardDelete' ? 'hardDelete' : 'delete';
    default:
      return undefined;
  }
}

function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** Case-insensitive field lookup: Salesforce field names are case-insensitive. */
function fieldValue(value: DecodedRecord['value'], field: string): unknown {
  if (field in value) return value[field];
  const lower = field.toLowerCase();
  for (const key of Object.keys(value)) if (key.toLowerCase() === lower) return value[key];
  return undefined;
}

/**
 * Resolves a decoded record's mapping, operation and address. Never throws.
 *
 * @example
 * const resolved = resolveRecord(decoded, indexMappings(config));
 * if (!isRejection(resolved)) resolved.operation; // 'update'
 */
export function resolveRecord(record: DecodedRecord, mappings: MappingIndex): ResolvedRecord | Rejection {
  const mapping = mappings.get(record.topic);
  if (!mapping) {
    return reject(
      record,
      'UNMAPPED_TOPIC',
      `topic "${record.topic}" has no mapping: add one to the configuration's mappings`,
    );
  }
  const objectType = record.value._ObjectType;
  if (typeof objectType === 'string' && objectType.toLowerCase() !== mapping.sobject.toLowerCase()) {
    return reject(
      record,
      'OBJECT_TYPE_MISMATCH',
      `_ObjectType is "${objectType}" but topic "${record.topic}" maps to ${mapping.sobject}: fix the mapping's sobject or the topic`,
      ['_ObjectType'],
    );
  }

  let operation: Operation = mapping.operation;
  const eventType = record.value._EventType;
  if (mapping.eventType === 'honour' && eventType !== undefined && eventType !== null) {
    const fromEvent = typeof eventType === 'string' ? operationForEvent(eventType, mapping) : undefined;
    if (!fromEvent) {
      return reject(
        record,
        'UNKNOWN_EVENT_TYPE',
        `_EventType must be one of ${EVENT_TYPES.join(', ')}; set the mapping's eventType to override to ignore it`,
        ['_EventType'],
      );
    }
    operation = fromEvent;
  }

  const id = scalarText(fieldValue(record.value, 'Id'));
  const ext = mapping.externalIdField;
  const extValue = ext ? scalarText(fieldValue(record.value, ext)) : undefined;
  const recordKey =
    ext && extValue !== undefined ? `${ext}=${extValue}` : id !== undefined ? `Id=${id}` : undefined;
  const base = { ...record, mapping, operation, ...(recordKey ? { recordKey } : {}) };

  if (operation === 'insert') return base;
  if (operation === 'upsert' || ext) {
    if (extValue === undefined) {
      return reject(
        record,
        'MISSING_EXTERNAL_ID',
        `${operation} on ${mapping.sobject} is addressed by external id ${ext}, which the record lacks or leaves empty`,
        [ext!],
      );
    }
    return { ...base, address: { field: ext!, value: extValue } };
  }
  if (id === undefined) {
    return reject(
      record,
      'MISSING_ID',
      `${operation} on ${mapping.sobject} needs the record's Id (or configure externalIdField to address records across orgs)`,
      ['Id'],
    );
  }
  return { ...base, address: { field: 'Id', value: id } };
}
