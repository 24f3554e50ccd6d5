// The org: records in memory, written with Salesforce's per-record semantics. Every write goes
// through one function that keeps the unique/external-id indexes and an undo log, so allOrNone can
// roll a whole call back. Deleted records stay as tombstones (IsDeleted) until hard-deleted.

import type {
  ApplyOptions,
  Org,
  RecordError,
  RecordFields,
  SaveResult,
  WriteOperation,
} from './contracts.ts';
import { keyPrefixOf, makeId, normalizeId } from './ids.ts';
import type { FieldSchema, Schema, SObjectSchema } from './schema.ts';
import { convertValue, formatDateTime } from './values.ts';

export interface StoredRecord {
  id: string;
  sobject: string;
  /** Canonical field name → value; fields never set are absent (read as null). */
  fields: Readonly<Record<string, unknown>>;
  deleted: boolean;
}

/** What a per-record fault rule sees when it decides whether to fail a record. */
export interface RecordFaultContext {
  operation: WriteOperation;
  sobject: string;
  /** The record's id, when it has one yet (not for inserts). */
  id: string | undefined;
  /** The record's fields after the write would apply. */
  fields: Readonly<Record<string, unknown>>;
  source: ApplyOptions['source'];
}

export type RecordFaultHook = (context: RecordFaultContext) => RecordError | undefined;

export interface OrgOptions {
  schema: Schema;
  /** The id written to OwnerId / CreatedById / LastModifiedById. */
  userId: string;
  now?: () => Date;
  /** Consulted for every record just before it is written (fault injection: UNABLE_TO_LOCK_ROW). */
  recordFault?: RecordFaultHook;
}

/** One record of a write that may mix sObjects (Collections insert/update/delete). */
export interface WriteItem {
  /** Undefined for a delete addressed only by id: the id's key prefix decides. */
  sobject: string | undefined;
  fields: RecordFields;
  /** Set when the request layer already rejected the record; it still counts for allOrNone. */
  error?: RecordError;
}

export interface OrgSnapshot {
  version: 1;
  nextRecordNumber: number;
  records: StoredRecord[];
}

export interface EmulatorOrg extends Org {
  readonly schema: Schema;
  /** Replaces the schema at run time (a field added or removed in Setup); records are kept. */
  setSchema(next: Schema): void;
  sobjectSchema(sobject: string): SObjectSchema | undefined;
  /** Like `apply`, but each record names its own sObject (Collections requests may mix them). */
  applyItems(operation: WriteOperation, items: WriteItem[], options: ApplyOptions): SaveResult[];
  /** A record by id (15 or 18 chars), tombstones included. */
  get(id: string): StoredRecord | undefined;
  /** All records of an sObject in creation order; tombstones only when asked. */
  list(sobject: string, options?: { includeDeleted?: boolean }): StoredRecord[];
  /** Active records whose field equals the value (case-insensitive unless the field is case-sensitive). */
  findBy(sobject: string, field: string, value: unknown): StoredRecord[];
  /** The record with every schema field present (null where never set). */
  fullRecord(record: StoredRecord): Record<string, unknown>;
  reset(): void;
  snapshot(): OrgSnapshot;
  restore(snapshot: OrgSnapshot): void;
}

type Outcome = { ok: true; result: SaveResult } | { ok: false; error: RecordError; id: string | null };

interface Transaction {
  undo: Array<{ id: string; previous: StoredRecord | undefined }>;
  /** Ids written in this call, for Salesforce's in-batch duplicate message. */
  touched: Set<string>;
  now: string;
  options: ApplyOptions;
}

interface Prepared {
  values: Record<string, unknown>;
  /** Canonical names of fields the record sets (relationships resolved to their id field). */
  present: Set<string>;
}

const ROLLED_BACK: RecordError = {
  statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
  message: 'Record rolled back because not all records were valid and the request was using AllOrNone header',
  fields: [],
};

const recordError = (statusCode: string, message: string, fields: string[] = []): RecordError => ({
  statusCode,
  message,
  fields,
});

const failure = (error: RecordError, id: string | null = null): Outcome => ({ ok: false, error, id });

/** A failed update keeps the id it addressed in its result. */
const withId = (outcome: Outcome, id: string): Outcome => (outcome.ok ? outcome : { ...outcome, id });

const indexKey = (field: FieldSchema, value: unknown): string =>
  field.caseSensitive ? String(value) : String(value).toLowerCase();

const isIndexed = (field: FieldSchema): boolean => field.unique || field.externalId;

const isBlank = (value: unknown): boolean => value === null || value === undefined || value === '';

/**
 * Creates an in-memory org over a schema.
 *
 * @example
 * const org = createOrg({ schema: loadSchema(), userId: '0055E0000000001AAA' });
 * org.apply('insert', 'Account', [{ Name: 'Acme' }], { allOrNone: false, source: 'json' });
 */
export function createOrg(options: OrgOptions): EmulatorOrg {
  const { userId, recordFault } = options;
  let schema = options.schema;
  const now = options.now ?? (() => new Date());
  const byId = new Map<string, StoredRecord>();
  const bySObject = new Map<string, Map<string, StoredRecord>>();
  /** sObject → field → key → ids of active records */
  const indexes = new Map<string, Map<string, Map<string, Set<string>>>>();
  let nextRecordNumber = 1;

  const sobjectSchema = (name: string): SObjectSchema | undefined => schema.byName.get(name.toLowerCase());

  function indexFor(sobject: SObjectSchema, field: FieldSchema): Map<string, Set<string>> {
    const fields = indexes.get(sobject.name) ?? new Map<string, Map<string, Set<string>>>();
    indexes.set(sobject.name, fields);
    const index = fields.get(field.name) ?? new Map<string, Set<string>>();
    fields.set(field.name, index);
    return index;
  }

  function reindex(record: StoredRecord, add: boolean): void {
    if (record.deleted) return;
    const sobject = sobjectSchema(record.sobject)!;
    for (const field of sobject.fields) {
      const value = record.fields[field.name];
      if (!isIndexed(field) || isBlank(value)) continue;
      const index = indexFor(sobject, field);
      const key = indexKey(field, value);
      const ids = index.get(key) ?? new Set<string>();
      if (add) ids.add(record.id);
      else ids.delete(record.id);
      if (ids.size > 0) index.set(key, ids);
      else index.delete(key);
    }
  }

  /** The only mutation: replaces (or removes) the record stored under an id. */
  function write(id: string, next: StoredRecord | undefined, tx?: Transaction): void {
    const previous = byId.get(id);
    if (previous) reindex(previous, false);
    const sobjectName = (next ?? previous)!.sobject;
    const records = bySObject.get(sobjectName) ?? new Map<string, StoredRecord>();
    bySObject.set(sobjectName, records);
    if (next) {
      byId.set(id, next);
      records.set(id, next);
      reindex(next, true);
    } else {
      byId.delete(id);
      records.delete(id);
    }
    if (tx) {
      tx.undo.push({ id, previous });
      tx.touched.add(id);
    }
  }

  function rollback(tx: Transaction): void {
    for (const { id, previous } of tx.undo.reverse()) write(id, previous);
  }

  function findBy(sobjectName: string, fieldName: string, value: unknown): StoredRecord[] {
    const sobject = sobjectSchema(sobjectName);
    const field = sobject?.fieldsByName.get(fieldName.toLowerCase());
    if (!sobject || !field || isBlank(value)) return [];
    if (field.type === 'id') {
      const record = byId.get(normalizeId(value) ?? '');
      return record && !record.deleted && record.sobject === sobject.name ? [record] : [];
    }
    if (isIndexed(field)) {
      const ids = indexFor(sobject, field).get(indexKey(field, value)) ?? new Set();
      return [...ids].map((id) => byId.get(id)!);
    }
    const key = indexKey(field, value);
    return [...(bySObject.get(sobject.name)?.values() ?? [])].filter(
      (r) => !r.deleted && !isBlank(r.fields[field.name]) && indexKey(field, r.fields[field.name]) === key,
    );
  }

  /** Resolves `{"External_Id__c": "A-1"}` under a relationship name to the referenced record's id. */
  function resolveRelationship(
    reference: FieldSchema,
    raw: unknown,
  ): { ok: true; value: string | null } | { ok: false; error: RecordError } {
    if (raw === null) return { ok: true, value: null };
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      return {
        ok: false,
        error: recordError('INVALID_FIELD', `Invalid value for relationship ${reference.relationshipName}`),
      };
    }
    const { attributes, ...keys } = raw as Record<string, unknown>;
    const typeName = (attributes as { type?: unknown } | undefined)?.type;
    const target = sobjectSchema(typeof typeName === 'string' ? typeName : (reference.referenceTo[0] ?? ''));
    const entries = Object.entries(keys);
    if (!target || entries.length !== 1) {
      return {
        ok: false,
        error: recordError(
          'INVALID_FIELD',
          `The relationship ${reference.relationshipName} must name exactly one external id field and value`,
        ),
      };
    }
    const [[fieldName, value]] = entries as [[string, unknown]];
    const field = target.fieldsByName.get(fieldName.toLowerCase());
    if (!field?.idLookup) {
      return {
        ok: false,
        error: recordError(
          'INVALID_FIELD',
          `Field name provided, ${fieldName} is not an External ID or indexed field for ${target.name}`,
        ),
      };
    }
    const matches = findBy(target.name, field.name, value);
    if (matches.length === 0) {
      return {
        ok: false,
        error: recordError(
          'INVALID_FIELD',
          `Foreign key external ID: ${String(value)} not found for field ${field.name} in entity ${target.name}`,
        ),
      };
    }
    if (matches.length > 1) {
      return {
        ok: false,
        error: recordError(
          'DUPLICATE_EXTERNAL_ID',
          `Foreign key external ID: ${String(value)} matched more than one record for field ${field.name} in entity ${target.name}`,
        ),
      };
    }
    return { ok: true, value: matches[0]!.id };
  }

  function checkReference(field: FieldSchema, value: string): Outcome | string {
    const id = normalizeId(value);
    const wrongType = recordError('MALFORMED_ID', `${field.label}: id value of incorrect type: ${value}`, [
      field.name,
    ]);
    if (!id) return failure(wrongType);
    const targets = field.referenceTo.map((name) => sobjectSchema(name)).filter((s) => s !== undefined);
    const prefixObject = schema.byKeyPrefix.get(keyPrefixOf(id));
    // References to objects the schema does not model (User, Group, …) accept any well-formed id.
    if (targets.length < field.referenceTo.length && !prefixObject) return id;
    if (!prefixObject || !targets.includes(prefixObject)) return failure(wrongType);
    const target = byId.get(id);
    if (!target)
      return failure(recordError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', [field.name]));
    if (target.deleted) return failure(recordError('ENTITY_IS_DELETED', 'entity is deleted', [field.name]));
    return id;
  }

  /**
   * Maps a request record onto canonical fields: unknown names, fields the operation may not write,
   * values of the wrong type, relationships by external id. `skip` names keys that address the record.
   */
  function prepare(
    sobject: SObjectSchema,
    input: RecordFields,
    mode: 'create' | 'update',
    skip: Set<string>,
    source: ApplyOptions['source'],
  ): Outcome | Prepared {
    const values: Record<string, unknown> = {};
    const present = new Set<string>();
    const notWritable: string[] = [];
    const pending: Array<[FieldSchema, unknown]> = [];
    const relationships: Array<[FieldSchema, unknown]> = [];
    for (const [key, raw] of Object.entries(input)) {
      const lower = key.toLowerCase();
      if (lower === 'attributes' || skip.has(lower) || raw === undefined) continue;
      const dot = source === 'csv' ? key.indexOf('.') : -1;
      const relationshipKey = dot > 0 ? lower.slice(0, dot) : lower;
      const relationship = sobject.relationships.get(relationshipKey);
      const field = dot > 0 ? undefined : sobject.fieldsByName.get(lower);
      if (relationship && (dot > 0 || (!field && typeof raw === 'object'))) {
        const value = dot > 0 ? (raw === null ? null : { [key.slice(dot + 1)]: raw }) : raw;
        relationships.push([relationship, value]);
        continue;
      }
      if (!field) {
        return failure(
          recordError('INVALID_FIELD', `No such column '${key}' on sobject of type ${sobject.name}`),
        );
      }
      if (field.type === 'id') {
        if (mode === 'create' && !isBlank(raw)) {
          return failure(
            recordError('INVALID_FIELD_FOR_INSERT_UPDATE', 'cannot specify Id in an insert call', ['Id']),
          );
        }
        continue;
      }
      if (!(mode === 'create' ? field.createable : field.updateable)) notWritable.push(field.name);
      else pending.push([field, raw]);
    }
    for (const [reference] of relationships) {
      if (!(mode === 'create' ? reference.createable : reference.updateable))
        notWritable.push(reference.name);
    }
    if (notWritable.length > 0) {
      return failure(
        recordError(
          'INVALID_FIELD_FOR_INSERT_UPDATE',
          `Unable to create/update fields: ${notWritable.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
          notWritable,
        ),
      );
    }
    for (const [field, raw] of pending) {
      if (source === 'csv' && raw === '') continue;
      present.add(field.name);
      // Salesforce stores an empty string as null; an unchecked checkbox is false, never null.
      if (raw === null || raw === '') {
        values[field.name] = field.type === 'boolean' ? false : null;
        continue;
      }
      const converted = convertValue(field, raw, source);
      if (!converted.ok) return failure(converted.error);
      if (field.type === 'reference') {
        const checked = checkReference(field, converted.value as string);
        if (typeof checked !== 'string') return checked;
        values[field.name] = checked;
      } else {
        values[field.name] = converted.value;
      }
    }
    for (const [reference, raw] of relationships) {
      const resolved = resolveRelationship(reference, raw);
      if (!resolved.ok) return failure(resolved.error);
      values[reference.name] = resolved.value;
      present.add(reference.name);
    }
    return { values, present };
  }

  function requiredMissing(
    sobject: SObjectSchema,
    fields: Record<string, unknown>,
    mode: 'create' | 'update',
    present: Set<string>,
  ): Outcome | undefined {
    const missing = sobject.fields
      .filter((f) => !f.nillable && f.type !== 'id' && f.type !== 'boolean')
      .filter((f) => (mode === 'create' ? f.createable && !f.defaultedOnCreate : present.has(f.name)))
      .filter((f) => isBlank(fields[f.name]))
      .map((f) => f.name);
    if (missing.length === 0) return undefined;
    return failure(
      recordError('REQUIRED_FIELD_MISSING', `Required fields are missing: [${missing.join(', ')}]`, missing),
    );
  }

  function duplicateOf(
    sobject: SObjectSchema,
    fields: Record<string, unknown>,
    selfId: string | undefined,
    tx: Transaction,
  ): Outcome | undefined {
    for (const field of sobject.fields) {
      const value = fields[field.name];
      if (!field.unique || isBlank(value)) continue;
      const other = [...(indexFor(sobject, field).get(indexKey(field, value)) ?? [])].find(
        (id) => id !== selfId,
      );
      if (!other) continue;
      const message = tx.touched.has(other)
        ? 'duplicate value found: <unknown> duplicates value on record with id: <unknown>'
        : `duplicate value found: ${field.name} duplicates value on record with id: ${other}`;
      return failure(recordError('DUPLICATE_VALUE', message, [field.name]), selfId ?? null);
    }
    return undefined;
  }

  /** A person object's read-only Name (Lead, Contact): FirstName and LastName, as Salesforce composes it. */
  function deriveName(sobject: SObjectSchema, fields: Record<string, unknown>): void {
    const name = sobject.fieldsByName.get('name');
    if (!name || name.createable || !sobject.fields.some((f) => f.compoundFieldName === name.name)) return;
    fields[name.name] = [fields.FirstName, fields.LastName].filter((p) => !isBlank(p)).join(' ') || null;
  }

  function lockFault(
    operation: WriteOperation,
    sobject: SObjectSchema,
    id: string | undefined,
    fields: Record<string, unknown>,
    tx: Transaction,
  ): Outcome | undefined {
    const error = recordFault?.({ operation, sobject: sobject.name, id, fields, source: tx.options.source });
    return error ? failure(error, id ?? null) : undefined;
  }

  function insert(
    sobject: SObjectSchema,
    input: RecordFields,
    tx: Transaction,
    skip = new Set<string>(),
    operation: WriteOperation = 'insert',
  ): Outcome {
    const prepared = prepare(sobject, input, 'create', skip, tx.options.source);
    if ('ok' in prepared) return prepared;
    const id = makeId(sobject.keyPrefix, nextRecordNumber);
    const fields: Record<string, unknown> = {};
    for (const field of sobject.fields) {
      if (field.defaultedOnCreate && field.defaultValue !== undefined)
        fields[field.name] = field.defaultValue;
    }
    Object.assign(fields, prepared.values, {
      Id: id,
      IsDeleted: false,
      CreatedDate: tx.now,
      CreatedById: userId,
      LastModifiedDate: tx.now,
      LastModifiedById: userId,
      SystemModstamp: tx.now,
    });
    const owner = sobject.fieldsByName.get('ownerid');
    if (owner && isBlank(fields[owner.name])) fields[owner.name] = userId;
    const name = sobject.fieldsByName.get('name');
    if (name?.createable && name.defaultedOnCreate && isBlank(fields[name.name])) fields[name.name] = id;
    deriveName(sobject, fields);
    const rejected =
      requiredMissing(sobject, fields, 'create', prepared.present) ??
      duplicateOf(sobject, fields, undefined, tx) ??
      lockFault(operation, sobject, undefined, fields, tx);
    if (rejected) return rejected;
    nextRecordNumber++;
    write(id, { id, sobject: sobject.name, fields, deleted: false }, tx);
    return { ok: true, result: { id, success: true, errors: [] } };
  }

  function update(
    sobject: SObjectSchema,
    existing: StoredRecord,
    input: RecordFields,
    tx: Transaction,
    skip: Set<string>,
    operation: WriteOperation = 'update',
  ): Outcome {
    const prepared = prepare(sobject, input, 'update', skip, tx.options.source);
    if ('ok' in prepared) return withId(prepared, existing.id);
    const fields: Record<string, unknown> = { ...existing.fields, ...prepared.values };
    fields.LastModifiedDate = tx.now;
    fields.LastModifiedById = userId;
    fields.SystemModstamp = tx.now;
    deriveName(sobject, fields);
    const rejected =
      requiredMissing(sobject, fields, 'update', prepared.present) ??
      duplicateOf(sobject, fields, existing.id, tx) ??
      lockFault(operation, sobject, existing.id, fields, tx);
    if (rejected) return withId(rejected, existing.id);
    write(existing.id, { ...existing, fields }, tx);
    return { ok: true, result: { id: existing.id, success: true, errors: [] } };
  }

  /** Finds the live record an update or delete addresses, or the error Salesforce gives for its id. */
  function locate(
    sobject: SObjectSchema | undefined,
    rawId: unknown,
    operation: 'update' | 'delete',
  ): { ok: true; record: StoredRecord; sobject: SObjectSchema } | Outcome {
    if (isBlank(rawId)) {
      return failure(recordError('MISSING_ARGUMENT', `Id not specified in an ${operation} call`, ['Id']));
    }
    const idFields = operation === 'update' ? ['Id'] : [];
    const id = normalizeId(rawId);
    if (!id) return failure(recordError('MALFORMED_ID', `malformed id ${String(rawId)}`, idFields));
    const owner = sobject ?? schema.byKeyPrefix.get(keyPrefixOf(id));
    if (!owner) return failure(recordError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id'), id);
    if (keyPrefixOf(id) !== owner.keyPrefix) {
      return failure(
        recordError(
          'MALFORMED_ID',
          `${owner.label} ID: id value of incorrect type: ${String(rawId)}`,
          idFields,
        ),
      );
    }
    const record = byId.get(id);
    if (record?.deleted || (!record && operation === 'delete')) {
      // Salesforce cannot tell a purged id from a deleted one on delete: both are "entity is deleted".
      return failure(recordError('ENTITY_IS_DELETED', 'entity is deleted'), id);
    }
    if (!record) return failure(recordError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id'), id);
    return { ok: true, record, sobject: owner };
  }

  function remove(
    sobject: SObjectSchema | undefined,
    input: RecordFields,
    tx: Transaction,
    hard: boolean,
  ): Outcome {
    const rawId = Object.entries(input).find(([key]) => key.toLowerCase() === 'id')?.[1];
    const found = locate(sobject, rawId, 'delete');
    if (!('record' in found)) return found;
    const { record } = found;
    const rejected = lockFault(hard ? 'hardDelete' : 'delete', found.sobject, record.id, record.fields, tx);
    if (rejected) return rejected;
    if (hard) write(record.id, undefined, tx);
    else {
      const fields = {
        ...record.fields,
        IsDeleted: true,
        LastModifiedDate: tx.now,
        LastModifiedById: userId,
        SystemModstamp: tx.now,
      };
      write(record.id, { ...record, fields, deleted: true }, tx);
    }
    return { ok: true, result: { id: record.id, success: true, errors: [] } };
  }

  function upsertKeyError(
    sobject: SObjectSchema,
    externalIdField: string | undefined,
  ): RecordError | undefined {
    const field = externalIdField ? sobject.fieldsByName.get(externalIdField.toLowerCase()) : undefined;
    if (field?.idLookup) return undefined;
    return recordError(
      'INVALID_FIELD',
      `Field name provided, ${externalIdField ?? ''} is not an External ID or indexed field for ${sobject.name}`,
    );
  }

  function upsert(
    sobject: SObjectSchema,
    input: RecordFields,
    tx: Transaction,
    duplicates: Set<string>,
  ): Outcome {
    const field = sobject.fieldsByName.get(tx.options.externalIdField!.toLowerCase())!;
    const key = Object.keys(input).find((k) => k.toLowerCase() === field.name.toLowerCase());
    const value = key === undefined ? undefined : input[key];
    if (field.type === 'id' && isBlank(value)) {
      const created = insert(sobject, input, tx, new Set(['id']), 'upsert');
      return created.ok ? { ok: true, result: { ...created.result, created: true } } : created;
    }
    if (isBlank(value)) return failure(recordError('MISSING_ARGUMENT', `${field.name} not specified`));
    if (duplicates.has(indexKey(field, value))) {
      return failure(
        recordError('DUPLICATE_EXTERNAL_ID', `Duplicate external id specified: ${String(value)}`, [
          field.name,
        ]),
      );
    }
    if (field.type === 'id' && !normalizeId(value)) {
      return failure(recordError('MALFORMED_ID', `malformed id ${String(value)}`, ['Id']));
    }
    const matches = findBy(sobject.name, field.name, value);
    if (matches.length > 1) {
      return failure(
        recordError(
          'DUPLICATE_EXTERNAL_ID',
          `${field.name}: more than one record found for external id field: [${matches.map((m) => m.id).join(', ')}]`,
          [field.name],
        ),
      );
    }
    const existing = matches[0];
    if (existing) {
      const updated = update(sobject, existing, input, tx, new Set([field.name.toLowerCase()]), 'upsert');
      return updated.ok ? { ok: true, result: { ...updated.result, created: false } } : updated;
    }
    if (field.type === 'id')
      return failure(
        recordError('NOT_FOUND', 'Provided external ID field does not exist or is not accessible: Id'),
      );
    const created = insert(sobject, input, tx, new Set(), 'upsert');
    return created.ok ? { ok: true, result: { ...created.result, created: true } } : created;
  }

  /** External id values that occur more than once in one upsert call: Salesforce fails all of them. */
  function repeatedKeys(sobject: SObjectSchema, items: WriteItem[], externalIdField: string): Set<string> {
    const field = sobject.fieldsByName.get(externalIdField.toLowerCase());
    const seen = new Set<string>();
    const repeated = new Set<string>();
    if (!field || field.type === 'id') return repeated;
    for (const item of items) {
      const entry = Object.entries(item.fields).find(([k]) => k.toLowerCase() === field.name.toLowerCase());
      if (!entry || isBlank(entry[1])) continue;
      const key = indexKey(field, entry[1]);
      if (seen.has(key)) repeated.add(key);
      seen.add(key);
    }
    return repeated;
  }

  function applyItems(operation: WriteOperation, items: WriteItem[], options: ApplyOptions): SaveResult[] {
    const tx: Transaction = { undo: [], touched: new Set(), now: formatDateTime(now()), options };
    const upsertTarget = operation === 'upsert' ? sobjectSchema(items[0]?.sobject ?? '') : undefined;
    const upsertError = upsertTarget ? upsertKeyError(upsertTarget, options.externalIdField) : undefined;
    const repeated =
      upsertTarget && !upsertError
        ? repeatedKeys(upsertTarget, items, options.externalIdField!)
        : new Set<string>();
    const outcomes = items.map((item): Outcome => {
      if (item.error) return failure(item.error);
      const sobject = item.sobject === undefined ? undefined : sobjectSchema(item.sobject);
      if (item.sobject !== undefined && !sobject) {
        return failure(recordError('INVALID_TYPE', `sObject type '${item.sobject}' is not supported.`));
      }
      switch (operation) {
        case 'insert':
          return insert(sobject!, item.fields, tx);
        case 'update': {
          const idKey = Object.keys(item.fields).find((k) => k.toLowerCase() === 'id');
          const found = locate(sobject, idKey === undefined ? undefined : item.fields[idKey], 'update');
          if (!('record' in found)) return found;
          return update(found.sobject, found.record, item.fields, tx, new Set(['id']));
        }
        case 'upsert':
          if (upsertError) return failure(upsertError);
          return upsert(sobject!, item.fields, tx, repeated);
        default:
          return remove(sobject, item.fields, tx, operation === 'hardDelete');
      }
    });
    const failed = outcomes.some((o) => !o.ok);
    if (options.allOrNone && failed) {
      rollback(tx);
      const keepsId = operation !== 'insert';
      return outcomes.map((o) => {
        if (!o.ok) return { id: o.id, success: false, errors: [o.error] };
        const id = keepsId && o.result.created !== true ? o.result.id : null;
        return { id, success: false, errors: [ROLLED_BACK] };
      });
    }
    return outcomes.map((o) => (o.ok ? o.result : { id: o.id, success: false, errors: [o.error] }));
  }

  function list(sobjectName: string, opts: { includeDeleted?: boolean } = {}): StoredRecord[] {
    const sobject = sobjectSchema(sobjectName);
    const records = [...(sobject ? (bySObject.get(sobject.name)?.values() ?? []) : [])];
    return opts.includeDeleted ? records : records.filter((r) => !r.deleted);
  }

  function fullRecord(record: StoredRecord): Record<string, unknown> {
    const sobject = sobjectSchema(record.sobject)!;
    const out: Record<string, unknown> = {};
    for (const field of sobject.fields) {
      if (field.type === 'address') out[field.name] = addressOf(sobject, field, record.fields);
      else out[field.name] = record.fields[field.name] ?? null;
    }
    return out;
  }

  function reset(): void {
    byId.clear();
    bySObject.clear();
    indexes.clear();
  }

  return {
    get schema() {
      return schema;
    },
    setSchema(next) {
      schema = next;
    },
    sobjectSchema,
    apply: (operation, sobject, records, opts) =>
      applyItems(
        operation,
        records.map((fields) => ({ sobject, fields })),
        opts,
      ),
    applyItems,
    hasSObject: (sobject) => sobjectSchema(sobject) !== undefined,
    fieldNames: (sobject) => sobjectSchema(sobject)?.fields.map((f) => f.name),
    get: (id) => byId.get(normalizeId(id) ?? ''),
    list,
    findBy,
    fullRecord,
    reset,
    snapshot: () => ({ version: 1, nextRecordNumber, records: [...byId.values()] }),
    restore(snapshot) {
      reset();
      for (const record of snapshot.records) {
        if (sobjectSchema(record.sobject)) write(record.id, record);
      }
      nextRecordNumber = Math.max(nextRecordNumber, snapshot.nextRecordNumber);
    },
  };
}

/** A compound address as Salesforce returns it: its parts, by their suffix (Street, City, …). */
function addressOf(
  sobject: SObjectSchema,
  address: FieldSchema,
  fields: Readonly<Record<string, unknown>>,
): unknown {
  const parts = sobject.fields.filter((f) => f.compoundFieldName === address.name);
  const prefix = address.name.replace(/Address$/, '');
  const out: Record<string, unknown> = {};
  let any = false;
  for (const part of parts) {
    const value = fields[part.name] ?? null;
    if (value !== null) any = true;
    out[
      part.name.slice(prefix.length, prefix.length + 1).toLowerCase() + part.name.slice(prefix.length + 1)
    ] = value;
  }
  return any ? out : null;
}
