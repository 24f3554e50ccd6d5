// `sfsink check` and `sfsink replay --dry-run` against the emulator, as processes: what they find,
// the fix for every ✗, and — from the emulator's call log — that neither writes anything.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../local/emulator/server.ts';
import { mskEvent } from '../../local/events/build-event.ts';
import { expectMistake, expectNoStack, sfsink } from './process.ts';

let emulator: Emulator;
let dir: string;
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};
const leadMapping = {
  topic: 'leads',
  sobject: 'Lead',
  externalIdField: 'CustomId__c',
  unknownFields: 'ignore',
};
let config: string;
let credentials: string;
let events: string;

/** The calls the emulator saw: only reads (and the token request) are allowed. */
const writes = () =>
  emulator.calls().filter((c) => c.method !== 'GET' && !(c.method === 'POST' && c.route === 'oauth'));

beforeAll(async () => {
  emulator = await startEmulator();
  dir = mkdtempSync(join(tmpdir(), 'sfsink-check-'));
  config = file('config.json', { mappings: [leadMapping] });
  credentials = file('credentials.json', {
    authType: 'client_credentials',
    loginUrl: emulator.url,
    clientId: emulator.credentials.clientId,
    clientSecret: emulator.credentials.clientSecret,
  });
  events = file(
    'event.json',
    mskEvent([
      {
        topic: 'leads',
        partition: 0,
        offset: 0,
        value: {
          CustomId__c: 'L-1',
          LastName: 'Doe',
          Company: 'Acme',
          LastModifiedDate: '2024-01-01T00:00:00Z',
        },
      },
      { topic: 'leads', partition: 0, offset: 1, value: { _EventType: 'deleted', CustomId__c: 'L-2' } },
      { topic: 'leads', partition: 0, offset: 2, value: { LastName: 'No id' } },
    ]),
  );
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

describe('sfsink check', () => {
  it('all green: login and flow, limits, the mapping and its external id; exit 0; nothing written', async () => {
    const run = await sfsink(['check', '--config', config, '--credentials', credentials]);
    expect(run.code, run.err).toBe(0);
    expect(run.out).toMatch(/✓ login\s+client_credentials flow/);
    expect(run.out).toMatch(/✓ API requests\s+\d+ of 15,000 used/);
    expect(run.out).toMatch(/✓ leads → Lead\s+.*CustomId__c: External ID/);
    expect(run.out).toMatch(/all checks passed\n$/);
    expect(run.out).not.toMatch(/✗/);
    expect(writes()).toEqual([]);
  });

  it('with events: says what would be written, left out and rejected, with the fix; exit 1; nothing written', async () => {
    const run = await sfsink(['check', '--config', config, '--credentials', credentials, '--events', events]);
    expect(run.code, run.err).toBe(1);
    expect(run.out).toMatch(
      /✗ events of leads\s+3 records: 2 would be written \(upsert 1, delete 1\), 1 rejected/,
    );
    expect(run.out).toMatch(/fix: MISSING_EXTERNAL_ID 1×, e\.g\. partition 0 offset 2/);
    expect(run.out).toMatch(
      /leads: LastModifiedDate left out of 1 record\(s\): neither createable nor updateable/,
    );
    expect(writes()).toEqual([]);
    expect(emulator.org.list('Lead')).toEqual([]);
  });

  it.each([
    [
      'a refused login',
      () =>
        file('bad.json', {
          authType: 'client_credentials',
          loginUrl: emulator.url,
          clientId: 'x',
          clientSecret: 'y',
        }),
      () => config,
      /✗ login\s+AUTHENTICATION_FAILED\n\s+fix: .*check clientId and clientSecret/,
    ],
    [
      'an sObject the org lacks',
      () => credentials,
      () => file('leed.json', { mappings: [{ ...leadMapping, sobject: 'Leed' }] }),
      /✗ leads → Leed\s+UNKNOWN_SOBJECT\n\s+fix: mapping of topic leads/,
    ],
    [
      'an external id that is not one',
      () => credentials,
      () => file('ext.json', { mappings: [{ ...leadMapping, externalIdField: 'Company' }] }),
      /✗ leads → Lead\s+INVALID_EXTERNAL_ID_FIELD\n\s+fix: .*not an External ID field/,
    ],
  ])('✗ %s: the check names it and the fix; exit 1', async (_, creds, cfg, expected) => {
    const run = await sfsink(['check', '--config', cfg(), '--credentials', creds()]);
    expect(run.code, run.err).toBe(1);
    expect(run.out).toMatch(expected);
    expect(run.out).toMatch(/1 check\(s\) failed\n$/);
    expectNoStack(run);
  });

  it('✗ a spent daily allowance: named, with what to do; exit 1', async () => {
    emulator.config.dailyApiMax = 0;
    try {
      const run = await sfsink(['check', '--config', config, '--credentials', credentials]);
      expect(run.code, run.err).toBe(1);
      expect(run.out).toMatch(/✗ API requests\s+DAILY_API_LIMIT\n\s+fix: .*rolling 24-hour usage drops/);
    } finally {
      emulator.config.dailyApiMax = 15_000;
    }
  });
});

describe('sfsink replay --dry-run', () => {
  it('prints per topic the operations, calls and rejections it would make, and writes nothing', async () => {
    const run = await sfsink([
      'replay',
      events,
      '--config',
      config,
      '--credentials',
      credentials,
      '--dry-run',
    ]);
    expect(run.code, run.err).toBe(0);
    expect(run.out).toMatch(/nothing was written/);
    expect(run.out).toMatch(/^leads\s+3\s+2\s+3\s+0\s+1\s+upsert 1, delete 1$/m);
    expect(run.out).toMatch(/leads partition 0 offset 2: MISSING_EXTERNAL_ID/);
    expect(writes()).toEqual([]);
    expect(emulator.org.list('Lead')).toEqual([]);
  });

  it('--json gives the same for machines', async () => {
    const run = await sfsink([
      'replay',
      events,
      '--config',
      config,
      '--credentials',
      credentials,
      '--dry-run',
      '--json',
    ]);
    const report = JSON.parse(run.out) as {
      topics: { topic: string; records: number; operations: Record<string, number> }[];
    };
    expect(report.topics).toEqual([
      expect.objectContaining({ topic: 'leads', records: 3, operations: { upsert: 1, delete: 1 } }),
    ]);
  });
});

describe('run and replay stop on an org-wide condition', () => {
  it('replay with a refused login: one line saying what and what to do, exit 2, no outcome written', async () => {
    const bad = file('refused.json', {
      authType: 'client_credentials',
      loginUrl: emulator.url,
      clientId: 'x',
      clientSecret: 'y',
    });
    const out = join(dir, 'replay-out');
    const started = Date.now();
    const run = await sfsink([
      'replay',
      events,
      '--config',
      config,
      '--credentials',
      bad,
      '--out',
      out,
      '--quiet',
    ]);
    expect(Date.now() - started).toBeLessThan(15_000);
    expectMistake(
      run,
      /Salesforce refuses the sink \(AUTHENTICATION_FAILED\).*check clientId and clientSecret/,
    );
  });

  it('run with the daily allowance spent at the first write: one line, exit 2', async () => {
    const faults = JSON.stringify({
      route: 'collections',
      fault: 'limit',
      limit: 'TotalRequests',
      times: 1000,
    });
    const run = await sfsink([
      'run',
      '--config',
      config,
      '--events',
      events,
      '--faults',
      faults,
      '--out',
      join(dir, 'run-out'),
      '--quiet',
    ]);
    expectMistake(run, /Salesforce refuses the sink \(DAILY_API_LIMIT\).*rolling 24-hour usage drops/);
  });
});
