// `sfsink events generate`: warnings where the event would not be what the user meant, keys found in
// Kafka Connect payloads, and Connect envelopes with "schema": null unwrapped by the decoder (they used
// to reach the sink whole, so every record lacked its external id).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeValue, type LambdaKafkaEvent, recordsOfEvent } from '../../lib/decode/index.ts';
import type { RunSummary } from '../../local/runtime/run.ts';
import { sfsink } from './process.ts';

const dir = mkdtempSync(join(tmpdir(), 'sfsink-events-'));
const keysOf = (event: LambdaKafkaEvent) => recordsOfEvent(event).map((r) => r.key);
const lead = (id: string) => ({ LastName: `Doe ${id}`, Company: 'Acme', CustomId__c: id });

describe('sfsink events generate', () => {
  it('warns when no record has the key field, and leaves every key null', async () => {
    const run = await sfsink(['events', 'generate', '--topic', 'leads', '--key-field', 'Idd'], {
      input: `${JSON.stringify(lead('a'))}\n${JSON.stringify(lead('b'))}\n`,
    });
    expect(run.code).toBe(0);
    expect(run.err).toMatch(
      /^sfsink: warning: no record has the field "Idd" \(--key-field\): every key is null[^\n]*\n$/,
    );
    expect(keysOf(JSON.parse(run.out))).toEqual([null, null]);
  });

  it('warns how many records lack the key field', async () => {
    const run = await sfsink(['events', 'generate', '--topic', 'leads', '--key-field', 'CustomId__c'], {
      input: `${JSON.stringify(lead('a'))}\n{"LastName":"Roe"}\n${JSON.stringify(lead('c'))}\n`,
    });
    expect(run.code).toBe(0);
    expect(run.err).toBe('sfsink: warning: 1 of 3 records have no "CustomId__c": their key is null\n');
    expect(keysOf(JSON.parse(run.out))).toEqual(['a', null, 'c']);
  });

  it('finds the key field inside a Kafka Connect payload', async () => {
    const envelope = (id: string) =>
      JSON.stringify({
        schema: { type: 'struct', fields: [{ field: 'CustomId__c', type: 'string' }] },
        payload: lead(id),
      });
    const run = await sfsink(['events', 'generate', '--topic', 'leads', '--key-field', 'CustomId__c'], {
      input: `${envelope('a')}\n${envelope('b')}\n`,
    });
    expect(run.code).toBe(0);
    expect(run.err).toBe('');
    expect(keysOf(JSON.parse(run.out))).toEqual(['a', 'b']);
  });

  it('warns about lines that are not JSON objects (the sink will reject them)', async () => {
    const run = await sfsink(['events', 'generate', '--topic', 'leads'], { input: '{"a":1}\n42\n"text"\n' });
    expect(run.code).toBe(0);
    expect(run.err).toMatch(
      /^sfsink: warning: 2 of 3 lines are not JSON objects: the sink will reject those records \(NOT_AN_OBJECT\)\n$/,
    );
  });
});

describe('Connect envelopes with "schema": null', () => {
  it('are unwrapped by the decoder', () => {
    const [record] = recordsOfEvent({
      eventSource: 'aws:kafka',
      records: {
        'leads-0': [
          {
            topic: 'leads',
            partition: 0,
            offset: 0,
            value: Buffer.from(JSON.stringify({ schema: null, payload: lead('a') })).toString('base64'),
          },
        ],
      },
    });
    expect(decodeValue(record!)).toMatchObject({ value: lead('a') });
  });

  it('reach Salesforce as their payload: upserted by external id, not rejected for lacking it', async () => {
    const generated = await sfsink(['events', 'generate', '--topic', 'leads', '--key-field', 'CustomId__c'], {
      input: ['a', 'b', 'c'].map((id) => JSON.stringify({ schema: null, payload: lead(id) })).join('\n'),
    });
    expect(generated.code, generated.err).toBe(0);
    expect(keysOf(JSON.parse(generated.out))).toEqual(['a', 'b', 'c']);
    const events = join(dir, 'schemaless.json');
    writeFileSync(events, generated.out);
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({ mappings: [{ topic: 'leads', sobject: 'Lead', externalIdField: 'CustomId__c' }] }),
    );
    const run = await sfsink([
      'run',
      '--config',
      config,
      '--events',
      events,
      '--out',
      join(dir, 'out'),
      '--json',
    ]);
    expect(run.code, run.err).toBe(0);
    const summary = JSON.parse(run.out) as RunSummary;
    expect(summary.topics).toMatchObject([{ topic: 'leads', succeeded: 3, rejected: 0, errors: [] }]);
  });
});
