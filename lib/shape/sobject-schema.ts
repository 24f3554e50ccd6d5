// What the shaping stage needs to know of an sObject, built from Salesforce's describe result.
// Field names are case-insensitive in Salesforce, so lookups go through lower-cased keys.

/** The subset of a describe field the sink uses. */
export interface FieldDescribe {
  name: string;
  type: string;
  createable: boolean;
  updateable: boolean;
  nillable?: boolean;
  externalId?: boolean;
  unique?: boolean;
  idLookup?: boolean;
  relationshipName?: string | null;
  referenceTo?: string[];
  compoundFieldName?: string | null;
  /** Text types: the most characters the field holds (0 or absent: not known). */
  length?: number;
  /** double, currency, percent: total digits, of which `scale` after the decimal point. */
  precision?: number;
  scale?: number;
  /** int: the most digits. */
  digits?: number;
}

export interface SObjectDescribe {
  name: string;
  fields: FieldDescribe[];
}

export interface SObjectSchema {
  name: string;
  /** lower-cased field name → field */
  fields: ReadonlyMap<string, FieldDescribe>;
  /** lower-cased relationship name (e.g. `account`) → the reference field (e.g. `AccountId`) */
  relationships: ReadonlyMap<string, FieldDescribe>;
  /** lower-cased names of compound fields (e.g. `address`), never written as such */
  compounds: ReadonlySet<string>;
}

const COMPOUND_TYPES = new Set(['address', 'location']);

/**
 * Indexes a describe result for shaping.
 *
 * @example
 * const lead = schemaFromDescribe(await describe('Lead'));
 * lead.fields.get('email')?.updateable; // true
 */
export function schemaFromDescribe(describe: SObjectDescribe): SObjectSchema {
  const fields = new Map<string, FieldDescribe>();
  const relationships = new Map<string, FieldDescribe>();
  const compounds = new Set<string>();
  for (const field of describe.fields) {
    fields.set(field.name.toLowerCase(), field);
    if (field.relationshipName) relationships.set(field.relationshipName.toLowerCase(), field);
    if (COMPOUND_TYPES.has(field.type)) compounds.add(field.name.toLowerCase());
  }
  return { name: describe.name, fields, relationships, compounds };
}

/**
 * The schema without one field (Salesforce said the org no longer has it), so later records carrying
 * it are judged before any call.
 *
 * @example
 * const lead = schemaWithout(schema, 'Removed__c');
 */
export function schemaWithout(schema: SObjectSchema, fieldName: string): SObjectSchema {
  const lower = fieldName.toLowerCase();
  const field = schema.fields.get(lower);
  if (!field) return schema;
  const fields = new Map(schema.fields);
  fields.delete(lower);
  const relationships = new Map(schema.relationships);
  if (field.relationshipName) relationships.delete(field.relationshipName.toLowerCase());
  const compounds = new Set(schema.compounds);
  compounds.delete(lower);
  return { name: schema.name, fields, relationships, compounds };
}
