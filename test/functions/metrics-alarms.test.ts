// The alarms watch exactly what the handler emits: a stack with a custom `metricsService` is
// synthesized, the sink handler is bundled as Lambda runs it (esbuild, the stack's options) and run in
// a process of its own with the environment the template gives the function, on an event with a record
// Salesforce refuses and one that is bad input. Its EMF lines must carry the namespace, the dimension
// set and value, and the metric names of the template's custom-metric alarms.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploymentProblems } from '../../infra/deployment.ts';
import { BUNDLING } from '../../infra/salesforce-sink.ts';
import { createSinkApp } from '../../infra/sink-stack.ts';
import { METRIC } from '../../lib/runtime/metrics.ts';
import { type Emulator, startEmulator } from '../../local/emulator/server.ts';
import { mskEvent } from '../../local/events/build-event.ts';
import { type LocalDynamo, startLocalDynamo } from '../../local/stand-ins/dynamodb.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const SERVICE = 'orders-sink-eu';

// biome-ignore lint/suspicious/noExplicitAny: template JSON
type Resource = { Type: string; Properties: Record<string, any> };
interface Emf {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
  [key: string]: unknown;
}

let emulator: Emulator;
let dynamo: LocalDynamo;
let secrets: Server;
let resources: Record<string, Resource>;
let bundle: string;

function secretsStandIn(secretString: string): Promise<Server> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.setHeader('content-type', 'application/x-amz-json-1.1');
      response.end(
        JSON.stringify({ ARN: 'arn', Name: 'sfsink', SecretString: secretString, VersionId: 'v1' }),
      );
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  const { deployment, problems } = deploymentProblems({
    stackName: 'sfsink-metrics',
    source: {
      kind: 'msk',
      clusterArn:
        'arn:aws:kafka:eu-west-1:123456789012:cluster/orders/0a1b2c3d-1111-2222-3333-444455556666-1',
    },
    network: { createEndpoints: false },
    monitoring: { metricsService: SERVICE },
    // Outcomes only logged, so the template's SFSINK_CONFIG is literal JSON.
    results: { createQueues: false },
    config: { mappings: [{ topic: 'leads', sobject: 'Lead', operation: 'insert', eventType: 'override' }] },
  });
  expect(problems).toEqual([]);
  const inline = lambda.Code.fromInline('export const handler = async () => ({});');
  const { app, stack } = createSinkApp({
    deployment: deployment!,
    code: { sink: inline, poller: inline },
    env: {},
  });
  resources = (
    app.synth().getStackByName(stack.stackName).template as { Resources: Record<string, Resource> }
  ).Resources;

  const dir = mkdtempSync(join(tmpdir(), 'sfsink-emf-'));
  bundle = join(dir, 'index.mjs');
  await build({
    entryPoints: [join(ROOT, 'functions/sink/index.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: BUNDLING.target,
    banner: { js: BUNDLING.banner! },
    logLevel: 'silent',
  });
  [emulator, dynamo] = await Promise.all([startEmulator(), startLocalDynamo('sfsink-emf')]);
  secrets = await secretsStandIn(
    JSON.stringify({
      authType: 'client_credentials',
      loginUrl: emulator.url,
      clientId: emulator.credentials.clientId,
      clientSecret: emulator.credentials.clientSecret,
    }),
  );
});

afterAll(async () => {
  await Promise.all([emulator?.close(), dynamo?.close()]);
  secrets?.close();
});

/** Runs the bundled handler once in a fresh process and returns the EMF documents it printed. */
async function invokeBundle(environment: Record<string, string>): Promise<Emf[]> {
  const event = mskEvent([
    { topic: 'leads', partition: 0, offset: 0, key: 'a', value: { LastName: 'Ok', Company: 'C' } },
    // Salesforce refuses it (LastName is required): a failed outcome.
    { topic: 'leads', partition: 0, offset: 1, key: 'b', value: { Company: 'No name' } },
    // Bad input: a rejected outcome.
    { topic: 'leads', partition: 0, offset: 2, key: 'c', value: 'broken {' },
  ]);
  const script = `
    const { handler } = await import(${JSON.stringify(bundle)});
    const context = { functionName: 'sink', awsRequestId: 'r1', getRemainingTimeInMillis: () => 300000 };
    await handler(${JSON.stringify(event)}, context);
    process.exit(0);`;
  // Not spawnSync: the emulator and the stand-ins answer from this process's event loop.
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: {
      PATH: process.env.PATH ?? '',
      ...environment,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(secrets.address() as AddressInfo).port}`,
      POWERTOOLS_TRACE_ENABLED: 'false',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      SFSINK_TABLE: dynamo.table,
      SFSINK_SECRET_ID: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:sfsink-AbCdEf',
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(status, stderr).toBe(0);
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Emf);
}

describe('metrics and alarms', () => {
  it('the EMF of the bundled sink handler carries exactly the namespace, dimension and names the custom-metric alarms watch', async () => {
    const sinkFunction = Object.entries(resources).find(
      ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.includes('SinkFunction'),
    )![1];
    const variables = sinkFunction.Properties.Environment.Variables as Record<string, unknown>;
    const environment = Object.fromEntries(
      Object.entries(variables).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
    expect(environment.POWERTOOLS_SERVICE_NAME).toBe(SERVICE);

    const alarms = Object.values(resources)
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.Namespace === 'sfsink')
      .map((r) => ({
        name: r.Properties.MetricName as string,
        namespace: r.Properties.Namespace as string,
        dimensions: r.Properties.Dimensions as { Name: string; Value: string }[],
      }));
    expect(alarms.map((a) => a.name).sort()).toEqual(
      [
        METRIC.bulkJobsFailed,
        METRIC.recordsFailed,
        METRIC.recordsRejected,
        METRIC.salesforceApiUsagePercent,
      ].sort(),
    );

    const emf = await invokeBundle(environment);
    // The poller emits BulkJobsFailed (same module of names, same service variable); the sink the rest.
    for (const alarm of alarms.filter((a) => a.name !== METRIC.bulkJobsFailed)) {
      const matching = emf.filter((doc) =>
        doc._aws.CloudWatchMetrics.some(
          (m) =>
            m.Namespace === alarm.namespace &&
            m.Metrics.some((metric) => metric.Name === alarm.name) &&
            m.Dimensions.some(
              (set) =>
                JSON.stringify([...set].sort()) ===
                JSON.stringify(alarm.dimensions.map((d) => d.Name).sort()),
            ),
        ),
      );
      expect(matching.length, `no EMF for the ${alarm.name} alarm`).toBeGreaterThan(0);
      for (const doc of matching) {
        for (const d of alarm.dimensions) expect(doc[d.Name]).toBe(d.Value);
      }
    }
    // The failing and the rejected record were counted where the alarms look.
    for (const name of [METRIC.recordsFailed, METRIC.recordsRejected]) {
      expect(emf.filter((doc) => doc.sobject === undefined && doc[name] !== undefined)).toContainEqual(
        expect.objectContaining({ service: SERVICE, [name]: 1 }),
      );
    }
  });
});
