// `sfsink outcomes <outcomes.jsonl>` on a mixed file: two topics, every status, several codes, bulk
// jobs and an outcome published twice (at-least-once), as JSON, as a table, and from standard input.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Outcome } from '../../lib/outcomes/index.ts';
import { expectNoStack, sfsink } from './process.ts';

const at = '2026-01-01T00:00:00.000Z';
const base = { key: null, errors: [], attempts: 1, timestamp: at };
const lead = (offset: number, rest: Partial<Outcome>): Outcome => ({
  ...base,
  status: 'succeeded',
  topic: 'leads',
  partition: offset % 2,
  offset,
  sobject: 'Lead',
  operation: 'upsert',
  mode: 'realtime',
  ...rest,
});
const error = (code: string, message: string) => ({ errors: [{ code, message, fields: [] }] });
const outcomes: Outcome[] = [
  lead(0, { salesforceId: '00Q000000000001AAA', created: true }),
  lead(1, { salesforceId: '00Q000000000002AAA', created: false }),
  lead(2, {
    status: 'rejected',
    ...error('MISSING_EXTERNAL_ID', 'upsert on Lead lacks CustomId__c'),
    attempts: 0,
  }),
  lead(3, {
    status: 'rejected',
    ...error('MISSING_EXTERNAL_ID', 'upsert on Lead lacks CustomId__c'),
    attempts: 0,
  }),
  lead(4, { status: 'failed', ...error('INVALID_EMAIL_ADDRESS', 'Email: invalid email address: x') }),
  lead(5, {
    status: 'failed',
    ...error('UNABLE_TO_LOCK_ROW', 'unable to obtain exclusive access'),
    attempts: 6,
  }),
  lead(6, { status: 'rejected', ...error('INVALID_JSON', 'the value is not valid JSON'), attempts: 0 }),
  lead(7, { status: 'rejected', ...error('UNKNOWN_FIELD', 'Foo__c is not a field of Lead'), attempts: 0 }),
  lead(7, { status: 'rejected', ...error('UNKNOWN_FIELD', 'Foo__c is not a field of Lead'), attempts: 0 }),
  ...[0, 1, 2].map(
    (offset): Outcome => ({
      ...base,
      status: offset === 2 ? 'failed' : 'succeeded',
      topic: 'orders',
      partition: 0,
      offset,
      sobject: 'Order_Event__c',
      operation: 'insert',
      mode: 'bulk',
      bulkJobId: offset === 0 ? '750000000000001AAA' : '750000000000002AAA',
      ...(offset === 2 ? error('REQUIRED_FIELD_MISSING', 'Required fields are missing: [Status__c]') : {}),
    }),
  ),
];
const dir = mkdtempSync(join(tmpdir(), 'sfsink-outcomes-'));
const file = join(dir, 'outcomes.jsonl');
writeFileSync(file, `${outcomes.map((o) => JSON.stringify(o)).join('\n')}\n`);

describe('sfsink outcomes', () => {
  it('summarizes a mixed outcomes file per topic and status, with the codes and an example each', async () => {
    const run = await sfsink(['outcomes', file, '--json']);
    expect(run.code, run.err).toBe(0);
    const summary = JSON.parse(run.out);
    expect(summary).toMatchObject({ outcomes: 12, records: 11, duplicated: 1, bulkJobs: 2 });
    expect(summary.topics).toEqual([
      {
        topic: 'leads',
        mode: 'realtime',
        records: 9,
        succeeded: 2,
        failed: 2,
        rejected: 5,
        bulkJobs: 0,
        errors: [
          {
            status: 'rejected',
            code: 'MISSING_EXTERNAL_ID',
            count: 2,
            example: { partition: 0, offset: 2, message: 'upsert on Lead lacks CustomId__c' },
          },
          {
            status: 'rejected',
            code: 'UNKNOWN_FIELD',
            count: 2,
            example: { partition: 1, offset: 7, message: 'Foo__c is not a field of Lead' },
          },
          {
            status: 'failed',
            code: 'INVALID_EMAIL_ADDRESS',
            count: 1,
            example: { partition: 0, offset: 4, message: 'Email: invalid email address: x' },
          },
          {
            status: 'rejected',
            code: 'INVALID_JSON',
            count: 1,
            example: { partition: 0, offset: 6, message: 'the value is not valid JSON' },
          },
          {
            status: 'failed',
            code: 'UNABLE_TO_LOCK_ROW',
            count: 1,
            example: { partition: 1, offset: 5, message: 'unable to obtain exclusive access' },
          },
        ],
      },
      {
        topic: 'orders',
        mode: 'bulk',
        records: 3,
        succeeded: 2,
        failed: 1,
        rejected: 0,
        bulkJobs: 2,
        errors: [
          {
            status: 'failed',
            code: 'REQUIRED_FIELD_MISSING',
            count: 1,
            example: { partition: 0, offset: 2, message: 'Required fields are missing: [Status__c]' },
          },
        ],
      },
    ]);
  });

  it('prints a table that fits 100 columns, the top codes per topic and how many more there are', async () => {
    const run = await sfsink(['outcomes', file, '--top', '2']);
    expect(run.code, run.err).toBe(0);
    const lines = run.out.split('\n');
    expect(lines.slice(0, 4)).toEqual([
      'topic   mode      records  succeeded  failed  rejected  jobs',
      '------  --------  -------  ---------  ------  --------  ----',
      'leads   realtime        9          2       2         5     0',
      'orders  bulk            3          2       1         0     2',
    ]);
    expect(run.out).toContain('    rejected  MISSING_EXTERNAL_ID          2×  e.g. partition 0 offset 2:\n');
    expect(run.out).toContain('    … and 3 more codes (see --json)\n');
    expect(run.out).toContain('outcomes:   12 for 11 records (seen more than once: 1)');
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(100);
    expectNoStack(run);
  });

  it('reads outcomes from standard input', async () => {
    const run = await sfsink(['outcomes', '-', '--json'], {
      input: outcomes
        .slice(0, 3)
        .map((o) => JSON.stringify(o))
        .join('\n'),
    });
    expect(run.code, run.err).toBe(0);
    expect(JSON.parse(run.out).topics[0]).toMatchObject({ topic: 'leads', succeeded: 2, rejected: 1 });
  });
});
