// Every mistake a user can make with the CLI, each as a real process: exit code 2, one line on standard
// error that says what is wrong and what to do, no stack frame. Unexpected errors: one line and the
// hint to run again with --debug.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mskEvent } from '../../local/events/build-event.ts';
import { expectMistake, expectNoStack, sfsink } from './process.ts';

const dir = mkdtempSync(join(tmpdir(), 'sfsink-mistakes-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const event = JSON.stringify(
  mskEvent([{ topic: 'sfdc-pushtopic-lead', partition: 0, offset: 0, value: { LastName: 'Doe' } }]),
);
const lines = file(
  'leads.json',
  '{"LastName":"Doe","Company":"Acme"}\n{"LastName":"Roe","Company":"Acme"}\n',
);
const recordsArray = file('records.json', JSON.stringify({ records: [{ LastName: 'Doe' }] }));
const numbers = file('numbers.json', '[1,2,3]');
const notJson = file('hello.json', 'hello');
const objectValue = file(
  'object-value.json',
  JSON.stringify({
    records: { 't-0': [{ topic: 't', partition: 0, offset: 0, value: { LastName: 'Doe' } }] },
  }),
);
const sinkConfig = file('my-sink.json', JSON.stringify({ mappings: [{ topic: 't', sobject: 'Lead' }] }));
const folder = join(dir, 'captured');
mkdirSync(folder);
writeFileSync(join(folder, '01-event.json'), event);
writeFileSync(join(folder, 'notes.json'), JSON.stringify({ capturedBy: 'me', date: '2026-01-01' }));
const badSchema = file('bad-schema.json', '{"sobjects": [');
const arraySchema = file('array-schema.json', '[]');
const contactByExtId = file(
  'contact-config.json',
  JSON.stringify({ mappings: [{ topic: 'contacts', sobject: 'Contact', externalIdField: 'Ext_Id__c' }] }),
);
const invoices = file(
  'invoice-config.json',
  JSON.stringify({ mappings: [{ topic: 'inv', sobject: 'Invoice__c' }] }),
);
const credentials = file(
  'credentials.json',
  JSON.stringify({
    authType: 'client_credentials',
    loginUrl: 'http://127.0.0.1:9',
    clientId: 'a',
    clientSecret: 'b',
  }),
);
const emptyFile = file('empty.jsonl', '');
const typo = file(
  'typo.json',
  JSON.stringify({
    name: 'leads',
    config: { topics: 'leads', 'salesforce.object': 'Lead', 'salesforce.sink.object.operaton': 'update' },
  }),
);
const merge = file(
  'merge.json',
  JSON.stringify({
    topics: 'leads',
    'salesforce.object': 'Lead',
    'override.event.type': 'true',
    'salesforce.sink.object.operation': 'MERGE',
  }),
);
const redpandaTypo = file(
  'redpanda.yaml',
  'output:\n  salesforce_sink:\n    max_retires: 3\n    topic_mappings:\n      - { topic: t, sobject: Lead, operation: insert }\n',
);
const aFile = file('a-file', 'x');

let busy: Server;
let busyPort = 0;
beforeAll(async () => {
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  busyPort = (busy.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

const mistakes: Array<[string, () => string[], RegExp, string?]> = [
  [
    'run --events with JSON lines',
    () => ['run', '--events', lines],
    /holds JSON lines.*sfsink events generate/,
  ],
  [
    'run --events with {"records": […]}',
    () => ['run', '--events', recordsArray],
    /"records" is an array.*sfsink events generate/,
  ],
  [
    'run --events with [1,2,3]',
    () => ['run', '--events', numbers],
    /is a JSON array, not a Lambda Kafka event/,
  ],
  [
    'run --events with text that is not JSON',
    () => ['run', '--events', notJson],
    /hello\.json is not valid JSON/,
  ],
  [
    'run --events with a value that is not base64 text',
    () => ['run', '--events', objectValue],
    /\.value is an object.*base64/,
  ],
  [
    'run --events with a sink configuration',
    () => ['run', '--events', sinkConfig],
    /is a sink configuration, not an event: pass it with --config/,
  ],
  [
    'run --events with a folder holding other JSON',
    () => ['run', '--events', folder],
    /notes\.json is not a Lambda Kafka event.*move the others out/,
  ],
  [
    'run --events with nothing there',
    () => ['run', '--events', join(dir, 'nope')],
    /no such event file or folder/,
  ],
  [
    'replay of a folder holding other JSON',
    () => ['replay', folder, '--config', 'events/sample-config.json', '--credentials', credentials],
    /notes\.json is not a Lambda Kafka event/,
  ],
  ['replay without --config', () => ['replay', folder], /replay needs --config/],
  [
    'replay with a missing credentials file',
    () => [
      'replay',
      folder,
      '--config',
      'events/sample-config.json',
      '--credentials',
      join(dir, 'nope.json'),
    ],
    /credentials file .*nope\.json does not exist/,
  ],
  [
    'run --schema that is not JSON',
    () => ['run', '--schema', badSchema],
    /emulator schema .*bad-schema\.json is not valid JSON/,
  ],
  [
    'run --schema that is an array',
    () => ['run', '--schema', arraySchema],
    /emulator schema .*: \(root\): .*expected object/,
  ],
  [
    'run --schema that does not exist',
    () => ['run', '--schema', join(dir, 'nope.json')],
    /emulator schema .* does not exist/,
  ],
  [
    'run with an external id the schema lacks',
    () => ['run', '--config', contactByExtId],
    /externalIdField Ext_Id__c: is not a field of Contact .*External_Id__c.*--schema/,
  ],
  [
    'run with an sObject the schema lacks',
    () => ['run', '--config', invoices],
    /Invoice__c: the emulator's schema has no such sObject.*schema pull/,
  ],
  ['run --out under a file', () => ['run', '--out', join(aFile, 'out')], /--out .* cannot be made a folder/],
  [
    'run --latency that is not a number',
    () => ['run', '--latency', 'fast'],
    /--latency takes a whole number/,
  ],
  [
    'run --faults naming a missing file',
    () => ['run', '--faults', join(dir, 'faults.json')],
    /--faults .*faults\.json: no such file/,
  ],
  ['run with an unknown option', () => ['run', '--nope'], /unknown option --nope: run sfsink run --help/],
  ['run with an option lacking its value', () => ['run', '--config'], /--config needs a value/],
  ['run with a stray argument', () => ['run', 'extra'], /unexpected argument "extra"/],
  [
    'emulator --schema that is not JSON',
    () => ['emulator', '--port', '0', '--schema', badSchema],
    /emulator schema .* is not valid JSON/,
  ],
  ['emulator on a busy port', () => ['emulator', '--port', String(busyPort)], /port \d+ is in use.*--port 0/],
  [
    'emulator --latency that is not a number',
    () => ['emulator', '--latency', 'soon'],
    /--latency must be a non-negative number/,
  ],
  [
    'emulator --faults that is not JSON',
    () => ['emulator', '--faults', '{"fault":'],
    /--faults: is not valid JSON/,
  ],
  [
    'emulator schema with an unknown command',
    () => ['emulator', 'schema', 'push'],
    /unknown emulator schema command "push"/,
  ],
  [
    'emulator schema pull without credentials',
    () => ['emulator', 'schema', 'pull', '--sobjects', 'Lead'],
    /needs --credentials/,
  ],
  [
    'emulator schema pull without sObjects',
    () => ['emulator', 'schema', 'pull', '--credentials', credentials],
    /needs --sobjects/,
  ],
  ['config without a command', () => ['config'], /config needs a command/],
  ['config with an unknown command', () => ['config', 'check'], /unknown config command "check"/],
  ['config validate without a file', () => ['config', 'validate'], /config validate takes one file/],
  [
    'config import with a typo in a Confluent setting',
    () => ['config', 'import', '--from', 'confluent', typo],
    /salesforce\.sink\.object\.operaton is not a setting .*did you mean salesforce\.sink\.object\.operation\?/,
  ],
  [
    'config import of operation MERGE',
    () => ['config', 'import', '--from', 'confluent', merge],
    /"MERGE" is not an operation of the connector or of the sink/,
  ],
  [
    'config import with a typo in a Redpanda field',
    () => ['config', 'import', '--from', 'redpanda', redpandaTypo],
    /max_retires is not a setting of Redpanda’s salesforce_sink: did you mean max_retries\?/,
  ],
  ['events without a command', () => ['events'], /events needs a command/],
  ['events with an unknown command', () => ['events', 'make'], /unknown events command "make"/],
  ['events generate without --topic', () => ['events', 'generate'], /needs --topic/, '{"a":1}\n'],
  [
    'events generate with nothing on standard input',
    () => ['events', 'generate', '--topic', 't'],
    /standard input has no records/,
    '',
  ],
  [
    'events generate with a line that is not JSON',
    () => ['events', 'generate', '--topic', 't'],
    /line 2 is not JSON/,
    '{"a":1}\nnope\n',
  ],
  [
    'events generate with a JSON array',
    () => ['events', 'generate', '--topic', 't'],
    /one JSON array, not JSON lines/,
    '[\n{"a":1},\n{"a":2}\n]\n',
  ],
  ['outcomes without a file', () => ['outcomes'], /outcomes needs a file/],
  [
    'outcomes of a missing file',
    () => ['outcomes', join(dir, 'nope.jsonl')],
    /does not exist: sfsink run writes/,
  ],
  ['outcomes of an event file', () => ['outcomes', recordsArray], /line 1 is not an outcome/],
  ['outcomes of an empty file', () => ['outcomes', emptyFile], /holds no outcomes/],
  ['an unknown command', () => ['deploy'], /unknown command "deploy": run sfsink --help/],
];

describe('sfsink mistakes (as processes)', () => {
  it.concurrent.each(mistakes)('%s: one line, exit 2', async (_name, args, message, input) => {
    expectMistake(await sfsink(args(), input === undefined ? {} : { input }), message);
  });

  it.concurrent.each([
    ['run'],
    ['replay'],
    ['outcomes'],
    ['emulator'],
    ['emulator', 'schema'],
    ['emulator', 'schema', 'pull'],
    ['config'],
    ['config', 'validate'],
    ['config', 'import'],
    ['events'],
    ['events', 'generate'],
  ])('%s … --help documents the command', async (...command) => {
    const run = await sfsink([...command, '--help']);
    expect(run.code, run.err).toBe(0);
    expect(run.out).toMatch(/^Usage: sfsink/);
    expect(run.err).toBe('');
  });

  it('no command: the commands on standard output, one line on standard error, exit 2', async () => {
    const run = await sfsink([]);
    expect(run.code).toBe(2);
    expect(run.out).toMatch(/^Usage: sfsink <command>/);
    expect(run.err).toMatch(/^sfsink: no command given[^\n]*\n$/);
  });

  it('an unexpected error: one line and the hint, the stack only with --debug', async () => {
    const nodeArgs = ['--import', fileURLToPath(new URL('./fixtures/stdout-fails.mjs', import.meta.url))];
    const plain = await sfsink(['outcomes', '--help'], { nodeArgs });
    expect(plain.code).toBe(1);
    expect(plain.err).toMatch(
      /^sfsink: unexpected error: Error: simulated failure writing to standard output \(run with --debug for the stack\)\n$/,
    );
    expectNoStack(plain);
    const debug = await sfsink(['outcomes', '--help', '--debug'], { nodeArgs });
    expect(debug.code).toBe(1);
    expect(debug.err).toMatch(/simulated failure[\s\S]*\n\s+at /);
  });
});
