// 5. Cold start: the size of each function bundle (`npm run build`) and the time to import it in a
// fresh Node process (median of ≥ 10 processes per bundle, interleaved), next to an empty bundle built
// with the same esbuild options in the same run.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { type Figure, median, progress, round, type SectionResult } from './support.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The variables the bundles read at import, with harmless values (nothing is called at import). */
const BUNDLE_ENV = {
  SFSINK_CONFIG: JSON.stringify({
    mappings: [{ topic: 'sfdc-pushtopic-lead', sobject: 'Lead', externalIdField: 'CustomId__c' }],
  }),
  SFSINK_TABLE: 'sfsink',
  SFSINK_SECRET_ID: 'sfsink/salesforce',
  SFSINK_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:sfsink-bulk',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
};

const IMPORT_SCRIPT = `const t = performance.now(); await import(process.env.BENCH_BUNDLE_URL); console.log(performance.now() - t);`;

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString('utf8');
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve(out)
        : reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${err}`)),
    );
  });
}

/** Import time of a bundle in a fresh process, in ms (and the process's wall time). */
async function importOnce(bundle: string): Promise<{ importMs: number; processMs: number }> {
  const t = performance.now();
  const out = await run(process.execPath, ['--input-type=module', '-e', IMPORT_SCRIPT], {
    PATH: process.env.PATH,
    ...BUNDLE_ENV,
    BENCH_BUNDLE_URL: pathToFileURL(bundle).href,
  });
  return { importMs: Number(out.trim().split('\n').at(-1)), processMs: performance.now() - t };
}

export interface ColdStartOptions {
  processes?: number;
}

export async function benchColdStart(options: ColdStartOptions = {}): Promise<SectionResult> {
  const started = performance.now();
  const processes = Math.max(10, options.processes ?? 12);
  progress('cold start: npm run build');
  await run(process.execPath, ['scripts/build.mjs'], process.env);
  const functions = readdirSync(join(ROOT, 'dist'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(ROOT, 'dist', d.name, 'index.mjs')))
    .map((d) => d.name)
    .sort();
  const dir = mkdtempSync(join(tmpdir(), 'sfsink-empty-'));
  try {
    const empty = join(dir, 'index.mjs');
    await build({
      stdin: { contents: 'export const handler = async () => ({});', loader: 'js' },
      outfile: empty,
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'esm',
      minify: true,
      banner: {
        js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      },
      logLevel: 'warning',
    });
    const bundles: Record<string, string> = { '(empty)': empty };
    for (const name of functions) bundles[name] = join(ROOT, 'dist', name, 'index.mjs');
    const names = Object.keys(bundles);
    const times: Record<string, { importMs: number[]; processMs: number[] }> = {};
    for (const name of names) times[name] = { importMs: [], processMs: [] };
    // One unmeasured round (file cache), then rounds in rotating order.
    for (let i = -1; i < processes; i++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(k + Math.max(0, i)) % names.length]!;
        const measured = await importOnce(bundles[name]!);
        if (i >= 0) {
          times[name]!.importMs.push(measured.importMs);
          times[name]!.processMs.push(measured.processMs);
        }
      }
    }
    const emptyMs = median(times['(empty)']!.importMs);
    const figures: Figure[] = [];
    const details: Record<string, unknown> = {};
    for (const name of functions) {
      const file = bundles[name]!;
      const bytes = statSync(file).size;
      const gzip = gzipSync(readFileSync(file)).length;
      const ms = median(times[name]!.importMs);
      figures.push(
        {
          name: `${name}: bundle size`,
          value: round(bytes / 1024, 0),
          unit: 'KiB',
          note: `gzip ${round(gzip / 1024, 0)} KiB`,
        },
        {
          name: `${name}: import time`,
          value: round(ms, 1),
          unit: 'ms',
          baseline: { name: 'empty bundle', value: round(emptyMs, 1) },
          ratio: round(ms / emptyMs, 1),
          note: `process start to exit: ${round(median(times[name]!.processMs), 0)} ms`,
        },
      );
      details[name] = { bytes, gzipBytes: gzip, ...times[name] };
      progress(
        `cold start: ${name} ${round(bytes / 1024, 0)} KiB, import ${ms.toFixed(1)} ms (empty ${emptyMs.toFixed(1)} ms)`,
      );
    }
    details['(empty)'] = times['(empty)'];
    return {
      section: 'cold-start',
      title: `Cold start: bundles of npm run build, import time median of ${processes} fresh processes`,
      figures,
      targets: [],
      details,
      wallMs: performance.now() - started,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const result = await benchColdStart();
  console.log(JSON.stringify(result, null, 2));
}
