// The command line: options map onto startEmulator's, --help documents them, and a started emulator
// prints its URL and credentials.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HELP, parseCli } from './cli.ts';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));

describe('parseCli', () => {
  it('maps options, including inline fault rules', () => {
    const { help, options } = parseCli([
      '--port',
      '0',
      '--latency',
      '25',
      '--token-ttl',
      '60',
      '--daily-api-max',
      '100',
      '--faults',
      '{"route":"collections","fault":"status","status":503}',
      '--client-id',
      'my-id',
    ]);
    expect(help).toBe(false);
    expect(options).toMatchObject({
      port: 0,
      latencyMs: 25,
      tokenTtlSeconds: 60,
      dailyApiMax: 100,
      faults: [{ route: 'collections', fault: 'status', status: 503 }],
      credentials: { clientId: 'my-id' },
    });
  });

  it('rejects unknown options and bad numbers', () => {
    expect(() => parseCli(['--nope'])).toThrow();
    expect(() => parseCli(['--latency', 'soon'])).toThrow(/--latency must be a non-negative number/);
  });

  it('documents every option in --help', () => {
    for (const option of [
      '--port',
      '--schema',
      '--faults',
      '--latency',
      '--token-ttl',
      '--daily-api-max',
      '--snapshot',
      '--jwt-public-key',
    ]) {
      expect(HELP).toContain(option);
    }
  });
});

describe('cli', () => {
  it('starts, prints the URL, credentials and the JWT key path, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [CLI, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('inspection:')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
    });
    const url = /listening on (http:\/\/\S+)/.exec(output)![1]!;
    expect(output).toContain('client_id=emulator-client-id client_secret=emulator-client-secret');
    expect(output).toMatch(/private key \/\S+jwt-private\.pem/);
    expect((await fetch(`${url}/services/data`)).status).toBe(200);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
