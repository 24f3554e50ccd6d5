// The CDK app as `cdk synth` runs it (`node infra/app.ts` with the context in CDK_CONTEXT_JSON), on
// deployment files with mistakes: one line per problem, `<file>: <path>: <what and the fix>`, every
// problem of a file at once, exit code 2, no stack trace.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'sfsink-deployments-'));
const sample = JSON.parse(readFileSync(join(import.meta.dirname, 'sample-deployment.json'), 'utf8'));
const CLUSTER = sample.source.clusterArn as string;
const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1111aaaa-22bb-33cc-44dd-555555eeeeee';

function synth(name: string, deployment: unknown) {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(deployment));
  const run = spawnSync(process.execPath, [join(import.meta.dirname, 'app.ts')], {
    env: {
      ...process.env,
      CDK_OUTDIR: join(dir, `${name}.out`),
      CDK_CONTEXT_JSON: JSON.stringify({ deployment: file }),
    },
    encoding: 'utf8',
  });
  const lines = run.stderr.split('\n').filter((l) => l.length > 0);
  return { status: run.status, lines, problems: lines.map((l) => l.slice(`${file}: `.length)), file };
}

function expectCleanRefusal(result: ReturnType<typeof synth>) {
  expect(result.status).toBe(2);
  for (const line of result.lines) {
    expect(line.startsWith(`${result.file}: `)).toBe(true);
    expect(line).not.toMatch(/^\s+at |Error:|nonoptional|«/);
  }
}

describe('deployment file mistakes', () => {
  it('a secret given by name instead of ARN: the path and the fix, not an internal CDK error', () => {
    const result = synth('secret-name', {
      ...sample,
      source: { ...sample.source, auth: 'sasl-scram', secret: 'kafka-creds' },
    });
    expectCleanRefusal(result);
    expect(result.problems).toEqual([
      'source.secret: "kafka-creds" is not a complete secret ARN: copy the ARN from the Secrets Manager console (arn:aws:secretsmanager:<region>:<account>:secret:<name>-XXXXXX); a name is not enough',
    ]);
  });

  it('a SCRAM secret MSK would refuse (name without AmazonMSK_, no customer key), a poller group with a dot, a batch too large: all at once', () => {
    const result = synth('many', {
      ...sample,
      source: {
        ...sample.source,
        auth: 'sasl-scram',
        secret: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:kafka-creds-AbCdEf',
      },
      consumer: {
        ...sample.consumer,
        batchSize: 20_000,
        provisionedPollers: { groupName: 'sfsink.pollers' },
      },
    });
    expectCleanRefusal(result);
    expect(result.problems.sort()).toEqual(
      [
        'consumer.batchSize: must be at most 10000 (Lambda limit for Kafka)',
        'consumer.provisionedPollers.groupName: must be 1–64 characters of a-z A-Z 0-9 - _ (CloudFormation allows no dots here)',
        'source.secret: "kafka-creds" cannot be a SASL/SCRAM secret of MSK, whose names start with AmazonMSK_: create the secret as AmazonMSK_kafka-creds and associate it with the cluster',
        'source.secret: has no KMS key: MSK accepts only SASL/SCRAM secrets encrypted with a customer managed key; give the key (kmsKeyArn) so the event pollers may decrypt the secret',
      ].sort(),
    );
  });

  it('sink configuration problems keep their config. prefix and come with the file’s own', () => {
    const result = synth('config', {
      ...sample,
      onFailure: { destination: 'kinesis' },
      config: { mappings: [{ topic: 'leads', sobject: 'Lead', operation: 'upsert' }] },
    });
    expectCleanRefusal(result);
    expect(result.problems).toEqual([
      'onFailure.destination: must be s3 or sqs',
      'config.mappings[0].externalIdField: is required for upsert: set it to the external id field that identifies records (e.g. CustomId__c)',
    ]);
  });

  it('a missing key says it is required; an unknown key names itself; a key alias is not a key ARN', () => {
    const { source: _source, ...withoutSource } = sample;
    const result = synth('missing', {
      ...withoutSource,
      sourc: {},
      functions: { logKmsKeyArn: 'alias/sfsink' },
    });
    expectCleanRefusal(result);
    expect(result.problems).toEqual([
      'source: is required (object)',
      'functions.logKmsKeyArn: is not a KMS key ARN: arn:aws:kms:<region>:<account>:key/<key id> (an alias cannot be granted in IAM policies)',
      '(top level): unknown key "sourc": remove it or check the spelling (see the deployment file keys in the README)',
    ]);
  });

  it('an MSK cluster without its VPC, which the endpoints need, names both ways out', () => {
    const { vpc: _vpc, ...source } = sample.source;
    const result = synth('no-vpc', { ...sample, source });
    expectCleanRefusal(result);
    expect(result.problems).toEqual([
      expect.stringMatching(
        /^source\.vpc: is required to create the VPC endpoints .*network\.createEndpoints\) to false/,
      ),
    ]);
  });

  it('route tables that do not match the subnets', () => {
    const result = synth('route-tables', {
      ...sample,
      source: { ...sample.source, vpc: { ...sample.source.vpc, routeTableIds: ['rtb-0123456789abcdef0'] } },
    });
    expectCleanRefusal(result);
    expect(result.problems).toEqual([
      'source.vpc.routeTableIds: lists 1 route tables for 2 subnets to create the S3 gateway endpoint the event pollers write discarded records through: give the route table of each subnet, in the order of subnetIds, or set network.createEndpoints to false',
    ]);
  });

  it('a file that is not JSON, or not there', () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ "source": ');
    const broken = spawnSync(process.execPath, [join(import.meta.dirname, 'app.ts')], {
      env: {
        ...process.env,
        CDK_OUTDIR: join(dir, 'broken.out'),
        CDK_CONTEXT_JSON: JSON.stringify({ deployment: file }),
      },
      encoding: 'utf8',
    });
    expect(broken.status).toBe(2);
    expect(broken.stderr).toMatch(/^\S+broken\.json: \(file\): is not valid JSON: [^\n]+\n$/);
  });

  it('a valid file synthesizes (exit 0)', () => {
    const result = synth('valid', {
      ...sample,
      source: {
        ...sample.source,
        auth: 'sasl-scram',
        secret: {
          arn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:AmazonMSK_sfsink-AbCdEf',
          kmsKeyArn: KEY,
        },
      },
    });
    expect(result.lines.filter((l) => /ERROR|rror:/.test(l))).toEqual([]);
    expect(result.status).toBe(0);
    expect(CLUSTER).toMatch(/^arn:aws:kafka:/);
  });
});
