import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configReference } from '../lib/config/docs.ts';
import type { Outcome } from '../lib/outcomes/index.ts';
import { REJECTION_CODES } from '../lib/records.ts';
import { readmeRejectionCodes } from './support/readme.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('has the configuration reference generated from the current schema (run npm run docs:config)', () => {
    const section = readme
      .split('<!-- config-reference:start -->')[1]
      ?.split('<!-- config-reference:end -->')[0];
    expect(section?.trim()).toBe(configReference());
  });

  it('has a quick start of exactly two commands, the second being the test command CI runs', () => {
    const quickStart = readme.split('## Quick start')[1]!.split('```sh')[1]!.split('```')[0]!;
    const commands = quickStart
      .split('\n')
      .map((line) => line.replace(/#.*$/, '').trim())
      .filter(Boolean);
    expect(commands).toEqual(['npm ci && npm start', 'npm test']);
    expect(readFileSync(new URL('../.ci/run', import.meta.url), 'utf8')).toContain('npm test --');
  });

  it('lists every rejection code the pipeline can give, and no other, in the same order', () => {
    expect(readmeRejectionCodes()).toEqual([...REJECTION_CODES]);
  });

  it('documents every field an outcome can have, and no other', () => {
    // Typed Required<Outcome>: the type checker fails this file when a field is added or removed.
    const every: Required<Outcome> = {
      status: 'succeeded',
      topic: 't',
      partition: 0,
      offset: 0,
      key: null,
      sobject: 'Lead',
      operation: 'upsert',
      mode: 'bulk',
      salesforceId: '00Q',
      created: true,
      errors: [],
      bulkJobId: '750',
      attempts: 1,
      timestamp: '',
    };
    // The field list: the bullets that open the Outcomes section, each naming fields as `a`, `b`: ….
    const section = readme.split('## Outcomes')[1]!.split('\n\n').slice(1);
    const bullets = section.find((paragraph) => paragraph.startsWith('- `'))!;
    const documented = [...bullets.matchAll(/((?:`\w+`, )*`\w+`):/g)].flatMap((m) =>
      [...m[1]!.matchAll(/`(\w+)`/g)].map((f) => f[1]!),
    );
    expect(documented.sort()).toEqual(Object.keys(every).sort());
  });
});
