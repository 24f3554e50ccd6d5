// Shared helpers of the benchmark and fault harness: statistics, the figures and targets every section
// reports, and the table `npm run bench` prints.
import { readFileSync } from 'node:fs';

/** One measured figure, next to its baseline measured in the same run. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number };
  /** value / baseline (or what the section says), when a baseline exists. */
  ratio?: number;
  note?: string;
}

/** A promise the bench checks: its exit status is non-zero when one is missed. */
export interface Target {
  name: string;
  /** What was measured, as it is compared. */
  actual: number;
  /** e.g. `= 50`, `≤ 2`, `≥ 0.25`, `< 256`. */
  expected: string;
  ok: boolean;
}

export interface SectionResult {
  section: string;
  title: string;
  figures: Figure[];
  targets: Target[];
  /** Anything else worth keeping in bench-results.json. */
  details?: unknown;
  wallMs: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export const target = {
  equal: (name: string, actual: number, expected: number): Target => ({
    name,
    actual,
    expected: `= ${expected}`,
    ok: actual === expected,
  }),
  atMost: (name: string, actual: number, expected: number): Target => ({
    name,
    actual,
    expected: `≤ ${round(expected, 3)}`,
    ok: actual <= expected,
  }),
  atLeast: (name: string, actual: number, expected: number): Target => ({
    name,
    actual,
    expected: `≥ ${round(expected, 3)}`,
    ok: actual >= expected,
  }),
  below: (name: string, actual: number, expected: number): Target => ({
    name,
    actual,
    expected: `< ${expected}`,
    ok: actual < expected,
  }),
};

/** Runs `fn` and returns its result with the wall time it took. */
export async function timed<T>(fn: () => Promise<T> | T): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await fn();
  return { result, ms: performance.now() - started };
}

/** Ceiling division, for "⌈N/200⌉". */
export const ceilDiv = (n: number, d: number): number => Math.ceil(n / d);

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  const digits = abs >= 1000 ? 0 : abs >= 100 ? 1 : abs >= 10 ? 2 : abs >= 1 ? 2 : 3;
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function formatValue(value: number, unit: string): string {
  return unit ? `${formatNumber(value)} ${unit}` : formatNumber(value);
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r, index) => {
      const line = r.map((cell, i) => pad(cell, widths[i]!)).join('  ');
      return index === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}

/** The figures of every section, then the targets, as plain-text tables. */
export function formatReport(results: readonly SectionResult[]): string {
  const figureRows: string[][] = [['section', 'figure', 'value', 'baseline', 'ratio']];
  for (const r of results) {
    for (const f of r.figures) {
      figureRows.push([
        r.section,
        f.name,
        formatValue(f.value, f.unit),
        f.baseline ? `${formatValue(f.baseline.value, f.unit)} (${f.baseline.name})` : '',
        f.ratio === undefined ? '' : `${formatNumber(f.ratio)}×`,
      ]);
    }
  }
  const notes: string[] = [];
  for (const r of results)
    for (const f of r.figures) if (f.note) notes.push(`${r.section} / ${f.name}: ${f.note}`);
  const targetRows: string[][] = [['section', 'target', 'actual', 'expected', '']];
  for (const r of results) {
    for (const t of r.targets)
      targetRows.push([r.section, t.name, formatNumber(t.actual), t.expected, t.ok ? 'ok' : 'MISSED']);
  }
  const titles = results.map((r) => `${r.section}: ${r.title}`).join('\n');
  return `${titles}\n\n${table(figureRows)}\n\nnotes:\n${notes.map((n) => `  ${n}`).join('\n')}\n\n${table(targetRows)}\n`;
}

/** Parses `--name value` and `--flag` arguments. */
export function parseFlags(args: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    if (eq !== -1) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (args[i + 1] !== undefined && !args[i + 1]!.startsWith('--')) flags.set(arg.slice(2), args[++i]!);
    else flags.set(arg.slice(2), 'true');
  }
  return flags;
}

export function numberFlag(flags: Map<string, string>, name: string, fallback: number): number {
  const raw = flags.get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`--${name} must be a non-negative number, got ${raw}`);
  return value;
}

/** Progress on stderr, so stdout stays the report. */
export function progress(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

/** Peak resident set size of this process so far, in MiB (VmHWM where /proc exists). */
export function peakRssMiB(): number {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    if (match) return Number(match[1]) / 1024;
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS / 1024;
}
