// The CLI's contract for mistakes: one line that says what is wrong and what to do, exit code 2. In
// its own module so that commands loaded lazily by `local/cli.ts` (and the emulator's own entry point)
// can throw and report errors without importing the CLI module back (which, as the entry module, is
// still evaluating its top-level await).
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ConfigError } from '../lib/errors.ts';

/**
 * A mistake of the user's (a missing file, a bad flag, an input that is not what the command reads):
 * the CLI prints its message alone, on one line, and exits 2.
 *
 * @example
 * throw new UsageError('--latency takes a whole number of milliseconds');
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Exit code of a user mistake. */
export const USAGE_EXIT = 2;
/** Exit code of an unexpected internal error. */
export const INTERNAL_EXIT = 1;

const oneLine = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join('; ');

/** Node's parseArgs errors, said the CLI's way: which option, and where the options are listed. */
function argsMistake(error: { code?: string; message: string }, command: string): UsageError | undefined {
  const option = /'(-[^' ]+)/.exec(error.message)?.[1];
  const positional = /argument '([^']*)'/.exec(error.message)?.[1];
  const help = `run sfsink ${command} --help for its options`.replace(/ {2,}/g, ' ');
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown option ${option ?? ''}: ${help}`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return new UsageError(
        /does not take/.test(error.message)
          ? `${option ?? 'this option'} takes no value: ${help}`
          : `${option ?? 'an option'} needs a value: ${help}`,
      );
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new UsageError(`unexpected argument "${positional ?? ''}": ${help}`);
    default:
      return undefined;
  }
}

/**
 * `parseArgs` whose mistakes are UsageErrors naming the option and the command's help.
 *
 * @example
 * const { values } = parseCliArgs('run', args, { config: { type: 'string' } });
 */
export function parseCliArgs<O extends NonNullable<ParseArgsConfig['options']>, P extends boolean = false>(
  command: string,
  args: string[],
  options: O,
  allowPositionals?: P,
) {
  try {
    return parseArgs({ args, options, allowPositionals: allowPositionals ?? (false as P), strict: true });
  } catch (error) {
    throw argsMistake(error as { code?: string; message: string }, command) ?? error;
  }
}

/**
 * What the CLI prints for an error that ended a command, and its exit code: a user mistake is one
 * line (a configuration with several problems, one line per problem), exit 2; anything else is
 * unexpected: one line and the hint to run again with `--debug`, or the stack with `debug`.
 *
 * @example
 * const { text, code } = describeFailure(new UsageError('no such file'), { debug: false });
 * // text: 'sfsink: no such file\n', code: 2
 */
export function describeFailure(error: unknown, options: { debug: boolean }): { text: string; code: number } {
  if (error instanceof UsageError) return { text: `sfsink: ${oneLine(error.message)}\n`, code: USAGE_EXIT };
  if (error instanceof ConfigError) {
    const source = /^Invalid sink configuration \((.*)\):$/.exec(error.message.split('\n')[0]!)?.[1];
    const lines = error.problems.map((p) => `sfsink: ${source ? `${source}: ` : ''}${oneLine(p)}`);
    return { text: `${lines.join('\n')}\n`, code: USAGE_EXIT };
  }
  const mistake = argsMistake(error as { code?: string; message: string }, '');
  if (mistake) return describeFailure(mistake, options);
  if (options.debug) {
    const stack = (error as Error)?.stack ?? String(error);
    return { text: `sfsink: unexpected error: ${stack}\n`, code: INTERNAL_EXIT };
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return {
    text: `sfsink: unexpected error: ${oneLine(message)} (run with --debug for the stack)\n`,
    code: INTERNAL_EXIT,
  };
}
