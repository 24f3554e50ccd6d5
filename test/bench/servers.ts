// The emulator and DynamoDB (dynalite) in processes of their own, and the sink handler in a fresh process
// of its own (handler-child.ts), so that what is measured is the handler alone (memory, throughput).
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  close(): Promise<void>;
}

/** Spawns `node <script> …args` and resolves once a stdout line matches `ready`. */
function spawnUntil(
  script: string,
  args: string[],
  ready: RegExp,
): Promise<{ match: RegExpExecArray; server: ServerProcess }> {
  const child = spawn(process.execPath, [script, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const server: ServerProcess = {
    child,
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not start in 30 s: ${err || out}`));
    }, 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const match = ready.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ match, server });
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before it was ready: ${err || out}`));
    });
  });
}

/** The Salesforce emulator's CLI on a free port. */
export async function startEmulatorProcess(args: string[] = []): Promise<ServerProcess & { url: string }> {
  const { match, server } = await spawnUntil(
    'local/emulator/cli.ts',
    ['--port', '0', ...args],
    /listening on (http:\/\/\S+)/,
  );
  return { ...server, url: match[1]! };
}

/** dynalite with the sink's table, on a free port. */
export async function startDynamoProcess(): Promise<ServerProcess & { endpoint: string; table: string }> {
  const { match, server } = await spawnUntil('test/bench/dynalite-server.ts', [], /^(\{.*\})$/m);
  const info = JSON.parse(match[1]!) as { endpoint: string; table: string };
  return { ...server, ...info };
}

/** Runs `node …args` to completion and resolves with its stdout. */
export function runNode(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString('utf8');
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`node ${args.join(' ')} exited with ${code}: ${err}`)),
    );
  });
}

/** What handler-child.ts prints. */
export interface HandlerChildResult {
  mode: string;
  eventBytes: number;
  /** VmHWM of the child (its own peak, not inherited from this process). */
  peakRssMiB: number;
  maxRssMiB: number;
  afterImportsMiB: number;
  heapUsedMiB: number;
  /** The measured invocation. */
  ms: number;
  warmMs: number;
  summary: Record<string, number>;
  handedBack: number;
}

/**
 * Builds handler-child.ts into one ESM bundle in `dir` with the options of scripts/build.mjs, so the
 * measured process runs the handler as Lambda does (Node's type stripping alone costs ~80 MiB of RSS).
 */
export async function bundleHandlerChild(dir: string): Promise<string> {
  const outfile = join(dir, 'handler-child.mjs');
  await build({
    entryPoints: [join(ROOT, 'test/bench/handler-child.ts')],
    outfile,
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
  return outfile;
}

/** One run of the handler child; flags as handler-child.ts documents them. */
export async function runHandlerChild(
  bundle: string,
  flags: Record<string, string>,
): Promise<HandlerChildResult> {
  const args = [bundle, ...Object.entries(flags).flatMap(([k, v]) => [`--${k}`, v])];
  const out = await runNode(args);
  return JSON.parse(out.trim().split('\n').at(-1)!) as HandlerChildResult;
}

/** Peak RSS (VmHWM) of an idle Node process, in MiB. */
export async function idleNodeRssMiB(): Promise<number> {
  const out = await runNode([
    '-e',
    "console.log(Number(/VmHWM:\\s+(\\d+)/.exec(require('node:fs').readFileSync('/proc/self/status','utf8'))[1]) / 1024)",
  ]);
  return Number(out.trim());
}
