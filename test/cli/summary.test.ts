// The summaries of `sfsink run` and `sfsink replay`: per topic the records per status, the codes
// behind failures and rejections with an example each, API calls per topic with their retries, bulk
// jobs; JSON for machines; a terminal table that fits 100 columns.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/index.ts';
import { mskEvent } from '../../local/events/build-event.ts';
import { leadStream, orderEvents } from '../../local/events/generate.ts';
import { formatSummary, type RunSummary, runLocal } from '../../local/runtime/run.ts';
import { sfsink } from './process.ts';

const dir = mkdtempSync(join(tmpdir(), 'sfsink-summary-'));
const write = (name: string, value: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
};
const config = {
  mappings: [
    { topic: 'leads', sobject: 'Lead', externalIdField: 'CustomId__c', unknownFields: 'ignore' },
    { topic: 'orders', sobject: 'Order_Event__c', operation: 'insert', mode: 'bulk' },
  ],
  bulk: { pollInterval: '1s' },
};
const lead = (n: number, extra: Record<string, unknown> = {}) => ({
  LastName: `Doe ${n}`,
  Company: 'Acme',
  CustomId__c: `C-${n}`,
  _EventType: 'created',
  ...extra,
});
// Partition 0: good leads, two without their external id, one not JSON, one Salesforce refuses.
const mixed = mskEvent([
  { topic: 'leads', partition: 0, offset: 0, value: lead(1) },
  { topic: 'leads', partition: 0, offset: 1, value: lead(2, { CustomId__c: undefined }) },
  { topic: 'leads', partition: 0, offset: 2, value: '{"LastName": ' },
  { topic: 'leads', partition: 0, offset: 3, value: lead(3, { Email: 'not-an-email' }) },
  { topic: 'leads', partition: 0, offset: 4, value: lead(4, { CustomId__c: '' }) },
  { topic: 'leads', partition: 0, offset: 5, value: lead(5) },
  { topic: 'inventory', partition: 0, offset: 0, value: { Sku: 'A-1' } },
  ...orderEvents({ count: 30, topic: 'orders', partitions: 1 }),
]);

describe('sfsink run summary', () => {
  it('shows per topic the rejection and failure codes with an example each, as JSON and as a table', async () => {
    const configFile = write('config.json', config);
    const eventFile = write('mixed.json', mixed);
    const json = await sfsink([
      'run',
      '--config',
      configFile,
      '--events',
      eventFile,
      '--out',
      join(dir, 'j'),
      '--json',
    ]);
    expect(json.code, json.err).toBe(0);
    const summary = JSON.parse(json.out) as RunSummary;
    const leads = summary.topics.find((t) => t.topic === 'leads')!;
    expect(leads).toMatchObject({ mode: 'realtime', records: 6, succeeded: 2, failed: 1, rejected: 3 });
    expect(leads.errors).toEqual([
      {
        status: 'rejected',
        code: 'MISSING_EXTERNAL_ID',
        count: 2,
        example: { partition: 0, offset: 1, message: expect.stringContaining('CustomId__c') },
      },
      {
        status: 'failed',
        code: 'INVALID_EMAIL_ADDRESS',
        count: 1,
        example: { partition: 0, offset: 3, message: expect.stringContaining('not-an-email') },
      },
      {
        status: 'rejected',
        code: 'INVALID_JSON',
        count: 1,
        example: { partition: 0, offset: 2, message: expect.stringContaining('not valid JSON') },
      },
    ]);
    expect(summary.topics.find((t) => t.topic === 'inventory')).toMatchObject({
      mode: '(unmapped)',
      rejected: 1,
      errors: [{ code: 'UNMAPPED_TOPIC', count: 1 }],
    });
    expect(summary.topics.find((t) => t.topic === 'orders')).toMatchObject({
      mode: 'bulk',
      succeeded: 30,
      bulkJobs: 1,
      errors: [],
    });
    expect(summary.salesforce.kind).toBe('embedded emulator');

    const table = await sfsink([
      'run',
      '--config',
      configFile,
      '--events',
      eventFile,
      '--out',
      join(dir, 't'),
    ]);
    expect(table.code, table.err).toBe(0);
    const lines = table.out.split('\n');
    const at = lines.findIndex((l) => l.startsWith('Failed and rejected records'));
    expect(lines.slice(at)).toEqual(
      expect.arrayContaining([
        '  leads',
        expect.stringMatching(/^ {4}rejected {2}MISSING_EXTERNAL_ID +2× {2}e\.g\. partition 0 offset 1:$/),
        '  inventory',
      ]),
    );
    // Every line fits a 100-column terminal, but for the paths it names.
    for (const line of lines.filter((l) => !l.includes(dir)))
      expect(line.length, line).toBeLessThanOrEqual(100);
  });

  it('counts API calls per topic, retries included', async () => {
    const outDir = join(dir, 'calls');
    const { summary, embedded } = await runLocal({
      config: parseConfig(config),
      eventFiles: [
        write(
          'retried.json',
          mskEvent([
            ...leadStream({ leads: 12, partitions: 1, updates: 0, topic: 'leads' }),
            ...orderEvents({ count: 20, topic: 'orders', partitions: 1 }),
          ]),
        ),
      ],
      outDir,
      emulator: {
        bulkProcessingDelayMs: 5,
        faults: [
          { route: 'collections', fault: 'status', status: 503, nth: 1 },
          { route: 'collections', fault: 'lockRow', match: { sobject: 'Lead' }, nth: 1 },
        ],
      },
    });
    try {
      const leads = summary.topics.find((t) => t.topic === 'leads')!;
      const orders = summary.topics.find((t) => t.topic === 'orders')!;
      expect(leads.succeeded).toBe(12);
      // The 503 is sent again; so is the locked row.
      expect(leads.retries).toBe(2);
      expect(orders.retries).toBe(0);
      expect(orders.apiCalls).toBeGreaterThanOrEqual(5); // describe, create, upload, close, check…
      expect(summary.apiCalls).toBe(embedded.salesforce.callCount());
      expect(summary.apiCalls).toBe(leads.apiCalls! + orders.apiCalls!);
      expect(summary.retries).toBe(2);
      const text = formatSummary(summary);
      expect(text).toMatch(/^leads +realtime +12 +12 +0 +0 +\d+ +2 +0$/m);
      expect(text).toContain(`Salesforce API calls:   ${summary.apiCalls} (2 of them retries)`);
    } finally {
      await embedded.close();
    }
  });
});
