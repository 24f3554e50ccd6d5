// Event files for `sfsink run` and `sfsink replay`: each one Lambda Kafka event (the MSK shape). Every
// way a file can be something else — JSON lines of records, a bare array, `{"records": […]}`, a sink
// configuration, not JSON at all — is a one-line UsageError that says what the file is and how to
// turn it into an event.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidEventError, type LambdaKafkaEvent, recordsOfEvent } from '../../lib/decode/index.ts';
import { UsageError } from '../usage-error.ts';

const SHAPE =
  'an event is {"records": {"<topic>-<partition>": [{"topic", "partition", "offset", "value": <base64>}]}}';
const GENERATE = 'make one with sfsink events generate --topic <topic> < records.jsonl > event.json';

/** An event file and the event it holds. */
export interface EventFile {
  file: string;
  event: LambdaKafkaEvent;
  records: number;
}

/** The event files of the paths given, each with the folder it was found in (if it was). */
function listEventFiles(paths: readonly string[]): { file: string; folder?: string }[] {
  return paths.flatMap((p) => {
    let folder: boolean;
    try {
      folder = statSync(p).isDirectory();
    } catch {
      throw new UsageError(`${p}: no such event file or folder`);
    }
    return folder
      ? readdirSync(p)
          .filter((f) => f.endsWith('.json') && !f.includes('config'))
          .sort()
          .map((f) => ({ file: join(p, f), folder: p }))
      : [{ file: p }];
  });
}

/**
 * Event files from a list of files and folders. A folder contributes its `*.json` files, sorted;
 * those whose name contains "config" are skipped (the sample keeps its configuration beside its events).
 *
 * @example
 * eventFilesOf(['events']); // ['events/01-pushtopic-leads.json', …]
 */
export function eventFilesOf(paths: readonly string[]): string[] {
  return listEventFiles(paths).map((f) => f.file);
}

/** What a JSON value that is not an event looks like, and what to do with it. */
function notAnEvent(file: string, value: unknown): string | undefined {
  if (Array.isArray(value))
    return `${file} is a JSON array, not a Lambda Kafka event: put record values one per line and ${GENERATE}`;
  if (typeof value !== 'object' || value === null)
    return `${file} holds ${value === null ? 'null' : `a ${typeof value}`}, not a Lambda Kafka event (${SHAPE})`;
  const object = value as Record<string, unknown>;
  if (Array.isArray(object.mappings))
    return `${file} is a sink configuration, not an event: pass it with --config (in an event folder, name it *config*.json and it is skipped)`;
  if (Array.isArray(object.records)) return `${file}: "records" is an array, but ${SHAPE}: ${GENERATE}`;
  if (typeof object.status === 'string' && 'offset' in object)
    return `${file} is an outcome, not an event: read outcomes with sfsink outcomes <outcomes.jsonl>`;
  return undefined;
}

/** The first record key or value that is not base64 text (or null), if any. */
function badEncoding(event: LambdaKafkaEvent): string | undefined {
  if (typeof event.records !== 'object' || event.records === null) return undefined;
  for (const [partition, records] of Object.entries(event.records)) {
    if (!Array.isArray(records)) return undefined;
    for (const [i, record] of records.entries()) {
      for (const part of ['key', 'value'] as const) {
        const v = (record as unknown as Record<string, unknown>)?.[part];
        if (v !== undefined && v !== null && typeof v !== 'string')
          return `records["${partition}"][${i}].${part} is ${Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`}`;
      }
    }
  }
  return undefined;
}

/** Whether a text that is not one JSON document is JSON lines (a value per line). */
function isJsonLines(text: string): boolean {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length < 2) return false;
  try {
    JSON.parse(lines[0]!);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads and checks one event file; throws a UsageError naming the file when it is not a Lambda Kafka
 * event.
 *
 * @example
 * const { event, records } = readEventFile('events/01-pushtopic-leads.json');
 */
export function readEventFile(file: string, folder?: string): EventFile {
  try {
    return readEvent(file);
  } catch (error) {
    if (error instanceof UsageError && folder)
      throw new UsageError(
        `${error.message} (each *.json file of ${folder} must be an event: move the others out, or put "config" in their name)`,
      );
    throw error;
  }
}

function readEvent(file: string): EventFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT' ? `event file ${file} does not exist` : `event file ${file} cannot be read (${code})`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    if (isJsonLines(text))
      throw new UsageError(
        `${file} holds JSON lines (a record per line), not a Lambda Kafka event: turn it into one with sfsink events generate --topic <topic> < ${file} > event.json`,
      );
    const where = /\(line \d+ column \d+\)|at position \d+/.exec((error as Error).message)?.[0];
    throw new UsageError(`${file} is not valid JSON${where ? ` ${where}` : ''}: ${SHAPE}`);
  }
  const mistake = notAnEvent(file, value);
  if (mistake) throw new UsageError(mistake);
  const event = value as LambdaKafkaEvent;
  const encoding = badEncoding(event);
  if (encoding)
    throw new UsageError(
      `${file}: ${encoding}, but Lambda sends keys and values as base64 text: ${GENERATE}`,
    );
  try {
    return { file, event, records: recordsOfEvent(event).length };
  } catch (error) {
    if (error instanceof InvalidEventError)
      throw new UsageError(
        error.message.startsWith('not a Kafka event')
          ? `${file} is not a Lambda Kafka event (${SHAPE}): ${GENERATE}`
          : `${file}: ${error.message} (${SHAPE})`,
      );
    throw error;
  }
}

/**
 * Every event file of the paths given, read and checked before anything runs.
 *
 * @example
 * const events = readEventFiles(['events']);
 */
export function readEventFiles(paths: readonly string[]): EventFile[] {
  const files = listEventFiles(paths);
  if (files.length === 0)
    throw new UsageError(
      `no event files in ${paths.join(' ')}: pass event files, or a folder of *.json events`,
    );
  return files.map((f) => readEventFile(f.file, f.folder));
}
