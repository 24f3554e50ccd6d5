#!/usr/bin/env node
// sfsink: run the sink locally, replay captured batches, run the emulator, validate and convert
// configurations, generate events. Expected mistakes end with a one-line reason, never a stack trace.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../lib/config/index.ts';
import { ConfigError } from '../lib/errors.ts';
import { parseFaultRules } from './emulator/faults.ts';
import { mskEvent } from './events/build-event.ts';
import { eventFilesOf, formatSummary, runLocal } from './runtime/run.ts';
import { UsageError } from './usage-error.ts';

export { UsageError };

const HELP = {
  main: `Usage: sfsink <command> [options]

Commands:
  run                 run the sink locally on the embedded stand-ins (what npm start does)
  replay <event.json…> run captured events against a real org (or the emulator)
  emulator            start the Salesforce emulator on its own
  config validate <file>
  config import --from redpanda|confluent <file>
  events generate     turn JSON lines into an MSK-shaped event

Run 'sfsink <command> --help' for the options of a command.
`,
  run: `Usage: sfsink run [options]

Runs every event file through the real sink handler on local stand-ins: the Salesforce emulator,
dynalite, the bulk state machine on aws-local-stepfunctions. Prints progress and a summary; exits 1
if any record was lost (no outcome) or left uncommitted.

Options:
  --config <file>     sink configuration (JSON or YAML)       default: events/sample-config.json
  --events <path>     an event file or a folder of them; repeatable  default: events/
  --latency <ms>      added to every emulator API call        default: 0
  --faults <json|file> emulator fault rules (see local/emulator/README.md)
  --out <dir>         where outcomes.jsonl and the emulator snapshot go  default: .sfsink/
  -h, --help
`,
  validate: `Usage: sfsink config validate <file>

Checks a sink configuration and prints it with defaults applied, or every problem with its path.
`,
  generate: `Usage: sfsink events generate --topic <topic> [options] < records.jsonl > event.json

Turns JSON lines (one record value a line) into one MSK-shaped Lambda event.

Options:
  --topic <name>        required
  --partitions <n>      records are spread over n partitions   default: 1
  --key-field <field>   the Kafka key is this field's value; records with one key share a partition
  --start-offset <n>    first offset in each partition          default: 0
  -h, --help
`,
};

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT' ? `${what} ${path} does not exist` : `${what} ${path} cannot be read (${code})`,
    );
  }
}

async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string', default: 'events/sample-config.json' },
      events: { type: 'string', multiple: true },
      latency: { type: 'string' },
      faults: { type: 'string' },
      out: { type: 'string', default: '.sfsink' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP.run);
    return 0;
  }
  const config = loadConfigFile(values.config);
  let eventFiles: string[];
  try {
    eventFiles = eventFilesOf(values.events ?? ['events']);
  } catch {
    throw new UsageError(`--events ${values.events?.join(' ') ?? 'events'}: no such file or folder`);
  }
  if (eventFiles.length === 0) throw new UsageError('no event files found: pass --events <file or folder>');
  const latencyMs = values.latency === undefined ? 0 : Number(values.latency);
  if (!Number.isInteger(latencyMs) || latencyMs < 0)
    throw new UsageError('--latency takes a whole number of milliseconds');
  let faults: ReturnType<typeof parseFaultRules> | undefined;
  if (values.faults) {
    const text =
      values.faults.trim().startsWith('[') || values.faults.trim().startsWith('{')
        ? values.faults
        : readText(values.faults, 'faults file');
    try {
      faults = parseFaultRules(text);
    } catch (error) {
      throw new UsageError(`--faults: ${(error as Error).message}`);
    }
  }

  const tty = process.stdout.isTTY === true;
  let live = false;
  const progress = (line: string, isLive: boolean) => {
    if (tty && isLive) {
      process.stdout.write(`\r\u001b[2K${line}`);
      live = true;
      return;
    }
    if (isLive) return;
    if (live) process.stdout.write('\n');
    live = false;
    process.stdout.write(`${line}\n`);
  };
  progress(`sfsink: ${eventFiles.length} event file(s), config ${values.config}`, false);
  const { summary, embedded } = await runLocal({
    config,
    eventFiles,
    outDir: values.out,
    emulator: { latencyMs, ...(faults ? { faults } : {}) },
    progress,
  });
  await embedded.close();
  if (live) process.stdout.write('\n');
  process.stdout.write(`\n${formatSummary(summary)}\n`);
  if (summary.lost > 0) {
    process.stderr.write(`\n${summary.lost} record(s) were lost (no outcome or never committed)\n`);
    return 1;
  }
  return 0;
}

function validate(args: string[]): number {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(HELP.validate);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('config validate takes one file');
  const config = loadConfigFile(positionals[0]!);
  process.stdout.write(`${positionals[0]}: valid\n${JSON.stringify(config, null, 2)}\n`);
  return 0;
}

function generate(args: string[], stdin: string): number {
  const { values } = parseArgs({
    args,
    options: {
      topic: { type: 'string' },
      partitions: { type: 'string', default: '1' },
      'key-field': { type: 'string' },
      'start-offset': { type: 'string', default: '0' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP.generate);
    return 0;
  }
  if (!values.topic) throw new UsageError('events generate needs --topic');
  const partitions = Number(values.partitions);
  const start = Number(values['start-offset']);
  if (!Number.isInteger(partitions) || partitions < 1)
    throw new UsageError('--partitions takes a whole number ≥ 1');
  if (!Number.isInteger(start) || start < 0) throw new UsageError('--start-offset takes a whole number ≥ 0');
  const offsets = new Array<number>(partitions).fill(start);
  const lines = stdin.split('\n').filter((l) => l.trim() !== '');
  const records = lines.map((line, i) => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new UsageError(`line ${i + 1} is not JSON`);
    }
    const keyField = values['key-field'];
    const keyValue =
      keyField && typeof value === 'object' && value !== null
        ? (value as Record<string, unknown>)[keyField]
        : undefined;
    const key = keyValue === undefined || keyValue === null ? null : String(keyValue);
    const partition = key === null ? i % partitions : hash(key) % partitions;
    return { topic: values.topic!, partition, offset: offsets[partition]!++, key, value };
  });
  process.stdout.write(`${JSON.stringify(mskEvent(records), null, 1)}\n`);
  return 0;
}

/** A stable string hash (FNV-1a), so one key always lands in one partition. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError('events generate reads JSON lines from standard input');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run':
        return await run(rest);
      case 'emulator': {
        const { main: emulator } = await import('./emulator/cli.ts');
        await emulator(rest);
        return -1; // keeps running until a signal
      }
      case 'replay': {
        const { replay } = await import('./replay.ts');
        return await replay(rest);
      }
      case 'config': {
        const [sub, ...more] = rest;
        if (sub === 'validate') return validate(more);
        if (sub === 'import') {
          const { importConfig } = await import('./config-import.ts');
          return importConfig(more);
        }
        throw new UsageError(`unknown config command "${sub ?? ''}": use config validate or config import`);
      }
      case 'events': {
        const [sub, ...more] = rest;
        if (sub !== 'generate') throw new UsageError('use: sfsink events generate --topic <topic>');
        if (more.includes('--help') || more.includes('-h')) return generate(more, '');
        return generate(more, await readStdin());
      }
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        process.stdout.write(HELP.main);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"\n\n${HELP.main}`);
    }
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      process.stderr.write(`sfsink: ${error.message}\n`);
      return 2;
    }
    if (
      (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ||
      (error as { code?: string }).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE'
    ) {
      process.stderr.write(`sfsink: ${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  }
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  if (code >= 0) process.exit(code);
}
