// Salesforce parses a Collections (or single-record) JSON body into sObjects before any DML. A record
// it cannot read — an unknown field, a value of the wrong JSON type, a calendar-impossible date, a
// datetime without seconds, a decimal in an int field, one field named twice — fails the whole request
// with HTTP 400 (`JSON_PARSER_ERROR`, `INVALID_FIELD`) and nothing is written. Bulk API 2.0 reads the
// same values as row errors instead (values.ts).

import type { SObjectSchema } from './schema.ts';
import { isExactNumber, readJson } from './values.ts';

/** A top-level REST error: the request as a whole is refused. */
export interface BodyError {
  errorCode: string;
  message: string;
}

const JAVA_TYPES: Record<string, string> = {
  boolean: 'boolean',
  int: 'int',
  double: 'double',
  currency: 'double',
  percent: 'double',
  date: 'date',
  datetime: 'datetime',
  time: 'time',
};

const COMPOUND = new Set(['address', 'location']);

function token(value: unknown): string {
  if (typeof value === 'string') return 'VALUE_STRING';
  if (typeof value === 'boolean') return value ? 'VALUE_TRUE' : 'VALUE_FALSE';
  if (typeof value === 'number' || isExactNumber(value))
    return Number.isInteger(value) ? 'VALUE_NUMBER_INT' : 'VALUE_NUMBER_FLOAT';
  return Array.isArray(value) ? 'START_ARRAY' : 'START_OBJECT';
}

const shown = (value: unknown): string =>
  typeof value === 'string' ? value : isExactNumber(value) ? value.rawJSON : JSON.stringify(value);

/**
 * Why Salesforce's JSON reader refuses a record of a request body, or undefined when it reads it.
 *
 * @example
 * unreadableRecord(lead, { LastName: 'Doe', EmailBouncedDate: '2024-01-02T03:04Z' });
 * // { errorCode: 'JSON_PARSER_ERROR', message: 'Cannot deserialize instance of datetime from VALUE_STRING value 2024-01-02T03:04Z …' }
 */
export function unreadableRecord(
  sobject: SObjectSchema,
  record: Record<string, unknown>,
): BodyError | undefined {
  const seen = new Set<string>();
  for (const [key, value] of Object.entries(record)) {
    const lower = key.toLowerCase();
    if (lower === 'attributes') continue;
    if (seen.has(lower)) {
      return { errorCode: 'JSON_PARSER_ERROR', message: `Duplicate field ${key} in the record` };
    }
    seen.add(lower);
    const field = sobject.fieldsByName.get(lower);
    const relationship = sobject.relationships.get(lower);
    const isObject =
      typeof value === 'object' && value !== null && !Array.isArray(value) && !isExactNumber(value);
    if (relationship && !field) {
      if (value === null || isObject) continue;
      return {
        errorCode: 'JSON_PARSER_ERROR',
        message: `Cannot deserialize instance of ${relationship.referenceTo[0] ?? 'sObject'} from ${token(value)} value ${shown(value)} or request may be missing a required field`,
      };
    }
    if (!field) {
      return {
        errorCode: 'INVALID_FIELD',
        message: `No such column '${key}' on sobject of type ${sobject.name}`,
      };
    }
    if (value === null || value === undefined || COMPOUND.has(field.type)) continue;
    const read = readJson(field, value);
    if (!read.ok) {
      return {
        errorCode: 'JSON_PARSER_ERROR',
        message: `Cannot deserialize instance of ${JAVA_TYPES[field.type] ?? 'string'} from ${token(value)} value ${shown(value)} or request may be missing a required field`,
      };
    }
  }
  return undefined;
}
