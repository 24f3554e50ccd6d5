// The CLI as users run it: a separate process, the real entry module (lazily loaded commands
// included), help on every command, one-line errors with exit code 2.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function sfsink(...args: string[]) {
  const result = spawnSync(process.execPath, ['local/cli.ts', ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    input: '',
  });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

describe('sfsink (as a process)', () => {
  it.each([['run'], ['replay'], ['config', 'validate'], ['config', 'import'], ['events', 'generate']])(
    '%s … --help documents the command',
    (...command) => {
      const { code, out } = sfsink(...command, '--help');
      expect(code).toBe(0);
      expect(out).toMatch(/^Usage: /);
    },
  );

  it('validates a configuration, and names the path and the fix of each problem', () => {
    expect(sfsink('config', 'validate', 'events/sample-config.json').code).toBe(0);
    const bad = sfsink('config', 'validate', 'test/fixtures/config-import/redpanda-two-mappings.yaml');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unknown keys "input", "pipeline", "output": remove them/);
    expect(bad.err).not.toMatch(/\n\s+at /);
  });

  it('ends user mistakes with one line and exit code 2, never a stack trace', () => {
    for (const args of [
      ['run', '--config', 'missing.json'],
      [
        'replay',
        'events/03-bad-records.json',
        '--config',
        'events/sample-config.json',
        '--credentials',
        'missing.json',
      ],
      ['config', 'import', '--from', 'redpanda', 'missing.yaml'],
      ['nonsense'],
      ['run', '--latency', 'fast'],
    ]) {
      const { code, err } = sfsink(...args);
      expect(code, args.join(' ')).toBe(2);
      expect(err, args.join(' ')).toMatch(/^sfsink: /);
      expect(err, args.join(' ')).not.toMatch(/\n\s+at /);
    }
  });

  it('generates an MSK event from JSON lines, one key per partition', () => {
    const input = '{"Id":"a","n":1}\n{"Id":"b","n":2}\n{"Id":"a","n":3}\n';
    const result = spawnSync(
      process.execPath,
      ['local/cli.ts', 'events', 'generate', '--topic', 'leads', '--partitions', '4', '--key-field', 'Id'],
      { encoding: 'utf8', input, timeout: 30_000 },
    );
    expect(result.status).toBe(0);
    const event = JSON.parse(result.stdout) as { records: Record<string, { key: string; offset: number }[]> };
    const byKey = new Map<string, string[]>();
    for (const [partition, records] of Object.entries(event.records)) {
      for (const r of records) {
        const key = Buffer.from(r.key, 'base64').toString();
        byKey.set(key, [...(byKey.get(key) ?? []), `${partition}@${r.offset}`]);
      }
    }
    expect(byKey.get('a')).toHaveLength(2);
    expect(new Set(byKey.get('a')!.map((p) => p.split('@')[0])).size).toBe(1);
  });
});
