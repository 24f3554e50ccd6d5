// Logs carry coordinates, codes and counts: never record values (customer data) nor secrets.
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/index.ts';
import type { SinkLogger } from '../../lib/logger.ts';
import { mskEvent } from '../../local/events/build-event.ts';
import { leadStream, orderEvents } from '../../local/events/generate.ts';
import { type Embedded, startEmbedded } from '../../local/runtime/embedded.ts';

let sink: Embedded | undefined;
afterEach(async () => {
  await sink?.close();
  sink = undefined;
});

describe('logging', () => {
  it('never writes a record value or a secret, even when writes fail and retry', async () => {
    const lines: string[] = [];
    const collect =
      (level: string) =>
      (message: string, attributes: Record<string, unknown> = {}) =>
        lines.push(`${level} ${message} ${JSON.stringify(attributes)}`);
    const logger: SinkLogger = {
      debug: collect('debug'),
      info: collect('info'),
      warn: collect('warn'),
      error: collect('error'),
    };
    const config = parseConfig({
      maxRetries: 1,
      bulk: { pollInterval: '1s' },
      mappings: [
        {
          topic: 'sfdc-pushtopic-lead',
          sobject: 'Lead',
          externalIdField: 'CustomId__c',
          unknownFields: 'ignore',
        },
        { topic: 'order-events', sobject: 'Order_Event__c', mode: 'bulk', operation: 'insert' },
      ],
    });
    sink = await startEmbedded({
      config,
      logger,
      emulator: {
        bulkProcessingDelayMs: 5,
        faults: [{ fault: 'status', status: 503, route: 'collections', probability: 0.3, times: 'always' }],
      },
      waitMs: 5,
    });
    const leads = leadStream({ leads: 20, partitions: 2 });
    const orders = orderEvents({ count: 50 });
    await sink.deliver(
      mskEvent([
        ...leads,
        ...orders,
        { topic: 'sfdc-pushtopic-lead', partition: 5, offset: 0, value: 'secret-ish {' },
      ]),
    );
    await sink.settle();
    expect(lines.length).toBeGreaterThan(0);
    const text = lines.join('\n');
    for (const r of leads) {
      const value = r.value as Record<string, string>;
      if (value.Email) expect(text).not.toContain(value.Email);
      if (value.LastName) expect(text).not.toContain(value.LastName);
    }
    expect(text).not.toContain('secret-ish');
    expect(text).not.toContain(sink.emulator!.credentials.clientSecret);
    expect(text).not.toMatch(/access_token|Bearer [A-Za-z0-9]/);
  });
});
