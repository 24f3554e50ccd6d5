import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configReference } from '../lib/config/docs.ts';

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
});
