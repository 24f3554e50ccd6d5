// Runs the Salesforce emulator from the command line and prints how to connect to it.
// `node local/emulator/cli.ts --help` lists the options. Mistakes (a bad flag, an unreadable schema or
// fault file, a port in use) end with one line and exit code 2, as everywhere in the CLI.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeFailure, parseCliArgs, UsageError } from '../usage-error.ts';
import { parseFaultRules } from './faults.ts';
import { loadSchema } from './schema.ts';
import { type EmulatorOptions, startEmulator } from './server.ts';

export const HELP = `Usage: sfsink emulator [options]      (or: node local/emulator/cli.ts [options])
       sfsink emulator schema pull --credentials <file> --sobjects <A,B> > schema.json

Starts an emulated Salesforce org (OAuth, REST, sObject Collections, query, Bulk API 2.0 ingest)
and the inspection API under /__emulator/. Its default schema has Lead, Account, Contact and
Order_Event__c; 'schema pull' copies a real org's objects into a schema file for --schema.

Options:
  --port <n>               Port to listen on (default 8383; 0 picks a free port)
  --host <address>         Interface to bind (default 127.0.0.1)
  --schema <file>          sObject schema JSON (default local/emulator/default-schema.json)
  --faults <json|file>     Fault rules at start: a JSON rule or array of rules, or a file holding one
  --fault-seed <n>         Seed of the RNG behind probabilistic faults (default 1)
  --latency <ms>           Latency added to every API call (default 0)
  --token-ttl <seconds>    Access token lifetime (default 7200)
  --daily-api-max <n>      DailyApiRequests Max; past it calls get 403 REQUEST_LIMIT_EXCEEDED (default 15000)
  --bulk-delay <ms>        Bulk job pacing: start, between internal batches, end (default 50)
  --snapshot <file>        Load records from <file> at start; write them on exit and on
                           POST /__emulator/snapshot
  --jwt-public-key <file>  PEM public key that verifies JWT bearer assertions. Default: a test-only
                           key pair generated at start, the private key written to a temp file
  --client-id <id>         Connected app consumer key (default emulator-client-id)
  --client-secret <secret> Connected app secret (default emulator-client-secret)
  --username <name>        Integration user (default integration@emulator.local)
  --password <password>    Its password (default emulator-password)
  --security-token <token> Appended to the password in the username-password flow (default EMULATORTOKEN)
  -h, --help               Show this help

Fault rule fields: route (oauth|identity|versions|describe|sobject|collections|query|limits|bulk|other|*),
method, path (regex), nth, times (n|"always"), probability, when (before|after), and by kind:
  {"fault":"status","status":429,"retryAfter":2}   {"fault":"limit","limit":"ConcurrentPerOrgLongTxn"}
  {"fault":"latency","ms":200}   {"fault":"reset","when":"after"}   {"fault":"expireTokens"}
  {"fault":"lockRow","match":{"sobject":"Lead","fields":{"LastName":"Locked"}}}
  {"fault":"failJob","errorMessage":"…"}
`;

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  schema: { type: 'string' },
  faults: { type: 'string' },
  'fault-seed': { type: 'string' },
  latency: { type: 'string' },
  'token-ttl': { type: 'string' },
  'daily-api-max': { type: 'string' },
  'bulk-delay': { type: 'string' },
  snapshot: { type: 'string' },
  'jwt-public-key': { type: 'string' },
  'client-id': { type: 'string' },
  'client-secret': { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
  'security-token': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function number(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0)
    throw new UsageError(`--${name} must be a non-negative number, got ${value}`);
  return parsed;
}

function readText(path: string, option: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT'
        ? `${option} ${path}: no such file`
        : `${option} ${path} cannot be read (${code ?? 'error'})`,
    );
  }
}

/**
 * Fault rules given inline as JSON, or the path of a file holding them; a mistake is a UsageError
 * naming the option.
 *
 * @example
 * readFaults('{"route":"collections","fault":"status","status":503}', '--faults');
 */
export function readFaults(value: string | undefined, option = '--faults') {
  if (value === undefined) return undefined;
  const inline = value.trim().startsWith('{') || value.trim().startsWith('[');
  const text = inline ? value : readText(value, option);
  try {
    return parseFaultRules(text);
  } catch (error) {
    const why = error instanceof SyntaxError ? 'is not valid JSON' : (error as Error).message;
    throw new UsageError(
      `${option}${inline ? '' : ` ${value}`}: ${why}: see the fault rules in local/emulator/README.md`,
    );
  }
}

/**
 * Parses command-line arguments into emulator options; `help` when the user asked for it.
 *
 * @example
 * parseCli(['--port', '0', '--latency', '20']); // { help: false, options: { port: 0, latencyMs: 20, … } }
 */
export function parseCli(args: string[]): { help: boolean; options: EmulatorOptions } {
  const { values } = parseCliArgs('emulator', args, OPTIONS);
  const credentials = Object.fromEntries(
    Object.entries({
      clientId: values['client-id'],
      clientSecret: values['client-secret'],
      username: values.username,
      password: values.password,
      securityToken: values['security-token'],
    }).filter(([, v]) => v !== undefined),
  );
  return {
    help: values.help === true,
    options: {
      port: number('port', values.port) ?? 8383,
      host: values.host,
      // Loaded here so that a bad file is reported before anything starts.
      schema: values.schema === undefined ? undefined : loadSchema(values.schema),
      faults: readFaults(values.faults),
      faultSeed: number('fault-seed', values['fault-seed']),
      latencyMs: number('latency', values.latency),
      tokenTtlSeconds: number('token-ttl', values['token-ttl']),
      dailyApiMax: number('daily-api-max', values['daily-api-max']),
      bulkProcessingDelayMs: number('bulk-delay', values['bulk-delay']),
      snapshotFile: values.snapshot === undefined ? undefined : checkedSnapshot(values.snapshot),
      jwtPublicKey: values['jwt-public-key']
        ? readText(values['jwt-public-key'], '--jwt-public-key')
        : undefined,
      credentials,
    },
  };
}

/** A snapshot to load must be a snapshot; one that does not exist yet is written on exit. */
function checkedSnapshot(path: string): string {
  if (!existsSync(path)) return path;
  try {
    const saved = JSON.parse(readText(path, '--snapshot')) as unknown;
    if (typeof saved === 'object' && saved !== null && !Array.isArray(saved)) return path;
  } catch (error) {
    if (error instanceof UsageError) throw error;
  }
  throw new UsageError(
    `--snapshot ${path} is not an emulator snapshot (the JSON the emulator writes): pass a new path, or one it wrote`,
  );
}

/** startEmulator, with the ways a port can be refused said as a mistake. */
async function listen(options: EmulatorOptions) {
  try {
    return await startEmulator(options);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const where = `${options.host ?? '127.0.0.1'}:${options.port}`;
    if (code === 'EADDRINUSE')
      throw new UsageError(
        `port ${options.port} is in use (another emulator?): stop what listens on ${where}, or pass --port 0 for a free port`,
      );
    if (code === 'EACCES')
      throw new UsageError(`port ${options.port} needs privileges: pick one above 1024, or --port 0`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
      throw new UsageError(`--host ${options.host}: not an address of this machine: try 127.0.0.1`);
    throw error;
  }
}

/**
 * Runs the standalone emulator (`npm run emulator`, `sfsink emulator`) until SIGINT/SIGTERM; `schema
 * pull` copies an org's describe instead. Throws UsageError for mistakes.
 *
 * @example
 * await main(['--port', '0', '--schema', 'my-schema.json']);
 */
export async function main(args: string[] = process.argv.slice(2)): Promise<'running' | number> {
  if (args[0] === 'schema') {
    const { schemaCommand } = await import('./schema-pull.ts');
    return schemaCommand(args.slice(1));
  }
  const parsed = parseCli(args);
  if (parsed.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const emulator = await listen(parsed.options);
  const { url, credentials: c } = emulator;
  let keyLine = 'JWT bearer: verified with the public key you gave (--jwt-public-key)';
  let keyDir: string | undefined;
  if (emulator.jwtPrivateKey) {
    const dir = mkdtempSync(join(tmpdir(), 'sf-emulator-'));
    keyDir = dir;
    const privatePath = join(dir, 'jwt-private.pem');
    writeFileSync(privatePath, emulator.jwtPrivateKey, { mode: 0o600 });
    writeFileSync(join(dir, 'jwt-public.pem'), emulator.jwtPublicKey);
    keyLine = `JWT bearer: sign RS256 with the test-only private key ${privatePath} (public key beside it)`;
  }
  process.stdout.write(
    [
      `Salesforce emulator listening on ${url}`,
      `  login URL and instance URL: ${url}`,
      `  client credentials: client_id=${c.clientId} client_secret=${c.clientSecret}`,
      `  username-password:  username=${c.username} password=${c.password}${c.securityToken ? ` + security token ${c.securityToken}` : ''}`,
      `  ${keyLine}`,
      `              claims: iss=${c.jwtConsumerKey} sub=${c.username} aud=${url} exp=now+≤3 min`,
      `  inspection: ${url}/__emulator/ (records/{SObject}, calls, counters, faults, jobs, reset, snapshot)`,
      '',
    ].join('\n'),
  );
  const stop = () => {
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
    emulator.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return 'running';
}

if (import.meta.main) {
  const debug = process.argv.includes('--debug');
  try {
    const result = await main(process.argv.slice(2).filter((a) => a !== '--debug'));
    if (result !== 'running') process.exit(result);
  } catch (error) {
    const { text, code } = describeFailure(error, { debug });
    process.stderr.write(text);
    process.exit(code);
  }
}
