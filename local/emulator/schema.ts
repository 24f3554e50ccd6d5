// The org's schema: sObjects and their fields, loaded from a JSON file. One zod spec validates, types
// and documents the file; attributes left out get Salesforce's defaults for the field's type, and the
// system fields every sObject has (Id, IsDeleted, CreatedDate, …) are added when the file omits them.

import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { UsageError } from '../usage-error.ts';

export const FIELD_TYPES = [
  'id',
  'string',
  'textarea',
  'email',
  'phone',
  'url',
  'picklist',
  'multipicklist',
  'combobox',
  'encryptedstring',
  'boolean',
  'int',
  'double',
  'currency',
  'percent',
  'date',
  'datetime',
  'time',
  'reference',
  'address',
  'location',
] as const;

export type FieldType = (typeof FIELD_TYPES)[number];

const fieldSpec = z.object({
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'a field API name'),
  type: z.enum(FIELD_TYPES, { error: `not a field type the emulator knows (${FIELD_TYPES.join(', ')})` }),
  label: z.string().optional().describe('Defaults to the name without __c, split at capitals.'),
  length: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe('Max characters of text types; per-type default.'),
  precision: z.number().int().nonnegative().optional(),
  scale: z.number().int().nonnegative().optional(),
  createable: z.boolean().optional().describe('Default true (false for id, address, location).'),
  updateable: z.boolean().optional().describe('Default true (false for id, address, location).'),
  nillable: z.boolean().optional().describe('Default true (false for id and boolean).'),
  defaultedOnCreate: z.boolean().optional().describe('Default false (true for id and boolean).'),
  defaultValue: z.unknown().optional().describe('Value set on create when the field is absent.'),
  externalId: z.boolean().optional(),
  idLookup: z.boolean().optional().describe('Default: true for Id and external ids.'),
  unique: z.boolean().optional(),
  caseSensitive: z.boolean().optional(),
  calculated: z.boolean().optional(),
  autoNumber: z.boolean().optional(),
  nameField: z.boolean().optional(),
  referenceTo: z.array(z.string()).optional(),
  relationshipName: z.string().nullable().optional(),
  compoundFieldName: z.string().nullable().optional(),
  picklistValues: z.array(z.string()).optional(),
});

const sobjectSpec = z.object({
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'an sObject API name'),
  label: z.string().optional(),
  labelPlural: z.string().optional(),
  keyPrefix: z.string().regex(/^[0-9A-Za-z]{3}$/, 'three alphanumeric characters, e.g. 00Q or a0X'),
  fields: z.array(fieldSpec),
});

/** The schema file: `{ "sobjects": [{ "name", "keyPrefix", "fields": [{ "name", "type", … }] }] }`. */
export const schemaFileSpec = z.object({ sobjects: z.array(sobjectSpec).min(1) });

export type SchemaFile = z.infer<typeof schemaFileSpec>;
type FieldSpec = z.infer<typeof fieldSpec>;

export interface FieldSchema {
  name: string;
  type: FieldType;
  label: string;
  length: number;
  precision: number;
  scale: number;
  createable: boolean;
  updateable: boolean;
  nillable: boolean;
  defaultedOnCreate: boolean;
  defaultValue: unknown;
  externalId: boolean;
  idLookup: boolean;
  unique: boolean;
  caseSensitive: boolean;
  calculated: boolean;
  autoNumber: boolean;
  nameField: boolean;
  referenceTo: string[];
  relationshipName: string | null;
  compoundFieldName: string | null;
  picklistValues: string[];
  custom: boolean;
}

export interface SObjectSchema {
  name: string;
  label: string;
  labelPlural: string;
  keyPrefix: string;
  custom: boolean;
  fields: FieldSchema[];
  /** lower-cased field name → field (Salesforce field names are case-insensitive) */
  fieldsByName: ReadonlyMap<string, FieldSchema>;
  /** lower-cased relationship name → its reference field */
  relationships: ReadonlyMap<string, FieldSchema>;
}

export interface Schema {
  sobjects: SObjectSchema[];
  /** lower-cased sObject name → sObject */
  byName: ReadonlyMap<string, SObjectSchema>;
  byKeyPrefix: ReadonlyMap<string, SObjectSchema>;
  /** When the schema last changed, for describe's If-Modified-Since. Whole seconds (HTTP dates). */
  lastModified: Date;
}

/**
 * The schema file is not one the emulator can load: the CLI prints the message (one line, naming
 * every problem) and exits 2.
 */
export class SchemaError extends UsageError {
  override name = 'SchemaError';
}

const SCHEMA_HELP =
  ': a schema file is {"sobjects": [{"name", "keyPrefix", "fields": [{"name", "type", …}]}]} (see local/emulator/README.md), or pull one from an org with sfsink emulator schema pull';
const DEFAULT_SOBJECTS = 'Lead, Account, Contact, Order_Event__c';

export const DEFAULT_SCHEMA_PATH = fileURLToPath(new URL('./default-schema.json', import.meta.url));

const TEXT_LENGTH: Partial<Record<FieldType, number>> = {
  id: 18,
  reference: 18,
  string: 255,
  textarea: 255,
  email: 80,
  phone: 40,
  url: 255,
  picklist: 255,
  multipicklist: 4099,
  combobox: 255,
  encryptedstring: 175,
};

const SYSTEM_FIELDS: FieldSpec[] = [
  { name: 'Id', type: 'id' },
  { name: 'IsDeleted', type: 'boolean', createable: false, updateable: false },
  {
    name: 'CreatedDate',
    type: 'datetime',
    createable: false,
    updateable: false,
    nillable: false,
    defaultedOnCreate: true,
  },
  {
    name: 'CreatedById',
    type: 'reference',
    referenceTo: ['User'],
    relationshipName: 'CreatedBy',
    createable: false,
    updateable: false,
    nillable: false,
    defaultedOnCreate: true,
  },
  {
    name: 'LastModifiedDate',
    type: 'datetime',
    createable: false,
    updateable: false,
    nillable: false,
    defaultedOnCreate: true,
  },
  {
    name: 'LastModifiedById',
    type: 'reference',
    referenceTo: ['User'],
    relationshipName: 'LastModifiedBy',
    createable: false,
    updateable: false,
    nillable: false,
    defaultedOnCreate: true,
  },
  {
    name: 'SystemModstamp',
    type: 'datetime',
    createable: false,
    updateable: false,
    nillable: false,
    defaultedOnCreate: true,
  },
];

function labelFor(name: string): string {
  return name
    .replace(/__c$/, '')
    .replace(/_/g, ' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/ Id$/, ' ID');
}

function resolveField(spec: FieldSpec): FieldSchema {
  const fixed = spec.type === 'id' || spec.type === 'address' || spec.type === 'location';
  const isBoolean = spec.type === 'boolean';
  const externalId = spec.externalId ?? false;
  return {
    name: spec.name,
    type: spec.type,
    label: spec.label ?? labelFor(spec.name),
    length: spec.length ?? TEXT_LENGTH[spec.type] ?? 0,
    precision: spec.precision ?? (['double', 'currency', 'percent'].includes(spec.type) ? 18 : 0),
    scale: spec.scale ?? (['double', 'currency', 'percent'].includes(spec.type) ? 2 : 0),
    createable: spec.createable ?? !fixed,
    updateable: spec.updateable ?? !fixed,
    nillable: spec.nillable ?? !(spec.type === 'id' || isBoolean),
    defaultedOnCreate: spec.defaultedOnCreate ?? (spec.type === 'id' || isBoolean),
    defaultValue: spec.defaultValue ?? (isBoolean ? false : undefined),
    externalId,
    idLookup: spec.idLookup ?? (spec.type === 'id' || externalId),
    unique: spec.unique ?? false,
    caseSensitive: spec.caseSensitive ?? false,
    calculated: spec.calculated ?? false,
    autoNumber: spec.autoNumber ?? false,
    nameField: spec.nameField ?? false,
    referenceTo: spec.referenceTo ?? [],
    relationshipName: spec.relationshipName ?? null,
    compoundFieldName: spec.compoundFieldName ?? null,
    picklistValues: spec.picklistValues ?? [],
    custom: spec.name.endsWith('__c'),
  };
}

function resolveSObject(spec: z.infer<typeof sobjectSpec>): SObjectSchema {
  const given = new Set(spec.fields.map((f) => f.name.toLowerCase()));
  const specs = [...SYSTEM_FIELDS.filter((f) => !given.has(f.name.toLowerCase())), ...spec.fields];
  const fields = specs.map(resolveField);
  const fieldsByName = new Map(fields.map((f) => [f.name.toLowerCase(), f]));
  const relationships = new Map(
    fields.filter((f) => f.relationshipName).map((f) => [f.relationshipName!.toLowerCase(), f]),
  );
  const label = spec.label ?? labelFor(spec.name);
  return {
    name: spec.name,
    label,
    labelPlural: spec.labelPlural ?? `${label}s`,
    keyPrefix: spec.keyPrefix,
    custom: spec.name.endsWith('__c'),
    fields,
    fieldsByName,
    relationships,
  };
}

/**
 * Validates a parsed schema file and resolves every default.
 *
 * @example
 * const schema = buildSchema({ sobjects: [{ name: 'Thing__c', keyPrefix: 'a01', fields: [] }] });
 * schema.byName.get('thing__c')?.fields.map((f) => f.name); // ['Id', 'IsDeleted', …]
 */
export function buildSchema(file: unknown, lastModified = new Date(), source = 'emulator schema'): Schema {
  const parsed = schemaFileSpec.safeParse(file);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new SchemaError(`${source}: ${problems.join('; ')}${SCHEMA_HELP}`);
  }
  const sobjects = parsed.data.sobjects.map(resolveSObject);
  const byName = new Map<string, SObjectSchema>();
  const byKeyPrefix = new Map<string, SObjectSchema>();
  for (const sobject of sobjects) {
    if (byName.has(sobject.name.toLowerCase()))
      throw new SchemaError(`${source}: ${sobject.name} twice: keep one entry per sObject`);
    if (byKeyPrefix.has(sobject.keyPrefix)) {
      throw new SchemaError(
        `${source}: key prefix ${sobject.keyPrefix} used twice: give each sObject its own keyPrefix`,
      );
    }
    byName.set(sobject.name.toLowerCase(), sobject);
    byKeyPrefix.set(sobject.keyPrefix, sobject);
  }
  const seconds = new Date(Math.floor(lastModified.getTime() / 1000) * 1000);
  return { sobjects, byName, byKeyPrefix, lastModified: seconds };
}

/**
 * The schema with one more field on an sObject (as an admin adds it in Setup), last modified `at`
 * (never earlier than one second after the schema it replaces, so If-Modified-Since sees the change).
 *
 * @example
 * emulator.org.setSchema(withField(emulator.org.schema, 'Lead', { name: 'Tier__c', type: 'string' }));
 */
export function withField(
  schema: Schema,
  sobjectName: string,
  field: FieldSpecInput,
  at = new Date(),
): Schema {
  const target = schema.byName.get(sobjectName.toLowerCase());
  if (!target) throw new Error(`The emulator schema has no sObject ${sobjectName}`);
  const spec = fieldSpec.parse(field);
  const fields = [...target.fields, resolveField(spec)];
  const sobject: SObjectSchema = {
    ...target,
    fields,
    fieldsByName: new Map(fields.map((f) => [f.name.toLowerCase(), f])),
    relationships: new Map(
      fields.filter((f) => f.relationshipName).map((f) => [f.relationshipName!.toLowerCase(), f]),
    ),
  };
  const sobjects = schema.sobjects.map((s) => (s === target ? sobject : s));
  const seconds = Math.max(Math.floor(at.getTime() / 1000) * 1000, schema.lastModified.getTime() + 1000);
  return {
    sobjects,
    byName: new Map(sobjects.map((s) => [s.name.toLowerCase(), s])),
    byKeyPrefix: new Map(sobjects.map((s) => [s.keyPrefix, s])),
    lastModified: new Date(seconds),
  };
}

/** A field as a schema file declares it (see `fieldSpec`). */
export type FieldSpecInput = z.input<typeof fieldSpec>;

/**
 * Loads a schema JSON file (the default schema when no path is given).
 *
 * @example
 * const schema = loadSchema('./my-schema.json');
 */
export function loadSchema(path: string = DEFAULT_SCHEMA_PATH): Schema {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SchemaError(
      code === 'ENOENT'
        ? `emulator schema ${path} does not exist: check the path, or leave --schema out for the default (${DEFAULT_SOBJECTS})`
        : `emulator schema ${path} cannot be read (${code ?? 'error'})`,
    );
  }
  let file: unknown;
  try {
    file = JSON.parse(text);
  } catch (err) {
    const where = /\(line \d+ column \d+\)|at position \d+/.exec((err as Error).message)?.[0];
    throw new SchemaError(
      `emulator schema ${path} is not valid JSON${where ? ` ${where}` : ''}${SCHEMA_HELP}`,
    );
  }
  return buildSchema(file, statSync(path).mtime, `emulator schema ${path}`);
}
