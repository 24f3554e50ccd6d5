import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { configSchema, type SinkConfig } from './schema.ts';

/** The environment variables the configuration can come from, in order of precedence. */
export const CONFIG_ENV = { inline: 'SFSINK_CONFIG', file: 'SFSINK_CONFIG_FILE' } as const;

function formatPath(path: PropertyKey[]): string {
  return path.reduce<string>(
    (out, part) =>
      typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part),
    '',
  );
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = formatPath(issue.path) || '(top level)';
  if (issue.code === 'unrecognized_keys') {
    const many = issue.keys.length > 1;
    return `${path}: unknown key${many ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}: remove ${many ? 'them' : 'it'} or check the spelling (see the configuration reference in the README)`;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return `${path}: is required (expected ${issue.expected})`;
  }
  if (issue.code === 'invalid_type') {
    return `${path}: expected ${issue.expected}, got ${issue.input === null ? 'null' : Array.isArray(issue.input) ? 'array' : typeof issue.input}`;
  }
  return `${path}: ${issue.message}`;
}

/**
 * Validates a configuration object and applies defaults.
 *
 * @example
 * const config = parseConfig({ mappings: [{ topic: 'leads', sobject: 'Lead' }] });
 * config.mappings[0].operation; // 'insert'
 */
export function parseConfig(input: unknown, source = 'configuration'): SinkConfig {
  const result = configSchema.safeParse(input, { reportInput: true });
  if (!result.success) throw new ConfigError(source, result.error.issues.map(describeIssue));
  return result.data;
}

/** Parses configuration text: JSON, or YAML for files ending in .yaml/.yml. */
export function parseConfigText(text: string, source: string): SinkConfig {
  let raw: unknown;
  try {
    raw = /\.ya?ml$/i.test(source) ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new ConfigError(source, [
      `(top level): is not valid ${/\.ya?ml$/i.test(source) ? 'YAML' : 'JSON'}: ${(error as Error).message}`,
    ]);
  }
  return parseConfig(raw, source);
}

/**
 * Loads the configuration from a file path.
 *
 * @example
 * const config = loadConfigFile('events/sample-config.json');
 */
export function loadConfigFile(path: string): SinkConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(path, [
      code === 'ENOENT'
        ? '(file): does not exist: check the path'
        : `(file): cannot be read (${code ?? 'error'})`,
    ]);
  }
  return parseConfigText(text, path);
}

/**
 * Loads the configuration from the environment: `SFSINK_CONFIG` (JSON text) or `SFSINK_CONFIG_FILE`
 * (a JSON or YAML file).
 *
 * @example
 * process.env.SFSINK_CONFIG = JSON.stringify({ mappings: [{ topic: 'leads', sobject: 'Lead' }] });
 * const config = loadConfigFromEnv();
 */
export function loadConfigFromEnv(env: NodeJS.ProcessEnv = process.env): SinkConfig {
  const inline = env[CONFIG_ENV.inline];
  if (inline !== undefined && inline.trim() !== '') return parseConfigText(inline, `$${CONFIG_ENV.inline}`);
  const file = env[CONFIG_ENV.file];
  if (file) return loadConfigFile(file);
  throw new ConfigError('environment', [
    `(top level): no configuration: set ${CONFIG_ENV.inline} to the JSON configuration or ${CONFIG_ENV.file} to its path`,
  ]);
}
