// `sfsink replay`: captured events through the real handler against a real org (or any emulator
// reachable over HTTP), with local stand-ins for the AWS side. Prints every outcome (unless --quiet),
// then the summary.
import { loadConfigFile } from '../lib/config/index.ts';
import { orgProblem, readCredentialsFile } from './credentials-file.ts';
import { readEventFiles } from './events/read-event.ts';
import { formatSummary, prepareOutDir, runLocal } from './runtime/run.ts';
import { parseCliArgs, UsageError } from './usage-error.ts';

export const REPLAY_HELP = `Usage: sfsink replay <event.json|folder>… --config <file> --credentials <file> [options]

Runs captured Lambda Kafka events through the real sink handler against the org in the credentials
file (the Secrets Manager secret's JSON), with dynalite and a local state machine standing in for AWS.
Writes happen for real. The login URL must be https (localhost is allowed, for an emulator).
Prints one outcome per line, then a summary; exits 1 if any record was lost.

Options:
  --config <file>        sink configuration (JSON or YAML)     required
  --credentials <file>   Salesforce credentials JSON            required
  --out <dir>            where outcomes.jsonl goes               default: .sfsink/replay
  --quiet                no outcome lines, only the summary
  --json                 only the summary, as JSON
  -h, --help
`;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Whether the login URL is the emulator (its inspection API answers), so that the summary does not
 * call it a real org. Only asked of this machine: a real org is never probed.
 */
async function isEmulator(loginUrl: string): Promise<boolean> {
  const url = new URL(loginUrl);
  if (!LOOPBACK.has(url.hostname)) return false;
  try {
    const response = await fetch(`${url.origin}/__emulator/`, { signal: AbortSignal.timeout(2_000) });
    const body = (await response.json()) as { url?: unknown };
    return response.ok && typeof body.url === 'string';
  } catch {
    return false;
  }
}

/**
 * Runs the replay command; returns the exit code.
 *
 * @example
 * await replay(['events/', '--config', 'config.json', '--credentials', 'secret.json', '--quiet']);
 */
export async function replay(args: string[]): Promise<number> {
  const { values, positionals } = parseCliArgs(
    'replay',
    args,
    {
      config: { type: 'string' },
      credentials: { type: 'string' },
      out: { type: 'string', default: '.sfsink/replay' },
      quiet: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    true,
  );
  if (values.help) {
    process.stdout.write(REPLAY_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('replay needs at least one event file or folder');
  if (!values.config) throw new UsageError('replay needs --config <file>');
  if (!values.credentials) throw new UsageError('replay needs --credentials <file> (the secret JSON)');
  const config = loadConfigFile(values.config);
  const credentials = readCredentialsFile(values.credentials);
  const eventFiles = readEventFiles(positionals);
  prepareOutDir(values.out);
  try {
    const target = (await isEmulator(credentials.loginUrl)) ? 'emulator' : 'org';
    const { summary, embedded } = await runLocal({
      config,
      credentials,
      target,
      eventFiles,
      outDir: values.out,
    });
    if (!values.quiet && !values.json)
      for (const outcome of embedded.outcomes.outcomes) process.stdout.write(`${JSON.stringify(outcome)}\n`);
    await embedded.close();
    if (values.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else process.stdout.write(`${values.quiet ? '' : '\n'}${formatSummary(summary)}\n`);
    if (summary.lost > 0) {
      process.stderr.write(`sfsink: ${summary.lost} record(s) were lost (no outcome or never committed)\n`);
      return 1;
    }
    return 0;
  } catch (error) {
    throw orgProblem(error, values.credentials);
  }
}
