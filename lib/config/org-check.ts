// A mapping checked against the target org's describe: mistakes no wait can fix (an sObject the org
// does not have, an external id field that is missing or not an external id). The sink fails the
// mapping's records at once with these codes instead of redelivering them; `sfsink check` lists them.
import type { SObjectSchema } from '../shape/sobject-schema.ts';
import type { TopicMapping } from './schema.ts';

export type MappingProblemCode = 'UNKNOWN_SOBJECT' | 'INVALID_EXTERNAL_ID_FIELD';

export interface MappingProblem {
  code: MappingProblemCode;
  /** What is wrong, naming the mapping, and what to do. */
  message: string;
  fields: string[];
}

/**
 * The problem with a mapping whose sObject the org does not have (describe answered 404).
 *
 * @example
 * unknownSObject(mapping); // { code: 'UNKNOWN_SOBJECT', message: 'mapping of topic leads: …' }
 */
export function unknownSObject(mapping: Pick<TopicMapping, 'topic' | 'sobject'>): MappingProblem {
  return {
    code: 'UNKNOWN_SOBJECT',
    message: `mapping of topic ${mapping.topic}: the org has no sObject ${mapping.sobject} (or the integration user cannot see it): fix the mapping's sobject (API name, e.g. Lead or Order_Event__c) or grant the user access`,
    fields: [],
  };
}

/**
 * What is wrong with a mapping given its sObject's describe, if anything.
 *
 * @example
 * mappingProblem({ topic: 'leads', sobject: 'Lead', externalIdField: 'Email' }, lead);
 * // { code: 'INVALID_EXTERNAL_ID_FIELD', message: '… Email is not an External ID field …' }
 */
export function mappingProblem(
  mapping: Pick<TopicMapping, 'topic' | 'sobject' | 'externalIdField'>,
  schema: SObjectSchema,
): MappingProblem | undefined {
  const name = mapping.externalIdField;
  if (!name) return undefined;
  const field = schema.fields.get(name.toLowerCase());
  const where = `mapping of topic ${mapping.topic}: externalIdField ${name}`;
  if (!field) {
    return {
      code: 'INVALID_EXTERNAL_ID_FIELD',
      message: `${where}: ${mapping.sobject} has no such field: create it in the target org (External ID, Unique) or name an existing one`,
      fields: [name],
    };
  }
  if (!field.externalId && !field.idLookup) {
    return {
      code: 'INVALID_EXTERNAL_ID_FIELD',
      message: `${where} is not an External ID field of ${mapping.sobject}: mark it External ID (and Unique) in the target org, or name a field that is`,
      fields: [field.name],
    };
  }
  return undefined;
}
