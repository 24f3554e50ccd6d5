// Turns a resolved record into exactly the fields its Salesforce operation should send.
import { API_NAME, type Operation } from '../config/index.ts';
import { isExactNumber } from '../decode/exact-number.ts';
import type { JsonObject, JsonValue, Rejection, RejectionCode } from '../records.ts';
import { fieldObject, reject } from '../records.ts';
import { fieldName } from '../resolve/field-names.ts';
import { MAX_EXTERNAL_ID_LENGTH, type ResolvedRecord } from '../resolve/resolve.ts';
import type { FieldDescribe, SObjectSchema } from './sobject-schema.ts';
import { checkLength, checkValue, ValueProblem } from './values.ts';

export interface ShapedRecord extends ResolvedRecord {
  /**
   * The fields to send, the addressing field included. A relationship set by external id stays nested
   * (`{ Account: { External_Id__c: 'A-1' } }`): Collections take it so, the CSV encoder flattens it.
   */
  fields: JsonObject;
}

/** PushTopic metadata and REST decoration: never sObject fields. */
const METADATA = new Set(['_eventtype', '_objecttype', 'attributes']);

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
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !isExactNumber(value);
}

/** A nested `{ExternalIdField: value}` that sets a lookup by the parent's external id. */
function asReference(value: JsonObject): [string, string | number] | undefined {
  let field: string | undefined;
  for (const key of Object.keys(value)) {
    if (field !== undefined) return undefined;
    field = key;
  }
  if (field === undefined || !API_NAME.test(field)) return undefined;
  const inner = value[field];
  if (typeof inner === 'string' || typeof inner === 'number') return [field, inner];
  // An external id beyond a double's digits is text to the lookup.
  return isExactNumber(inner) ? [field, inner.rawJSON] : undefined;
}

function writable(field: FieldDescribe, operation: Operation): boolean {
  if (operation === 'insert') return field.createable;
  if (operation === 'update') return field.updateable;
  return field.createable || field.updateable;
}

/** Value problems by rejection code, the first one decides the record's code. */
const VALUE_CODES: RejectionCode[] = ['INVALID_FIELD_VALUE', 'NUMBER_OUTSIDE_VALID_RANGE', 'STRING_TOO_LONG'];

/**
 * Shapes a resolved record for its operation: drops metadata, ignored, compound and (given a schema)
 * non-writable fields; drops `Id` from inserts and upserts; keeps the addressing field; keeps
 * relationship references by external id; checks every value against its field's describe type
 * (see values.ts). Never throws.
 *
 * @example
 * const shaped = shapeRecord(resolved, schemaFromDescribe(leadDescribe));
 * if (!isRejection(shaped)) shaped.fields; // { Id: '00Q…', LastName: 'Doe' } for an update
 */
export function shapeRecord(record: ResolvedRecord, schema?: SObjectSchema): ShapedRecord | Rejection {
  const { mapping, operation, address } = record;
  const fields = fieldObject();
  const addressLower = address?.field.toLowerCase();
  const addressField = address ? schema?.fields.get(addressLower!) : undefined;
  // The addressing field comes first and is never filtered (describe says Id is not updateable, yet
  // update needs it); its value is the record's own, found case-insensitively below.
  const canonical = address ? (addressField?.name ?? address.field) : '';
  if (address) {
    const checked = addressField ? checkLength(addressField, address.value) : address.value;
    if (checked instanceof ValueProblem) return reject(record, checked.code, checked.text, [canonical]);
    fields[canonical] = checked;
  }
  if (operation === 'delete' || operation === 'hardDelete') return { ...record, fields };

  const ignored = ignoredOf(mapping);
  const invalidNames: string[] = [];
  const duplicates: string[] = [];
  const unknown: string[] = [];
  const problems: ValueProblem[] = [];
  const badFields: string[] = [];
  /** Lower-cased names sent without a schema (with one, `fields` is keyed by describe names). */
  let bare: Map<string, string> | undefined;
  let ownAddressKey: string | undefined;
  const bad = (problem: ValueProblem, field: string) => {
    problems.push(problem);
    badFields.push(field);
  };
  /** Sets a field to send; a second spelling of one field must carry the same value. */
  const put = (name: string, key: string, sent: JsonValue) => {
    if (name in fields) {
      if (JSON.stringify(fields[name]) !== JSON.stringify(sent)) duplicates.push(key);
      return;
    }
    fields[name] = sent;
  };

  const value = record.value;
  for (const name of Object.keys(value)) {
    const { lower, valid } = fieldName(name);
    if (METADATA.has(lower) || ignored.has(lower)) continue;
    if (!valid) {
      invalidNames.push(name);
      continue;
    }
    const fieldValue = value[name]!;
    if (lower === addressLower) {
      ownAddressKey ??= name;
      continue;
    }
    if (lower === 'id') continue;

    if (isPlainObject(fieldValue)) {
      const reference = asReference(fieldValue);
      if (reference && typeof reference[1] === 'string' && reference[1].length > MAX_EXTERNAL_ID_LENGTH) {
        bad(
          new ValueProblem(
            'STRING_TOO_LONG',
            `${name}.${reference[0]} has ${reference[1].length} characters; external ids hold at most ${MAX_EXTERNAL_ID_LENGTH}`,
          ),
          name,
        );
        continue;
      }
      if (schema) {
        const via = schema.relationships.get(lower);
        if (via && reference) {
          if (writable(via, operation)) put(via.relationshipName!, name, { [reference[0]]: reference[1] });
        } else if (via) {
          bad(
            new ValueProblem(
              'INVALID_FIELD_VALUE',
              `${name} must be {ExternalIdField: value} to set ${via.name} by external id`,
            ),
            name,
          );
        } else if (!schema.compounds.has(lower) && mapping.unknownFields === 'reject') unknown.push(name);
      } else if (reference) putBare(name, lower, { [reference[0]]: reference[1] });
      // Without a schema, any other object is a compound field (Address, Location): never writable.
      continue;
    }

    if (!schema) {
      if (Array.isArray(fieldValue)) {
        bad(
          new ValueProblem(
            'INVALID_FIELD_VALUE',
            `${name} is an array (a multi-select picklist is one string joined with ;)`,
          ),
          name,
        );
      } else putBare(name, lower, fieldValue);
      continue;
    }
    const field = schema.fields.get(lower);
    if (!field) {
      if (mapping.unknownFields === 'reject') unknown.push(name);
      continue;
    }
    if (!writable(field, operation)) continue;
    const checked = checkValue(field, fieldValue);
    if (checked instanceof ValueProblem) bad(checked, field.name);
    else put(field.name, name, checked);
  }
  if (address && ownAddressKey !== undefined) {
    // The record's own value of its addressing field, in the field's type (a number id sent as text).
    if (addressField) {
      const checked = checkValue(addressField, value[ownAddressKey]!);
      if (checked instanceof ValueProblem) bad(checked, canonical);
      else if (checked !== null) fields[canonical] = checked;
    }
  }

  function putBare(name: string, lower: string, sent: JsonValue) {
    bare ??= new Map();
    const first = bare.get(lower);
    if (first === undefined) {
      bare.set(lower, name);
      fields[name] = sent;
    } else if (JSON.stringify(fields[first]) !== JSON.stringify(sent)) duplicates.push(first, name);
  }

  if (invalidNames.length > 0) {
    return reject(
      record,
      'INVALID_FIELD_NAME',
      `field names that are not Salesforce API names: ${invalidNames.join(', ')} (rename them upstream or list them in ignoreFields)`,
      invalidNames,
    );
  }
  if (duplicates.length > 0) {
    const names = [...new Set(duplicates)];
    return reject(
      record,
      'DUPLICATE_FIELD',
      `fields named more than once in different letter cases, with different values: ${names.join(', ')} (Salesforce field names ignore case: keep one)`,
      names,
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
  if (problems.length > 0) {
    const code = VALUE_CODES.find((c) => problems.some((p) => p.code === c))!;
    return reject(
      record,
      code,
      `values Salesforce would refuse: ${problems.map((p) => p.text).join('; ')}`,
      badFields,
    );
  }
  return { ...record, fields };
}
