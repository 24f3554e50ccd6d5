import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { loadConfigFile, loadConfigFromEnv, parseConfig } from './index.ts';

function problemsOf(input: unknown): string[] {
  try {
    parseConfig(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('config schema', () => {
  it('applies defaults: insert without external id, upsert with one, realtime, honour _EventType', () => {
    const config = parseConfig({
      mappings: [
        { topic: 'leads', sobject: 'Lead' },
        { topic: 'accounts', sobject: 'Account', externalIdField: 'External_Id__c' },
      ],
    });
    expect(config.apiVersion).toBe('65.0');
    expect(config.maxInFlight).toBeGreaterThan(1);
    expect(config.bulk.batchSize).toBe(10_000);
    expect(config.mappings[0]).toMatchObject({
      operation: 'insert',
      mode: 'realtime',
      eventType: 'honour',
      allOrNone: false,
    });
    expect(config.mappings[1]!.operation).toBe('upsert');
  });

  it('accepts v-prefixed API versions and duration strings', () => {
    const config = parseConfig({
      apiVersion: 'v62.0',
      requestTimeout: '45s',
      bulk: { pollInterval: '500ms', maxPollInterval: '2m' },
      mappings: [{ topic: 't', sobject: 'Lead' }],
    });
    expect(config.apiVersion).toBe('62.0');
    expect(config.requestTimeout).toBe(45_000);
    expect(config.bulk.pollInterval).toBe(500);
    expect(config.bulk.maxPollInterval).toBe(120_000);
  });

  it('rejects upsert without an external id, naming the path and the fix', () => {
    expect(problemsOf({ mappings: [{ topic: 't', sobject: 'Lead', operation: 'upsert' }] })).toEqual([
      expect.stringMatching(/^mappings\[0\]\.externalIdField: is required for upsert: set it to/),
    ]);
  });

  it('rejects duplicate topics', () => {
    const problems = problemsOf({
      mappings: [
        { topic: 'leads', sobject: 'Lead' },
        { topic: 'leads', sobject: 'Contact' },
      ],
    });
    expect(problems).toEqual([
      expect.stringMatching(/^mappings\[1\]\.topic: repeats topic "leads" of mappings\[0\]/),
    ]);
  });

  it.each([
    ['Le ad', 'sobject'],
    ['1Lead', 'sobject'],
    ['Lead-Object', 'sobject'],
    ['Foo__Bar', 'sobject'],
    ['Lead_', 'sobject'],
  ])('rejects the sObject name %s', (name, field) => {
    expect(problemsOf({ mappings: [{ topic: 't', sobject: name }] })[0]).toMatch(
      new RegExp(`^mappings\\[0\\]\\.${field}: is not a Salesforce API name`),
    );
  });

  it.each(['Lead', 'Order_Event__c', 'ns__Thing__c', 'Event__e'])('accepts the sObject name %s', (name) => {
    expect(parseConfig({ mappings: [{ topic: 't', sobject: name }] }).mappings[0]!.sobject).toBe(name);
  });

  it('rejects field names that are not API names in externalIdField and ignoreFields', () => {
    const problems = problemsOf({
      mappings: [
        { topic: 't', sobject: 'Lead', externalIdField: 'Ext Id', ignoreFields: ['ok__c', 'bad.field'] },
      ],
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^mappings\[0\]\.externalIdField: is not a Salesforce API name/),
        expect.stringMatching(/^mappings\[0\]\.ignoreFields\[1\]: is not a Salesforce API name/),
      ]),
    );
  });

  it('rejects unknown keys at every level', () => {
    const problems = problemsOf({
      colour: 'red',
      bulk: { size: 5 },
      mappings: [{ topic: 't', sobject: 'Lead', objekt: 1 }],
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\(top level\): unknown key "colour"/),
        expect.stringMatching(/^bulk: unknown key "size"/),
        expect.stringMatching(/^mappings\[0\]: unknown key "objekt"/),
      ]),
    );
  });

  it('rejects hardDelete in realtime mode and allOrNone in bulk mode', () => {
    expect(problemsOf({ mappings: [{ topic: 't', sobject: 'Lead', operation: 'hardDelete' }] })).toEqual([
      expect.stringMatching(
        /^mappings\[0\]\.operation: hardDelete exists only in the Bulk API: set mode to bulk/,
      ),
    ]);
    expect(
      problemsOf({ mappings: [{ topic: 't', sobject: 'Lead', mode: 'bulk', allOrNone: true }] }),
    ).toEqual([expect.stringMatching(/^mappings\[0\]\.allOrNone: applies to realtime mappings only/)]);
    expect(
      parseConfig({ mappings: [{ topic: 't', sobject: 'Lead', mode: 'bulk', operation: 'hardDelete' }] }),
    ).toBeTruthy();
  });

  it('reports wrong types with what was expected and what came', () => {
    expect(problemsOf({ maxInFlight: '4', mappings: [{ topic: 't', sobject: 'Lead' }] })).toEqual([
      'maxInFlight: expected number, got string',
    ]);
    expect(problemsOf({})).toEqual(['mappings: is required (expected array)']);
  });
});

describe('config loading', () => {
  const json = JSON.stringify({ mappings: [{ topic: 'leads', sobject: 'Lead' }] });

  it('reads SFSINK_CONFIG first, then SFSINK_CONFIG_FILE (JSON or YAML)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfsink-config-'));
    const yamlPath = join(dir, 'sink.yaml');
    writeFileSync(yamlPath, 'mappings:\n  - topic: from-yaml\n    sobject: Contact\n');
    expect(loadConfigFromEnv({ SFSINK_CONFIG: json, SFSINK_CONFIG_FILE: yamlPath }).mappings[0]!.topic).toBe(
      'leads',
    );
    expect(loadConfigFromEnv({ SFSINK_CONFIG_FILE: yamlPath }).mappings[0]!.topic).toBe('from-yaml');
  });

  it('says what to set when no configuration is given, and what is wrong with a bad file', () => {
    expect(() => loadConfigFromEnv({})).toThrow(
      /set SFSINK_CONFIG to the JSON configuration or SFSINK_CONFIG_FILE/,
    );
    expect(() => loadConfigFile('/nonexistent/sink.json')).toThrow(/does not exist: check the path/);
    expect(() => loadConfigFromEnv({ SFSINK_CONFIG: '{"mappings": [' })).toThrow(/is not valid JSON/);
  });
});
