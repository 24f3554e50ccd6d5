// `npm start` / `sfsink run`: the sample (or given) events through the whole sink on the embedded
// stand-ins, with progress and a summary of what happened to every record.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { SinkConfig } from '../../lib/config/index.ts';
import { type LambdaKafkaEvent, recordsOfEvent } from '../../lib/decode/index.ts';
import type { Outcome } from '../../lib/outcomes/index.ts';
import { createSqsPublisher } from '../../lib/outcomes/index.ts';
import type { SalesforceCredentials } from '../../lib/salesforce/types.ts';
import type { EmulatorOptions } from '../emulator/server.ts';
import { startSqs } from '../stand-ins/sqs.ts';
import { type Embedded, startEmbedded } from './embedded.ts';

export interface RunOptions {
  config: SinkConfig;
  /** MSK-shaped event files (JSON), delivered in the order given. */
  eventFiles: string[];
  emulator?: EmulatorOptions;
  /** A real org (or a remote emulator) instead of the embedded emulator. */
  credentials?: SalesforceCredentials;
  /** Where outcomes and the emulator snapshot are written. */
  outDir: string;
  /** Called with a line of progress; `live` lines may be overwritten on a TTY. */
  progress?: (line: string, live: boolean) => void;
}

export interface TopicSummary {
  topic: string;
  mode: string;
  records: number;
  succeeded: number;
  failed: number;
  rejected: number;
}

export interface RunSummary {
  topics: TopicSummary[];
  records: number;
  outcomes: number;
  /** Records with no outcome, or left uncommitted: must be 0. */
  lost: number;
  /** Records with more than one outcome. */
  duplicated: number;
  apiCalls: number;
  bulkBatches: number;
  bulkJobs: number;
  invocations: number;
  wallMs: number;
  outcomesFile: string;
  snapshotFile: string;
  /** Messages found on the local SQS result and error queues at the end. */
  queued?: { results: number; errors: number };
}

/** Event files from a list of files and folders (a folder contributes its *.json files, sorted). */
export function eventFilesOf(paths: readonly string[]): string[] {
  return paths.flatMap((p) =>
    statSync(p).isDirectory()
      ? readdirSync(p)
          .filter((f) => f.endsWith('.json') && !f.includes('config'))
          .sort()
          .map((f) => join(p, f))
      : [p],
  );
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
  });
  const all: { topic: string; partition: number; offset: number }[] = [];
  let invocations = 0;
  let uncommitted = 0;
  for (const file of options.eventFiles) {
    const event = JSON.parse(readFileSync(file, 'utf8')) as LambdaKafkaEvent;
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

  mkdirSync(options.outDir, { recursive: true });
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
  const snapshotFile = embedded.emulator
    ? embedded.emulator.saveSnapshot(resolve(options.outDir, 'emulator-snapshot.json'))
    : '(a real org: inspect it in Salesforce)';

  const summary: RunSummary = {
    topics: summarize(all, outcomes, options.config),
    records: all.length,
    outcomes: outcomes.length,
    lost,
    duplicated,
    apiCalls: embedded.emulator ? embedded.emulator.counters.apiCalls : embedded.salesforce.callCount(),
    bulkBatches: embedded.emulator ? embedded.emulator.counters.bulkBatches : -1,
    bulkJobs: embedded.executions.names.length,
    invocations,
    wallMs: Date.now() - started,
    ...(queued ? { queued } : {}),
    outcomesFile,
    snapshotFile,
  };
  return { summary, embedded };
}

function summarize(
  records: readonly { topic: string }[],
  outcomes: readonly Outcome[],
  config: SinkConfig,
): TopicSummary[] {
  const rows = new Map<string, TopicSummary>();
  const row = (topic: string) => {
    let r = rows.get(topic);
    if (!r) {
      const mode = config.mappings.find((m) => m.topic === topic)?.mode ?? '(unmapped)';
      r = { topic, mode, records: 0, succeeded: 0, failed: 0, rejected: 0 };
      rows.set(topic, r);
    }
    return r;
  };
  for (const r of records) row(r.topic).records++;
  for (const o of outcomes) row(o.topic)[o.status]++;
  return [...rows.values()];
}

/** The summary as a table for the terminal. */
export function formatSummary(summary: RunSummary): string {
  const header = ['topic', 'mode', 'records', 'succeeded', 'failed', 'rejected'];
  const body = summary.topics.map((t) =>
    [t.topic, t.mode, t.records, t.succeeded, t.failed, t.rejected].map(String),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
    '',
    `records in:             ${summary.records}`,
    `outcomes:               ${summary.outcomes} (lost: ${summary.lost}, duplicated: ${summary.duplicated})`,
    `Salesforce API calls:   ${summary.apiCalls}`,
    `Bulk jobs / batches:    ${summary.bulkJobs} / ${summary.bulkBatches < 0 ? 'see the org' : summary.bulkBatches}`,
    `handler invocations:    ${summary.invocations}`,
    `wall time:              ${(summary.wallMs / 1000).toFixed(1)} s`,
    ...(summary.queued
      ? [
          `SQS queues (local):     ${summary.queued.results} on sfsink-results, ${summary.queued.errors} on sfsink-errors`,
        ]
      : []),
    `outcomes (JSON lines):  ${summary.outcomesFile}`,
    `emulator records:       ${summary.snapshotFile}`,
  ].join('\n');
}
