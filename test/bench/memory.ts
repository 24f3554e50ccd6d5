// 4. Memory: peak RSS of one sink handler invocation on a 10,000-record event of at most 6 MB (the
// event source mapping's largest batch and Lambda's largest payload), realtime and bulk. The handler
// runs in a fresh child process (memory-child.ts); the emulator and dynalite run in processes of their
// own, so the peak is the handler's (VmHWM of the child). Baselines: an idle Node process, and the
// child after its imports, before the event.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LambdaKafkaEvent } from '../../lib/decode/index.ts';
import type { JsonObject } from '../../lib/records.ts';
import { type EventRecordInput, mskEvent } from '../../local/events/build-event.ts';
import { leadStream } from '../../local/events/generate.ts';
import { eventSize } from './harness.ts';
import {
  bundleHandlerChild,
  type HandlerChildResult,
  idleNodeRssMiB,
  runHandlerChild,
  startDynamoProcess,
  startEmulatorProcess,
} from './servers.ts';
import { median, progress, round, type SectionResult, target } from './support.ts';

/** Lambda's invocation payload limit, which bounds an event source mapping batch. */
export const MAX_PAYLOAD = 6 * 1024 * 1024;
/** Fields dropped, in this order, until the event fits; `Description` then pads it back up. */
const DROPPABLE = [
  'Description',
  'Address',
  'Website',
  'IsDeleted',
  'SystemModstamp',
  'LastModifiedDate',
  'CreatedDate',
  'OwnerId',
  'Salutation',
  'Title',
  'AnnualRevenue',
  'NumberOfEmployees',
  'LeadSource',
  'City',
  'State',
  'Country',
];

/** `count` Lead creations whose Lambda event is as close to `maxBytes` as fits, never above. */
export function leadEventOfSize(
  count: number,
  maxBytes = MAX_PAYLOAD,
): { event: LambdaKafkaEvent; records: EventRecordInput[] } {
  let records = leadStream({ leads: count, partitions: 3, updates: 0 });
  const without = (fields: string[]) =>
    records.map((r) => {
      const value = { ...(r.value as JsonObject) };
      for (const f of fields) delete value[f];
      return { ...r, value };
    });
  let dropped = 0;
  let event = mskEvent(records);
  while (eventSize(event) > maxBytes && dropped < DROPPABLE.length) {
    dropped++;
    event = mskEvent(without(DROPPABLE.slice(0, dropped)));
  }
  if (eventSize(event) > maxBytes) throw new Error(`${count} Lead records do not fit in ${maxBytes} bytes`);
  records = without(DROPPABLE.slice(0, dropped));
  // Pad with a Description (base64 makes 3 bytes 4) to fill the payload.
  const spare = maxBytes - eventSize(event);
  let pad = Math.floor((spare / count) * 0.75) - 20;
  while (pad > 0) {
    const padded = records.map((r) => ({
      ...r,
      value: { ...(r.value as JsonObject), Description: 'x'.repeat(pad) },
    }));
    const candidate = mskEvent(padded);
    if (eventSize(candidate) <= maxBytes) return { event: candidate, records: padded };
    pad -= 8;
  }
  return { event, records };
}

export interface MemoryOptions {
  records?: number;
  /** Invocations measured per mode (each in a fresh process); the figure is the largest peak. */
  repeats?: number;
}

export async function benchMemory(options: MemoryOptions = {}): Promise<SectionResult> {
  const started = performance.now();
  const count = options.records ?? 10_000;
  const repeats = options.repeats ?? 2;
  const { event, records } = leadEventOfSize(count);
  const valueBytes =
    records.reduce((n, r) => n + Buffer.byteLength(JSON.stringify(r.value)), 0) / records.length;
  const dir = mkdtempSync(join(tmpdir(), 'sfsink-bench-'));
  const eventFile = join(dir, 'event.json');
  writeFileSync(eventFile, JSON.stringify(event));
  const childBundle = await bundleHandlerChild(dir);
  const emulator = await startEmulatorProcess(['--bulk-delay', '5', '--daily-api-max', '1000000']);
  const dynamo = await startDynamoProcess();
  const runs: HandlerChildResult[] = [];
  const idle: number[] = [];
  try {
    for (let i = 0; i < repeats; i++) {
      idle.push(await idleNodeRssMiB());
      for (const mode of ['realtime', 'bulk']) {
        await fetch(`${emulator.url}/__emulator/reset`, { method: 'POST' });
        const result = await runHandlerChild(childBundle, {
          event: eventFile,
          mode,
          emulator: emulator.url,
          dynamo: dynamo.endpoint,
          table: dynamo.table,
          group: `memory-${mode}-${i}`,
        });
        const done = result.summary.succeeded! + result.summary.tracked!;
        if (done !== count)
          throw new Error(
            `memory run (${mode}) handled ${done} of ${count} records: ${JSON.stringify(result.summary)}`,
          );
        runs.push(result);
        progress(
          `memory ${mode}: peak RSS ${result.peakRssMiB.toFixed(1)} MiB (after imports ${result.afterImportsMiB.toFixed(1)} MiB), ${result.ms.toFixed(0)} ms`,
        );
      }
    }
  } finally {
    await Promise.all([emulator.close(), dynamo.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
  const idleMiB = median(idle);
  const peakOf = (mode: string) => Math.max(...runs.filter((r) => r.mode === mode).map((r) => r.peakRssMiB));
  const importsOf = (mode: string) =>
    median(runs.filter((r) => r.mode === mode).map((r) => r.afterImportsMiB));
  const figures = ['realtime', 'bulk'].map((mode) => ({
    name: `peak RSS, one invocation (${mode})`,
    value: round(peakOf(mode), 1),
    unit: 'MiB',
    baseline: { name: 'idle node process', value: round(idleMiB, 1) },
    ratio: round(peakOf(mode) / idleMiB, 2),
    note: `handler process after imports, before the event: ${round(importsOf(mode), 1)} MiB`,
  }));
  return {
    section: 'memory',
    title: `Memory: one invocation on a ${(eventSize(event) / 1024 / 1024).toFixed(2)} MiB event of ${count.toLocaleString('en-US')} Lead records (~${Math.round(valueBytes)} B values)`,
    figures,
    targets: ['realtime', 'bulk'].map((mode) =>
      target.below(`peak RSS (${mode}), MiB`, round(peakOf(mode), 1), 256),
    ),
    details: { eventBytes: eventSize(event), valueBytes: Math.round(valueBytes), idle, runs },
    wallMs: performance.now() - started,
  };
}

if (import.meta.main) {
  const result = await benchMemory();
  console.log(JSON.stringify(result, null, 2));
}
