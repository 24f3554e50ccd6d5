// `sfsink config import`: converts a Redpanda Connect `salesforce_sink` output or a Confluent Salesforce
// Bulk API Sink connector configuration (JSON, or a standalone worker's `.properties` file) into this
// sink's configuration, and reports every source setting: converted, converted with a change of
// meaning, or without an equivalent (and what to do instead); each mapping's operations in one line;
// warnings where records would be addressed by a source org's Id. A setting the importer does not
// know is a mistake (exit 2) with the closest known name, since a typo would otherwise change what the
// sink does without a word. Credentials never reach the configuration or the report: they are named, never echoed, and
// `--credentials-out` writes them as the Secrets Manager secret's JSON (mode 0600).
import { closeSync, fchmodSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { type OPERATIONS, parseConfig } from '../lib/config/index.ts';
import { ConfigError } from '../lib/errors.ts';
import type { SalesforceCredentials } from '../lib/salesforce/types.ts';
import { UsageError } from './usage-error.ts';

const HELP = `Usage: sfsink config import --from redpanda|confluent <file> [options]

Converts a Redpanda Connect salesforce_sink (a whole Redpanda config, YAML, or just the block) or a
Confluent Salesforce Bulk API Sink connector configuration (JSON: {name, config} or the config object;
or a Connect standalone .properties file) into this sink's configuration. Prints the configuration (only what differs from the defaults, plus the
mappings) on standard output and a report of every source setting on standard error. Credentials are
never written to the configuration or the report.

Options:
  --from <redpanda|confluent>  the source's format (required)
  --out <file>                 write the configuration to this file instead of standard output
  --credentials-out <file>     write the Salesforce credentials as the Secrets Manager secret's JSON
                               (mode 0600)
  -h, --help
`;

/** How a source setting fared. */
export type ReportKind =
  | 'converted'
  | 'changed'
  | 'no equivalent'
  | 'credential'
  | 'note'
  | 'operation'
  | 'warning';

/** One line of the report: a source setting and what became of it. */
export interface ReportLine {
  kind: ReportKind;
  /** The source setting, e.g. `batch_period` or `topic_mappings[0].operation`. */
  setting: string;
  /** The source value as printed (strings quoted), when safe to print: never for credentials or unknown settings. */
  from?: string;
  /** `→ ours: why`, or `: why` (a leading `→` joins with a space, anything else with a colon). */
  text: string;
}

/** A field of the Secrets Manager secret (`SalesforceCredentials`). */
export type SecretField =
  | 'loginUrl'
  | 'clientId'
  | 'clientSecret'
  | 'username'
  | 'password'
  | 'securityToken'
  | 'privateKey';

/** Credentials found in the source: values may be literal, environment references or placeholders. */
export interface CredentialsFound {
  authType: SalesforceCredentials['authType'];
  values: Partial<Record<SecretField, string>>;
}

/** The result of converting one source configuration. */
export interface Conversion {
  /** What was converted, e.g. `Redpanda salesforce_sink at output.salesforce_sink`. */
  origin: string;
  /** Our configuration as written: only keys that differ from the defaults, plus the mappings. */
  config: Record<string, unknown>;
  credentials: CredentialsFound;
  report: ReportLine[];
  /** Our configuration path (`mappings[0]`, `bulk.batchSize`) → the source setting it came from. */
  sources: Record<string, string>;
}

type Obj = Record<string, unknown>;
type Operation = (typeof OPERATIONS)[number];
type Flavour = 'redpanda' | 'confluent';

/** A mistake of the user's: `main` in cli.ts prints its message alone and exits 2. */
function usageError(message: string): UsageError {
  return new UsageError(message);
}

const isObject = (value: unknown): value is Obj =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The sink's defaults, read from the schema so that "differs from the default" never drifts. */
const DEFAULTS = parseConfig({ mappings: [{ topic: 't', sobject: 'S' }] });
const CHEAPEST_BULK_BATCH = 10_000;
const CAPS = { maxRetries: 20, maxInFlight: 25, maxConcurrentJobs: 100, batchSize: 150_000_000 };
// biome-ignore lint/suspicious/noTemplateCurlyInString: Connect Reporter's own placeholder in topic names
const CONNECTOR_VAR = '${connector}';
const BULK_SINK_CLASS = 'io.confluent.connect.salesforce.SalesforceBulkApiSinkConnector';
const SECRET_HOME = 'the Secrets Manager secret (the deployment\u2019s salesforceSecret)';

// ---------------------------------------------------------------------------------------------------
// Values: references, placeholders, durations, numbers

const REFERENCE = /\$\{[^}]*\}/g;

/** `${NAME}` parts of a value, safe to print: Redpanda's `${NAME:default}` loses its default. */
function referencesIn(value: string, flavour: Flavour): string[] {
  return [...value.matchAll(REFERENCE)].map((m) =>
    flavour === 'redpanda' ? `\${${m[0].slice(2, -1).split(':')[0]}}` : m[0],
  );
}

const isPlaceholder = (value: string) => /^\s*<[^>]*>\s*$/.test(value);

/** Describes a credential value without revealing it. */
function describeSecretValue(value: string, flavour: Flavour): string {
  const refs = referencesIn(value, flavour);
  if (refs.length > 0) return `is the reference ${refs.join(', ')}, not a value: fill in its value`;
  if (isPlaceholder(value)) return 'is a placeholder: fill in the real value';
  return 'found';
}

/** A setting's value as text (Connect configurations hold strings, numbers or booleans). */
function text(value: unknown, setting: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw usageError(`${setting}: expected a string, got ${value === null ? 'null' : typeof value}`);
}

function isReference(value: unknown): value is string {
  return typeof value === 'string' && referencesIn(value, 'confluent').length > 0;
}

function integer(value: unknown, setting: string, min: number): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : Number.NaN;
  if (!Number.isInteger(n) || n < min)
    throw usageError(`${setting}: ${JSON.stringify(value)} is not a whole number ≥ ${min}`);
  return n;
}

function boolean(value: unknown, setting: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim()))
    return value.trim().toLowerCase() === 'true';
  throw usageError(`${setting}: ${JSON.stringify(value)} is not true or false`);
}

const GO_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** A Go duration (`30s`, `1m30s`, `500ms`, `1.5s`) in milliseconds. */
function goDuration(value: unknown, setting: string): number {
  const source = typeof value === 'string' ? value.trim() : '';
  if (source === '0') return 0;
  const part = /(\d+(?:\.\d+)?)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let matched = 0;
  while (part.lastIndex < source.length) {
    const match = part.exec(source);
    if (!match) break;
    total += Number(match[1]) * GO_UNITS[match[2]!]!;
    matched = part.lastIndex;
  }
  if (source === '' || matched !== source.length)
    throw usageError(`${setting}: ${JSON.stringify(value)} is not a duration (write e.g. 30s, 1m30s, 500ms)`);
  return Math.round(total);
}

/** Milliseconds in the sink's duration syntax (`45s`, `2m`, `1500ms`). */
function formatDuration(ms: number): string {
  if (ms !== 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms !== 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

function apiVersionOf(value: string, setting: string): string {
  const match = /^v?(\d{2,3})(?:\.0)?$/.exec(value.trim());
  if (!match)
    throw usageError(`${setting}: ${JSON.stringify(value)} is not a Salesforce API version (e.g. 65.0)`);
  return `${match[1]}.0`;
}

// ---------------------------------------------------------------------------------------------------
// Unknown settings: the closest known name

/** Edit distance (insertions, deletions, substitutions, adjacent swaps). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The known name a mistyped one most probably meant, if one is close enough. */
function closest(key: string, known: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.min(3, Math.floor(key.length / 6)));
  let best: { name: string; d: number } | undefined;
  for (const name of known) {
    const d = distance(key.toLowerCase(), name.toLowerCase());
    if (d <= limit && (!best || d < best.d)) best = { name, d };
  }
  return best?.name;
}

/** One line for every unknown setting: each with the name it probably meant. */
function unknownSettings(keys: readonly string[], known: readonly string[], of: string): UsageError {
  const guesses = keys.map((k) => closest(k, known));
  if (keys.length === 1)
    return usageError(
      `${keys[0]} is not a setting of ${of}: ${guesses[0] ? `did you mean ${guesses[0]}? Fix` : 'fix'} or remove it and import again`,
    );
  const named = keys.map((k, i) => (guesses[i] ? `${k} (did you mean ${guesses[i]}?)` : k));
  return usageError(
    `${keys.length} settings are not settings of ${of}: ${named.join(', ')}: fix or remove them and import again`,
  );
}

// ---------------------------------------------------------------------------------------------------
// Connect .properties files

/** Java properties text → key/value pairs (comments, `=`/`:`/space separators, continuations, escapes). */
function parseProperties(textOfFile: string): Record<string, string> {
  const out: Record<string, string> = {};
  const raw = textOfFile.split(/\r?\n/);
  for (let i = 0; i < raw.length; i++) {
    let line = raw[i]!.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    // A line ending in an odd number of backslashes continues on the next one.
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < raw.length) {
      line = line.slice(0, -1) + raw[++i]!.replace(/^\s+/, '');
    }
    let k = 0;
    let key = '';
    while (k < line.length && !/[=:\s]/.test(line[k]!)) {
      // An escaped separator belongs to the key; unescapeProperty resolves it below.
      const step = line[k] === '\\' && k + 1 < line.length ? 2 : 1;
      key += line.slice(k, k + step);
      k += step;
    }
    let rest = line.slice(k).replace(/^\s*/, '');
    if (rest.startsWith('=') || rest.startsWith(':')) rest = rest.slice(1).replace(/^\s*/, '');
    out[unescapeProperty(key)] = unescapeProperty(rest);
  }
  return out;
}

function unescapeProperty(value: string): string {
  return value.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, c: string) => {
    if (c.startsWith('u') && c.length === 5) return String.fromCharCode(Number.parseInt(c.slice(1), 16));
    return ({ t: '\t', n: '\n', r: '\r', f: '\f' } as Record<string, string>)[c] ?? c;
  });
}

/** Whether a text that is not JSON reads as a properties file: `key=value` lines and comments. */
function looksLikeProperties(textOfFile: string): boolean {
  const lines = textOfFile.split(/\r?\n/).filter((l) => l.trim() !== '' && !/^\s*[#!]/.test(l));
  return lines.length > 0 && /^\s*[A-Za-z0-9_.-]+\s*[=:]/.test(lines[0]!);
}

// ---------------------------------------------------------------------------------------------------
// Each mapping's operation, said once

/** What the sink will do with each record of a mapping, in one sentence. */
function operationLine(mapping: MappingDraft): string {
  const ext = mapping.externalIdField;
  const by = (op: string) =>
    op === 'insert' ? 'insert' : ext ? `${op} by ${ext}` : op === 'upsert' ? 'upsert' : `${op} by Id`;
  if (mapping.eventType === 'override') {
    const op = mapping.operation ?? (ext ? 'upsert' : 'insert');
    return `every record: ${by(op)} (_EventType is ignored)`;
  }
  const fallback = mapping.operation ?? (ext ? 'upsert' : 'insert');
  return ext
    ? `_EventType picks it: created, updated, undeleted → upsert by ${ext}; deleted → delete by ${ext}; records without _EventType → ${by(fallback)}`
    : `_EventType picks it: created, undeleted → insert; updated → update by Id; deleted → delete by Id; records without _EventType → ${by(fallback)}`;
}

/** Whether some records of the mapping would be found by their Id field rather than an external id. */
function addressesById(mapping: MappingDraft): boolean {
  if (mapping.externalIdField) return false;
  if (mapping.eventType !== 'override') return true;
  return mapping.operation === 'update' || mapping.operation === 'delete';
}

const CROSS_ORG_WARNING =
  'an Id is valid only in the org it comes from: records streamed from another org (as the PushTopic source connector writes them) fail with MALFORMED_ID or INVALID_CROSS_REFERENCE_KEY';

/** The operation line of every mapping, and the cross-org warning where it applies. */
function reportOperations(draft: Draft, report: Reporter, key: string, fix: string): void {
  draft.mappings.forEach((mapping, i) => {
    const where = `mappings[${i}] (topic "${mapping.topic}")`;
    report.add('operation', where, operationLine(mapping), { key });
    if (addressesById(mapping)) {
      const which =
        mapping.eventType === 'override' ? `${mapping.operation}s` : 'updated and deleted records';
      report.add('warning', where, `${which} find their record by Id, and ${CROSS_ORG_WARNING}; ${fix}`, {
        key,
      });
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// The draft configuration and the report

interface MappingDraft {
  topic: string;
  sobject: string;
  operation?: Operation;
  externalIdField?: string;
  mode?: 'bulk';
  allOrNone?: true;
  eventType?: 'override';
  ignoreFields?: string[];
}

interface Draft {
  apiVersion?: string;
  requestTimeout?: string;
  maxRetries?: number;
  maxInFlight?: number;
  bulk: { batchSize?: number; maxConcurrentJobs?: number; pollInterval?: string; maxPollInterval?: string };
  results: {
    kafka?: { brokers: string[]; resultTopic?: string; errorTopic?: string; auth?: 'none' };
  };
  mappings: MappingDraft[];
}

/** Our configuration in a stable key order, without empty sections. */
function assemble(draft: Draft): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['apiVersion', 'requestTimeout', 'maxRetries', 'maxInFlight'] as const) {
    if (draft[key] !== undefined) out[key] = draft[key];
  }
  if (Object.keys(draft.bulk).length > 0) out.bulk = draft.bulk;
  if (draft.results.kafka) out.results = draft.results;
  out.mappings = draft.mappings;
  return out;
}

/** A source value as the report prints it: strings quoted, numbers and booleans bare. */
const printable = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value) : String(value));

/** Report lines in the order of the source's settings; lines about absent settings come last. */
function reportBuilder(sourceKeys: string[]) {
  const lines: Array<ReportLine & { rank: number; seq: number }> = [];
  return {
    /** `options.key`: the source key the line sorts under; `options.from`: the value to print. */
    add(kind: ReportKind, setting: string, message: string, options: { key?: string; from?: unknown } = {}) {
      const index = sourceKeys.indexOf(options.key ?? setting);
      lines.push({
        kind,
        setting,
        ...(options.from !== undefined ? { from: printable(options.from) } : {}),
        text: message,
        rank: index < 0 ? sourceKeys.length : index,
        seq: lines.length,
      });
    },
    lines(): ReportLine[] {
      return lines
        .sort((a, b) => a.rank - b.rank || a.seq - b.seq)
        .map(({ rank: _rank, seq: _seq, ...line }) => line);
    },
  };
}
type Reporter = ReturnType<typeof reportBuilder>;

function defaultNote(ours: number | string, def: number | string): string {
  return ours === def ? ' (the sink\u2019s default, so left out)' : '';
}

// ---------------------------------------------------------------------------------------------------
// Redpanda Connect salesforce_sink

const REDPANDA_DEFAULTS = { max_retries: 10, bulk_batch_size: 1000, max_in_flight: 1 };
/** The salesforce_sink's fields (Redpanda Connect 4.85 to 4.93: api_version and http are the newer ones). */
const REDPANDA_KEYS = [
  'org_url',
  'client_id',
  'client_secret',
  'restapi_version',
  'api_version',
  'request_timeout',
  'max_retries',
  'bulk_batch_size',
  'max_concurrent_bulk_jobs',
  'bulk_poll_interval',
  'batch_period',
  'max_in_flight',
  'topic_mappings',
  'http',
];
const REDPANDA_MAPPING_KEYS = ['topic', 'sobject', 'operation', 'external_id_field', 'mode', 'all_or_none'];

interface FoundSink {
  path: string;
  block: unknown;
  parent: Obj;
}

/** Every `salesforce_sink` in a Redpanda configuration tree (outputs, brokers, switch cases, …). */
function findSinks(node: unknown, path: string, found: FoundSink[]): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => {
      findSinks(item, `${path}[${i}]`, found);
    });
    return;
  }
  if (!isObject(node)) return;
  for (const [key, value] of Object.entries(node)) {
    const here = path ? `${path}.${key}` : key;
    if (key === 'salesforce_sink') found.push({ path: here, block: value, parent: node });
    else findSinks(value, here, found);
  }
}

function redpandaCredential(
  block: Obj,
  key: 'org_url' | 'client_id' | 'client_secret',
  report: Reporter,
  values: CredentialsFound['values'],
): void {
  const field = ({ org_url: 'loginUrl', client_id: 'clientId', client_secret: 'clientSecret' } as const)[key];
  const value = text(block[key], key);
  values[field] = value;
  report.add(
    'credential',
    key,
    `${describeSecretValue(value, 'redpanda')}; it goes into ${SECRET_HOME} as ${field}, never into the configuration`,
  );
}

/**
 * Converts a Redpanda Connect configuration: a whole config (the `salesforce_sink` is found anywhere in
 * it: `output`, `output.broker.outputs`, `switch` cases, …) or just the `salesforce_sink` block.
 * Throws a usage error (exit 2 in the CLI) when there is no (or more than one) `salesforce_sink`, or
 * nothing to convert.
 *
 * @example
 * const { config, report } = convertRedpanda(parseYaml(readFileSync('redpanda.yaml', 'utf8')));
 * config.mappings; // [{ topic: 'leads', sobject: 'Lead', operation: 'upsert', externalIdField: 'Key__c', eventType: 'override' }]
 */
export function convertRedpanda(document: unknown): Conversion {
  const found: FoundSink[] = [];
  findSinks(document, '', found);
  let sink: FoundSink;
  if (found.length === 1) sink = found[0]!;
  else if (found.length > 1) {
    throw usageError(
      `found ${found.length} salesforce_sink outputs (${found.map((f) => f.path).join(', ')}): put the one to convert in a file of its own`,
    );
  } else if (isObject(document) && ('topic_mappings' in document || 'org_url' in document)) {
    sink = { path: '(the file is the block)', block: document, parent: {} };
  } else {
    const connect = isObject(document) && ('connector.class' in document || isObject(document.config));
    throw usageError(
      `no salesforce_sink output found${connect ? ': this looks like a Kafka Connect connector configuration, use --from confluent' : ''}`,
    );
  }
  if (!isObject(sink.block)) throw usageError(`${sink.path}: is empty: nothing to convert`);
  const block = sink.block;
  if (!Array.isArray(block.topic_mappings) || block.topic_mappings.length === 0)
    throw usageError(`${sink.path} has no topic_mappings: nothing to convert`);

  const report = reportBuilder(Object.keys(block));
  const draft: Draft = { bulk: {}, results: {}, mappings: [] };
  const sources: Record<string, string> = {};
  const values: CredentialsFound['values'] = {};

  const unknown = Object.keys(block).filter((k) => !REDPANDA_KEYS.includes(k));
  if (unknown.length > 0) throw unknownSettings(unknown, REDPANDA_KEYS, 'Redpanda\u2019s salesforce_sink');

  for (const [key, value] of Object.entries(block)) {
    if (isReference(value) && !['org_url', 'client_id', 'client_secret'].includes(key)) {
      report.add(
        'note',
        key,
        `is the reference ${referencesIn(value, 'redpanda').join(', ')}, not a value: not converted (the sink\u2019s default applies); set the equivalent yourself`,
      );
      continue;
    }
    const say = (kind: ReportKind, message: string) => report.add(kind, key, message, { from: value });
    switch (key) {
      case 'org_url':
      case 'client_id':
      case 'client_secret':
        redpandaCredential(block, key, report, values);
        break;
      case 'restapi_version':
      case 'api_version': {
        const version = apiVersionOf(text(value, key), key);
        if (version !== DEFAULTS.apiVersion) draft.apiVersion = version;
        sources.apiVersion = key;
        say('converted', `→ apiVersion "${version}"${defaultNote(version, DEFAULTS.apiVersion)}`);
        break;
      }
      case 'request_timeout': {
        const ms = goDuration(value, key);
        const ours = formatDuration(ms);
        if (ms !== DEFAULTS.requestTimeout) draft.requestTimeout = ours;
        sources.requestTimeout = key;
        say('converted', `→ requestTimeout "${ours}"${defaultNote(ms, DEFAULTS.requestTimeout)}`);
        break;
      }
      case 'max_retries': {
        const n = integer(value, key, 0);
        const ours = Math.min(n, CAPS.maxRetries);
        if (ours !== DEFAULTS.maxRetries) draft.maxRetries = ours;
        sources.maxRetries = key;
        say(
          'changed',
          `→ maxRetries ${ours}${n > CAPS.maxRetries ? ` (capped: at most ${CAPS.maxRetries})` : defaultNote(ours, DEFAULTS.maxRetries)}: Redpanda retries only 429 (Too Many Requests); the sink retries 429, 5xx, lock contention (UNABLE_TO_LOCK_ROW) and concurrency limits, with backoff`,
        );
        break;
      }
      case 'bulk_batch_size': {
        const n = Math.min(integer(value, key, 1), CAPS.batchSize);
        if (n !== DEFAULTS.bulk.batchSize) draft.bulk.batchSize = n;
        sources['bulk.batchSize'] = key;
        const advice =
          n < CHEAPEST_BULK_BATCH
            ? `: kept, but Salesforce counts one Bulk API batch per 10,000 records of a job, so jobs of ${n} records spend about ${Math.ceil(CHEAPEST_BULK_BATCH / n)}× the daily batch allowance of jobs of 10,000 (the sink\u2019s default, and cheaper): consider removing bulk.batchSize`
            : '';
        say(
          'changed',
          `→ bulk.batchSize ${n}${defaultNote(n, DEFAULTS.bulk.batchSize)}${advice}; in Redpanda it also sized realtime batches: here the records per invocation are the event source mapping\u2019s batch size (consumer.batchSize in the deployment file)`,
        );
        break;
      }
      case 'max_concurrent_bulk_jobs': {
        const n = integer(value, key, 1);
        const ours = Math.min(n, CAPS.maxConcurrentJobs);
        if (ours !== DEFAULTS.bulk.maxConcurrentJobs) draft.bulk.maxConcurrentJobs = ours;
        sources['bulk.maxConcurrentJobs'] = key;
        say(
          'changed',
          `→ bulk.maxConcurrentJobs ${ours}${n > CAPS.maxConcurrentJobs ? ` (capped: at most ${CAPS.maxConcurrentJobs})` : defaultNote(ours, DEFAULTS.bulk.maxConcurrentJobs)}: Redpanda bounds the jobs one process polls; the sink bounds the open jobs across all invocations`,
        );
        break;
      }
      case 'bulk_poll_interval': {
        const ms = goDuration(value, key);
        const ours = formatDuration(ms);
        if (ms !== DEFAULTS.bulk.pollInterval) draft.bulk.pollInterval = ours;
        sources['bulk.pollInterval'] = key;
        let longer = '';
        if (ms > DEFAULTS.bulk.maxPollInterval) {
          draft.bulk.maxPollInterval = ours;
          sources['bulk.maxPollInterval'] = key;
          longer = `, and bulk.maxPollInterval "${ours}" (it may not be shorter)`;
        }
        say(
          'changed',
          `→ bulk.pollInterval "${ours}"${defaultNote(ms, DEFAULTS.bulk.pollInterval)}${longer}: Redpanda polls at this interval; the sink waits this long before the first check, then doubles the wait up to bulk.maxPollInterval (default 60s)`,
        );
        break;
      }
      case 'batch_period': {
        const ms = goDuration(value, key);
        const seconds = Math.min(Math.ceil(ms / 1000), 300);
        say(
          'no equivalent',
          `no equivalent in the sink configuration: it is the event source mapping\u2019s batching window, an infrastructure setting: set consumer.batchingWindowSeconds: ${seconds} in the deployment file (default 1 second, at most 5 minutes)`,
        );
        break;
      }
      case 'max_in_flight': {
        const n = integer(value, key, 1);
        const ours = Math.min(n, CAPS.maxInFlight);
        if (ours !== DEFAULTS.maxInFlight) draft.maxInFlight = ours;
        sources.maxInFlight = key;
        say(
          'changed',
          `→ maxInFlight ${ours}${n > CAPS.maxInFlight ? ` (capped: Salesforce allows ${CAPS.maxInFlight} concurrent long requests per org)` : defaultNote(ours, DEFAULTS.maxInFlight)}: Redpanda sends this many batches at once; the sink keeps this many sObject Collections calls (≤200 records each) in flight per invocation, ${DEFAULTS.maxInFlight} by default`,
        );
        break;
      }
      case 'topic_mappings':
        block.topic_mappings.forEach((m: unknown, i: number) => {
          convertRedpandaMapping(m, i, draft, sources, report);
        });
        break;
      case 'http':
        convertRedpandaHttp(value, draft, sources, report);
        break;
    }
  }

  for (const key of ['org_url', 'client_id', 'client_secret'] as const) {
    if (!(key in block))
      report.add('credential', key, `missing (Redpanda requires it): fill in ${SECRET_HOME} yourself`);
  }
  if (!('max_retries' in block))
    report.add(
      'note',
      'max_retries',
      `not set (Redpanda\u2019s default ${REDPANDA_DEFAULTS.max_retries}, 429 only): the sink\u2019s default ${DEFAULTS.maxRetries} applies, for 429, 5xx, lock contention and concurrency limits`,
    );
  if (!('bulk_batch_size' in block))
    report.add(
      'note',
      'bulk_batch_size',
      `not set (Redpanda\u2019s default ${REDPANDA_DEFAULTS.bulk_batch_size}): the sink\u2019s default ${DEFAULTS.bulk.batchSize} applies (Salesforce counts one batch per 10,000 records of a job, so it is cheaper)`,
    );
  if (!('max_in_flight' in block))
    report.add(
      'note',
      'max_in_flight',
      `not set (Redpanda\u2019s default ${REDPANDA_DEFAULTS.max_in_flight}): the sink\u2019s default ${DEFAULTS.maxInFlight} Collections calls in flight applies; set maxInFlight: 1 for one call at a time`,
    );
  if (!('batch_period' in block))
    report.add(
      'note',
      'batch_period',
      'not set (Redpanda\u2019s default 5s): no equivalent in the sink configuration; the event source mapping\u2019s batching window is consumer.batchingWindowSeconds in the deployment file (default 1 second)',
    );
  if ('processors' in sink.parent)
    report.add(
      'no equivalent',
      'processors',
      'output processors don\u2019t run in the sink: transform records before they reach the topic',
    );
  report.add(
    'note',
    '(messages)',
    'Redpanda\u2019s salesforce_sink writes messages of {topic, data} built by a processor; the sink reads each Kafka record\u2019s value (JSON) as the sObject\u2019s fields, so that processor has no equivalent',
  );
  reportRedpandaInputs(document, sink.path, draft, report);
  reportOperations(
    draft,
    report,
    'topic_mappings',
    'set external_id_field to an external id field of both orgs and import again',
  );

  return {
    origin: `Redpanda salesforce_sink at ${sink.path}`,
    config: assemble(draft),
    credentials: { authType: 'client_credentials', values },
    report: report.lines(),
    sources,
  };
}

function convertRedpandaMapping(
  m: unknown,
  i: number,
  draft: Draft,
  sources: Record<string, string>,
  report: Reporter,
): void {
  const src = `topic_mappings[${i}]`;
  const add = (kind: ReportKind, setting: string, message: string, from?: unknown) =>
    report.add(kind, setting, message, { key: 'topic_mappings', from });
  if (!isObject(m)) throw usageError(`${src}: is not a mapping ({topic, sobject, …})`);
  const unknown = Object.keys(m).filter((k) => !REDPANDA_MAPPING_KEYS.includes(k));
  if (unknown.length > 0)
    throw unknownSettings(
      unknown.map((k) => `${src}.${k}`),
      REDPANDA_MAPPING_KEYS.map((k) => `${src}.${k}`),
      'a salesforce_sink topic mapping',
    );
  /** A mapping's text, with Redpanda's `${VAR}` interpolation done as Redpanda would at start. */
  const field = (key: string): string | undefined => {
    if (m[key] === undefined || m[key] === '') return undefined;
    const raw = text(m[key], `${src}.${key}`);
    const { value, refs } = interpolate(raw, `${src}.${key}`);
    if (refs.length > 0)
      add(
        'converted',
        `${src}.${key}`,
        `→ "${value}" (${refs.join(', ')} from the environment: Redpanda fills references in at start, the sink\u2019s configuration holds the value)`,
        raw,
      );
    return value;
  };
  const required = (key: 'topic' | 'sobject') => {
    const value = field(key);
    if (value === undefined) throw usageError(`${src}.${key}: is missing`);
    return value;
  };
  const topic = required('topic');
  const sobject = required('sobject');
  const defaulted = m.operation === undefined;
  const operation = (defaulted ? 'upsert' : field('operation')!.trim()) as Operation;
  if (!['insert', 'update', 'upsert', 'delete'].includes(operation))
    throw usageError(
      `${src}.operation: "${operation}" is not an operation of Redpanda\u2019s salesforce_sink or of the sink (insert, update, upsert, delete)`,
    );
  const externalId = field('external_id_field');
  const mode = m.mode === undefined ? 'realtime' : field('mode')!.trim();
  if (mode !== 'realtime' && mode !== 'bulk')
    throw usageError(`${src}.mode: "${mode}" is not realtime or bulk`);
  const allOrNone = m.all_or_none === undefined ? false : boolean(m.all_or_none, `${src}.all_or_none`);

  const index = draft.mappings.length;
  const ours = `mappings[${index}]`;
  const mapping: MappingDraft = { topic, sobject, operation };
  if (externalId) mapping.externalIdField = externalId;
  if (mode === 'bulk') mapping.mode = 'bulk';
  if (allOrNone && mode === 'realtime') mapping.allOrNone = true;
  mapping.eventType = 'override';
  draft.mappings.push(mapping);
  sources[ours] =
    `${src} (topic "${topic}"${defaulted ? ', operation upsert by Redpanda\u2019s default' : ''})`;

  add(
    'converted',
    src,
    `→ ${ours}: topic "${topic}", sobject ${sobject}, mode ${mode}${externalId ? `, externalIdField ${externalId}` : ''}`,
  );
  add(
    'changed',
    `${src}.operation`,
    `${defaulted ? '(not set: upsert, Redpanda\u2019s default) ' : ''}→ operation "${operation}" with eventType "override": Redpanda applies the mapping\u2019s operation to every message and never reads _EventType, so the mapping overrides it; remove eventType to let _EventType pick the operation (the sink\u2019s default)`,
    defaulted ? undefined : operation,
  );
  if (allOrNone && mode === 'bulk')
    add(
      'no equivalent',
      `${src}.all_or_none`,
      'applies to realtime mappings only (Redpanda ignores it in bulk mode): left out',
    );
  else if (allOrNone) add('converted', `${src}.all_or_none`, '→ allOrNone true', true);
}

/** Redpanda's `${VAR}` / `${VAR:default}` references resolved from the environment, as Redpanda does. */
function interpolate(raw: string, setting: string): { value: string; refs: string[] } {
  const refs: string[] = [];
  const missing: string[] = [];
  const value = raw.replace(REFERENCE, (match) => {
    const [name, ...fallback] = match.slice(2, -1).split(':');
    refs.push(`\${${name}}`);
    const found = process.env[name!];
    if (found !== undefined && found !== '') return found;
    if (fallback.length > 0) return fallback.join(':');
    missing.push(name!);
    return match;
  });
  if (missing.length > 0)
    throw usageError(
      `${setting} is ${raw.trim()}, an environment reference Redpanda fills in at start, and ${missing.join(', ')} is not set here: set it in this shell and import again, or write the value in the file`,
    );
  return { value, refs };
}

/** The `http` block of newer salesforce_sink versions: its timeout is ours; TLS needs no setting. */
function convertRedpandaHttp(
  value: unknown,
  draft: Draft,
  sources: Record<string, string>,
  report: Reporter,
) {
  if (!isObject(value)) throw usageError('http: expected an object ({timeout, tls, …})');
  for (const [key, sub] of Object.entries(value)) {
    const setting = `http.${key}`;
    if (key === 'timeout') {
      const ms = goDuration(sub, setting);
      const ours = formatDuration(ms);
      if (ms !== DEFAULTS.requestTimeout) draft.requestTimeout = ours;
      sources.requestTimeout = setting;
      report.add(
        'converted',
        setting,
        `→ requestTimeout "${ours}"${defaultNote(ms, DEFAULTS.requestTimeout)}`,
        {
          key: 'http',
          from: sub,
        },
      );
    } else
      report.add(
        'no equivalent',
        setting,
        'the sink\u2019s HTTP client always verifies Salesforce\u2019s TLS certificate and needs no client settings',
        { key: 'http' },
      );
  }
}

/** Kafka inputs beside the sink: their consumer group and environment references in topic names. */
function reportRedpandaInputs(document: unknown, sinkPath: string, draft: Draft, report: Reporter): void {
  const inputs: Array<{ path: string; node: Obj }> = [];
  const walk = (node: unknown, path: string) => {
    if (Array.isArray(node)) {
      for (const [i, item] of node.entries()) walk(item, `${path}[${i}]`);
    } else if (isObject(node)) {
      if (path !== sinkPath && ('consumer_group' in node || 'topics' in node)) inputs.push({ path, node });
      for (const [key, value] of Object.entries(node)) walk(value, path ? `${path}.${key}` : key);
    }
  };
  walk(document, '');
  const topics = draft.mappings.map((m) => m.topic);
  for (const { path, node } of inputs) {
    if (typeof node.consumer_group === 'string' && node.consumer_group.trim() !== '') {
      const group = node.consumer_group.trim();
      const advice =
        topics.length === 1
          ? `set consumer.consumerGroupIds {"${topics[0]}": "${group}"} in the deployment file`
          : `Lambda needs one group per topic, so only one topic can keep it: set consumer.consumerGroupIds {"${topics[0]}": "${group}"} in the deployment file; the other topics start at consumer.startingPosition`;
      report.add(
        'note',
        `${path}.consumer_group`,
        `the Kafka consumer group Redpanda commits offsets to; to continue from them, ${advice}`,
        { key: '(inputs)', from: group },
      );
    }
    const listed = Array.isArray(node.topics) ? node.topics : [];
    for (const t of listed) {
      if (typeof t === 'string' && referencesIn(t, 'redpanda').length > 0)
        report.add(
          'note',
          `${path}.topics`,
          `${t} is an environment reference Redpanda fills in at start: the deployment file\u2019s event source mappings read the mappings\u2019 topics (${topics.join(', ')}); check that they are the topics it names`,
          { key: '(inputs)' },
        );
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Confluent Salesforce Bulk API Sink connector

const CONFLUENT_CREDENTIALS: Record<string, SecretField> = {
  'salesforce.instance': 'loginUrl',
  'salesforce.consumer.key': 'clientId',
  'salesforce.consumer.secret': 'clientSecret',
  'salesforce.username': 'username',
  'salesforce.password': 'password',
  'salesforce.password.token': 'securityToken',
};

const USED_BY: Record<SalesforceCredentials['authType'], SecretField[]> = {
  client_credentials: ['loginUrl', 'clientId', 'clientSecret'],
  jwt: ['loginUrl', 'clientId', 'username', 'privateKey'],
  password: ['loginUrl', 'clientId', 'clientSecret', 'username', 'password', 'securityToken'],
};

/**
 * Every setting of the connector (Confluent's configuration reference) and the Kafka Connect settings
 * a sink connector's configuration commonly holds: a key close to one of these but not equal is a typo.
 */
const CONFLUENT_KEYS = [
  'name',
  'connector.class',
  'tasks.max',
  'topics',
  'topics.regex',
  'salesforce.object',
  'salesforce.sink.object.operation',
  'override.event.type',
  'salesforce.use.custom.id.field',
  'salesforce.custom.id.field.name',
  'salesforce.ignore.fields',
  'salesforce.ignore.reference.fields',
  'salesforce.version',
  'salesforce.instance',
  'salesforce.username',
  'salesforce.password',
  'salesforce.password.token',
  'salesforce.consumer.key',
  'salesforce.consumer.secret',
  'salesforce.grant.type',
  'salesforce.jwt.keystore.path',
  'salesforce.jwt.keystore.password',
  'connection.timeout',
  'request.max.retries.time.ms',
  'behavior.on.api.errors',
  'curl.logging',
  'connection.max.message.size',
  'http.proxy',
  'http.proxy.auth.scheme',
  'http.proxy.user',
  'http.proxy.password',
  'reporter.bootstrap.servers',
  'reporter.result.topic.name',
  'reporter.error.topic.name',
  'reporter.result.topic.replication.factor',
  'reporter.error.topic.replication.factor',
  'reporter.result.topic.partitions',
  'reporter.error.topic.partitions',
  'reporter.result.topic.value.format',
  'reporter.error.topic.value.format',
  'reporter.security.protocol',
  'reporter.sasl.mechanism',
  'reporter.sasl.jaas.config',
  'confluent.license',
  'confluent.topic',
  'confluent.topic.bootstrap.servers',
  'confluent.topic.replication.factor',
  'key.converter',
  'value.converter',
  'header.converter',
  'key.converter.schemas.enable',
  'value.converter.schemas.enable',
  'value.converter.schema.registry.url',
  'transforms',
  'predicates',
  'errors.tolerance',
  'errors.log.enable',
  'errors.log.include.messages',
  'errors.retry.timeout',
  'errors.retry.delay.max.ms',
  'errors.deadletterqueue.topic.name',
  'errors.deadletterqueue.topic.replication.factor',
  'errors.deadletterqueue.context.headers.enable',
  'config.action.reload',
];

const SCHEMA_CONVERTERS = /AvroConverter|ProtobufConverter|JsonSchemaConverter/;

/** Settings with no equivalent, each with the reason and what to do instead. */
const CONFLUENT_NO_EQUIVALENT: Array<[RegExp, string]> = [
  [
    /^tasks\.max$/,
    'the event source mapping scales by partition: up to one concurrent invocation per partition',
  ],
  [
    /^topics\.regex$/,
    'event source mappings read named topics: list them in topics (one mapping each) and import again',
  ],
  [/^confluent\./, 'Confluent Platform licence settings: the sink needs no licence'],
  [
    /^transforms(\.|$)/,
    'single message transforms don\u2019t run in the sink: transform records before they reach the topic',
  ],
  [/^predicates(\.|$)/, 'predicates belong to single message transforms, which don\u2019t run in the sink'],
  [
    /^errors\./,
    'bad records become rejected outcomes (on the error destination) and the rest of the batch proceeds: nothing blocks, so there is no tolerance or dead letter queue to set',
  ],
  [
    /^behavior\.on\.api\.errors$/,
    'a Salesforce error fails only that record (a failed outcome on the error destination); the batch never stops',
  ],
  [
    /^reporter\.(result|error)\.topic\.(replication\.factor|partitions)$/,
    'the sink doesn\u2019t create topics: create the outcome topics yourself, with the replication factor you want',
  ],
  [
    /^reporter\.(result|error)\.topic\.(key|value)\.format|^reporter\.(result|error)\.topic\..*schemas/,
    'outcomes are JSON objects of one documented shape',
  ],
  [
    /^reporter\.(sasl\.|ssl\.)/,
    'the sink publishes outcomes with MSK IAM (the function\u2019s role): no client credentials or keystores to carry over',
  ],
  [/^reporter\./, 'a Connect Reporter producer setting: the sink\u2019s outcome publisher has no equivalent'],
  [
    /^salesforce\.ignore\.reference\.fields$/,
    'relationship references by external id are written; to skip reference fields, list them in ignoreFields',
  ],
  [
    /^http\.proxy/,
    'the function reaches Salesforce through its network (VPC and NAT): configure egress there',
  ],
  [/^connection\.timeout$/, 'requestTimeout (default 30s) bounds each whole request instead'],
  [
    /^request\.max\.retries\.time\.ms$/,
    'retries are bounded by maxRetries and by the invocation\u2019s deadline',
  ],
  [/^curl\.logging$/, 'the sink logs its calls without record values; there is nothing to switch on'],
  [
    /^connection\.max\.message\.size$/,
    'the sink sizes its requests itself (≤200 records per Collections call)',
  ],
  [
    /^(csfle\.|auto\.register\.schemas$|use\.latest\.version$)/,
    'client-side field level encryption is not supported: records must arrive decrypted',
  ],
  [
    /^consumer\.override\./,
    'consumer settings belong to the event source mapping (the deployment file\u2019s consumer section)',
  ],
  [/^header\.converter/, 'record headers aren\u2019t written to Salesforce'],
  [/^key\.converter/, 'record keys aren\u2019t written to Salesforce: nothing to set'],
  [
    /^config\.action\.reload$/,
    'the functions read their configuration at deployment; change it with a deploy',
  ],
];

function valueConverterNote(key: string, value: string): [ReportKind, string] {
  if (key === 'value.converter') {
    if (SCHEMA_CONVERTERS.test(value))
      return [
        'changed',
        'the sink reads JSON values: set consumer.schemaRegistry in the deployment file so the event source mapping decodes these values to JSON',
      ];
    if (/JsonConverter$/.test(value))
      return [
        'no equivalent',
        'the sink reads JSON values, plain or Connect JSON envelopes ({schema, payload}), without a setting',
      ];
    return ['no equivalent', 'the sink reads record values as JSON text: make sure the values are JSON'];
  }
  if (/\.schema\.registry\.url$/.test(key))
    return ['no equivalent', 'goes into consumer.schemaRegistry.uri in the deployment file'];
  return [
    'no equivalent',
    'the sink detects Connect JSON envelopes itself; schema registry settings belong to the deployment file\u2019s consumer.schemaRegistry',
  ];
}

/** The connector's `${connector}` placeholder in reporter topic names. */
function reporterTopic(
  config: Record<string, string>,
  which: 'result' | 'error',
  name: string | undefined,
): { topic?: string; why: string } {
  const key = `reporter.${which}.topic.name`;
  const suffix = which === 'result' ? 'success' : 'error';
  const pattern = config[key] ?? `\${connector}-${suffix}`;
  const defaulted = config[key] === undefined;
  if (pattern.trim() === '') return { why: `${key} is blank: the connector reports no ${which}s` };
  if (pattern.includes(CONNECTOR_VAR) && !name)
    return {
      why: `${defaulted ? `the default ${pattern}` : pattern} needs the connector\u2019s name, which is not set: name the topic yourself`,
    };
  const topic = pattern.replaceAll(CONNECTOR_VAR, name ?? '');
  return { topic, why: defaulted ? `the Connect Reporter\u2019s default \${connector}-${suffix}` : key };
}

/**
 * Converts a Confluent Salesforce Bulk API Sink connector configuration: `{name, config: {…}}` (as
 * posted to Kafka Connect) or the flat config object. Throws a usage error (exit 2 in the CLI) for
 * another connector class or when there is nothing to convert (no topics, no salesforce.object).
 *
 * @example
 * const { config, credentials } = convertConfluent({
 *   name: 'leads-sink',
 *   config: { 'connector.class': 'io.confluent.connect.salesforce.SalesforceBulkApiSinkConnector', topics: 'leads', 'salesforce.object': 'Lead' },
 * });
 * config.mappings; // [{ topic: 'leads', sobject: 'Lead', mode: 'bulk' }]
 * credentials.authType; // 'password'
 */
export function convertConfluent(document: unknown): Conversion {
  if (!isObject(document))
    throw usageError(
      'is not a connector configuration: expected {"name", "config": {…}} or the config object',
    );
  const wrapped = isObject(document.config);
  const raw = wrapped ? (document.config as Obj) : document;
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === null || value === undefined) continue;
    config[key] = text(value, key);
  }
  const name = (wrapped && typeof document.name === 'string' ? document.name : config.name) || undefined;

  const report = reportBuilder([
    'name',
    'connector.class',
    ...Object.keys(config).filter((k) => k !== 'name' && k !== 'connector.class'),
  ]);
  const draft: Draft = { bulk: {}, results: {}, mappings: [] };
  const sources: Record<string, string> = {};
  const handled = new Set<string>();
  const done = (...keys: string[]) => {
    for (const key of keys) handled.add(key);
  };

  // connector.class
  const connectorClass = config['connector.class']?.trim();
  if (connectorClass === undefined) {
    report.add(
      'note',
      'connector.class',
      `missing: assuming the Salesforce Bulk API sink (${BULK_SINK_CLASS})`,
    );
  } else if (connectorClass !== BULK_SINK_CLASS && connectorClass !== 'SalesforceBulkApiSinkConnector') {
    throw usageError(
      `connector.class ${connectorClass} is not the Salesforce Bulk API sink (${BULK_SINK_CLASS}): only that connector can be imported`,
    );
  }
  report.add(
    'changed',
    'connector.class',
    '→ mode "bulk" on every mapping: the connector writes with the Bulk API; the sink\u2019s bulk mode uses Bulk API 2.0 jobs. Realtime (sObject Collections, ≤200 records a call, seconds rather than minutes) is available: set mode "realtime"',
  );
  done('connector.class');

  // name
  if (config.name !== undefined || name) {
    report.add(
      'note',
      'name',
      `used for \${connector} in reporter topic names. The connector\u2019s consumer group is connect-${name}: to continue from its committed offsets, set consumer.consumerGroupIds {"<topic>": "connect-${name}"} in the deployment file`,
    );
    done('name');
  }

  // topics, salesforce.object
  const sobject = config['salesforce.object']?.trim();
  const topics = [
    ...new Set(
      (config.topics ?? '')
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t !== ''),
    ),
  ];
  if (topics.length === 0)
    throw usageError(
      `no topics: nothing to convert${config['topics.regex'] !== undefined ? ' (topics.regex has no equivalent: list the topics in topics)' : ''}`,
    );
  if (!sobject) throw usageError('salesforce.object is missing: nothing to convert');
  report.add(
    'converted',
    'topics',
    `→ ${topics.length} mapping${topics.length > 1 ? 's' : ''}, one per topic`,
    { from: config.topics },
  );
  report.add('converted', 'salesforce.object', '→ sobject on every mapping', { from: sobject });
  done('topics', 'salesforce.object');

  // event type and operation
  const override =
    config['override.event.type'] === undefined
      ? false
      : boolean(config['override.event.type'], 'override.event.type');
  const operationText = config['salesforce.sink.object.operation'];
  let operation: Operation | undefined;
  const supported = ['insert', 'update', 'upsert', 'delete'];
  const unsupported =
    operationText !== undefined && !supported.includes(operationText.trim().toLowerCase())
      ? `"${operationText.trim()}" is not an operation of the connector or of the sink (INSERT, UPDATE, UPSERT, DELETE${/^merge$/i.test(operationText.trim()) ? '; Salesforce merges records only with its SOAP and Apex merge calls' : ''})`
      : undefined;
  if (override) {
    const op = (operationText ?? 'INSERT').trim().toLowerCase();
    if (unsupported)
      throw usageError(
        `salesforce.sink.object.operation: ${unsupported}: with override.event.type true every record needs one of them`,
      );
    operation = op as Operation;
    report.add(
      'converted',
      'override.event.type',
      '→ eventType "override": every record is written with the operation, _EventType is ignored',
      { from: 'true' },
    );
    report.add(
      'converted',
      'salesforce.sink.object.operation',
      `${operationText === undefined ? '(not set: INSERT, the connector\u2019s default) ' : ''}→ operation "${operation}"`,
      {
        key: operationText === undefined ? 'override.event.type' : 'salesforce.sink.object.operation',
        from: operationText,
      },
    );
  } else {
    report.add(
      'converted',
      'override.event.type',
      `${config['override.event.type'] === undefined ? '(not set) ' : ''}→ eventType "honour" (the sink\u2019s default, so left out): _EventType picks each record\u2019s operation (see each mapping\u2019s operation line)`,
      { from: config['override.event.type'] },
    );
    if (operationText !== undefined)
      report.add(
        'no equivalent',
        'salesforce.sink.object.operation',
        `${unsupported ? `${unsupported}; besides, ` : ''}the connector ignores it unless override.event.type is true, so it is left out (with eventType honour, the sink\u2019s operation applies only to records without _EventType)`,
      );
  }
  done('override.event.type', 'salesforce.sink.object.operation');

  // external id
  const useCustomId =
    config['salesforce.use.custom.id.field'] === undefined
      ? false
      : boolean(config['salesforce.use.custom.id.field'], 'salesforce.use.custom.id.field');
  const customId = config['salesforce.custom.id.field.name']?.trim() || undefined;
  let externalIdField: string | undefined;
  if (useCustomId && customId) {
    externalIdField = customId;
    report.add(
      'converted',
      'salesforce.custom.id.field.name',
      `→ externalIdField "${customId}": it addresses records in the target org (it must be an external id field there)`,
    );
    report.add('converted', 'salesforce.use.custom.id.field', '→ externalIdField is set', { from: 'true' });
  } else if (useCustomId) {
    report.add(
      'note',
      'salesforce.use.custom.id.field',
      'true, but salesforce.custom.id.field.name is not set: no externalIdField (set it to the external id field)',
    );
  } else if (customId) {
    report.add(
      'no equivalent',
      'salesforce.custom.id.field.name',
      'the connector ignores it unless salesforce.use.custom.id.field is true, so it is left out; set externalIdField to address records by it',
    );
  }
  if (config['salesforce.use.custom.id.field'] !== undefined && !useCustomId)
    report.add('converted', 'salesforce.use.custom.id.field', '→ no externalIdField', {
      from: config['salesforce.use.custom.id.field'],
    });
  done('salesforce.use.custom.id.field', 'salesforce.custom.id.field.name');

  // ignored fields
  const ignoreFields = (config['salesforce.ignore.fields'] ?? '')
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f !== '');
  if (config['salesforce.ignore.fields'] !== undefined)
    report.add(
      'converted',
      'salesforce.ignore.fields',
      ignoreFields.length > 0
        ? `→ ignoreFields ${JSON.stringify(ignoreFields)} on every mapping`
        : '(empty) → no ignoreFields',
      { from: ignoreFields.length > 0 ? config['salesforce.ignore.fields'] : undefined },
    );
  done('salesforce.ignore.fields');

  topics.forEach((topic, i) => {
    const mapping: MappingDraft = { topic, sobject };
    const derived = externalIdField ? 'upsert' : 'insert';
    if (override || (operation && operation !== derived)) mapping.operation = operation;
    if (externalIdField) mapping.externalIdField = externalIdField;
    mapping.mode = 'bulk';
    if (override) mapping.eventType = 'override';
    if (ignoreFields.length > 0) mapping.ignoreFields = ignoreFields;
    draft.mappings.push(mapping);
    sources[`mappings[${i}]`] = `topics "${topic}" with salesforce.object and the connector\u2019s settings`;
  });

  // API version
  const version = config['salesforce.version']?.trim();
  if (version === undefined) {
    report.add(
      'note',
      'salesforce.version',
      `not set (the connector\u2019s default 48.0): the sink\u2019s default ${DEFAULTS.apiVersion} applies`,
    );
  } else if (version.toLowerCase() === 'latest') {
    report.add(
      'converted',
      'salesforce.version',
      `→ apiVersion "${DEFAULTS.apiVersion}" (the sink\u2019s default)`,
      {
        from: version,
      },
    );
  } else {
    const ours = apiVersionOf(version, 'salesforce.version');
    if (ours !== DEFAULTS.apiVersion) draft.apiVersion = ours;
    sources.apiVersion = 'salesforce.version';
    report.add(
      'converted',
      'salesforce.version',
      `→ apiVersion "${ours}"${defaultNote(ours, DEFAULTS.apiVersion)}${Number(ours) < Number(DEFAULTS.apiVersion) ? `; consider ${DEFAULTS.apiVersion}, the sink\u2019s default` : ''}`,
      { from: version },
    );
  }
  done('salesforce.version');

  convertReporter(config, name, draft, sources, report, done);
  const credentials = confluentCredentials(config, report, done);

  const unknown: string[] = [];
  for (const key of Object.keys(config)) {
    if (handled.has(key)) continue;
    if (!CONFLUENT_KEYS.includes(key) && closest(key, CONFLUENT_KEYS)) {
      unknown.push(key);
      continue;
    }
    if (/^value\.converter/.test(key)) {
      const [kind, why] = valueConverterNote(key, config[key]!);
      report.add(kind, key, why);
      continue;
    }
    const rule = CONFLUENT_NO_EQUIVALENT.find(([pattern]) => pattern.test(key));
    if (rule) report.add('no equivalent', key, rule[1]);
    else unknown.push(key);
  }
  if (unknown.length > 0)
    throw unknownSettings(unknown, CONFLUENT_KEYS, 'the Salesforce Bulk API sink connector or Kafka Connect');
  eventTypeTransformNote(config, report);
  reportOperations(
    draft,
    report,
    'salesforce.object',
    'set salesforce.use.custom.id.field=true and salesforce.custom.id.field.name=<an external id field of both orgs> and import again (or set externalIdField on the mapping)',
  );

  return {
    origin: `Confluent connector ${name ? `"${name}" ` : ''}(Salesforce Bulk API sink)`,
    config: assemble(draft),
    credentials,
    report: report.lines(),
    sources,
  };
}

/** An InsertField SMT that stamps `_EventType` is what override.event.type does without a transform. */
function eventTypeTransformNote(config: Record<string, string>, report: Reporter): void {
  for (const [key, value] of Object.entries(config)) {
    const match = /^transforms\.([^.]+)\.static\.field$/.exec(key);
    if (!match || value.trim() !== '_EventType') continue;
    const stamped = config[`transforms.${match[1]}.static.value`]?.trim();
    const operation = { created: 'insert', updated: 'update', deleted: 'delete' }[stamped ?? ''];
    if (operation)
      report.add(
        'note',
        key,
        `the transform stamps _EventType "${stamped}" on every record: the equivalent is eventType "override" with operation "${operation}" on the mapping`,
      );
  }
}

function convertReporter(
  config: Record<string, string>,
  name: string | undefined,
  draft: Draft,
  sources: Record<string, string>,
  report: Reporter,
  done: (...keys: string[]) => void,
): void {
  const servers = config['reporter.bootstrap.servers'];
  done('reporter.bootstrap.servers', 'reporter.result.topic.name', 'reporter.error.topic.name');
  if (servers === undefined) {
    for (const key of ['reporter.result.topic.name', 'reporter.error.topic.name']) {
      if (config[key] !== undefined)
        report.add(
          'note',
          key,
          'reporter.bootstrap.servers is not set, so the connector reports nothing: not converted (results.kafka needs the brokers)',
        );
    }
    report.add(
      'note',
      'reporter.bootstrap.servers',
      'not set: no Connect Reporter, so no outcome destination is configured; add results.sqs or results.kafka to publish outcomes',
    );
    return;
  }
  const brokers = servers
    .split(',')
    .map((s) => s.trim().replace(/^[A-Za-z_]+:\/\//, ''))
    .filter((s) => s !== '');
  const result = reporterTopic(config, 'result', name);
  const error = reporterTopic(config, 'error', name);
  if (!result.topic && !error.topic) {
    report.add(
      'note',
      'reporter.bootstrap.servers',
      `no reporter topic could be named (${result.why}; ${error.why}): results.kafka left out`,
    );
    return;
  }
  const kafka: NonNullable<Draft['results']['kafka']> = { brokers };
  if (result.topic) kafka.resultTopic = result.topic;
  if (error.topic) kafka.errorTopic = error.topic;
  draft.results.kafka = kafka;
  sources['results.kafka'] = 'reporter.*';

  const protocol = config['reporter.security.protocol']?.trim().toUpperCase();
  const mechanism = config['reporter.sasl.mechanism']?.trim().toUpperCase();
  let auth: string;
  if (protocol === 'PLAINTEXT') {
    kafka.auth = 'none';
    auth = 'auth "none" (reporter.security.protocol PLAINTEXT; for local clusters only)';
    report.add('converted', 'reporter.security.protocol', '→ results.kafka.auth "none"', { from: protocol });
  } else if (protocol === 'SASL_SSL' && mechanism === 'AWS_MSK_IAM') {
    auth = 'auth "iam" (MSK IAM, as the connector used)';
    report.add('converted', 'reporter.security.protocol', '→ results.kafka.auth "iam"', { from: protocol });
    report.add('converted', 'reporter.sasl.mechanism', '→ results.kafka.auth "iam"', { from: mechanism });
  } else if (protocol !== undefined) {
    auth = 'auth "iam" (MSK IAM with the function\u2019s role) assumed';
    report.add(
      'changed',
      'reporter.security.protocol',
      '→ results.kafka.auth "iam": the sink publishes outcomes with MSK IAM (the function\u2019s role) only',
      { from: protocol },
    );
    if (mechanism)
      report.add('changed', 'reporter.sasl.mechanism', '→ results.kafka.auth "iam": MSK IAM replaces it', {
        from: mechanism,
      });
  } else {
    auth =
      'auth "iam" (MSK IAM with the function\u2019s role) assumed; the connector\u2019s reporter used PLAINTEXT (Kafka\u2019s default): for a plaintext cluster (local only) set results.kafka.auth "none"';
  }
  done('reporter.security.protocol', 'reporter.sasl.mechanism');
  report.add(
    'converted',
    'reporter.bootstrap.servers',
    `→ results.kafka.brokers ${JSON.stringify(brokers)}; ${auth}`,
    { from: servers },
  );
  const topicLine = (which: 'result' | 'error', t: { topic?: string; why: string }) => {
    const key = `reporter.${which}.topic.name`;
    const ours = which === 'result' ? 'resultTopic' : 'errorTopic';
    const line = t.topic
      ? `→ results.kafka.${ours} "${t.topic}" (${t.why})${which === 'error' ? ': failed and rejected outcomes' : ': succeeded outcomes'}`
      : `${t.why}; results.kafka.${ours} left out`;
    report.add(t.topic ? 'converted' : 'note', key, line, {
      key: config[key] === undefined ? 'reporter.bootstrap.servers' : key,
      from: config[key],
    });
  };
  topicLine('result', result);
  topicLine('error', error);
}

function confluentCredentials(
  config: Record<string, string>,
  report: Reporter,
  done: (...keys: string[]) => void,
): CredentialsFound {
  const grantText = config['salesforce.grant.type']?.trim().toUpperCase();
  const keystore = config['salesforce.jwt.keystore.path'] !== undefined;
  let authType: SalesforceCredentials['authType'];
  if (grantText === 'JWT_BEARER' || (keystore && (grantText === undefined || grantText === 'PASSWORD')))
    authType = 'jwt';
  else if (grantText === 'CLIENT_CREDENTIALS') authType = 'client_credentials';
  else if (grantText === undefined || grantText === 'PASSWORD') authType = 'password';
  else
    throw usageError(
      `salesforce.grant.type: "${config['salesforce.grant.type']}" is not PASSWORD, JWT_BEARER or CLIENT_CREDENTIALS`,
    );

  const values: CredentialsFound['values'] = {};
  const used = USED_BY[authType];
  for (const [key, field] of Object.entries(CONFLUENT_CREDENTIALS)) {
    const value = config[key];
    if (value === undefined) continue;
    done(key);
    if (!used.includes(field)) {
      report.add(
        'credential',
        key,
        `found, but the ${authType} flow doesn\u2019t use it: leave it out of ${SECRET_HOME}`,
      );
      continue;
    }
    values[field] = value;
    report.add(
      'credential',
      key,
      `${describeSecretValue(value, 'confluent')}; it goes into ${SECRET_HOME} as ${field}, never into the configuration`,
    );
  }
  if (values.loginUrl === undefined && authType !== 'client_credentials') {
    values.loginUrl = 'https://login.salesforce.com';
    report.add(
      'credential',
      'salesforce.instance',
      'not set: loginUrl https://login.salesforce.com (the connector\u2019s default; use the org\u2019s My Domain URL or https://test.salesforce.com for a sandbox)',
    );
  }
  if (grantText !== undefined) {
    done('salesforce.grant.type');
    report.add('credential', 'salesforce.grant.type', `→ authType "${authType}" in the secret`, {
      from: grantText,
    });
  }
  if (keystore) {
    done('salesforce.jwt.keystore.path');
    report.add(
      'credential',
      'salesforce.jwt.keystore.path',
      'a Java keystore can\u2019t be converted automatically: export the private key as PEM (keytool -importkeystore -srckeystore <keystore> -destkeystore sfsink.p12 -deststoretype PKCS12, then openssl pkcs12 -in sfsink.p12 -nocerts -nodes -out sfsink-key.pem) and put the PEM text in the secret\u2019s privateKey',
    );
  }
  if (config['salesforce.jwt.keystore.password'] !== undefined) {
    done('salesforce.jwt.keystore.password');
    report.add(
      'credential',
      'salesforce.jwt.keystore.password',
      'found: needed only to export the private key from the keystore; it doesn\u2019t go into the secret',
    );
  }
  if (authType === 'password') {
    report.add(
      'note',
      '(credentials)',
      `authType "password": the sink logs in with OAuth, so it needs the connected app\u2019s consumer key and secret (clientId, clientSecret)${values.clientId && values.clientSecret ? '' : ', which the connector did not need: fill them in'}. Salesforce is retiring the username-password flow: the client credentials flow (authType "client_credentials") is recommended`,
    );
  }
  return { authType, values };
}

// ---------------------------------------------------------------------------------------------------
// Credentials → the Secrets Manager secret

const FILL_IN: Record<SecretField, string> = {
  loginUrl: '<fill in: the org\u2019s My Domain URL, https://<domain>.my.salesforce.com>',
  clientId: '<fill in: the connected app\u2019s consumer key>',
  clientSecret: '<fill in: the connected app\u2019s consumer secret>',
  username: '<fill in: the Salesforce username>',
  password: '<fill in: the Salesforce password>',
  securityToken: '<fill in: the security token>',
  privateKey: '<fill in: the PEM private key exported from the JWT keystore>',
};

/**
 * The Secrets Manager secret for the credentials found, in the `SalesforceCredentials` shape: values
 * missing from the source become `<fill in: …>` placeholders. `fillIn` names the fields whose value is
 * missing, a placeholder or an environment reference.
 *
 * @example
 * const { secret, fillIn } = secretOf({ authType: 'client_credentials', values: { clientId: 'id' } });
 * // secret.clientSecret === '<fill in: the connected app’s consumer secret>', fillIn: ['loginUrl', 'clientSecret']
 */
export function secretOf(found: CredentialsFound): { secret: SalesforceCredentials; fillIn: SecretField[] } {
  const fillIn: SecretField[] = [];
  const value = (field: SecretField): string => {
    const v = found.values[field];
    if (v === undefined || v.trim() === '' || isPlaceholder(v) || referencesIn(v, 'confluent').length > 0)
      fillIn.push(field);
    return v === undefined || v.trim() === '' ? FILL_IN[field] : v;
  };
  let secret: SalesforceCredentials;
  if (found.authType === 'client_credentials') {
    secret = {
      authType: 'client_credentials',
      loginUrl: value('loginUrl'),
      clientId: value('clientId'),
      clientSecret: value('clientSecret'),
    };
  } else if (found.authType === 'jwt') {
    secret = {
      authType: 'jwt',
      loginUrl: value('loginUrl'),
      clientId: value('clientId'),
      username: value('username'),
      privateKey: value('privateKey'),
    };
  } else {
    secret = {
      authType: 'password',
      loginUrl: value('loginUrl'),
      clientId: value('clientId'),
      clientSecret: value('clientSecret'),
      username: value('username'),
      password: value('password'),
      ...(found.values.securityToken !== undefined ? { securityToken: value('securityToken') } : {}),
    };
  }
  return { secret, fillIn };
}

// ---------------------------------------------------------------------------------------------------
// The command

/**
 * The report as text: a header, then one line per source setting.
 *
 * @example
 * formatReport('Redpanda salesforce_sink at output.salesforce_sink', [
 *   { kind: 'no equivalent', setting: 'batch_period', text: 'the event source mapping\u2019s batching window' },
 * ]);
 * // 'Imported Redpanda salesforce_sink at output.salesforce_sink:\n  no equivalent  batch_period: the event …\n'
 */
export function formatReport(origin: string, lines: readonly ReportLine[]): string {
  const body = lines.map((l) => {
    const setting = l.from !== undefined ? `${l.setting} ${l.from}` : l.setting;
    return `  ${l.kind.padEnd(13)}  ${setting}${/^(\(|→)/.test(l.text) ? ' ' : ': '}${l.text}`;
  });
  return `Imported ${origin}:\n${body.join('\n')}\n`;
}

/** Source file text → a document; the error never quotes the file (it may hold secrets). */
function parseSource(textOfFile: string, from: Flavour, path: string): unknown {
  if (from === 'redpanda') {
    try {
      return parseYaml(textOfFile);
    } catch (error) {
      const first = (error as Error).message.split('\n')[0]!.replace(/:$/, '');
      throw usageError(`${path} is not valid YAML: ${first}`);
    }
  }
  if (/\.properties$/i.test(path)) return parseProperties(textOfFile);
  try {
    return JSON.parse(textOfFile);
  } catch (error) {
    if (looksLikeProperties(textOfFile)) return parseProperties(textOfFile);
    const message = (error as Error).message;
    const line = /\(line (\d+) column (\d+)\)/.exec(message);
    const position = /at position (\d+)/.exec(message);
    const where = line
      ? ` (line ${line[1]}, column ${line[2]})`
      : position
        ? ` (at position ${position[1]})`
        : '';
    throw usageError(
      `${path} is not valid JSON${where}: a connector configuration is a JSON object, {"name": …, "config": {…}}, or a .properties file`,
    );
  }
}

function readSource(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw usageError(
      code === 'ENOENT' ? `${path} does not exist` : `${path} cannot be read (${code ?? 'error'})`,
    );
  }
}

/** Validates the converted configuration with the sink's own schema; problems name their source. */
function validate(conversion: Conversion): void {
  try {
    parseConfig(conversion.config, 'converted configuration');
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const keys = Object.keys(conversion.sources).sort((a, b) => b.length - a.length);
    const problems = error.problems.map((problem) => {
      const key = keys.find(
        (k) => problem === k || problem.startsWith(`${k}.`) || problem.startsWith(`${k}:`),
      );
      return `${problem}${key ? ` (from ${conversion.sources[key]})` : ''}`;
    });
    throw usageError(
      `the converted configuration is not valid, so nothing was written: ${problems.join('; ')}; fix the source and import again`,
    );
  }
}

function writeSecretFile(path: string, secret: SalesforceCredentials): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'w', 0o600);
    fchmodSync(fd, 0o600); // an existing file keeps its mode on open: tighten it before writing
    writeSync(fd, `${JSON.stringify(secret, null, 2)}\n`);
  } catch (error) {
    throw usageError(
      `--credentials-out ${path} cannot be written (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * `sfsink config import`: converts a Redpanda `salesforce_sink` or a Confluent Salesforce Bulk API Sink
 * configuration. Prints the configuration as JSON (or writes it to `--out`), then the report on
 * standard error; returns the exit code (0 when converted, even with notes). User mistakes throw
 * an error `main` reports as a usage error (its message alone, exit 2).
 *
 * @example
 * // sfsink config import --from redpanda pipeline.yaml --out sink-config.json --credentials-out secret.json
 * const code = importConfig(['--from', 'redpanda', 'pipeline.yaml', '--out', 'sink-config.json']);
 */
export function importConfig(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      out: { type: 'string' },
      'credentials-out': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const from = values.from?.trim().toLowerCase();
  if (from !== 'redpanda' && from !== 'confluent')
    throw usageError(
      `config import needs --from redpanda or --from confluent${values.from ? ` (got "${values.from}")` : ''}`,
    );
  if (positionals.length !== 1)
    throw usageError('config import takes one file: sfsink config import --from redpanda|confluent <file>');
  const path = positionals[0]!;
  const out = values.out;
  const credentialsOut = values['credentials-out'];
  if (out !== undefined && credentialsOut !== undefined && resolve(out) === resolve(credentialsOut))
    throw usageError('--out and --credentials-out must be different files: the credentials stay apart');

  const document = parseSource(readSource(path), from, path);
  const conversion = from === 'redpanda' ? convertRedpanda(document) : convertConfluent(document);
  validate(conversion);

  const json = `${JSON.stringify(conversion.config, null, 2)}\n`;
  const { secret, fillIn } = secretOf(conversion.credentials);
  const tail: ReportLine[] = [];
  const missing =
    fillIn.length > 0 ? `; fill in ${fillIn.join(', ')} (missing, placeholders or references)` : '';
  if (credentialsOut !== undefined) {
    writeSecretFile(credentialsOut, secret);
    tail.push({
      kind: 'credential',
      setting: '(secret)',
      text: `wrote the secret JSON (authType "${secret.authType}") to ${credentialsOut}, mode 0600${missing}; store it in Secrets Manager and delete the file`,
    });
  } else {
    tail.push({
      kind: 'credential',
      setting: '(secret)',
      text: `authType "${secret.authType}": write the secret JSON with --credentials-out <file>, then store it in Secrets Manager${missing}`,
    });
  }
  if (out !== undefined) {
    try {
      writeFileSync(out, json);
    } catch (error) {
      throw usageError(
        `--out ${out} cannot be written (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    tail.push({ kind: 'note', setting: '(output)', text: `wrote the configuration to ${out}` });
  } else {
    process.stdout.write(json);
  }
  process.stderr.write(formatReport(conversion.origin, [...conversion.report, ...tail]));
  return 0;
}
