// `sfsink config import`, driven through the CLI's main(): the converted configuration of each fixture
// exactly, the report lines that matter, credentials that never leak into the output or the report,
// the secret file written with mode 0600, and user errors that end with exit code 2 and one line.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../lib/config/index.ts';
import { main } from './cli.ts';
import { secretOf } from './config-import.ts';

/** Redpanda's environment interpolation, `${NAME}` (written with `$` apart: it is not a template). */
const env = (reference: string) => `$\{${reference}}`;

const fixture = (name: string) =>
  fileURLToPath(new URL(`../test/fixtures/config-import/${name}`, import.meta.url));

const tmp = mkdtempSync(join(tmpdir(), 'sfsink-config-import-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let fileCount = 0;
/** Writes `text` to a fresh temporary file and returns its path. */
function tmpFile(name: string, text: string): string {
  const path = join(tmp, `${fileCount++}-${name}`);
  writeFileSync(path, text);
  return path;
}

/** Runs `sfsink config import …` through main(), capturing standard output and standard error. */
async function sfsink(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const capture = (append: (text: string) => void) =>
    ((chunk: string | Uint8Array) => {
      append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }) as typeof process.stdout.write;
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(
    capture((t) => {
      stdout += t;
    }),
  );
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(
    capture((t) => {
      stderr += t;
    }),
  );
  try {
    const code = (await main(['config', 'import', ...args])) as number;
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** A user error: exit code 2, one `sfsink: …` message, no stack trace, nothing on standard output. */
function expectUsageError(result: { code: number; stdout: string; stderr: string }, message: RegExp): void {
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^sfsink: /);
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe('config import --from redpanda', () => {
  it('converts a whole Redpanda config with a realtime and a bulk mapping', async () => {
    const { code, stdout, stderr } = await sfsink(
      '--from',
      'redpanda',
      fixture('redpanda-two-mappings.yaml'),
    );
    expect(code).toBe(0);
    const config = JSON.parse(stdout);
    expect(config).toEqual({
      apiVersion: '64.0',
      requestTimeout: '45s',
      maxRetries: 3,
      maxInFlight: 1,
      bulk: { batchSize: 1000, maxConcurrentJobs: 5, pollInterval: '10s' },
      mappings: [
        {
          topic: 'sfdc-pushtopic-lead',
          sobject: 'Lead',
          operation: 'upsert',
          externalIdField: 'CustomId__c',
          allOrNone: true,
          eventType: 'override',
        },
        {
          topic: 'order-events',
          sobject: 'Order_Event__c',
          operation: 'insert',
          mode: 'bulk',
          eventType: 'override',
        },
      ],
    });
    expect(() => parseConfig(config)).not.toThrow();

    expect(stderr).toMatch(/^Imported Redpanda salesforce_sink at output\.salesforce_sink:\n/);
    // Credentials: found, named, their environment references reported, never copied.
    expect(stderr).toMatch(
      /credential\s+client_secret: is the reference \$\{SF_CLIENT_SECRET\}, not a value: fill in its value; it goes into the Secrets Manager secret/,
    );
    expect(stderr).toMatch(/credential\s+org_url: is the reference \$\{SF_ORG_URL\}/);
    expect(stderr).toMatch(/credential\s+client_id: is the reference \$\{SF_CLIENT_ID\}/);
    // batch_period is the event source mapping's batching window.
    expect(stderr).toMatch(
      /no equivalent\s+batch_period "2s": no equivalent in the sink configuration: it is the event source mapping’s batching window, an infrastructure setting: set consumer\.batchingWindowSeconds: 2/,
    );
    // Redpanda never reads _EventType: every mapping overrides it, and says so.
    expect(stderr).toMatch(
      /changed\s+topic_mappings\[0\]\.operation \(not set: upsert, Redpanda’s default\) → operation "upsert" with eventType "override": Redpanda applies the mapping’s operation to every message and never reads _EventType/,
    );
    expect(stderr).toMatch(
      /changed\s+topic_mappings\[1\]\.operation "insert" → operation "insert" with eventType "override"/,
    );
    // The user's bulk batch size is kept, with the recommendation.
    expect(stderr).toMatch(/changed\s+bulk_batch_size 1000 → bulk\.batchSize 1000: kept, but .*10,000/);
    expect(stderr).toMatch(
      /changed\s+max_retries 3 → maxRetries 3: Redpanda retries only 429.*5xx, lock contention/,
    );
    expect(stderr).toMatch(/changed\s+max_in_flight 1 → maxInFlight 1: .*4 by default/);
    expect(stderr).toMatch(/converted\s+restapi_version "v64\.0" → apiVersion "64\.0"/);
  });

  it('finds the salesforce_sink in a broker’s outputs and caps max_retries at 20', async () => {
    const { code, stdout, stderr } = await sfsink(
      '--from',
      'redpanda',
      fixture('redpanda-literal-secrets.yaml'),
    );
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      maxRetries: 20,
      mappings: [{ topic: 'accounts', sobject: 'Account', operation: 'update', eventType: 'override' }],
    });
    expect(stderr).toMatch(/at output\.broker\.outputs\[1\]\.salesforce_sink:/);
    expect(stderr).toMatch(/changed\s+max_retries 50 → maxRetries 20 \(capped: at most 20\)/);
    expect(stderr).toMatch(/note\s+max_in_flight: not set \(Redpanda’s default 1\)/);
  });

  it('finds the salesforce_sink in a switch case, and accepts the block alone', async () => {
    const switchCase = tmpFile(
      'switch.yaml',
      'output:\n  switch:\n    cases:\n      - check: this.kind == "lead"\n        output:\n          salesforce_sink:\n            topic_mappings:\n              - { topic: leads, sobject: Lead, operation: insert }\n      - output:\n          drop: {}\n',
    );
    const found = await sfsink('--from', 'redpanda', switchCase);
    expect(found.code).toBe(0);
    expect(found.stderr).toMatch(/at output\.switch\.cases\[0\]\.output\.salesforce_sink:/);
    expect(JSON.parse(found.stdout).mappings).toEqual([
      { topic: 'leads', sobject: 'Lead', operation: 'insert', eventType: 'override' },
    ]);

    const bare = tmpFile(
      'bare.yaml',
      'org_url: https://x.my.salesforce.com\nbulk_poll_interval: 2m\ntopic_mappings:\n  - topic: orders\n    sobject: Order\n    operation: delete\n    mode: bulk\n    all_or_none: true\n',
    );
    const block = await sfsink('--from', 'redpanda', bare);
    expect(block.code).toBe(0);
    expect(JSON.parse(block.stdout)).toEqual({
      bulk: { pollInterval: '2m', maxPollInterval: '2m' },
      mappings: [
        { topic: 'orders', sobject: 'Order', operation: 'delete', mode: 'bulk', eventType: 'override' },
      ],
    });
    expect(block.stderr).toMatch(
      /no equivalent\s+topic_mappings\[0\]\.all_or_none: applies to realtime mappings only/,
    );
    expect(block.stderr).toMatch(/credential\s+client_secret: missing/);
  });

  it('never prints literal credentials; --credentials-out writes the secret with mode 0600', async () => {
    const secrets = [
      'https://acme-literal.my.salesforce.com',
      '3MVG9literalClientIdValue',
      'literal-client-secret-8f2c',
    ];
    const out = join(tmp, 'redpanda-config.json');
    const secretFile = join(tmp, 'redpanda-secret.json');
    writeFileSync(secretFile, 'stale', { mode: 0o644 }); // an existing file is tightened, not trusted
    const { code, stdout, stderr } = await sfsink(
      '--from',
      'redpanda',
      fixture('redpanda-literal-secrets.yaml'),
      '--out',
      out,
      '--credentials-out',
      secretFile,
    );
    expect(code).toBe(0);
    expect(stdout).toBe('');
    const written = readFileSync(out, 'utf8');
    for (const secret of secrets) {
      expect(stdout).not.toContain(secret);
      expect(stderr).not.toContain(secret);
      expect(written).not.toContain(secret);
    }
    expect(stderr).toMatch(/credential\s+client_secret: found; it goes into the Secrets Manager secret/);
    expect(stderr).toContain(
      `wrote the secret JSON (authType "client_credentials") to ${secretFile}, mode 0600`,
    );
    expect(stderr).toContain(`wrote the configuration to ${out}`);
    expect(JSON.parse(written).maxRetries).toBe(20);
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(secretFile, 'utf8'))).toEqual({
      authType: 'client_credentials',
      loginUrl: 'https://acme-literal.my.salesforce.com',
      clientId: '3MVG9literalClientIdValue',
      clientSecret: 'literal-client-secret-8f2c',
    });
  });

  it('never prints a secret from an environment reference’s default', async () => {
    const file = tmpFile(
      'defaults.yaml',
      `salesforce_sink:\n  client_secret: ${env('SF_SECRET:default-secret-value-42')}\n  topic_mappings: [{ topic: t, sobject: Lead, operation: insert }]\n`,
    );
    const { code, stdout, stderr } = await sfsink('--from', 'redpanda', file);
    expect(code).toBe(0);
    expect(stderr).toMatch(/client_secret: is the reference \$\{SF_SECRET\}, not a value/);
    expect(stdout + stderr).not.toContain('default-secret-value-42');
  });

  it('rejects a file without a salesforce_sink', async () => {
    const file = tmpFile('no-sink.yaml', 'input:\n  stdin: {}\noutput:\n  stdout: {}\n');
    expectUsageError(await sfsink('--from', 'redpanda', file), /no salesforce_sink output found/);
  });

  it('rejects a salesforce_sink with nothing to convert', async () => {
    const file = tmpFile(
      'empty.yaml',
      'output:\n  salesforce_sink:\n    client_id: x\n    topic_mappings: []\n',
    );
    expectUsageError(await sfsink('--from', 'redpanda', file), /has no topic_mappings: nothing to convert/);
  });

  it('rejects a conversion the sink would not accept, naming the source mapping', async () => {
    const file = tmpFile(
      'upsert.yaml',
      'salesforce_sink:\n  topic_mappings:\n    - { topic: leads, sobject: Lead }\n',
    );
    expectUsageError(
      await sfsink('--from', 'redpanda', file),
      /mappings\[0\]\.externalIdField: is required for upsert.*\(from topic_mappings\[0\] \(topic "leads", operation upsert by Redpanda’s default\)\)/s,
    );
  });

  it('reports unparsable YAML without quoting the file', async () => {
    const file = tmpFile('bad.yaml', 'salesforce_sink:\n  client_secret: quoted-secret-9: oops\n');
    const result = await sfsink('--from', 'redpanda', file);
    expectUsageError(result, /is not valid YAML: .*at line 2/);
    expect(result.stderr).not.toContain('quoted-secret-9');
  });
});

describe('config import --from confluent', () => {
  it('converts the Bulk API sink sample of Confluent’s documentation', async () => {
    const { code, stdout, stderr } = await sfsink(
      '--from',
      'confluent',
      fixture('confluent-leads-sink.json'),
    );
    expect(code).toBe(0);
    const config = JSON.parse(stdout);
    expect(config).toEqual({
      results: {
        kafka: {
          brokers: ['localhost:9092'],
          resultTopic: 'SalesforceBulkApiSinkConnector-success',
          errorTopic: 'SalesforceBulkApiSinkConnector-error',
        },
      },
      mappings: [{ topic: 'sfdc-pushtopic-lead', sobject: 'Lead', mode: 'bulk' }],
    });
    expect(() => parseConfig(config)).not.toThrow();

    expect(stderr).toMatch(
      /^Imported Confluent connector "SalesforceBulkApiSinkConnector" \(Salesforce Bulk API sink\):\n/,
    );
    for (const key of ['salesforce.password', 'salesforce.password.token', 'salesforce.username'])
      expect(stderr).toMatch(
        new RegExp(`credential\\s+${key.replaceAll('.', '\\.')}: is a placeholder: fill in the real value`),
      );
    expect(stderr).toMatch(
      /changed\s+connector\.class → mode "bulk" on every mapping: .*Realtime .* is available/,
    );
    expect(stderr).toMatch(/converted\s+override\.event\.type \(not set\) → eventType "honour"/);
    expect(stderr).toMatch(/no equivalent\s+tasks\.max: the event source mapping scales by partition/);
    expect(stderr).toMatch(/no equivalent\s+reporter\.result\.topic\.replication\.factor: /);
    expect(stderr).toMatch(/no equivalent\s+confluent\.license: /);
    expect(stderr).toMatch(
      /reporter\.bootstrap\.servers "localhost:9092" → results\.kafka\.brokers .*MSK IAM.* assumed/,
    );
    expect(stderr).toMatch(
      /results\.kafka\.resultTopic "SalesforceBulkApiSinkConnector-success" \(the Connect Reporter’s default \$\{connector\}-success\)/,
    );
    expect(stderr).toMatch(/note\s+salesforce\.version: not set \(the connector’s default 48\.0\)/);
    expect(stderr).toMatch(/authType "password": the sink logs in with OAuth/);
    // The licence text is a setting's value of an unknown nature: never echoed.
    expect(stderr).not.toContain('Omit to enable trial mode');
  });

  it('converts override, custom id, ignored fields, version and reporter; never prints a credential', async () => {
    const secrets = [
      'https://acme-literal.my.salesforce.com',
      'integration-literal@acme.example',
      '3MVG9literalConsumerKey',
      'literal-consumer-secret-5d1e',
      'literal-password-hunter2',
      'literal-token-q9w8e7',
      'literal-keystore-pass-77',
      'literal-sasl-pass-31',
      'literal-license-key-abc123',
      '/etc/connect/salesforce.jks',
    ];
    const secretFile = join(tmp, 'confluent-secret.json');
    const { code, stdout, stderr } = await sfsink(
      '--from',
      'confluent',
      fixture('confluent-literal-secrets.json'),
      '--credentials-out',
      secretFile,
    );
    expect(code).toBe(0);
    const mapping = {
      sobject: 'Lead',
      operation: 'upsert',
      externalIdField: 'CustomId__c',
      mode: 'bulk',
      eventType: 'override',
      ignoreFields: ['CleanStatus', 'Jigsaw'],
    };
    expect(JSON.parse(stdout)).toEqual({
      apiVersion: '58.0',
      results: {
        kafka: {
          brokers: ['b-1.msk.example:9098', 'b-2.msk.example:9098'],
          resultTopic: 'leads-to-org-b-results',
          errorTopic: 'salesforce-errors',
        },
      },
      mappings: [
        { topic: 'sfdc-pushtopic-lead', ...mapping },
        { topic: 'sfdc-pushtopic-lead-eu', ...mapping },
      ],
    });
    for (const secret of secrets) {
      expect(stdout).not.toContain(secret);
      expect(stderr).not.toContain(secret);
    }
    expect(stderr).toMatch(/converted\s+salesforce\.sink\.object\.operation "UPSERT" → operation "upsert"/);
    expect(stderr).toMatch(
      /credential\s+salesforce\.jwt\.keystore\.path: a Java keystore can’t be converted automatically: export the private key as PEM/,
    );
    expect(stderr).toMatch(
      /credential\s+salesforce\.consumer\.secret: found, but the jwt flow doesn’t use it/,
    );
    expect(stderr).toMatch(/changed\s+reporter\.security\.protocol "SASL_SSL" → results\.kafka\.auth "iam"/);
    expect(stderr).toMatch(
      /no equivalent\s+behavior\.on\.api\.errors: a Salesforce error fails only that record/,
    );
    expect(stderr).toMatch(/no equivalent\s+errors\.tolerance: bad records become rejected outcomes/);
    expect(stderr).toMatch(
      /note\s+transforms\.InsertField\.static\.field: .*eventType "override" with operation "insert"/,
    );
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(secretFile, 'utf8'))).toEqual({
      authType: 'jwt',
      loginUrl: 'https://acme-literal.my.salesforce.com',
      clientId: '3MVG9literalConsumerKey',
      username: 'integration-literal@acme.example',
      privateKey: '<fill in: the PEM private key exported from the JWT keystore>',
    });
    expect(stderr).toMatch(/fill in privateKey/);
  });

  it('writes the password flow’s secret with placeholders for what the connector did not need', async () => {
    const secretFile = join(tmp, 'seed-secret.json');
    const { code } = await sfsink(
      '--from',
      'confluent',
      fixture('confluent-leads-sink.json'),
      '--credentials-out',
      secretFile,
    );
    expect(code).toBe(0);
    expect(JSON.parse(readFileSync(secretFile, 'utf8'))).toEqual({
      authType: 'password',
      loginUrl: 'https://login.salesforce.com',
      clientId: '<fill in: the connected app’s consumer key>',
      clientSecret: '<fill in: the connected app’s consumer secret>',
      username: '< Required Configuration: secondary organization username >',
      password: '< Required Configuration >',
      securityToken: '< Required Configuration >',
    });
  });

  it('accepts a flat config without connector.class, with a warning; PLAINTEXT reporter → auth none', async () => {
    const file = tmpFile(
      'flat.json',
      JSON.stringify({
        name: 'orders-sink',
        topics: 'orders',
        'salesforce.object': 'Order__c',
        'override.event.type': false,
        'salesforce.sink.object.operation': 'update',
        'salesforce.custom.id.field.name': 'Key__c',
        'reporter.bootstrap.servers': 'PLAINTEXT://kafka:9092',
        'reporter.security.protocol': 'PLAINTEXT',
        'reporter.result.topic.name': '',
        'salesforce.grant.type': 'client_credentials',
        'salesforce.consumer.key': 'cc-key-literal',
        'salesforce.consumer.secret': 'cc-secret-literal',
      }),
    );
    const { code, stdout, stderr } = await sfsink('--from', 'confluent', file);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      results: { kafka: { brokers: ['kafka:9092'], errorTopic: 'orders-sink-error', auth: 'none' } },
      mappings: [{ topic: 'orders', sobject: 'Order__c', mode: 'bulk' }],
    });
    expect(stderr).toMatch(/note\s+connector\.class: missing: assuming the Salesforce Bulk API sink/);
    expect(stderr).toMatch(
      /no equivalent\s+salesforce\.sink\.object\.operation: the connector ignores it unless override\.event\.type is true/,
    );
    expect(stderr).toMatch(
      /no equivalent\s+salesforce\.custom\.id\.field\.name: the connector ignores it unless salesforce\.use\.custom\.id\.field is true/,
    );
    expect(stderr).toMatch(
      /converted\s+reporter\.security\.protocol "PLAINTEXT" → results\.kafka\.auth "none"/,
    );
    expect(stderr).toMatch(/note\s+reporter\.result\.topic\.name "": reporter\.result\.topic\.name is blank/);
    expect(stderr).toMatch(/authType "client_credentials".*fill in loginUrl/);
    expect(stdout + stderr).not.toMatch(/cc-key-literal|cc-secret-literal/);
  });

  it('rejects another connector class', async () => {
    const file = tmpFile(
      'sobject-sink.json',
      JSON.stringify({
        name: 'x',
        config: {
          'connector.class': 'io.confluent.salesforce.SalesforceSObjectSinkConnector',
          topics: 'a',
          'salesforce.object': 'Lead',
        },
      }),
    );
    expectUsageError(
      await sfsink('--from', 'confluent', file),
      /connector\.class io\.confluent\.salesforce\.SalesforceSObjectSinkConnector is not the Salesforce Bulk API sink/,
    );
  });

  it('rejects the documentation’s snippet as it is (not JSON) without quoting it', async () => {
    const file = tmpFile(
      'snippet.json',
      '   "name" : "SalesforceBulkApiSinkConnector",\n   "config" : {\n     "salesforce.password" : "snippet-password-1"\n',
    );
    const result = await sfsink('--from', 'confluent', file);
    expectUsageError(result, /is not valid JSON \(line 1, column \d+\)/);
    expect(result.stderr).not.toContain('snippet-password-1');
  });

  it('rejects a configuration without topics', async () => {
    const file = tmpFile(
      'regex.json',
      JSON.stringify({ 'topics.regex': 'sfdc-.*', 'salesforce.object': 'Lead' }),
    );
    expectUsageError(
      await sfsink('--from', 'confluent', file),
      /no topics: nothing to convert \(topics\.regex has no equivalent/,
    );
  });
});

describe('config import: what a newcomer gets wrong', () => {
  it('accepts a Connect standalone .properties file (comments, continuations, escapes)', async () => {
    const file = tmpFile(
      'leads-sink.properties',
      [
        '# the quick start, as a standalone worker reads it',
        'name=leads-sink',
        'connector.class = io.confluent.connect.salesforce.SalesforceBulkApiSinkConnector',
        'topics: sfdc-pushtopic-lead',
        'salesforce.object=Lead',
        'salesforce.use.custom.id.field=true',
        'salesforce.custom.id.field.name=CustomId__c',
        'salesforce.ignore.fields=CleanStatus,\\',
        '    Jigsaw',
        '! another comment',
        'salesforce.password=hunter\\u0032',
        '',
      ].join('\n'),
    );
    const { code, stdout, stderr } = await sfsink('--from', 'confluent', file);
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      mappings: [
        {
          topic: 'sfdc-pushtopic-lead',
          sobject: 'Lead',
          externalIdField: 'CustomId__c',
          mode: 'bulk',
          ignoreFields: ['CleanStatus', 'Jigsaw'],
        },
      ],
    });
    expect(stderr).toMatch(/^Imported Confluent connector "leads-sink"/);
    expect(stderr).toMatch(/credential\s+salesforce\.password: found/);
    expect(stderr).not.toContain('hunter2');
  });

  it('reads a .properties file without the extension when it is not JSON', async () => {
    const file = tmpFile('leads-sink.conf', 'topics=leads\nsalesforce.object=Lead\n');
    const { code, stdout } = await sfsink('--from', 'confluent', file);
    expect(code).toBe(0);
    expect(JSON.parse(stdout).mappings).toEqual([{ topic: 'leads', sobject: 'Lead', mode: 'bulk' }]);
  });

  it('refuses a mistyped Confluent setting, naming the one it probably is', async () => {
    const file = tmpFile(
      'typo.json',
      JSON.stringify({
        topics: 'leads',
        'salesforce.object': 'Lead',
        'override.event.type': 'true',
        'salesforce.sink.object.operaton': 'update',
      }),
    );
    expectUsageError(
      await sfsink('--from', 'confluent', file),
      /^sfsink: salesforce\.sink\.object\.operaton is not a setting of the Salesforce Bulk API sink connector or Kafka Connect: did you mean salesforce\.sink\.object\.operation\? Fix or remove it and import again\n$/,
    );
  });

  it('names every unknown setting in one line, with a guess where there is one', async () => {
    const file = tmpFile(
      'unknown.json',
      JSON.stringify({
        topics: 'leads',
        'salesforce.object': 'Lead',
        'reporter.bootstrap.server': 'k:9092',
        'bulk.size': '5',
      }),
    );
    expectUsageError(
      await sfsink('--from', 'confluent', file),
      /^sfsink: 2 settings are not settings of .*: reporter\.bootstrap\.server \(did you mean reporter\.bootstrap\.servers\?\), bulk\.size: fix or remove them and import again\n$/,
    );
  });

  it('refuses unknown Redpanda fields, in the sink and in a topic mapping', async () => {
    const block = tmpFile(
      'block.yaml',
      'salesforce_sink:\n  max_retires: 3\n  topic_mappings: [{ topic: t, sobject: Lead, operation: insert }]\n',
    );
    expectUsageError(
      await sfsink('--from', 'redpanda', block),
      /max_retires is not a setting of Redpanda’s salesforce_sink: did you mean max_retries\?/,
    );
    const mapping = tmpFile(
      'mapping.yaml',
      'salesforce_sink:\n  topic_mappings: [{ topic: t, sobject: Lead, operation: upsert, extrnal_id_field: K__c }]\n',
    );
    expectUsageError(
      await sfsink('--from', 'redpanda', mapping),
      /topic_mappings\[0\]\.extrnal_id_field is not a setting of a salesforce_sink topic mapping: did you mean topic_mappings\[0\]\.external_id_field\?/,
    );
  });

  it('says a MERGE operation has no equivalent, and refuses it where every record would need it', async () => {
    const honoured = tmpFile(
      'merge.json',
      JSON.stringify({
        topics: 'leads',
        'salesforce.object': 'Lead',
        'salesforce.sink.object.operation': 'MERGE',
      }),
    );
    const report = await sfsink('--from', 'confluent', honoured);
    expect(report.code).toBe(0);
    expect(report.stderr).toMatch(
      /no equivalent\s+salesforce\.sink\.object\.operation: "MERGE" is not an operation of the connector or of the sink \(INSERT, UPDATE, UPSERT, DELETE; Salesforce merges records only with its SOAP and Apex merge calls\)/,
    );
    const overridden = tmpFile(
      'merge-override.json',
      JSON.stringify({
        topics: 'leads',
        'salesforce.object': 'Lead',
        'override.event.type': 'true',
        'salesforce.sink.object.operation': 'merge',
      }),
    );
    expectUsageError(
      await sfsink('--from', 'confluent', overridden),
      /"merge" is not an operation of the connector or of the sink/,
    );
    const redpanda = tmpFile(
      'merge.yaml',
      'salesforce_sink:\n  topic_mappings: [{ topic: t, sobject: Lead, operation: merge }]\n',
    );
    expectUsageError(
      await sfsink('--from', 'redpanda', redpanda),
      /operation: "merge" is not an operation of Redpanda’s salesforce_sink or of the sink/,
    );
  });

  it('warns that the Confluent quick start addresses updates and deletes by the source org’s Id', async () => {
    const { code, stderr } = await sfsink('--from', 'confluent', fixture('confluent-leads-sink.json'));
    expect(code).toBe(0);
    expect(stderr).toMatch(
      /\n {2}warning {8}mappings\[0\] \(topic "sfdc-pushtopic-lead"\): updated and deleted records find their record by Id, and an Id is valid only in the org it comes from: .*MALFORMED_ID.*; set salesforce\.use\.custom\.id\.field=true and salesforce\.custom\.id\.field\.name=/,
    );
    // With an external id there is nothing to warn about.
    const byExternalId = await sfsink('--from', 'confluent', fixture('confluent-literal-secrets.json'));
    expect(byExternalId.stderr).not.toMatch(/\bwarning\b/);
  });

  it('warns for Redpanda updates and deletes without an external id', async () => {
    const file = tmpFile(
      'update.yaml',
      'salesforce_sink:\n  topic_mappings: [{ topic: t, sobject: Lead, operation: delete }]\n',
    );
    const { code, stderr } = await sfsink('--from', 'redpanda', file);
    expect(code).toBe(0);
    expect(stderr).toMatch(
      /warning\s+mappings\[0\] \(topic "t"\): deletes find their record by Id.*set external_id_field/,
    );
  });

  it('explains each mapping’s operation once, consistently: a custom id without override upserts', async () => {
    const file = tmpFile(
      'custom-id.json',
      JSON.stringify({
        topics: 'leads, leads-eu',
        'salesforce.object': 'Lead',
        'salesforce.use.custom.id.field': 'true',
        'salesforce.custom.id.field.name': 'CustomId__c',
      }),
    );
    const { code, stderr } = await sfsink('--from', 'confluent', file);
    expect(code).toBe(0);
    const operations = stderr.split('\n').filter((l) => /^ {2}operation\s/.test(l));
    expect(operations).toEqual([
      '  operation      mappings[0] (topic "leads"): _EventType picks it: created, updated, undeleted → upsert by CustomId__c; deleted → delete by CustomId__c; records without _EventType → upsert by CustomId__c',
      '  operation      mappings[1] (topic "leads-eu"): _EventType picks it: created, updated, undeleted → upsert by CustomId__c; deleted → delete by CustomId__c; records without _EventType → upsert by CustomId__c',
    ]);
    // No other line says what the operations are, so none can say otherwise.
    expect(stderr).not.toMatch(/created\s*→\s*insert|updated\s*→\s*update|upserted by/);
    expect(stderr).not.toMatch(/\bwarning\b/);
  });

  it('reports a Redpanda input’s consumer group and how to continue from its offsets', async () => {
    const { code, stderr } = await sfsink('--from', 'redpanda', fixture('redpanda-two-mappings.yaml'));
    expect(code).toBe(0);
    expect(stderr).toMatch(
      /note\s+input\.kafka_franz\.consumer_group "salesforce-sink": the Kafka consumer group Redpanda commits offsets to; .*consumer\.consumerGroupIds \{"sfdc-pushtopic-lead": "salesforce-sink"\}/,
    );
  });

  it('fills in environment references in topic mappings as Redpanda would, and refuses unset ones', async () => {
    const file = tmpFile(
      'vars.yaml',
      `input:\n  kafka_franz:\n    topics: ["${env('LEADS_TOPIC')}"]\nsalesforce_sink:\n  topic_mappings:\n    - { topic: "${env('LEADS_TOPIC')}", sobject: "${env('LEADS_OBJECT:Lead')}", operation: insert }\n`,
    );
    delete process.env.LEADS_TOPIC;
    expectUsageError(
      await sfsink('--from', 'redpanda', file),
      /topic_mappings\[0\]\.topic is \$\{LEADS_TOPIC\}, an environment reference Redpanda fills in at start, and LEADS_TOPIC is not set here: set it in this shell and import again/,
    );
    process.env.LEADS_TOPIC = 'sfdc-pushtopic-lead';
    try {
      const { code, stdout, stderr } = await sfsink('--from', 'redpanda', file);
      expect(code).toBe(0);
      expect(JSON.parse(stdout).mappings).toEqual([
        { topic: 'sfdc-pushtopic-lead', sobject: 'Lead', operation: 'insert', eventType: 'override' },
      ]);
      expect(stderr).toMatch(
        /converted\s+topic_mappings\[0\]\.topic "\$\{LEADS_TOPIC\}" → "sfdc-pushtopic-lead" \(\$\{LEADS_TOPIC\} from the environment/,
      );
      expect(stderr).toMatch(/converted\s+topic_mappings\[0\]\.sobject "\$\{LEADS_OBJECT:Lead\}" → "Lead"/);
      expect(stderr).toMatch(
        /note\s+input\.kafka_franz\.topics: \$\{LEADS_TOPIC\} is an environment reference/,
      );
    } finally {
      delete process.env.LEADS_TOPIC;
    }
  });

  it('accepts the newer salesforce_sink fields api_version and http', async () => {
    const file = tmpFile(
      'newer.yaml',
      'salesforce_sink:\n  api_version: v64.0\n  http:\n    timeout: 10s\n    tls: { enabled: true }\n  topic_mappings: [{ topic: t, sobject: Lead, operation: insert }]\n',
    );
    const { code, stdout, stderr } = await sfsink('--from', 'redpanda', file);
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ apiVersion: '64.0', requestTimeout: '10s' });
    expect(stderr).toMatch(/no equivalent\s+http\.tls: /);
  });
});

describe('config import usage', () => {
  it('rejects a missing file', async () => {
    expectUsageError(
      await sfsink('--from', 'confluent', join(tmp, 'does-not-exist.json')),
      /does-not-exist\.json does not exist/,
    );
  });

  it('needs --from', async () => {
    expectUsageError(
      await sfsink(fixture('confluent-leads-sink.json')),
      /needs --from redpanda or --from confluent/,
    );
    expectUsageError(
      await sfsink('--from', 'kafka', fixture('confluent-leads-sink.json')),
      /\(got "kafka"\)/,
    );
  });

  it('keeps the credentials apart from the configuration', async () => {
    const same = join(tmp, 'same.json');
    expectUsageError(
      await sfsink(
        '--from',
        'confluent',
        fixture('confluent-leads-sink.json'),
        '--out',
        same,
        '--credentials-out',
        same,
      ),
      /must be different files/,
    );
  });

  it('prints help', async () => {
    const { code, stdout } = await sfsink('--help');
    expect(code).toBe(0);
    expect(stdout).toMatch(/--credentials-out <file>/);
  });
});

describe('secretOf', () => {
  it('fills in what is missing and names what is not a value', () => {
    const { secret, fillIn } = secretOf({
      authType: 'client_credentials',
      values: { clientId: 'id', clientSecret: env('SF_SECRET') },
    });
    expect(secret).toEqual({
      authType: 'client_credentials',
      loginUrl: '<fill in: the org’s My Domain URL, https://<domain>.my.salesforce.com>',
      clientId: 'id',
      clientSecret: env('SF_SECRET'),
    });
    expect(fillIn).toEqual(['loginUrl', 'clientSecret']);
  });
});
