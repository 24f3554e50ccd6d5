// `sfsink emulator schema pull`: an org's describe into the emulator's schema format. Pulled from one
// emulator (standing in for a real org with objects of its own) and loaded into another, the pulled
// objects describe the same; `sfsink run --schema` then writes records of those objects locally.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSchema, DEFAULT_SCHEMA_PATH, loadSchema } from '../../local/emulator/schema.ts';
import { schemaFromDescribes } from '../../local/emulator/schema-pull.ts';
import { type Emulator, startEmulator } from '../../local/emulator/server.ts';
import { rawApi } from '../../local/emulator/testing.ts';
import { mskEvent } from '../../local/events/build-event.ts';
import type { RunSummary } from '../../local/runtime/run.ts';
import { expectMistake, sfsink } from './process.ts';

const dir = mkdtempSync(join(tmpdir(), 'sfsink-schema-pull-'));
const invoice = {
  name: 'Invoice__c',
  label: 'Invoice',
  keyPrefix: 'a1B',
  fields: [
    {
      name: 'Invoice_Number__c',
      type: 'string',
      length: 20,
      externalId: true,
      unique: true,
      caseSensitive: true,
    },
    { name: 'Amount__c', type: 'currency', precision: 16, scale: 2 },
    { name: 'Lines__c', type: 'int', precision: 4 },
    { name: 'Paid__c', type: 'boolean' },
    { name: 'Stage__c', type: 'picklist', picklistValues: ['Draft', 'Sent', 'Paid'], defaultValue: 'Draft' },
    { name: 'Due__c', type: 'date' },
    { name: 'Account__c', type: 'reference', referenceTo: ['Account'], relationshipName: 'Account__r' },
    { name: 'Total__c', type: 'double', calculated: true, createable: false, updateable: false },
  ],
};
let org: Emulator;
let credentials: string;

beforeAll(async () => {
  const defaults = JSON.parse(readFileSync(DEFAULT_SCHEMA_PATH, 'utf8')) as { sobjects: unknown[] };
  org = await startEmulator({ schema: buildSchema({ sobjects: [...defaults.sobjects, invoice] }) });
  credentials = join(dir, 'credentials.json');
  writeFileSync(
    credentials,
    JSON.stringify({
      authType: 'client_credentials',
      loginUrl: org.url,
      clientId: org.credentials.clientId,
      clientSecret: org.credentials.clientSecret,
    }),
  );
});
afterAll(() => org.close());

describe('sfsink emulator schema pull', () => {
  it('copies the org’s describe: another emulator loading it describes the pulled objects the same', async () => {
    const run = await sfsink([
      'emulator',
      'schema',
      'pull',
      '--credentials',
      credentials,
      '--sobjects',
      'Lead,Contact,Invoice__c',
    ]);
    expect(run.code, run.err).toBe(0);
    expect(run.err).toBe('');
    const file = join(dir, 'schema.json');
    writeFileSync(file, run.out);
    const copy = await startEmulator({ schema: file });
    try {
      expect(copy.org.schema.sobjects.map((s) => s.name)).toEqual(['Lead', 'Contact', 'Invoice__c']);
      const [from, to] = await Promise.all([rawApi(org), rawApi(copy)]);
      for (const name of ['Lead', 'Contact', 'Invoice__c']) {
        const [a, b] = await Promise.all(
          [from, to].map((api) => api.call('GET', `/sobjects/${name}/describe`)),
        );
        expect(a!.status).toBe(200);
        expect(b!.body, name).toEqual(a!.body);
      }
      expect((await to.call('GET', '/sobjects/Account/describe')).status).toBe(404);
    } finally {
      await copy.close();
    }
  });

  it('lets sfsink run write records of the pulled objects locally', async () => {
    const run = await sfsink([
      'emulator',
      'schema',
      'pull',
      '--credentials',
      credentials,
      '--sobjects',
      'Invoice__c',
    ]);
    const schema = join(dir, 'invoice-schema.json');
    writeFileSync(schema, run.out);
    const config = join(dir, 'invoice-config.json');
    writeFileSync(
      config,
      JSON.stringify({
        mappings: [{ topic: 'invoices', sobject: 'Invoice__c', externalIdField: 'Invoice_Number__c' }],
      }),
    );
    const events = join(dir, 'invoices.json');
    writeFileSync(
      events,
      JSON.stringify(
        mskEvent(
          [1, 2, 3].map((n) => ({
            topic: 'invoices',
            partition: 0,
            offset: n,
            value: { Invoice_Number__c: `INV-${n}`, Amount__c: n * 10.5, Stage__c: 'Sent' },
          })),
        ),
      ),
    );
    const withDefault = await sfsink([
      'run',
      '--config',
      config,
      '--events',
      events,
      '--out',
      join(dir, 'a'),
    ]);
    expectMistake(withDefault, /Invoice__c: the emulator's schema has no such sObject/);
    const withPulled = await sfsink([
      'run',
      '--config',
      config,
      '--events',
      events,
      '--schema',
      schema,
      '--out',
      join(dir, 'b'),
      '--json',
    ]);
    expect(withPulled.code, withPulled.err).toBe(0);
    const summary = JSON.parse(withPulled.out) as RunSummary;
    expect(summary.topics).toMatchObject([{ topic: 'invoices', records: 3, succeeded: 3 }]);
  });

  it('says which sObject the org does not have, in one line', async () => {
    const run = await sfsink([
      'emulator',
      'schema',
      'pull',
      '--credentials',
      credentials,
      '--sobjects',
      'Lead,Nope__c',
    ]);
    expectMistake(run, /Nope__c is not an sObject of the org .*permissions/);
  });

  it('leaves out fields of types the emulator does not model, and names them', () => {
    const lead = loadSchema().byName.get('lead')!;
    const { file, skipped } = schemaFromDescribes([
      {
        name: 'Lead',
        label: 'Lead',
        labelPlural: 'Leads',
        keyPrefix: '00Q',
        fields: [
          { name: 'Id', type: 'id', label: 'Lead ID', length: 18 },
          { name: 'Photo__c', type: 'base64', label: 'Photo' },
          {
            name: 'LastName',
            type: 'string',
            label: 'Last Name',
            length: 80,
            createable: true,
            updateable: true,
          },
        ],
      },
    ]);
    expect(file.sobjects[0]!.fields.map((f) => f.name)).toEqual(['Id', 'LastName']);
    expect(skipped).toEqual(['Lead.Photo__c (type base64: the emulator has no such type)']);
    expect(lead.keyPrefix).toBe('00Q');
  });
});
