// Settling writes whose answer was lost: is the record there now? An insert is looked up by a unique
// field it carries; a delete is confirmed by looking its address up.
import type { OutcomeError } from '../outcomes/outcome.ts';
import { errorOf } from '../outcomes/outcome-of.ts';
import { isOrgWide } from '../salesforce/index.ts';
import type { SObjectSchema } from '../shape/sobject-schema.ts';
import { type Invocation, RESERVE_MS } from './invocation.ts';

/**
 * A field that identifies an inserted record in the target org, with the record's value for it: a
 * unique field first (one value, one record), else an external id.
 *
 * @example
 * lookupOf({ Name: 'Acme', External_Id__c: 'A-1' }, account); // { field: 'External_Id__c', value: 'A-1' }
 */
export function lookupOf(
  fields: Readonly<Record<string, unknown>>,
  schema: SObjectSchema,
): { field: string; value: string } | undefined {
  let fallback: { field: string; value: string } | undefined;
  for (const [name, value] of Object.entries(fields)) {
    if (value === null || value === undefined || typeof value === 'object' || value === '') continue;
    const field = schema.fields.get(name.toLowerCase());
    if (field?.unique) return { field: field.name, value: String(value) };
    if (field?.externalId) fallback ??= { field: field.name, value: String(value) };
  }
  return fallback;
}

/** What a lookup found for one value: no live record, one (its Id), or several. */
export type Presence = 'absent' | 'many' | { id: string };

/**
 * For each value, whether live records have it in `field`, or the error that kept the lookup from
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
): Promise<Map<string, Presence> | OutcomeError> {
  const { deps } = invocation;
  const context = { deadline: deps.deadline - RESERVE_MS };
  let addressed: Awaited<ReturnType<typeof deps.salesforce.address>>;
  try {
    addressed = await deps.salesforce.address({ sobject, field, operation: 'insert' }, values, context);
  } catch (error) {
    if (isOrgWide(error)) throw error;
    return errorOf(error, 'LOOKUP_FAILED');
  }
  const presence = new Map<string, Presence>();
  for (const [i, answer] of addressed.entries()) {
    if ('id' in answer) presence.set(values[i]!, { id: answer.id });
    else if (answer.error.code === 'DUPLICATE_EXTERNAL_ID') presence.set(values[i]!, 'many');
    else if (answer.error.code === 'NOT_FOUND') presence.set(values[i]!, 'absent');
    else return answer.error;
  }
  return presence;
}
