import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';

/** One row of a CSV with a header: column name → cell text. */
export type CsvRow = Record<string, string>;

const OPTIONS = { columns: true, relax_column_count: false, skip_empty_lines: true, bom: true } as const;

/**
 * Parses a whole CSV text (a Bulk API result file, or our own upload) into rows keyed by header.
 *
 * @example
 * parseCsv('"sf__Id","sf__Created","LastName"\n"00Q…","true","Doe"\n');
 * // [{ sf__Id: '00Q…', sf__Created: 'true', LastName: 'Doe' }]
 */
export function parseCsv(text: string): CsvRow[] {
  return parseSync(text, OPTIONS) as CsvRow[];
}

/**
 * Streams the rows of a CSV (e.g. an HTTP response body), so a large result file never sits in memory
 * whole.
 *
 * @example
 * for await (const row of parseCsvStream(response.body)) correlate(row);
 */
export async function* parseCsvStream(
  input: Readable | AsyncIterable<Uint8Array | string>,
): AsyncGenerator<CsvRow> {
  const parser = parse(OPTIONS);
  const source = input as AsyncIterable<Uint8Array | string>;
  const feeding = (async () => {
    try {
      for await (const chunk of source)
        if (!parser.write(chunk)) await new Promise((r) => parser.once('drain', r));
      parser.end();
    } catch (error) {
      parser.destroy(error as Error);
    }
  })();
  for await (const row of parser) yield row as CsvRow;
  await feeding;
}
