// `sfsink replay` against the emulator as if it were a remote org: over HTTP, credentials from a file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../local/cli.ts';
import { type Emulator, startEmulator } from '../../local/emulator/server.ts';
import { mskEvent } from '../../local/events/build-event.ts';
import { leadStream } from '../../local/events/generate.ts';

let emulator: Emulator;
let dir: string;

/** Runs the CLI in-process, capturing what it writes. */
async function sfsink(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out.push(String(chunk));
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err.push(String(chunk));
    return true;
  });
  try {
    return { code: (await main(args)) as number, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

beforeAll(async () => {
  emulator = await startEmulator({ bulkProcessingDelayMs: 5 });
  dir = mkdtempSync(join(tmpdir(), 'sfsink-replay-'));
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      mappings: [
        {
          topic: 'sfdc-pushtopic-lead',
          sobject: 'Lead',
          externalIdField: 'CustomId__c',
          unknownFields: 'ignore',
        },
      ],
    }),
  );
  writeFileSync(
    join(dir, 'credentials.json'),
    JSON.stringify({
      authType: 'client_credentials',
      loginUrl: emulator.url,
      clientId: emulator.credentials.clientId,
      clientSecret: emulator.credentials.clientSecret,
    }),
  );
  writeFileSync(
    join(dir, 'event.json'),
    JSON.stringify(mskEvent(leadStream({ leads: 10, partitions: 2, updates: 1 }))),
  );
});

afterAll(async () => {
  await emulator.close();
});

describe('sfsink replay', () => {
  it('writes the events to the org over HTTP and prints one outcome per record', async () => {
    const io = await sfsink(
      'replay',
      join(dir, 'event.json'),
      '--config',
      join(dir, 'config.json'),
      '--credentials',
      join(dir, 'credentials.json'),
      '--out',
      join(dir, 'out'),
    );
    const { code } = io;
    expect(io.err.join('')).toBe('');
    expect(code).toBe(0);
    const outcomes = io.out
      .join('')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { status: string });
    expect(outcomes).toHaveLength(20);
    expect(outcomes.every((o) => o.status === 'succeeded')).toBe(true);
    expect(emulator.org.list('Lead')).toHaveLength(10);
    expect(emulator.calls().some((c) => c.path.includes('/oauth2/token'))).toBe(true);
    expect(io.out.join('')).not.toContain(emulator.credentials.clientSecret);
    // It talked to the emulator, and says so.
    expect(io.out.join('')).toContain(`Salesforce:             the emulator at ${emulator.url}`);
    expect(io.out.join('')).not.toMatch(/real org|the org at/);
  });

  it('--quiet prints the summary only; --json the summary only, as JSON', async () => {
    const args = [
      'replay',
      join(dir, 'event.json'),
      '--config',
      join(dir, 'config.json'),
      '--credentials',
      join(dir, 'credentials.json'),
      '--out',
      join(dir, 'quiet'),
    ];
    const quiet = await sfsink(...args, '--quiet');
    expect(quiet.code).toBe(0);
    const text = quiet.out.join('');
    expect(text).not.toMatch(/^\{/m);
    expect(text).toMatch(/^topic +mode +records +succeeded/);
    const json = await sfsink(...args, '--json');
    expect(json.code).toBe(0);
    const summary = JSON.parse(json.out.join(''));
    expect(summary.salesforce).toEqual({ kind: 'emulator', url: emulator.url });
    expect(summary.topics).toMatchObject([{ topic: 'sfdc-pushtopic-lead', records: 20, succeeded: 20 }]);
  });

  it('refuses an org whose URL is not https unless it is localhost', async () => {
    writeFileSync(
      join(dir, 'plain-http.json'),
      JSON.stringify({
        authType: 'client_credentials',
        loginUrl: 'http://example.com',
        clientId: 'id',
        clientSecret: 's3cr3t-value',
      }),
    );
    const io = await sfsink(
      'replay',
      join(dir, 'event.json'),
      '--config',
      join(dir, 'config.json'),
      '--credentials',
      join(dir, 'plain-http.json'),
    );
    const { code } = io;
    expect(code).toBe(2);
    expect(io.err.join('')).toMatch(/^sfsink: .*https/);
    expect(io.err.join('')).not.toContain('s3cr3t-value');
    expect(io.err.join('')).not.toMatch(/\n\s+at /);
  });

  it('says which file is missing instead of failing with a stack trace', async () => {
    const io = await sfsink(
      'replay',
      join(dir, 'event.json'),
      '--config',
      join(dir, 'config.json'),
      '--credentials',
      join(dir, 'nope.json'),
    );
    const { code } = io;
    expect(code).toBe(2);
    expect(io.err.join('')).toContain('nope.json does not exist');
  });
});
