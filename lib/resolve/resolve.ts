// Which mapping a record belongs to, which Salesforce operation it needs, and how it is addressed.
import type { Operation, SinkConfig, TopicMapping } from '../config/index.ts';
import { isExactNumber } from '../decode/exact-number.ts';
import type { DecodedRecord, JsonValue, Rejection } from '../records.ts';
import { reject } from '../records.ts';
import { fieldName } from './field-names.ts';
import { canonicalId } from './salesforce-id.ts';

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

/** Salesforce's longest external id: text external ids hold at most 255 characters. */
export const MAX_EXTERNAL_ID_LENGTH = 255;

function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  // Beyond 2^53 the digits as written are the value: two ids one apart stay two records.
  if (isExactNumber(value)) return value.rawJSON;
  return undefined;
}

/** Two keys that name one field in different letter cases, with different values. */
class Ambiguous {
  readonly keys: string[];
  constructor(keys: string[]) {
    this.keys = keys;
  }
}

type Found = JsonValue | undefined | Ambiguous;

const lookedUp = new WeakMap<TopicMapping, readonly string[]>();
/** The fields resolve reads of a mapping's records, lower-cased, worked out once per mapping. */
function lookedUpOf(mapping: TopicMapping): readonly string[] {
  let fields = lookedUp.get(mapping);
  if (!fields) {
    fields = [
      '_objecttype',
      '_eventtype',
      'id',
      ...(mapping.externalIdField ? [mapping.externalIdField.toLowerCase()] : []),
    ];
    lookedUp.set(mapping, fields);
  }
  return fields;
}

/**
 * Case-insensitive lookup of several fields in one pass over the record's own keys (Salesforce field
 * names are case-insensitive). Keys that differ only in case and disagree are ambiguous: which one
 * Salesforce would take is unknowable.
 */
function fieldValues(value: DecodedRecord['value'], wanted: readonly string[]): Found[] {
  const keys: Array<string | undefined> = [];
  let others: Array<string[] | undefined> | undefined;
  for (const key of Object.keys(value)) {
    // Only a key of a wanted length can be a spelling of it: most keys are never lower-cased.
    let i = -1;
    for (let j = 0; j < wanted.length; j++) {
      if (wanted[j]!.length === key.length && fieldName(key).lower === wanted[j]) {
        i = j;
        break;
      }
    }
    if (i === -1) continue;
    const first = keys[i];
    if (first === undefined) keys[i] = key;
    else if (JSON.stringify(value[key]) !== JSON.stringify(value[first])) {
      others ??= [];
      const list = others[i] ?? [first];
      list.push(key);
      others[i] = list;
    }
  }
  return wanted.map((_, i) => {
    const ambiguous = others?.[i];
    if (ambiguous) return new Ambiguous(ambiguous);
    const key = keys[i];
    return key === undefined ? undefined : value[key];
  });
}

function ambiguity(record: DecodedRecord, ambiguous: Ambiguous): Rejection {
  return reject(
    record,
    'DUPLICATE_FIELD',
    `the record names one field several times in different letter cases, with different values (${ambiguous.keys.join(', ')}); Salesforce field names ignore case: keep one`,
    ambiguous.keys,
  );
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
  const ext = mapping.externalIdField;
  const [objectType, eventType, rawId, rawExt] = fieldValues(record.value, lookedUpOf(mapping));
  if (objectType instanceof Ambiguous) return ambiguity(record, objectType);
  if (typeof objectType === 'string' && objectType.toLowerCase() !== mapping.sobject.toLowerCase()) {
    return reject(
      record,
      'OBJECT_TYPE_MISMATCH',
      `_ObjectType is "${objectType}" but topic "${record.topic}" maps to ${mapping.sobject}: fix the mapping's sobject or the topic`,
      ['_ObjectType'],
    );
  }

  let operation: Operation = mapping.operation;
  if (eventType instanceof Ambiguous) return ambiguity(record, eventType);
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

  if (rawId instanceof Ambiguous) return ambiguity(record, rawId);
  const id = scalarText(rawId);
  if (rawExt instanceof Ambiguous) return ambiguity(record, rawExt);
  const extValue = scalarText(rawExt);
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
    if (extValue.length > MAX_EXTERNAL_ID_LENGTH) {
      return reject(
        record,
        'STRING_TOO_LONG',
        `${ext} has ${extValue.length} characters; Salesforce external ids hold at most ${MAX_EXTERNAL_ID_LENGTH}`,
        [ext!],
      );
    }
    return { ...base, address: { field: ext!, value: extValue } };
  }
  if (id !== undefined && canonicalId(id) === undefined) {
    return reject(
      record,
      'MALFORMED_ID',
      `${operation} on ${mapping.sobject} needs a Salesforce Id (15 or 18 letters and digits), and the record's Id is not one`,
      ['Id'],
    );
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
