// Turns a resolved record into exactly the fields its Salesforce operation should send.
import { API_NAME, type Operation } from '../config/index.ts';
import type { JsonObject, JsonValue, Rejection } from '../records.ts';
import { reject } from '../records.ts';
import type { ResolvedRecord } from '../resolve/resolve.ts';
import type { FieldDescribe, SObjectSchema } from './sobject-schema.ts';

export interface ShapedRecord extends ResolvedRecord {
  /**
   * The fields to send, the addressing field included. A relationship set by external id stays nested
   * (`{ Account: { External_Id__c: 'A-1' } }`): Collections take it so, the CSV encoder flattens it.
   */
  fields: JsonObject;
}

/** PushTopic metadata and REST decoration: never sObject fields. */
const METADATA = new Set(['_eventtype', '_objecttype', 'attributes']);
const DAY_MS = 86_400_000;

/**
 * Lower-cased form and validity of a field name. Field names repeat across every record of a topic,
 * so they are worked out once per process (bounded, in case a producer sends random names).
 */
const names = new Map<string, { lower: string; valid: boolean }>();
function nameOf(name: string): { lower: string; valid: boolean } {
  let info = names.get(name);
  if (!info) {
    info = { lower: name.toLowerCase(), valid: API_NAME.test(name) };
    if (names.size > 50_000) names.clear();
    names.set(name, info);
  }
  return info;
}

const ignoredByMapping = new WeakMap<ResolvedRecord['mapping'], ReadonlySet<string>>();
/** A mapping's ignored fields, lower-cased, worked out once per mapping. */
function ignoredOf(mapping: ResolvedRecord['mapping']): ReadonlySet<string> {
  let set = ignoredByMapping.get(mapping);
  if (!set) {
    set = new Set(mapping.ignoreFields.map((f) => f.toLowerCase()));
    ignoredByMapping.set(mapping, set);
  }
  return set;
}

function isPlainObject(value: JsonValue): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A nested `{ExternalIdField: value}` that sets a lookup by the parent's external id. */
function asReference(value: JsonObject): [string, string | number] | undefined {
  const entries = Object.entries(value);
  if (entries.length !== 1) return undefined;
  const [field, inner] = entries[0]!;
  if (!API_NAME.test(field) || (typeof inner !== 'string' && typeof inner !== 'number')) return undefined;
  return [field, inner];
}

function writable(field: FieldDescribe, operation: Operation): boolean {
  if (operation === 'insert') return field.createable;
  if (operation === 'update') return field.updateable;
  return field.createable || field.updateable;
}

const NUMBER_TYPES = new Set(['double', 'currency', 'percent', 'int', 'long']);
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
const ISO_TIME = /^\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?Z?$/;

/** A value that does not fit its field's type: the text says how, without the value. */
class CoerceError {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/**
 * Checks a value against the field's describe type and converts what Connect sends without a schema
 * (epoch milliseconds for datetimes, days for dates). Returns the value to send, or why it can't be.
 */
function coerce(field: FieldDescribe, value: JsonValue): JsonValue | CoerceError {
  if (value === null) return value;
  const type = field.type;
  if (typeof value === 'object')
    return new CoerceError(`${field.name} (${type}) got ${Array.isArray(value) ? 'an array' : 'an object'}`);
  if (type === 'boolean') {
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    return new CoerceError(`${field.name} (boolean) got a ${typeof value} that is not true or false`);
  }
  if (NUMBER_TYPES.has(type)) {
    if (typeof value === 'number') return value;
    if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
      return Number(value);
    return new CoerceError(`${field.name} (${type}) got a ${typeof value} that is not a number`);
  }
  if (type === 'date') {
    if (typeof value === 'number') return new Date(value * DAY_MS).toISOString().slice(0, 10);
    if (typeof value === 'string' && ISO_DATE.test(value)) return value;
    return new CoerceError(`${field.name} (date) needs yyyy-MM-dd or days since 1970-01-01`);
  }
  if (type === 'datetime') {
    if (typeof value === 'number') {
      const date = new Date(value);
      if (!Number.isNaN(date.getTime())) return date.toISOString();
    }
    if (typeof value === 'string' && ISO_DATETIME.test(value)) return value;
    return new CoerceError(
      `${field.name} (datetime) needs ISO-8601 (yyyy-MM-ddTHH:mm:ss.SSSZ) or epoch milliseconds`,
    );
  }
  if (type === 'time') {
    if (typeof value === 'number') return `${new Date(value).toISOString().slice(11, 23)}Z`;
    if (typeof value === 'string' && ISO_TIME.test(value)) return value;
    return new CoerceError(`${field.name} (time) needs HH:mm:ss.SSSZ or milliseconds of the day`);
  }
  return typeof value === 'string' ? value : String(value);
}

/**
 * Shapes a resolved record for its operation: drops metadata, ignored, compound and (given a schema)
 * non-writable fields; drops `Id` from inserts and upserts; keeps the addressing field; keeps
 * relationship references by external id. Never throws.
 *
 * @example
 * const shaped = shapeRecord(resolved, schemaFromDescribe(leadDescribe));
 * if (!isRejection(shaped)) shaped.fields; // { Id: '00Q…', LastName: 'Doe' } for an update
 */
export function shapeRecord(record: ResolvedRecord, schema?: SObjectSchema): ShapedRecord | Rejection {
  const { mapping, operation, address } = record;
  if (operation === 'delete' || operation === 'hardDelete') {
    return { ...record, fields: { [address!.field]: address!.value } };
  }
  const ignored = ignoredOf(mapping);
  const addressLower = address?.field.toLowerCase();
  const invalidNames: string[] = [];
  const unknown: string[] = [];
  const badValues: string[] = [];
  const badFields: string[] = [];
  const fields: JsonObject = {};
  // The addressing field comes first and is never filtered (describe says Id is not updateable, yet
  // update needs it); its value is the record's own, found case-insensitively below.
  const canonical = address ? (schema?.fields.get(addressLower!)?.name ?? address.field) : '';
  if (address) fields[canonical] = address.value;

  const value = record.value;
  for (const name in value) {
    const { lower, valid } = nameOf(name);
    if (METADATA.has(lower) || ignored.has(lower)) continue;
    if (!valid) {
      invalidNames.push(name);
      continue;
    }
    const fieldValue = value[name]!;
    if (lower === addressLower) {
      fields[canonical] = fieldValue;
      continue;
    }
    if (lower === 'id') continue;

    if (isPlainObject(fieldValue)) {
      const reference = asReference(fieldValue);
      if (schema) {
        const via = schema.relationships.get(lower);
        if (via && reference) {
          if (writable(via, operation)) fields[via.relationshipName!] = { [reference[0]]: reference[1] };
        } else if (via) {
          badValues.push(`${name} must be {ExternalIdField: value} to set ${via.name} by external id`);
          badFields.push(name);
        } else if (!schema.compounds.has(lower) && mapping.unknownFields === 'reject') unknown.push(name);
      } else if (reference) fields[name] = { [reference[0]]: reference[1] };
      // Without a schema, any other object is a compound field (Address, Location): never writable.
      continue;
    }

    if (!schema) {
      if (Array.isArray(fieldValue)) {
        badValues.push(`${name} is an array (a multi-select picklist is one string joined with ;)`);
        badFields.push(name);
      } else fields[name] = fieldValue;
      continue;
    }
    const field = schema.fields.get(lower);
    if (!field) {
      if (mapping.unknownFields === 'reject') unknown.push(name);
      continue;
    }
    if (!writable(field, operation)) continue;
    const coerced = coerce(field, fieldValue);
    if (coerced instanceof CoerceError) {
      badValues.push(coerced.text);
      badFields.push(field.name);
    } else fields[field.name] = coerced;
  }

  if (invalidNames.length > 0) {
    return reject(
      record,
      'INVALID_FIELD_NAME',
      `field names that are not Salesforce API names: ${invalidNames.join(', ')} (rename them upstream or list them in ignoreFields)`,
      invalidNames,
    );
  }
  if (unknown.length > 0) {
    return reject(
      record,
      'UNKNOWN_FIELD',
      `${mapping.sobject} has no field ${unknown.join(', ')}: create it in the target org or list it in ignoreFields`,
      unknown,
    );
  }
  if (badValues.length > 0) {
    return reject(
      record,
      'INVALID_FIELD_VALUE',
      `values of the wrong type: ${badValues.join('; ')}`,
      badFields,
    );
  }
  return { ...record, fields };
}
