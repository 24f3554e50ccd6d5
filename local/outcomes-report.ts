// `sfsink outcomes <outcomes.jsonl…>`: the summary of outcomes written by `sfsink run` or `replay`, or
// collected from the result and error destinations: per topic and status the counts, the codes behind
// failures and rejections with an example each, retried records and bulk jobs, and any duplicates.
import { readFileSync } from 'node:fs';
import type { Outcome } from '../lib/outcomes/index.ts';
import { formatErrors, formatTopicTable, summarizeTopics } from './runtime/summary.ts';
import { parseCliArgs, UsageError } from './usage-error.ts';

export const OUTCOMES_HELP = `Usage: sfsink outcomes <outcomes.jsonl|-> [more files…] [options]

Summarizes outcome records (JSON lines, one outcome a line, as sfsink run and replay write to
.sfsink/outcomes.jsonl, or as consumed from the result and error queues or topics; - reads standard
input): per topic the records per status, the error codes behind failures and rejections with one
example each, records that needed retries, bulk jobs, and outcomes seen twice.

Options:
  --json        the summary as JSON
  --top <n>     error codes shown per topic   default: 3
  -h, --help
`;

const STATUSES = new Set(['succeeded', 'failed', 'rejected']);

/** Why a parsed line is not an outcome, or undefined when it is one. */
function notAnOutcome(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const o = value as Record<string, unknown>;
  if (!STATUSES.has(o.status as string)) return 'no status succeeded, failed or rejected';
  if (typeof o.topic !== 'string' || !Number.isInteger(o.partition) || !Number.isInteger(o.offset))
    return 'no topic, partition and offset';
  if (o.errors !== undefined && !Array.isArray(o.errors)) return 'errors is not an array';
  return undefined;
}

/**
 * Parses outcome lines; a line that is not an outcome is a UsageError naming the file and line.
 *
 * @example
 * parseOutcomes(readFileSync('.sfsink/outcomes.jsonl', 'utf8'), '.sfsink/outcomes.jsonl');
 */
export function parseOutcomes(text: string, source: string): Outcome[] {
  const outcomes: Outcome[] = [];
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      const whole = i === 0 && /^\s*[[{]\s*$/.test(line);
      throw new UsageError(
        whole
          ? `${source} is not JSON lines (a JSON document over several lines?): outcomes are one JSON object a line, as in .sfsink/outcomes.jsonl`
          : `${source} line ${i + 1} is not JSON: outcomes are one JSON object a line, as in .sfsink/outcomes.jsonl`,
      );
    }
    const why = notAnOutcome(value);
    if (why)
      throw new UsageError(
        `${source} line ${i + 1} is not an outcome (${why}): pass the outcomes.jsonl that sfsink run or replay wrote, or outcome messages from the result and error destinations`,
      );
    const o = value as Outcome;
    outcomes.push({ ...o, errors: o.errors ?? [], attempts: o.attempts ?? 0 });
  }
  return outcomes;
}

function readSource(path: string): string {
  if (path === '-') return readFileSync(0, 'utf8');
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT'
        ? `${path} does not exist: sfsink run writes .sfsink/outcomes.jsonl, sfsink replay .sfsink/replay/outcomes.jsonl`
        : code === 'EISDIR'
          ? `${path} is a folder: pass the outcomes.jsonl inside it`
          : `${path} cannot be read (${code})`,
    );
  }
}

/**
 * Runs `sfsink outcomes`; returns the exit code.
 *
 * @example
 * await outcomesReport(['.sfsink/outcomes.jsonl', '--json']);
 */
export async function outcomesReport(args: string[]): Promise<number> {
  const { values, positionals } = parseCliArgs(
    'outcomes',
    args,
    {
      json: { type: 'boolean' },
      top: { type: 'string', default: '3' },
      help: { type: 'boolean', short: 'h' },
    },
    true,
  );
  if (values.help) {
    process.stdout.write(OUTCOMES_HELP);
    return 0;
  }
  if (positionals.length === 0)
    throw new UsageError(
      'outcomes needs a file: sfsink outcomes .sfsink/outcomes.jsonl (- for standard input)',
    );
  const top = Number(values.top);
  if (!Number.isInteger(top) || top < 1)
    throw new UsageError(`--top takes a whole number ≥ 1, got ${values.top}`);
  const outcomes = positionals.flatMap((p) => parseOutcomes(readSource(p), p === '-' ? 'standard input' : p));
  if (outcomes.length === 0)
    throw new UsageError(`${positionals.join(', ')} holds no outcomes: run sfsink run or replay first`);

  const seen = new Map<string, number>();
  for (const o of outcomes) {
    const key = `${o.topic}\u0000${o.partition}\u0000${o.offset}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  const topics = summarizeTopics(outcomes);
  const summary = {
    topics,
    outcomes: outcomes.length,
    records: seen.size,
    /** Records with more than one outcome (at-least-once publishing repeats an identical one). */
    duplicated: [...seen.values()].filter((n) => n > 1).length,
    bulkJobs: new Set(outcomes.flatMap((o) => (o.bulkJobId ? [o.bulkJobId] : []))).size,
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return 0;
  }
  const errors = formatErrors(topics, { top });
  process.stdout.write(
    [
      ...formatTopicTable(topics),
      ...(errors.length > 0 ? ['', ...errors] : []),
      '',
      `outcomes:   ${summary.outcomes} for ${summary.records} records (seen more than once: ${summary.duplicated})`,
      `bulk jobs:  ${summary.bulkJobs}`,
      '',
    ].join('\n'),
  );
  return 0;
}
