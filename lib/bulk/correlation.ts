// How a row of a Bulk API 2.0 result file finds its Kafka record. Result files come in no particular
// order and echo the uploaded columns, so a record is identified by the cells of its match columns: for
// update, delete, hardDelete and upsert the addressing column (unique within a unit), for insert the whole
// row (identical rows are interchangeable). The submission computes each record's match key from the
// cells it uploads and the poller from the cells a result row echoes — with the same function, so the two
// cannot drift apart.
import { createHash } from 'node:crypto';
import type { Operation } from '../config/index.ts';
import { type CsvRow, csvCells } from '../csv/index.ts';
import type { JsonObject } from '../records.ts';
import type { CorrelationRow } from './store.ts';

/**
 * A unit's identity: where its records come from (`scope`: the group and the source cluster for a unit
 * the sink plans, the parent unit for a follow-up) and its records' coordinates with their Kafka
 * timestamps. The same records give the same key; the same offsets of another cluster, or of a topic
 * re-created since (its records are newer), give another.
 *
 * @example
 * unitKeyOf('orders-group\u0000arn:aws:kafka:…', [{ topic: 'orders', partition: 0, offset: 7, timestamp: 1 }]);
 */
export function unitKeyOf(
  scope: string,
  coordinates: readonly { topic: string; partition: number; offset: number; timestamp?: number }[],
): string {
  const hash = createHash('sha256').update(scope);
  // Without timestamps (a follow-up's correlation rows) the key is the one earlier versions computed.
  for (const c of coordinates)
    hash.update(
      `\u0000${c.topic}\u0000${c.partition}\u0000${c.offset}${c.timestamp === undefined ? '' : `\u0000${c.timestamp}`}`,
    );
  return hash.digest('hex').slice(0, 32);
}

/**
 * The uploaded columns that identify a record's row: every column for insert, else the addressing column
 * as the CSV names it (describe's spelling, whatever the letter case in the configuration).
 *
 * @example
 * matchColumnsFor('upsert', ['LastName', 'CustomId__c'], 'customid__c'); // ['CustomId__c']
 */
export function matchColumnsFor(
  operation: Operation,
  columns: readonly string[],
  externalIdField?: string,
): string[] {
  if (operation === 'insert') return [...columns];
  const named = (field: string) => columns.find((c) => c.toLowerCase() === field.toLowerCase()) ?? field;
  return [named(operation === 'upsert' ? externalIdField! : 'Id')];
}

/** The match key of a row from its cells in match-column order. */
function matchKey(cells: readonly string[]): string {
  return createHash('sha1').update(cells.join('\u0001')).digest('base64').slice(0, 16);
}

/**
 * The correlation rows of a unit's records, from the fields they are uploaded with.
 *
 * @example
 * const rows = correlationRows(records, matchColumnsFor('insert', encoded.header));
 */
export function correlationRows(
  records: readonly {
    topic: string;
    partition: number;
    offset: number;
    key: string | null;
    fields: JsonObject;
  }[],
  matchColumns: readonly string[],
): CorrelationRow[] {
  return records.map((r) => ({
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    key: r.key,
    match: matchKey(csvCells(r.fields, matchColumns)),
  }));
}

/**
 * Assigns result rows to a unit's records: the returned function gives the index of the record a result
 * row belongs to (each record once; identical insert rows in turn), or undefined for a row of no record.
 *
 * @example
 * const recordOf = correlate(rows, unit.matchColumns);
 * for await (const row of results) results[recordOf(row)!] = …;
 */
export function correlate(
  rows: readonly CorrelationRow[],
  matchColumns: readonly string[],
): (resultRow: CsvRow) => number | undefined {
  const byMatch = new Map<string, number[]>();
  rows.forEach((row, i) => {
    const list = byMatch.get(row.match);
    if (list) list.push(i);
    else byMatch.set(row.match, [i]);
  });
  return (resultRow) => byMatch.get(matchKey(matchColumns.map((c) => resultRow[c] ?? '')))?.shift();
}
