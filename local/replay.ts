// `sfsink replay`: captured events through the real handler against a real org (or any emulator
// reachable over HTTP), with local stand-ins for the AWS side. Prints every outcome (unless --quiet),
// then the summary.
import { loadConfigFile, type SinkConfig } from '../lib/config/index.ts';
import type { SalesforceCredentials } from '../lib/salesforce/index.ts';
import { orgProblem, readCredentialsFile } from './credentials-file.ts';
import { type EventFile, readEventFiles } from './events/read-event.ts';
import { type OrgView, previewEvents, refusalRow, type TopicPreview, viewOrg } from './preflight.ts';
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
  --dry-run              write nothing: decode, resolve, shape and plan against the org's describes
                         and print per topic the operations, calls and bulk jobs it would make
                         and every rejection
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
      'dry-run': { type: 'boolean' },
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
  if (values['dry-run']) return dryRun(config, credentials, eventFiles, values.json === true);
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

/** `replay --dry-run`: what a replay would do, from the org's describes; writes nothing. */
async function dryRun(
  config: SinkConfig,
  credentials: SalesforceCredentials,
  eventFiles: readonly EventFile[],
  json: boolean,
): Promise<number> {
  let view: OrgView;
  try {
    view = await viewOrg(config, credentials);
  } catch (error) {
    const refused = refusalRow(error);
    if (refused) throw new UsageError(`Salesforce refuses the sink (${refused.detail}): ${refused.fix}`);
    throw error;
  }
  const topics = previewEvents(
    eventFiles.map((e) => e.event),
    config,
    view,
  );
  const problems = [...view.problems].map(([m, p]) => ({ topic: m.topic, sobject: m.sobject, ...p }));
  if (json) {
    const out = topics.map((t) => ({
      ...t,
      operations: Object.fromEntries(t.operations),
      dropped: Object.fromEntries(t.dropped),
      rejections: t.rejections.map(({ record, rejection }) => ({
        partition: record.partition,
        offset: record.offset,
        code: rejection.code,
        message: rejection.message,
      })),
    }));
    process.stdout.write(
      `${JSON.stringify({ dryRun: true, topics: out, mappingProblems: problems }, null, 2)}\n`,
    );
  } else process.stdout.write(`${formatDryRun(credentials.loginUrl, topics, problems)}\n`);
  return 0;
}

/**
 * The dry run for the terminal: a row per topic, then every rejection and every mapping problem.
 *
 * @example
 * formatDryRun('https://acme.my.salesforce.com', topics, []);
 */
export function formatDryRun(
  url: string,
  topics: readonly TopicPreview[],
  problems: readonly { topic: string; sobject: string; code: string; message: string }[],
): string {
  const header = `${'topic'.padEnd(28)} ${'records'.padStart(7)} ${'written'.padStart(7)} ${'calls'.padStart(6)} ${'bulk jobs'.padStart(9)} ${'rejected'.padStart(8)}  operations`;
  const lines = [`dry run against ${url}: nothing was written`, '', header];
  for (const t of topics) {
    const written = [...t.operations.values()].reduce((a, b) => a + b, 0);
    const ops = [...t.operations].map(([op, n]) => `${op} ${n}`).join(', ') || '-';
    const name = t.topic.length > 28 ? `${t.topic.slice(0, 27)}…` : t.topic;
    lines.push(
      `${name.padEnd(28)} ${String(t.records).padStart(7)} ${String(written).padStart(7)} ${String(t.calls).padStart(6)} ${String(t.bulkJobs).padStart(9)} ${String(t.rejections.length).padStart(8)}  ${ops}`,
    );
  }
  const rejections = topics.flatMap((t) => t.rejections);
  if (rejections.length > 0) {
    lines.push('', 'rejections:');
    for (const { record, rejection } of rejections)
      lines.push(
        `  ${record.topic} partition ${record.partition} offset ${record.offset}: ${rejection.code}: ${rejection.message}`,
      );
  }
  if (problems.length > 0) {
    lines.push('', 'mappings that cannot work with the org (their records would fail at once):');
    for (const p of problems) lines.push(`  ${p.topic} → ${p.sobject}: ${p.code}: ${p.message}`);
  }
  return lines.join('\n');
}
