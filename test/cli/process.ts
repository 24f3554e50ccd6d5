// The CLI as users run it: `node local/cli.ts …` in a separate process, with standard input, and the
// assertion every mistake must pass: exit code 2, one line on standard error, no stack frame.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const CLI = fileURLToPath(new URL('../../local/cli.ts', import.meta.url));

export interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** Runs `sfsink <args>` as a process; resolves when it exits. */
export function sfsink(
  args: readonly string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; nodeArgs?: string[]; timeoutMs?: number } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI, ...args], {
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 90_000,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
    child.stdin.end(options.input ?? '');
  });
}

/** No frame of a stack trace anywhere in what the process printed. */
export function expectNoStack(run: Run): void {
  expect(run.out + run.err).not.toMatch(/\n\s+at |\.ts:\d+:\d+|\.js:\d+:\d+/);
}

/** A mistake: exit code 2, exactly one line on standard error naming the problem, nothing else. */
export function expectMistake(run: Run, message: RegExp): void {
  expect(run.err, run.err).toMatch(/^sfsink: [^\n]+\n$/);
  expect(run.err).toMatch(message);
  expect(run.code, run.err).toBe(2);
  expect(run.out).toBe('');
  expectNoStack(run);
}
