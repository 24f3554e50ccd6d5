// Writes the configuration reference into README.md between its markers (`npm run docs:config`).
import { readFileSync, writeFileSync } from 'node:fs';
import { configReference } from '../lib/config/docs.ts';

export const START = '<!-- config-reference:start -->';
export const END = '<!-- config-reference:end -->';

const readme = readFileSync('README.md', 'utf8');
const start = readme.indexOf(START);
const end = readme.indexOf(END);
if (start === -1 || end === -1) throw new Error(`README.md lacks the markers ${START} … ${END}`);
writeFileSync(
  'README.md',
  `${readme.slice(0, start + START.length)}\n${configReference()}\n${readme.slice(end)}`,
);
console.log('README.md configuration reference updated');
