// The measured process of the memory and throughput figures: the sink handler alone, invoked on an event
// file against an emulator and a DynamoDB that run in other processes (as Lambda runs it: built into
// one bundle first, see bundleHandlerChild). Prints what it measured as one JSON line.
//
//   node <bundle> --event <file> [--warm-event <file>] --mode realtime|bulk [--max-in-flight 4]
//                 --emulator <url> --dynamo <endpoint> [--table sfsink] [--group <id>]
import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamoJobStore } from '../../lib/bulk/dynamodb-store.ts';
import type { Executions } from '../../lib/bulk/executions.ts';
import { dynamoCheckpointStore } from '../../lib/checkpoint/dynamodb-store.ts';
import { parseConfig } from '../../lib/config/index.ts';
import type { LambdaKafkaEvent } from '../../lib/decode/index.ts';
import { encodeOutcome, type OutcomePublisher } from '../../lib/outcomes/index.ts';
import { indexMappings } from '../../lib/resolve/resolve.ts';
import { createSalesforceClient } from '../../lib/salesforce/index.ts';
import { processBatch } from '../../lib/sink/process-batch.ts';
import { parseFlags, peakRssMiB } from './support.ts';

const flags = parseFlags(process.argv.slice(2));
const need = (name: string) => {
  const value = flags.get(name);
  if (!value) throw new Error(`--${name} is required`);
  return value;
};
const mode = need('mode') as 'realtime' | 'bulk';
const afterImports = peakRssMiB();

const config = parseConfig({
  ...(flags.has('max-in-flight') ? { maxInFlight: Number(flags.get('max-in-flight')) } : {}),
  mappings: [
    {
      topic: 'sfdc-pushtopic-lead',
      sobject: 'Lead',
      externalIdField: 'CustomId__c',
      unknownFields: 'ignore',
      mode,
    },
  ],
});
const dynamo = new DynamoDBClient({
  endpoint: need('dynamo'),
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
const table = flags.get('table') ?? 'sfsink';
const emulator = need('emulator');
const salesforce = createSalesforceClient({
  credentials: {
    authType: 'client_credentials',
    loginUrl: emulator,
    clientId: 'emulator-client-id',
    clientSecret: 'emulator-client-secret',
  },
  config,
});
// What an SQS or Kafka publisher does with each outcome before sending it: encode it. Nothing is kept.
let published = 0;
const publisher: OutcomePublisher = {
  async publish(outcomes) {
    for (const o of outcomes) published += encodeOutcome(o, 256 * 1024).bytes > 0 ? 1 : 0;
  },
  async close() {},
};
let executions = 0;
// Started and never seen again: the measured invocation only submits.
const countingExecutions: Executions = {
  async start() {
    executions++;
    return 'running';
  },
  async status() {
    return 'RUNNING';
  },
};

const deps = {
  config,
  mappings: indexMappings(config),
  group: flags.get('group') ?? `handler-${mode}`,
  salesforce,
  checkpoints: dynamoCheckpointStore(dynamo, table),
  jobs: dynamoJobStore(dynamo, table),
  executions: countingExecutions,
  publisher,
  deadline: Date.now() + 15 * 60_000,
};

// A warm invocation first, when asked for (login, describe, connections): the measured one is then warm.
let warmMs = 0;
const warmFile = flags.get('warm-event');
if (warmFile) {
  const t = performance.now();
  await processBatch(JSON.parse(readFileSync(warmFile, 'utf8')) as LambdaKafkaEvent, deps);
  warmMs = performance.now() - t;
}

// The Lambda runtime hands the handler the parsed event: read and parse it here, inside the measure.
const text = readFileSync(need('event'), 'utf8');
const event = JSON.parse(text) as LambdaKafkaEvent;
const started = performance.now();
const result = await processBatch(event, deps);
const ms = performance.now() - started;
const peak = peakRssMiB();
dynamo.destroy();
process.stdout.write(
  `${JSON.stringify({
    mode,
    eventBytes: Buffer.byteLength(text),
    peakRssMiB: peak,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    afterImportsMiB: afterImports,
    heapUsedMiB: process.memoryUsage().heapUsed / 1024 / 1024,
    ms,
    warmMs,
    summary: result.summary,
    handedBack: result.batchItemFailures.length,
    published,
    executions,
  })}\n`,
);
process.exit(0);
