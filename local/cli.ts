#!/usr/bin/env node
// sfsink: run the sink locally, replay captured batches, run the emulator, validate and convert
// configurations, generate events, report on outcomes. Mistakes end with one line that says what is
// wrong and what to do (exit 2); an unexpected error ends with one line and the hint to run again
// with --debug, which prints its stack.
import { loadConfigFile, type SinkConfig } from '../lib/config/index.ts';
import type { parseFaultRules } from './emulator/faults.ts';
import { loadSchema, type Schema } from './emulator/schema.ts';
import { readEventFiles } from './events/read-event.ts';
import { describeFailure, parseCliArgs, UsageError } from './usage-error.ts';

export { UsageError };

const HELP = {
  main: `Usage: sfsink <command> [options]

Commands:
  run                     run the sink locally on the embedded stand-ins (what npm start does)
  replay <event.json…>    run captured events against a real org (or an emulator)
  outcomes <file.jsonl…>  summarize outcomes: per topic and status, the codes behind failures
  emulator                start the Salesforce emulator on its own
  emulator schema pull    copy sObjects from a real org's describe into an emulator schema file
  config validate <file>  check a sink configuration
  config import           convert a Redpanda or Confluent configuration
  events generate         turn JSON lines into an MSK-shaped event

Run 'sfsink <command> --help' for the options of a command. Add --debug to any command to see the
stack of an unexpected error.
`,
  run: `Usage: sfsink run [options]

Runs every event file through the real sink handler on local stand-ins: the Salesforce emulator,
dynalite, local-aws-sqs, the bulk state machine on aws-local-stepfunctions. Prints progress and a
summary; exits 1 if any record was lost (no outcome) or left uncommitted.

Options:
  --config <file>      sink configuration (JSON or YAML)       default: events/sample-config.json
  --events <path>      an event file or a folder of them; repeatable      default: events/
  --schema <file>      the emulator's sObjects (default: Lead, Account, Contact, Order_Event__c);
                       make one from your org with sfsink emulator schema pull
  --latency <ms>       added to every emulator API call        default: 0
  --faults <json|file> emulator fault rules (see local/emulator/README.md)
  --out <dir>          where outcomes.jsonl and the emulator snapshot go  default: .sfsink/
  --json               print the summary as JSON (nothing else on standard output)
  --quiet              no progress lines, only the summary
  -h, --help
`,
  config: `Usage: sfsink config validate <file>
       sfsink config import --from redpanda|confluent <file> [--out f] [--credentials-out f]

validate: checks a sink configuration and prints it with defaults applied, or every problem.
import:   converts a Redpanda salesforce_sink or a Confluent Salesforce Bulk API sink configuration
          (JSON or .properties) and reports what became of every setting.
Run 'sfsink config validate --help' or 'sfsink config import --help' for details.
`,
  validate: `Usage: sfsink config validate <file>

Checks a sink configuration and prints it with defaults applied, or every problem with its path.
`,
  events: `Usage: sfsink events generate --topic <topic> [options] < records.jsonl > event.json

Run 'sfsink events generate --help' for the options.
`,
  generate: `Usage: sfsink events generate --topic <topic> [options] < records.jsonl > event.json

Turns JSON lines (one record value a line, plain or a Kafka Connect {schema, payload} envelope) into
one MSK-shaped Lambda event for sfsink run --events or replay.

Options:
  --topic <name>        required
  --partitions <n>      records are spread over n partitions   default: 1
  --key-field <field>   the Kafka key is this field's value (looked up in a Connect payload too);
                        records with one key share a partition
  --start-offset <n>    first offset in each partition          default: 0
  -h, --help
`,
};

/**
 * Each mapping's sObject and external id must be in the emulator's schema; otherwise every record of
 * the mapping would fail, and the reason is the schema, not the records.
 */
function checkMappings(config: SinkConfig, schema: Schema, schemaFlag: string | undefined): void {
  const known = schema.sobjects.map((s) => s.name).join(', ');
  const fix = (sobject: string) =>
    schemaFlag
      ? `add it to ${schemaFlag}, or pull it from your org: sfsink emulator schema pull --credentials <file> --sobjects ${sobject}`
      : `pass --schema <file> with your objects; make one from your org with sfsink emulator schema pull --credentials <file> --sobjects ${sobject}`;
  config.mappings.forEach((m, i) => {
    const sobject = schema.byName.get(m.sobject.toLowerCase());
    if (!sobject)
      throw new UsageError(
        `mappings[${i}].sobject ${m.sobject}: the emulator's schema has no such sObject (it has ${known}): ${fix(m.sobject)}`,
      );
    if (!m.externalIdField) return;
    const field = sobject.fieldsByName.get(m.externalIdField.toLowerCase());
    const externalIds = sobject.fields.filter((f) => f.externalId).map((f) => f.name);
    const theirs =
      externalIds.length > 0 ? `its external ids: ${externalIds.join(', ')}` : 'it has no external id';
    if (!field || !(field.externalId || field.name === 'Id'))
      throw new UsageError(
        `mappings[${i}].externalIdField ${m.externalIdField}: ${field ? 'is not an external id field' : 'is not a field'} of ${sobject.name} in the emulator's schema (${theirs}): use one of them, or ${fix(sobject.name)}`,
      );
  });
}

async function run(args: string[]): Promise<number> {
  const { values } = parseCliArgs('run', args, {
    config: { type: 'string', default: 'events/sample-config.json' },
    events: { type: 'string', multiple: true },
    schema: { type: 'string' },
    latency: { type: 'string' },
    faults: { type: 'string' },
    out: { type: 'string', default: '.sfsink' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(HELP.run);
    return 0;
  }
  const config = loadConfigFile(values.config);
  const schema = loadSchema(values.schema);
  checkMappings(config, schema, values.schema);
  const eventFiles = readEventFiles(values.events ?? ['events']);
  const latencyMs = values.latency === undefined ? 0 : Number(values.latency);
  if (values.latency?.trim() === '' || !Number.isInteger(latencyMs) || latencyMs < 0)
    throw new UsageError('--latency takes a whole number of milliseconds');
  let faults: ReturnType<typeof parseFaultRules> | undefined;
  if (values.faults) {
    const { readFaults } = await import('./emulator/cli.ts');
    faults = readFaults(values.faults);
  }

  const { formatSummary, prepareOutDir, runLocal } = await import('./runtime/run.ts');
  prepareOutDir(values.out);
  const quiet = values.quiet === true || values.json === true;
  const tty = process.stdout.isTTY === true;
  let live = false;
  const progress = (line: string, isLive: boolean) => {
    if (quiet) return;
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
    emulator: { latencyMs, schema, ...(faults ? { faults } : {}) },
    progress,
  });
  await embedded.close();
  if (live) process.stdout.write('\n');
  if (values.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else process.stdout.write(`${quiet ? '' : '\n'}${formatSummary(summary)}\n`);
  if (summary.lost > 0) {
    process.stderr.write(`sfsink: ${summary.lost} record(s) were lost (no outcome or never committed)\n`);
    return 1;
  }
  return 0;
}

function validate(args: string[]): number {
  const { positionals, values } = parseCliArgs(
    'config validate',
    args,
    { help: { type: 'boolean', short: 'h' } },
    true,
  );
  if (values.help) {
    process.stdout.write(HELP.validate);
    return 0;
  }
  if (positionals.length !== 1)
    throw new UsageError('config validate takes one file: sfsink config validate <file>');
  const config = loadConfigFile(positionals[0]!);
  process.stdout.write(`${positionals[0]}: valid\n${JSON.stringify(config, null, 2)}\n`);
  return 0;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY)
    throw new UsageError(
      'events generate reads JSON lines from standard input: sfsink events generate --topic t < records.jsonl',
    );
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function events(args: string[]): Promise<number> {
  const [sub, ...more] = args;
  if (sub === '--help' || sub === '-h') {
    process.stdout.write(HELP.events);
    return 0;
  }
  if (sub === undefined)
    throw new UsageError('events needs a command: sfsink events generate --topic <topic>');
  if (sub !== 'generate')
    throw new UsageError(`unknown events command "${sub}": use sfsink events generate --topic <topic>`);
  const { values } = parseCliArgs('events generate', more, {
    topic: { type: 'string' },
    partitions: { type: 'string', default: '1' },
    'key-field': { type: 'string' },
    'start-offset': { type: 'string', default: '0' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(HELP.generate);
    return 0;
  }
  const { generateEvent } = await import('./events/from-lines.ts');
  const { event, warnings } = generateEvent(await readStdin(), {
    topic: values.topic,
    partitions: values.partitions,
    keyField: values['key-field'],
    startOffset: values['start-offset'],
  });
  for (const warning of warnings) process.stderr.write(`sfsink: warning: ${warning}\n`);
  process.stdout.write(`${JSON.stringify(event, null, 1)}\n`);
  return 0;
}

async function configCommand(args: string[]): Promise<number> {
  const [sub, ...more] = args;
  if (sub === 'validate') return validate(more);
  if (sub === 'import') {
    const { importConfig } = await import('./config-import.ts');
    return importConfig(more);
  }
  if (sub === '--help' || sub === '-h') {
    process.stdout.write(HELP.config);
    return 0;
  }
  if (sub === undefined)
    throw new UsageError(
      'config needs a command: sfsink config validate <file>, or sfsink config import --from …',
    );
  throw new UsageError(
    `unknown config command "${sub}": use sfsink config validate <file> or sfsink config import`,
  );
}

async function command(name: string | undefined, rest: string[]): Promise<number | 'running'> {
  switch (name) {
    case 'run':
      return run(rest);
    case 'emulator': {
      const { main: emulator } = await import('./emulator/cli.ts');
      return emulator(rest);
    }
    case 'replay': {
      const { replay } = await import('./replay.ts');
      return replay(rest);
    }
    case 'outcomes': {
      const { outcomesReport } = await import('./outcomes-report.ts');
      return outcomesReport(rest);
    }
    case 'config':
      return configCommand(rest);
    case 'events':
      return events(rest);
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(HELP.main);
      return 0;
    case undefined:
      process.stdout.write(HELP.main);
      process.stderr.write('sfsink: no command given: pick one of the commands above\n');
      return 2;
    default:
      throw new UsageError(`unknown command "${name}": run sfsink --help for the commands`);
  }
}

/**
 * Runs the CLI; returns the exit code, or `'running'` for a command that serves until a signal (the
 * emulator).
 *
 * @example
 * const code = await main(['config', 'validate', 'events/sample-config.json']); // 0
 */
export async function main(argv: string[]): Promise<number | 'running'> {
  const debug = argv.includes('--debug');
  const [name, ...rest] = argv.filter((a) => a !== '--debug');
  try {
    return await command(name, rest);
  } catch (error) {
    const { text, code } = describeFailure(error, { debug });
    process.stderr.write(text);
    return code;
  }
}

if (import.meta.main) {
  // Anything that escapes a command's promise (a stand-in's socket error, say) is reported the same way.
  const debug = process.argv.includes('--debug');
  const fail = (error: unknown) => {
    process.stderr.write(describeFailure(error, { debug }).text);
    process.exit(1);
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  const code = await main(process.argv.slice(2));
  if (code !== 'running') process.exit(code);
}
