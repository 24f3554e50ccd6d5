// `sfsink replay`: captured events through the real handler against a real org (or any emulator
// reachable over HTTP), with local stand-ins for the AWS side. Prints every outcome.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../lib/config/index.ts';
import { parseCredentials, SalesforceClientError } from '../lib/salesforce/index.ts';
import { eventFilesOf, formatSummary, runLocal } from './runtime/run.ts';
import { UsageError } from './usage-error.ts';

export const REPLAY_HELP = `Usage: sfsink replay <event.json|folder>… --config <file> --credentials <file> [options]

Runs captured Lambda Kafka events through the real sink handler against the org in the credentials
file (the Secrets Manager secret's JSON), with dynalite and a local state machine standing in for AWS.
Writes happen for real. The login URL must be https (localhost is allowed, for an emulator).
Prints one outcome per line, then a summary.

Options:
  --config <file>        sink configuration (JSON or YAML)     required
  --credentials <file>   Salesforce credentials JSON            required
  --out <dir>            where outcomes.jsonl goes               default: .sfsink/replay
  -h, --help
`;

/** Runs the replay command; returns the exit code. */
export async function replay(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      credentials: { type: 'string' },
      out: { type: 'string', default: '.sfsink/replay' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(REPLAY_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('replay needs at least one event file');
  if (!values.config) throw new UsageError('replay needs --config <file>');
  if (!values.credentials) throw new UsageError('replay needs --credentials <file> (the secret JSON)');
  const config = loadConfigFile(values.config);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(values.credentials, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT'
        ? `credentials file ${values.credentials} does not exist`
        : `credentials file ${values.credentials} is not JSON`,
    );
  }
  let eventFiles: string[];
  try {
    eventFiles = eventFilesOf(positionals);
  } catch {
    throw new UsageError(`event file or folder not found: ${positionals.join(' ')}`);
  }
  try {
    const credentials = parseCredentials(raw);
    const { summary, embedded } = await runLocal({ config, credentials, eventFiles, outDir: values.out });
    for (const outcome of embedded.outcomes.outcomes) process.stdout.write(`${JSON.stringify(outcome)}\n`);
    await embedded.close();
    process.stdout.write(`\n${formatSummary(summary)}\n`);
    return summary.lost > 0 ? 1 : 0;
  } catch (error) {
    if (error instanceof SalesforceClientError) throw new UsageError(error.message);
    const code =
      (error as { code?: string; cause?: { code?: string } }).cause?.code ??
      (error as { code?: string }).code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT') {
      throw new UsageError(`the org in ${values.credentials} cannot be reached (${code}): check loginUrl`);
    }
    throw error;
  }
}
