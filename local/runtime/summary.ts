// What happened to the records, per topic: the summaries of `sfsink run`, `sfsink replay` and
// `sfsink outcomes`. Counts per status, the error codes behind failures and rejections (each with
// one example), API calls and their retries, bulk jobs. The terminal form
// fits in 100 columns; the same data goes out as JSON with --json.
import type { Outcome } from '../../lib/outcomes/index.ts';

/** The terminal width the tables are made for. */
export const WIDTH = 100;

/** How often one error code ended records of a topic, with one of them as an example. */
export interface CodeCount {
  status: 'failed' | 'rejected';
  code: string;
  count: number;
  example: { partition: number; offset: number; message: string };
}

export interface TopicSummary {
  topic: string;
  /** `realtime`, `bulk`, or `(unmapped)`. */
  mode: string;
  /** Records in (run, replay), or outcomes read (the outcomes report). */
  records: number;
  succeeded: number;
  failed: number;
  rejected: number;
  /** Salesforce API calls made for this topic, retries included (unknown to the outcomes report). */
  apiCalls?: number;
  /** Of those, calls that resent a request or records (throttling, 5xx, lost connections, locked rows). */
  retries?: number;
  /** Distinct Bulk API 2.0 jobs named by this topic's outcomes. */
  bulkJobs: number;
  /** Every code behind a failure or rejection, most frequent first. */
  errors: CodeCount[];
}

/**
 * Per-topic summary of outcomes.
 *
 * @example
 * const topics = summarizeTopics(outcomes, { modeOf: (t) => modes.get(t) ?? '(unmapped)' });
 * topics[0].errors[0]; // { status: 'rejected', code: 'MISSING_ID', count: 2, example: { partition: 0, offset: 7, message: '…' } }
 */
export function summarizeTopics(
  outcomes: readonly Outcome[],
  options: {
    /** The records that went in, when known: topics without outcomes still get a row. */
    records?: readonly { topic: string }[];
    modeOf?: (topic: string) => string | undefined;
    apiCalls?: ReadonlyMap<string, { calls: number; retries: number }>;
  } = {},
): TopicSummary[] {
  const rows = new Map<string, TopicSummary & { codes: Map<string, CodeCount>; jobs: Set<string> }>();
  const row = (topic: string, mode?: string | null) => {
    let r = rows.get(topic);
    if (!r) {
      r = {
        topic,
        mode: options.modeOf?.(topic) ?? mode ?? '(unmapped)',
        records: 0,
        succeeded: 0,
        failed: 0,
        rejected: 0,
        ...(options.apiCalls
          ? {
              apiCalls: options.apiCalls.get(topic)?.calls ?? 0,
              retries: options.apiCalls.get(topic)?.retries ?? 0,
            }
          : {}),
        bulkJobs: 0,
        errors: [],
        codes: new Map(),
        jobs: new Set(),
      };
      rows.set(topic, r);
    }
    return r;
  };
  for (const r of options.records ?? []) row(r.topic).records++;
  for (const o of outcomes) {
    const r = row(o.topic, o.mode);
    if (!options.records) r.records++;
    r[o.status]++;
    if (o.bulkJobId) r.jobs.add(o.bulkJobId);
    if (o.status === 'succeeded') continue;
    const first = o.errors[0];
    const code = first?.code ?? '(no code)';
    const key = `${o.status}\u0000${code}`;
    const counted = r.codes.get(key);
    if (counted) counted.count++;
    else
      r.codes.set(key, {
        status: o.status,
        code,
        count: 1,
        example: { partition: o.partition, offset: o.offset, message: first?.message ?? '' },
      });
  }
  return [...rows.values()].map(({ codes, jobs, ...r }) => ({
    ...r,
    bulkJobs: jobs.size,
    errors: [...codes.values()].sort((a, b) => b.count - a.count || a.code.localeCompare(b.code)),
  }));
}

/** Cuts a line to the width, marking the cut. */
export function clip(text: string, width = WIDTH): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

/**
 * The per-topic table; the topic column shrinks (cut with …) so that a row fits the width.
 *
 * @example
 * formatTopicTable(topics).join('\n');
 */
export function formatTopicTable(topics: readonly TopicSummary[], width = WIDTH): string[] {
  const withCalls = topics.some((t) => t.apiCalls !== undefined);
  const header = [
    'topic',
    'mode',
    'records',
    'succeeded',
    'failed',
    'rejected',
    ...(withCalls ? ['calls', 'retries'] : []),
    'jobs',
  ];
  const body = topics.map((t) =>
    [
      t.topic,
      t.mode,
      t.records,
      t.succeeded,
      t.failed,
      t.rejected,
      ...(withCalls ? [t.apiCalls ?? 0, t.retries ?? 0] : []),
      t.bulkJobs,
    ].map(String),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const others = widths.slice(1).reduce((a, b) => a + b, 0) + 2 * (widths.length - 1);
  widths[0] = Math.min(widths[0]!, Math.max(8, width - others));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => {
        const cell = i === 0 ? clip(c, widths[0]) : c;
        return i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!);
      })
      .join('  ')
      .trimEnd();
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
    clip(
      `${withCalls ? 'calls: Salesforce API calls, retries included; ' : ''}jobs: Bulk API 2.0 jobs`,
      width,
    ),
  ];
}

/**
 * Why records failed or were rejected: per topic, the most frequent codes with one example each.
 *
 * @example
 * formatErrors(topics, { top: 3 }).join('\n');
 */
export function formatErrors(
  topics: readonly TopicSummary[],
  options: { top?: number; width?: number } = {},
): string[] {
  const top = options.top ?? 3;
  const width = options.width ?? WIDTH;
  const withErrors = topics.filter((t) => t.errors.length > 0);
  if (withErrors.length === 0) return [];
  const codeWidth = Math.min(
    32,
    Math.max(...withErrors.flatMap((t) => t.errors.slice(0, top).map((e) => e.code.length))),
  );
  const lines = ['Failed and rejected records, the most frequent codes per topic:'];
  for (const t of withErrors) {
    lines.push(clip(`  ${t.topic}`, width));
    for (const e of t.errors.slice(0, top)) {
      const head = `    ${e.status.padEnd(8)}  ${clip(e.code, codeWidth).padEnd(codeWidth)}  ${String(e.count).padStart(6)}×`;
      lines.push(clip(`${head}  e.g. partition ${e.example.partition} offset ${e.example.offset}:`, width));
      lines.push(clip(`      ${e.example.message}`, width));
    }
    const more = t.errors.length - top;
    if (more > 0) lines.push(`    … and ${more} more code${more > 1 ? 's' : ''} (see --json)`);
  }
  return lines;
}
