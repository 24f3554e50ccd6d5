// What the README documents, read back for tests that compare it with the code.
import { readFileSync } from 'node:fs';

const README = new URL('../../README.md', import.meta.url);

/**
 * The rejection codes the README's table lists, in its order.
 *
 * @example
 * readmeRejectionCodes(); // ['INVALID_JSON', 'NOT_AN_OBJECT', …]
 */
export function readmeRejectionCodes(): string[] {
  const text = readFileSync(README, 'utf8');
  const table = text.split('<!-- rejection-codes:start -->')[1]?.split('<!-- rejection-codes:end -->')[0];
  if (!table) throw new Error('README.md has no rejection-codes table');
  return [...table.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]!);
}
