// `npm start` / `sfsink run`: the sample (or given) events through the whole sink on the embedded
// stand-ins, with progress and a summary of what happened to every record.
import { mkdirSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { SinkConfig } from '../../lib/config/index.ts';
import { recordsOfEvent } from '../../lib/decode/index.ts';
import { createSqsPublisher } from '../../lib/outcomes/index.ts';
import type { SalesforceCredentials } from '../../lib/salesforce/types.ts';
import type { EmulatorOptions } from '../emulator/server.ts';
import { type EventFile, eventFilesOf, readEventFile } from '../events/read-event.ts';
import { startSqs } from '../stand-ins/sqs.ts';
import { UsageError } from '../usage-error.ts';
import { createApiMeter } from './api-meter.ts';
import { type Embedded, startEmbedded } from './embedded.ts';
import { formatErrors, formatTopicTable, summarizeTopics, type TopicSummary } from './summary.ts';

export interface RunOptions {
  config: SinkConfig;
  /** MSK-shaped event files (JSON), delivered in the order given: paths, or files already read. */
  eventFiles: ReadonlyArray<string | EventFile>;
  emulator?: EmulatorOptions;
  /** A real org (or a remote emulator) instead of the embedded emulator. */
  credentials?: SalesforceCredentials;
  /** What the credentials point at, for the summary (default: an org). */
  target?: 'emulator' | 'org';
  /** Where outcomes and the emulator snapshot are written. */
  outDir: string;
  /** Called with a line of progress; `live` lines may be overwritten on a TTY. */
  progress?: (line: string, live: boolean) => void;
}

export interface RunSummary {
  topics: TopicSummary[];
  records: number;
  outcomes: number;
  /** Records with no outcome, or left uncommitted: must be 0. */
  lost: number;
  /** Records with more than one outcome. */
  duplicated: number;
  /** Salesforce API calls, retries included (token requests are not API calls). */
  apiCalls: number;
  /** Of those, the calls that resent a request or records. */
  retries: number;
  /** Bulk API batches the org counted (known only for the emulator). */
  bulkBatches: number | null;
  bulkJobs: number;
  invocations: number;
  wallMs: number;
  /** Which Salesforce the records went to. */
  salesforce: SalesforceTarget;
  outcomesFile: string;
  /** Messages found on the local SQS result and error queues at the end. */
  queued?: { results: number; errors: number };
}

/** The org written to: the emulator run in-process, an emulator over HTTP, or a real org. */
export interface SalesforceTarget {
  kind: 'embedded emulator' | 'emulator' | 'org';
  url: string;
  /** The embedded emulator's records, saved at the end. */
  snapshotFile?: string;
}

export { eventFilesOf };

/**
 * Makes the folder outcomes go to; one that cannot be made is the user's to fix (`--out`).
 *
 * @example
 * prepareOutDir('.sfsink');
 */
export function prepareOutDir(outDir: string): void {
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`--out ${outDir} cannot be made a folder (${code}): pick another folder`);
  }
}

/**
 * Runs events through the embedded sink and returns the summary; `embedded` is left open for
 * inspection until `close()` is called.
 *
 * @example
 * const { summary, embedded } = await runLocal({ config, eventFiles, outDir: '.sfsink' });
 */
export async function runLocal(options: RunOptions): Promise<{ summary: RunSummary; embedded: Embedded }> {
  const started = Date.now();
  const progress = options.progress ?? (() => undefined);
  // Every file is checked before anything starts: a mistake costs no stand-in start-up.
  const events = options.eventFiles.map((file) => (typeof file === 'string' ? readEventFile(file) : file));
  prepareOutDir(options.outDir);
  const meter = createApiMeter(options.config);
  // Outcomes go to SQS queues on local-aws-sqs, as they would on AWS (unless a real org is used).
  const sqs = options.credentials ? undefined : await startSqs();
  const queues = sqs
    ? {
        resultQueueUrl: await sqs.createQueue('sfsink-results'),
        errorQueueUrl: await sqs.createQueue('sfsink-errors'),
      }
    : undefined;
  const embedded = await startEmbedded({
    config: options.config,
    ...(sqs && queues ? { publisher: createSqsPublisher({ client: sqs.client, ...queues }) } : {}),
    ...(options.credentials
      ? { credentials: options.credentials }
      : { emulator: { bulkProcessingDelayMs: 50, ...options.emulator } }),
    // Against a real org, Wait states last as long as the configured poll interval.
    waitMs: options.credentials ? options.config.bulk.pollInterval : 50,
    observer: meter,
    logger: meter.logger,
  });
  const all: { topic: string; partition: number; offset: number }[] = [];
  let invocations = 0;
  let uncommitted = 0;
  for (const { file, event } of events) {
    const records = recordsOfEvent(event);
    all.push(...records);
    progress(`${file}: ${records.length} records`, false);
    const report = await embedded.deliver(event, {
      after: () => {
        progress(`  ${embedded.outcomes.outcomes.length} outcomes so far`, true);
      },
    });
    invocations += report.invocations;
    uncommitted += report.uncommitted;
  }
  if (embedded.executions.names.length > 0) {
    progress(`waiting for ${embedded.executions.names.length} bulk job(s) to finish…`, false);
    await embedded.settle();
  }

  const outcomes = embedded.outcomes.outcomes;
  const count = new Map<string, number>();
  for (const o of outcomes) {
    const key = `${o.topic}\u0000${o.partition}\u0000${o.offset}`;
    count.set(key, (count.get(key) ?? 0) + 1);
  }
  const lost =
    all.filter((r) => !count.has(`${r.topic}\u0000${r.partition}\u0000${r.offset}`)).length + uncommitted;
  const duplicated = [...count.values()].filter((n) => n > 1).length;

  const outcomesFile = resolve(options.outDir, 'outcomes.jsonl');
  writeFileSync(
    outcomesFile,
    outcomes.map((o) => JSON.stringify(o)).join('\n') + (outcomes.length ? '\n' : ''),
  );
  const queued =
    sqs && queues
      ? { results: await sqs.depth(queues.resultQueueUrl), errors: await sqs.depth(queues.errorQueueUrl) }
      : undefined;
  await sqs?.close();
  const salesforce: SalesforceTarget = embedded.emulator
    ? {
        kind: 'embedded emulator',
        url: embedded.emulator.url,
        snapshotFile: embedded.emulator.saveSnapshot(resolve(options.outDir, 'emulator-snapshot.json')),
      }
    : { kind: options.target ?? 'org', url: options.credentials!.loginUrl };

  const modes = new Map(options.config.mappings.map((m) => [m.topic, m.mode as string]));
  const summary: RunSummary = {
    topics: summarizeTopics(outcomes, {
      records: all,
      modeOf: (topic) => modes.get(topic) ?? '(unmapped)',
      apiCalls: meter.perTopic(),
    }),
    records: all.length,
    outcomes: outcomes.length,
    lost,
    duplicated,
    apiCalls: meter.total().calls,
    retries: meter.total().retries,
    bulkBatches: embedded.emulator ? embedded.emulator.counters.bulkBatches : null,
    bulkJobs: embedded.executions.names.length,
    invocations,
    wallMs: Date.now() - started,
    salesforce,
    outcomesFile,
    ...(queued ? { queued } : {}),
  };
  return { summary, embedded };
}

/** A path as short as it can be said from the working directory. */
function shortPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

function describeTarget(target: SalesforceTarget): string {
  switch (target.kind) {
    case 'embedded emulator':
      return `the embedded emulator; its records: ${shortPath(target.snapshotFile ?? '')}`;
    case 'emulator':
      return `the emulator at ${target.url} (its records: ${target.url}/__emulator/records)`;
    case 'org':
      return `the org at ${target.url} (see the records there)`;
  }
}

/**
 * The summary for the terminal: the per-topic table, the codes behind failures and rejections, then
 * the totals. Every line fits in 100 columns (paths aside).
 *
 * @example
 * process.stdout.write(`${formatSummary(summary)}\n`);
 */
export function formatSummary(summary: RunSummary): string {
  const errors = formatErrors(summary.topics);
  const batches = summary.bulkBatches === null ? 'counted by the org' : String(summary.bulkBatches);
  return [
    ...formatTopicTable(summary.topics),
    ...(errors.length > 0 ? ['', ...errors] : []),
    '',
    `records in:             ${summary.records}`,
    `outcomes:               ${summary.outcomes} (lost: ${summary.lost}, duplicated: ${summary.duplicated})`,
    `Salesforce:             ${describeTarget(summary.salesforce)}`,
    `Salesforce API calls:   ${summary.apiCalls} (${summary.retries} of them retries)`,
    `Bulk jobs / batches:    ${summary.bulkJobs} / ${batches}`,
    `handler invocations:    ${summary.invocations}`,
    `wall time:              ${(summary.wallMs / 1000).toFixed(1)} s`,
    ...(summary.queued
      ? [
          `SQS queues (local):     ${summary.queued.results} on sfsink-results, ${summary.queued.errors} on sfsink-errors`,
        ]
      : []),
    `outcomes (JSON lines):  ${shortPath(summary.outcomesFile)} (sfsink outcomes <file> reports on it)`,
  ].join('\n');
}
