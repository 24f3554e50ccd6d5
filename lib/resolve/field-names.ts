// Field names as Salesforce compares them: without regard to case. Names repeat across every record
// of a topic, so their lower-cased form and validity are worked out once per process (bounded, in case
// a producer sends random names).
import { API_NAME } from '../config/index.ts';

export interface FieldName {
  lower: string;
  /** Whether it is a Salesforce API name (letters, digits, underscores, starting with a letter). */
  valid: boolean;
}

const names = new Map<string, FieldName>();

/**
 * The lower-cased form and validity of a field name.
 *
 * @example
 * fieldName('_EVENTTYPE'); // { lower: '_eventtype', valid: false }
 */
export function fieldName(name: string): FieldName {
  let info = names.get(name);
  if (!info) {
    info = { lower: name.toLowerCase(), valid: API_NAME.test(name) };
    if (names.size > 50_000) names.clear();
    names.set(name, info);
  }
  return info;
}
