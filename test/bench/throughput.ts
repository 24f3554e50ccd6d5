// 3. Realtime throughput with 100 ms of emulator latency per call: records/s with the configured
// Collections calls in flight (default 4) vs one call at a time (`maxInFlight: 1`; the anchors write a
// batch's chunks sequentially). The handler runs alone in a fresh process (handler-child.ts), the
// emulator and DynamoDB in processes of their own; each run warms up (login, describe) with a small
// event, then times one invocation on a 10,000-record event. Runs alternate between the two settings.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mskEvent } from '../../local/events/build-event.ts';
import { leadStream } from '../../local/events/generate.ts';
import { bundleHandlerChild, runHandlerChild, startDynamoProcess, startEmulatorProcess } from './servers.ts';
import { median, progress, round, type SectionResult } from './support.ts';

export interface ThroughputOptions {
  records?: number;
  latencyMs?: number;
  rounds?: number;
  maxInFlight?: number;
}

export async function benchThroughput(options: ThroughputOptions = {}): Promise<SectionResult> {
  const started = performance.now();
  const records = options.records ?? 10_000;
  const latencyMs = options.latencyMs ?? 100;
  const rounds = options.rounds ?? 2;
  const maxInFlight = options.maxInFlight ?? 4;
  const dir = mkdtempSync(join(tmpdir(), 'sfsink-throughput-'));
  const all = leadStream({ leads: records + 30, partitions: 3, updates: 0 });
  const warmFile = join(dir, 'warm.json');
  const eventFile = join(dir, 'event.json');
  writeFileSync(warmFile, JSON.stringify(mskEvent(all.slice(0, 30))));
  writeFileSync(eventFile, JSON.stringify(mskEvent(all.slice(30))));
  const bundle = await bundleHandlerChild(dir);
  const emulator = await startEmulatorProcess(['--latency', String(latencyMs), '--daily-api-max', '1000000']);
  const dynamo = await startDynamoProcess();
  const concurrent: number[] = [];
  const sequential: number[] = [];
  try {
    let run = 0;
    for (let i = 0; i < rounds; i++) {
      const order = i % 2 === 0 ? ['concurrent', 'sequential'] : ['sequential', 'concurrent'];
      for (const which of order) {
        await fetch(`${emulator.url}/__emulator/reset`, { method: 'POST' });
        const result = await runHandlerChild(bundle, {
          'warm-event': warmFile,
          event: eventFile,
          mode: 'realtime',
          'max-in-flight': String(which === 'concurrent' ? maxInFlight : 1),
          emulator: emulator.url,
          dynamo: dynamo.endpoint,
          table: dynamo.table,
          group: `throughput-${run++}`,
        });
        if (result.summary.succeeded !== records)
          throw new Error(
            `throughput run (${which}) wrote ${result.summary.succeeded} of ${records} records`,
          );
        const rate = (records / result.ms) * 1000;
        (which === 'concurrent' ? concurrent : sequential).push(rate);
        progress(
          `throughput round ${i + 1}: ${which} ${rate.toFixed(0)} records/s (${result.ms.toFixed(0)} ms)`,
        );
      }
    }
  } finally {
    await Promise.all([emulator.close(), dynamo.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
  const ratios = concurrent.map((c, i) => c / sequential[i]!);
  const calls = Math.ceil(records / 200);
  return {
    section: 'throughput',
    title: `Realtime throughput: one invocation of ${records.toLocaleString('en-US')} Lead upserts (${calls} Collections calls), ${latencyMs} ms emulator latency per call`,
    figures: [
      {
        name: `maxInFlight ${maxInFlight}`,
        value: round(median(concurrent), 0),
        unit: 'records/s',
        baseline: { name: 'maxInFlight 1, sequential', value: round(median(sequential), 0) },
        ratio: round(median(ratios), 2),
        note: `latency alone allows ${round((maxInFlight * 200 * 1000) / latencyMs, 0)} vs ${round((200 * 1000) / latencyMs, 0)} records/s`,
      },
    ],
    targets: [],
    details: { records, latencyMs, rounds, concurrent, sequential },
    wallMs: performance.now() - started,
  };
}

if (import.meta.main) {
  const result = await benchThroughput();
  console.log(JSON.stringify(result, null, 2));
}
