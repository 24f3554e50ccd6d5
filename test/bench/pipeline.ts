// 1. Pipeline CPU: decode → resolve → shape → plan → CSV of PushTopic Lead records, in records/s, next
// to the floor any sink pays for the same values: base64-decode + JSON.parse. The records come in
// events of 10,000 (the event source mapping's largest batch); baseline and pipeline run interleaved,
// in rotating order, several rounds; the figures are medians and the ratio is the median of the
// per-round ratios (both sides of a ratio ran back to back, so machine noise mostly cancels).
import { parseConfig, type SinkConfig } from '../../lib/config/index.ts';
import { encodeCsv } from '../../lib/csv/index.ts';
import { type LambdaKafkaEvent, recordsOfEvent } from '../../lib/decode/index.ts';
import { prepareRecord } from '../../lib/pipeline.ts';
import { planWrites } from '../../lib/plan/plan.ts';
import { isRejection } from '../../lib/records.ts';
import { indexMappings, type MappingIndex } from '../../lib/resolve/resolve.ts';
import type { ShapedRecord } from '../../lib/shape/shape.ts';
import { type SObjectSchema, schemaFromDescribe } from '../../lib/shape/sobject-schema.ts';
import { mskEvent } from '../../local/events/build-event.ts';
import { leadStream } from '../../local/events/generate.ts';
import { leadDescribe } from '../fixtures/lead-describe.ts';
import { median, progress, round, type SectionResult, target } from './support.ts';

export interface PipelineOptions {
  records?: number;
  /** Records per event (one handler invocation). */
  batch?: number;
  rounds?: number;
}

const TOPIC = 'sfdc-pushtopic-lead';

function configFor(mode: 'bulk' | 'realtime'): SinkConfig {
  return parseConfig({
    mappings: [
      { topic: TOPIC, sobject: 'Lead', externalIdField: 'CustomId__c', unknownFields: 'ignore', mode },
    ],
  });
}

/** The floor: every value base64-decoded and parsed. Returns a checksum so nothing is optimised away. */
function decodeAndParse(events: readonly LambdaKafkaEvent[]): number {
  let sum = 0;
  for (const event of events) {
    for (const list of Object.values(event.records)) {
      for (const r of list) {
        const value = JSON.parse(Buffer.from(r.value!, 'base64').toString('utf8')) as Record<string, unknown>;
        sum += value.CustomId__c === undefined ? 0 : 1;
      }
    }
  }
  return sum;
}

interface Stages {
  config: SinkConfig;
  mappings: MappingIndex;
  schema: SObjectSchema;
}

/** Milliseconds per stage, summed over the events of one pass. */
type StageTimes = { decode: number; prepare: number; plan: number; csv: number };

/**
 * The sink's pure stages over each event, as `prepareBatch` runs them (decode of the event; then per
 * record decodeValue → resolve → shape, the CSV check for bulk; then the plan), and with CSV every bulk
 * unit encoded as its job's upload. Each stage is timed on its own.
 */
function runPipeline(
  events: readonly LambdaKafkaEvent[],
  stages: Stages,
  csv: boolean,
  times: StageTimes,
): number {
  let sum = 0;
  const options = { config: stages.config, mappings: stages.mappings, schemaOf: () => stages.schema };
  for (const event of events) {
    let t = performance.now();
    const records = recordsOfEvent(event);
    let now = performance.now();
    times.decode += now - t;
    t = now;
    const shaped: ShapedRecord[] = [];
    for (const record of records) {
      const prepared = prepareRecord(record, options);
      if (isRejection(prepared)) throw new Error(`pipeline bench: a record was rejected (${prepared.code})`);
      shaped.push(prepared);
    }
    now = performance.now();
    times.prepare += now - t;
    t = now;
    const plan = planWrites(shaped, { bulkUnitSize: stages.config.bulk.batchSize });
    now = performance.now();
    times.plan += now - t;
    t = now;
    for (const stage of plan.stages) {
      for (const unit of stage) {
        sum += unit.records.length;
        if (csv) sum += encodeCsv(unit.records.map((r) => r.fields)).text.length > 0 ? 0 : 1;
      }
    }
    times.csv += performance.now() - t;
  }
  return sum;
}

export async function benchPipeline(options: PipelineOptions = {}): Promise<SectionResult> {
  const started = performance.now();
  const total = options.records ?? 100_000;
  const batch = options.batch ?? 10_000;
  const rounds = options.rounds ?? 5;
  // created + one update per lead: ~1 KB values, as the PushTopic connector writes them.
  const inputs = leadStream({ leads: Math.ceil(total / 2), partitions: 3, updates: 1 }).slice(0, total);
  const valueBytes =
    inputs.reduce((n, r) => n + Buffer.byteLength(JSON.stringify(r.value)), 0) / inputs.length;
  const events: LambdaKafkaEvent[] = [];
  for (let i = 0; i < inputs.length; i += batch) events.push(mskEvent(inputs.slice(i, i + batch)));
  const schema = schemaFromDescribe(leadDescribe);
  const bulk: Stages = { config: configFor('bulk'), mappings: indexMappings(configFor('bulk')), schema };
  const realtime: Stages = {
    config: configFor('realtime'),
    mappings: indexMappings(configFor('realtime')),
    schema,
  };

  const stageTimes: StageTimes[] = [];
  const runs = {
    baseline: () => decodeAndParse(events),
    bulk: () => {
      const times: StageTimes = { decode: 0, prepare: 0, plan: 0, csv: 0 };
      stageTimes.push(times);
      return runPipeline(events, bulk, true, times);
    },
    realtime: () => runPipeline(events, realtime, false, { decode: 0, prepare: 0, plan: 0, csv: 0 }),
  };
  type Name = keyof typeof runs;
  const names: Name[] = ['baseline', 'bulk', 'realtime'];
  const ms: Record<Name, number[]> = { baseline: [], bulk: [], realtime: [] };
  // One warm-up round (JIT), then measured rounds in rotating order.
  for (let round = -1; round < rounds; round++) {
    const order = names.map((_, i) => names[(i + Math.max(0, round)) % names.length]!);
    const lap: Partial<Record<Name, number>> = {};
    for (const name of order) {
      const t = performance.now();
      runs[name]();
      lap[name] = performance.now() - t;
    }
    if (round >= 0) for (const name of names) ms[name].push(lap[name]!);
    progress(
      `pipeline round ${round < 0 ? 'warm-up' : round + 1}: ${names.map((n) => `${n} ${lap[n]!.toFixed(0)} ms`).join(', ')}`,
    );
  }
  const rate = (list: number[]) => median(list.map((t) => (inputs.length / t) * 1000));
  const ratios = (name: Name) => median(ms.baseline.map((b, i) => b / ms[name][i]!));
  const baselineRate = rate(ms.baseline);
  const bulkRatio = ratios('bulk');
  const realtimeRatio = ratios('realtime');
  const baseline = { name: 'base64 + JSON.parse', value: round(baselineRate, 0) };
  const measuredStages = stageTimes.slice(1); // without the warm-up pass
  const share = (stage: keyof StageTimes) => round(median(measuredStages.map((t) => t[stage])), 0);
  const breakdown = {
    'decode event': share('decode'),
    'decodeValue+resolve+shape+CSV check': share('prepare'),
    plan: share('plan'),
    'CSV encode': share('csv'),
  };
  return {
    section: 'pipeline',
    title: `Pipeline CPU: ${inputs.length.toLocaleString('en-US')} PushTopic Lead records (~${Math.round(valueBytes)} B each) in events of ${batch.toLocaleString('en-US')}`,
    figures: [
      {
        name: 'decode→resolve→shape→plan→CSV (bulk)',
        value: round(rate(ms.bulk), 0),
        unit: 'records/s',
        baseline,
        ratio: round(bulkRatio, 3),
        note: `ms per ${inputs.length.toLocaleString('en-US')} records by stage (median): ${JSON.stringify(breakdown)}; baseline ${round(median(ms.baseline), 0)} ms`,
      },
      {
        name: 'decode→resolve→shape→plan (realtime)',
        value: round(rate(ms.realtime), 0),
        unit: 'records/s',
        baseline,
        ratio: round(realtimeRatio, 3),
      },
    ],
    targets: [target.atLeast('pipeline (bulk, with CSV) / decode+parse baseline', round(bulkRatio, 3), 0.25)],
    details: {
      records: inputs.length,
      batch,
      rounds,
      valueBytes: Math.round(valueBytes),
      ms,
      breakdown,
      stageTimes: measuredStages,
    },
    wallMs: performance.now() - started,
  };
}

if (import.meta.main) {
  const result = await benchPipeline();
  console.log(JSON.stringify(result, null, 2));
}
