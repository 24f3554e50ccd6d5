/**
 * A mistake of the user's (a missing file, a bad flag): the CLI prints its message alone and exits 2.
 * In its own module so that commands loaded lazily by `local/cli.ts` can throw it without importing
 * the CLI module back (which, as the entry module, is still evaluating its top-level await).
 */
export class UsageError extends Error {
  override name = 'UsageError';
}
