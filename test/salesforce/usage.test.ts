// API usage: past the threshold, realtime writes slow down and a warning is logged once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../local/emulator/server.ts';
import { CONFIG, capturingLogger, deadlineIn, emulator, testClient, units } from './helpers.ts';

let emu: Emulator;
beforeAll(async () => {
  emu = await emulator();
});
afterAll(async () => {
  await emu.close();
});

describe('API usage threshold', () => {
  it('pauses realtime writes once usage passes it, longer near the limit, and warns once', async () => {
    emu.reset();
    const logger = capturingLogger();
    const { client, sleeps } = testClient(emu, { config: { ...CONFIG, apiUsageThreshold: 50 }, logger });
    emu.config.dailyApiMax = 10;
    const unit = () =>
      units([{ LastName: 'Doe', Company: 'Acme' }], { sobject: 'Lead', operation: 'insert' })[0]!;
    // Login is not counted; the first call reads usage 1/10: below the threshold, no pause.
    await client.writeUnit(unit(), deadlineIn());
    expect(sleeps).toEqual([]);
    for (let i = 0; i < 6; i++) await client.writeUnit(unit(), deadlineIn());
    expect(client.apiUsage()).toEqual({ used: 7, max: 10 });
    // Before the 6th call usage is 5/10 (50 %): 1 s; before the 7th, 60 %: 2.8 s (10 s at the limit).
    expect(sleeps).toEqual([1000, 2800]);
    expect(logger.lines.filter((l) => l.includes('threshold'))).toHaveLength(1);
    expect(emu.org.list('Lead')).toHaveLength(7);
  });

  it('does not pause when the threshold is 100', async () => {
    emu.reset();
    const { client, sleeps } = testClient(emu, { config: { ...CONFIG, apiUsageThreshold: 100 } });
    emu.config.dailyApiMax = 4;
    for (let i = 0; i < 3; i++) {
      await client.writeUnit(
        units([{ LastName: 'D', Company: 'A' }], { sobject: 'Lead', operation: 'insert' })[0]!,
        deadlineIn(),
      );
    }
    expect(sleeps).toEqual([]);
  });
});
