// Runs the Salesforce emulator from the command line and prints how to connect to it.
// `node local/emulator/cli.ts --help` lists the options.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseFaultRules } from './faults.ts';
import { type EmulatorOptions, startEmulator } from './server.ts';

export const HELP = `Usage: node local/emulator/cli.ts [options]

Starts an emulated Salesforce org (OAuth, REST, sObject Collections, query, Bulk API 2.0 ingest)
and the inspection API under /__emulator/.

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
  if (!Number.isFinite(parsed) || parsed < 0)
    throw new Error(`--${name} must be a non-negative number, got ${value}`);
  return parsed;
}

/** A rule or rules given inline as JSON, or the path of a file holding them. */
function readFaults(value: string | undefined) {
  if (value === undefined) return undefined;
  const text =
    value.trim().startsWith('{') || value.trim().startsWith('[') ? value : readFileSync(value, 'utf8');
  return parseFaultRules(text);
}

/**
 * Parses command-line arguments into emulator options; `help` when the user asked for it.
 *
 * @example
 * parseCli(['--port', '0', '--latency', '20']); // { help: false, options: { port: 0, latencyMs: 20, … } }
 */
export function parseCli(args: string[]): { help: boolean; options: EmulatorOptions } {
  const { values } = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false });
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
      schema: values.schema,
      faults: readFaults(values.faults),
      faultSeed: number('fault-seed', values['fault-seed']),
      latencyMs: number('latency', values.latency),
      tokenTtlSeconds: number('token-ttl', values['token-ttl']),
      dailyApiMax: number('daily-api-max', values['daily-api-max']),
      bulkProcessingDelayMs: number('bulk-delay', values['bulk-delay']),
      snapshotFile: values.snapshot,
      jwtPublicKey: values['jwt-public-key'] ? readFileSync(values['jwt-public-key'], 'utf8') : undefined,
      credentials,
    },
  };
}

/** Runs the standalone emulator (`npm run emulator`, `sfsink emulator`) until SIGINT/SIGTERM. */
export async function main(args: string[] = process.argv.slice(2)): Promise<void> {
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(args);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${HELP}`);
    process.exit(2);
  }
  if (parsed.help) {
    process.stdout.write(HELP);
    return;
  }
  const emulator = await startEmulator(parsed.options);
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
}

if (import.meta.main) await main();
