// `npm run bench`: every figure of the benchmark and fault harness next to its baseline, measured in the
// same run; prints a table, writes bench-results.json at the repository root, and exits non-zero when
// a target is missed.
//
//   node test/bench/run.ts [--only pipeline,thrift,throughput,memory,cold-start,soak,fuzz] [--quick]
//                          [--soak-records 20000] [--soak-rate 0.1] [--fuzz-cases 20000]
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchColdStart } from './cold-start.ts';
import { benchFuzz } from './fuzz.ts';
import { benchMemory } from './memory.ts';
import { benchPipeline } from './pipeline.ts';
import { benchSoak } from './soak.ts';
import { formatReport, numberFlag, parseFlags, progress, type SectionResult } from './support.ts';
import { benchThrift } from './thrift.ts';
import { benchThroughput } from './throughput.ts';

const RESULTS_FILE = fileURLToPath(new URL('../../bench-results.json', import.meta.url));

const flags = parseFlags(process.argv.slice(2));
const quick = flags.has('quick');
const sections: Record<string, () => Promise<SectionResult>> = {
  pipeline: () => benchPipeline(quick ? { records: 20_000, rounds: 2 } : {}),
  'cold-start': () => benchColdStart(quick ? { processes: 10 } : {}),
  memory: () => benchMemory(quick ? { repeats: 1 } : {}),
  thrift: () => benchThrift(quick ? { records: 2_000 } : {}),
  throughput: () => benchThroughput(quick ? { records: 2_000, rounds: 1 } : {}),
  soak: () =>
    benchSoak({
      records: numberFlag(flags, 'soak-records', quick ? 3_000 : 20_000),
      rate: numberFlag(flags, 'soak-rate', 0.1),
    }),
  fuzz: () =>
    benchFuzz({
      cases: numberFlag(flags, 'fuzz-cases', quick ? 2_000 : 20_000),
      pureCases: quick ? 2_000 : 10_000,
    }),
};
const only = flags
  .get('only')
  ?.split(',')
  .map((s) => s.trim());
for (const name of only ?? []) {
  if (!(name in sections)) {
    process.stderr.write(`unknown section ${name}: use ${Object.keys(sections).join(', ')}\n`);
    process.exit(2);
  }
}

const started = Date.now();
const results: SectionResult[] = [];
const errors: Array<{ section: string; error: string }> = [];
for (const [name, run] of Object.entries(sections)) {
  if (only && !only.includes(name)) continue;
  progress(`${name} …`);
  try {
    const result = await run();
    results.push(result);
    progress(`${name} done in ${(result.wallMs / 1000).toFixed(1)} s`);
  } catch (error) {
    // A section that cannot run is a missed target, not a reason to lose the other figures.
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    errors.push({ section: name, error: message });
    progress(`${name} FAILED: ${message}`);
  }
}

const missed = results.flatMap((r) => r.targets.filter((t) => !t.ok).map((t) => `${r.section}: ${t.name}`));
const ok = missed.length === 0 && errors.length === 0;
const report = formatReport(results);
process.stdout.write(`\n${report}`);
if (errors.length > 0)
  process.stdout.write(
    `\nsections that failed to run:\n${errors.map((e) => `  ${e.section}: ${e.error.split('\n')[0]}`).join('\n')}\n`,
  );
process.stdout.write(
  `\n${ok ? 'all targets met' : `${missed.length + errors.length} target(s) missed`} in ${((Date.now() - started) / 1000).toFixed(0)} s; results in bench-results.json\n`,
);

writeFileSync(
  RESULTS_FILE,
  `${JSON.stringify(
    {
      generatedAt: new Date().toISOString(),
      command: `node test/bench/run.ts ${process.argv.slice(2).join(' ')}`.trim(),
      machine: {
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        loadAverage: loadavg(),
      },
      ok,
      missed,
      errors,
      wallMs: Date.now() - started,
      sections: results,
    },
    null,
    2,
  )}\n`,
);
process.exit(ok ? 0 : 1);
