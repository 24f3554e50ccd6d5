// `sfsink emulator schema pull`: copies sObjects from a real org's describe (fields, types, lengths,
// external ids, createable/updateable, …) into the emulator's schema file, so that a configuration
// for your own objects can be tried locally (`sfsink run --schema`, `sfsink emulator --schema`).
// Logs in with the sink's own client code (the same credentials file as `replay`); reads only.
import { setTimeout as delay } from 'node:timers/promises';
import { createApi } from '../../lib/salesforce/api.ts';
import { createAuthenticator } from '../../lib/salesforce/auth.ts';
import { secretValues } from '../../lib/salesforce/credentials.ts';
import { SalesforceApiError } from '../../lib/salesforce/errors.ts';
import { createFetchSend, createJsforceSend } from '../../lib/salesforce/http.ts';
import { createRedactor, safeLogger } from '../../lib/salesforce/redact.ts';
import { DEFAULT_BACKOFF } from '../../lib/salesforce/retry.ts';
import { orgProblem, readCredentialsFile } from '../credentials-file.ts';
import { parseCliArgs, UsageError } from '../usage-error.ts';
import { buildSchema, FIELD_TYPES, type FieldType, type SchemaFile } from './schema.ts';

export const SCHEMA_HELP = `Usage: sfsink emulator schema pull --credentials <file> --sobjects <Name,Name…> > schema.json

Copies the describe of each sObject (its fields, types, lengths, external ids, createable and
updateable flags, picklist values, references) from the org in the credentials file into the
emulator's schema format, on standard output. Then try your configuration on your own objects:
  sfsink run --config my-config.json --schema schema.json --events my-event.json
Fields of a type the emulator does not know (base64, anyType, …) are left out, each with a note on
standard error. Nothing is written to the org.

Options:
  --credentials <file>   Salesforce credentials JSON (the secret's JSON, as for replay)  required
  --sobjects <names>     comma-separated sObject API names, e.g. Lead,Contact,Invoice__c   required
  --api-version <n>      REST API version                                              default: 65.0
  -h, --help
`;

type Obj = Record<string, unknown>;

const KNOWN_TYPES = new Set<string>(FIELD_TYPES);
const DECIMAL_TYPES = new Set(['double', 'currency', 'percent']);
const TEXT_TYPES = new Set([
  'string',
  'textarea',
  'email',
  'phone',
  'url',
  'picklist',
  'multipicklist',
  'combobox',
  'encryptedstring',
]);
const FLAGS = [
  'createable',
  'updateable',
  'nillable',
  'defaultedOnCreate',
  'externalId',
  'idLookup',
  'unique',
  'caseSensitive',
  'calculated',
  'autoNumber',
  'nameField',
] as const;

/** One describe field in the schema file's terms; every attribute the emulator models is explicit. */
function fieldOf(describe: Obj, type: FieldType): Obj {
  const field: Obj = { name: describe.name, type, label: describe.label };
  if (TEXT_TYPES.has(type)) field.length = describe.length;
  if (type === 'int') field.precision = describe.digits;
  if (DECIMAL_TYPES.has(type)) {
    field.precision = describe.precision;
    field.scale = describe.scale;
  }
  for (const flag of FLAGS) field[flag] = describe[flag] === true;
  const picklist = Array.isArray(describe.picklistValues) ? (describe.picklistValues as Obj[]) : [];
  const defaultEntry = picklist.find((p) => p.defaultValue === true && p.active !== false);
  const defaultValue = defaultEntry ? defaultEntry.value : describe.defaultValue;
  if (defaultValue !== null && defaultValue !== undefined) field.defaultValue = defaultValue;
  if (Array.isArray(describe.referenceTo) && describe.referenceTo.length > 0)
    field.referenceTo = describe.referenceTo;
  if (typeof describe.relationshipName === 'string') field.relationshipName = describe.relationshipName;
  if (typeof describe.compoundFieldName === 'string') field.compoundFieldName = describe.compoundFieldName;
  const values = picklist.filter((p) => p.active !== false).map((p) => String(p.value));
  if (values.length > 0) field.picklistValues = values;
  return field;
}

/**
 * Describe results (`GET /sobjects/{name}/describe`) → the emulator's schema file, and a note for each
 * field left out. Throws a UsageError for a describe the emulator cannot model (no key prefix).
 *
 * @example
 * const { file, skipped } = schemaFromDescribes([leadDescribe]);
 * file.sobjects[0].name; // 'Lead'
 */
export function schemaFromDescribes(describes: readonly Obj[]): { file: SchemaFile; skipped: string[] } {
  const skipped: string[] = [];
  const sobjects = describes.map((d) => {
    const name = String(d.name);
    if (typeof d.keyPrefix !== 'string')
      throw new UsageError(
        `${name} has no key prefix (its records have no Ids of their own): the emulator can only hold sObjects with records`,
      );
    const fields: Obj[] = [];
    for (const f of (d.fields as Obj[] | undefined) ?? []) {
      const type = String(f.type).toLowerCase();
      if (KNOWN_TYPES.has(type)) fields.push(fieldOf(f, type as FieldType));
      else skipped.push(`${name}.${String(f.name)} (type ${type}: the emulator has no such type)`);
    }
    return { name, label: d.label, labelPlural: d.labelPlural, keyPrefix: d.keyPrefix, fields };
  });
  const file = { sobjects } as SchemaFile;
  buildSchema(file, new Date(), 'the pulled schema');
  return { file, skipped };
}

/** The schema file as the default one is laid out: one field a line, readable and diffable. */
export function formatSchemaFile(file: SchemaFile): string {
  const sobjects = file.sobjects.map((s) => {
    const { fields, ...head } = s;
    const headText = JSON.stringify(head).slice(1, -1).replaceAll('","', '", "').replaceAll('":', '": ');
    const lines = fields.map((f) => `        ${JSON.stringify(f)}`);
    return `    {\n      ${headText},\n      "fields": [\n${lines.join(',\n')}\n      ]\n    }`;
  });
  return `{\n  "sobjects": [\n${sobjects.join(',\n')}\n  ]\n}\n`;
}

/** Logs in and fetches the describe of each sObject, one after another. */
async function pullDescribes(credentialsPath: string, names: string[], apiVersion: string): Promise<Obj[]> {
  const credentials = readCredentialsFile(credentialsPath);
  const redactor = createRedactor(secretValues(credentials));
  const logger = safeLogger(undefined, redactor);
  const sleep = (ms: number) => delay(ms).then(() => undefined);
  const backoff = { ...DEFAULT_BACKOFF, random: Math.random };
  const send = createJsforceSend();
  const common = { redactor, logger, requestTimeout: 30_000, maxRetries: 3, backoff, sleep, now: Date.now };
  const auth = createAuthenticator({ credentials, send, slot: {}, ...common });
  const api = createApi({ auth, send, sendStreamed: createFetchSend(), apiVersion, ...common });
  const describes: Obj[] = [];
  for (const name of names) {
    try {
      const response = await api.call(
        {
          method: 'GET',
          path: `/sobjects/${encodeURIComponent(name)}/describe`,
          idempotent: true,
          what: `the describe of ${name}`,
        },
        { deadline: Date.now() + 120_000 },
      );
      describes.push(JSON.parse(response.body) as Obj);
    } catch (error) {
      if (error instanceof SalesforceApiError && error.status === 404)
        throw new UsageError(
          `${name} is not an sObject of the org (or the user cannot see it): check the API name (custom objects end in __c) and the integration user's permissions`,
        );
      throw orgProblem(error, credentialsPath);
    }
  }
  return describes;
}

/**
 * `sfsink emulator schema pull`: prints the schema file for the sObjects named; returns the exit code.
 *
 * @example
 * await schemaCommand(['pull', '--credentials', 'creds.json', '--sobjects', 'Lead,Contact']);
 */
export async function schemaCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (
    sub === '--help' ||
    sub === '-h' ||
    (sub === 'pull' && (rest.includes('--help') || rest.includes('-h')))
  ) {
    process.stdout.write(SCHEMA_HELP);
    return 0;
  }
  if (sub !== 'pull')
    throw new UsageError(
      `unknown emulator schema command "${sub ?? ''}": use sfsink emulator schema pull --credentials <file> --sobjects <names>`,
    );
  const { values } = parseCliArgs('emulator schema pull', rest, {
    credentials: { type: 'string' },
    sobjects: { type: 'string' },
    'api-version': { type: 'string', default: '65.0' },
    help: { type: 'boolean', short: 'h' },
  });
  if (!values.credentials)
    throw new UsageError('schema pull needs --credentials <file> (the secret JSON, as for replay)');
  const names = [
    ...new Set(
      (values.sobjects ?? '')
        .split(',')
        .map((n) => n.trim())
        .filter((n) => n !== ''),
    ),
  ];
  if (names.length === 0)
    throw new UsageError('schema pull needs --sobjects <Name,Name…>, e.g. Lead,Contact');
  const bad = names.find((n) => !/^[A-Za-z][A-Za-z0-9_]*$/.test(n));
  if (bad) throw new UsageError(`--sobjects: "${bad}" is not an sObject API name (letters, digits, _)`);
  if (!/^\d{2,3}\.0$/.test(values['api-version']))
    throw new UsageError(`--api-version ${values['api-version']}: write it as e.g. 65.0`);

  const describes = await pullDescribes(values.credentials, names, values['api-version']);
  const { file, skipped } = schemaFromDescribes(describes);
  for (const note of skipped) process.stderr.write(`sfsink: note: left out ${note}\n`);
  process.stdout.write(formatSchemaFile(file));
  return 0;
}
