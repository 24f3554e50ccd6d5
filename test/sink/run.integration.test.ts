// What `npm start` runs, asserted: the sample events end with the emulator holding exactly what a
// sequential replay of them would, and nothing lost.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../lib/config/index.ts';
import { type LambdaKafkaEvent, recordsOfEvent } from '../../lib/decode/index.ts';
import type { JsonObject } from '../../lib/records.ts';
import { sequentialLeadState } from '../../local/events/generate.ts';
import { eventFilesOf, runLocal } from '../../local/runtime/run.ts';

describe('npm start (sfsink run on events/)', () => {
  it('leaves the emulator as a sequential replay of the sample events would, with nothing lost', async () => {
    const config = loadConfigFile('events/sample-config.json');
    const eventFiles = eventFilesOf(['events']);
    const { summary, embedded } = await runLocal({
      config,
      eventFiles,
      outDir: mkdtempSync(join(tmpdir(), 'sfsink-run-')),
      emulator: { bulkProcessingDelayMs: 5 },
    });
    try {
      expect(summary.lost).toBe(0);
      expect(summary.duplicated).toBe(0);
      expect(summary.outcomes).toBe(summary.records);

      const records = eventFiles.flatMap((f) =>
        recordsOfEvent(JSON.parse(readFileSync(f, 'utf8')) as LambdaKafkaEvent).map((r) => ({
          topic: r.topic,
          partition: r.partition,
          offset: r.offset,
          value: (() => {
            try {
              return JSON.parse(r.value!.toString('utf8')) as JsonObject;
            } catch {
              return undefined;
            }
          })(),
        })),
      );
      // The replay: valid Lead changes applied one by one in Kafka order (the bad ones are rejected).
      const leadChanges = records.filter(
        (r) =>
          r.topic === 'sfdc-pushtopic-lead' &&
          r.value &&
          !Array.isArray(r.value) &&
          typeof r.value.CustomId__c === 'string' &&
          ['created', 'updated', 'deleted'].includes(r.value._EventType as string) &&
          typeof r.value.NumberOfEmployees !== 'string',
      );
      const expected = sequentialLeadState(leadChanges.map((r) => ({ ...r, value: r.value! })));
      const leads = embedded.emulator!.org.list('Lead');
      expect(new Set(leads.map((l) => l.fields.CustomId__c))).toEqual(new Set(expected.keys()));
      for (const lead of leads) {
        const want = expected.get(lead.fields.CustomId__c as string)!;
        for (const field of ['LastName', 'Email', 'Status', 'Title'])
          expect(lead.fields[field]).toEqual(want[field]);
      }
      const orders = embedded.emulator!.org.list('Order_Event__c');
      expect(orders).toHaveLength(10_000);
      expect(summary.bulkBatches).toBe(1);
      const rejected = summary.topics.reduce((n, t) => n + t.rejected, 0);
      expect(rejected).toBe(6);
    } finally {
      await embedded.close();
    }
  });
});
