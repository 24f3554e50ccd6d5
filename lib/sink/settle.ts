// Settling writes whose answer was lost: is the record there now? An insert is looked up by a unique
// field it carries; a delete is confirmed by looking its address up.
import type { OutcomeError } from '../outcomes/outcome.ts';
import { errorOf } from '../outcomes/outcome-of.ts';
import { isOrgWide } from '../salesforce/index.ts';
import type { SObjectSchema } from '../shape/sobject-schema.ts';
import { type Invocation, RESERVE_MS } from './invocation.ts';

/**
 * A field that identifies an inserted record in the target org (external id or unique), with the
 * record's value for it.
 *
 * @example
 * lookupOf({ Name: 'Acme', External_Id__c: 'A-1' }, account); // { field: 'External_Id__c', value: 'A-1' }
 */
export function lookupOf(
  fields: Readonly<Record<string, unknown>>,
  schema: SObjectSchema,
): { field: string; value: string } | undefined {
  for (const [name, value] of Object.entries(fields)) {
    if (value === null || value === undefined || typeof value === 'object' || value === '') continue;
    const field = schema.fields.get(name.toLowerCase());
    if (field && (field.externalId || field.unique)) return { field: field.name, value: String(value) };
  }
  return undefined;
}

/**
 * Ids of the live records whose `field` has one of these values, or the error that kept the query from
 * answering (org-wide refusals are thrown: nothing else can be done meanwhile).
 *
 * @example
 * const found = await existing(invocation, 'Lead', 'CustomId__c', ['L-1']);
 * if (!(found instanceof Map)) handBack();
 */
export async function existing(
  invocation: Invocation,
  sobject: string,
  field: string,
  values: readonly string[],
): Promise<Map<string, string> | OutcomeError> {
  const { deps } = invocation;
  try {
    return await deps.salesforce.resolveIds(sobject, field, values, { deadline: deps.deadline - RESERVE_MS });
  } catch (error) {
    if (isOrgWide(error)) throw error;
    return errorOf(error, 'LOOKUP_FAILED');
  }
}
