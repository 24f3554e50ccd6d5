import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COLUMN_DELIMITERS,
  type ColumnDelimiter,
  type CsvFormat,
  columnSchemaFromFieldNames,
  formatErrors,
  LINE_ENDINGS,
  type LineEnding,
  lineEndingError,
  parseUpload,
  planColumns,
  renderResults,
  shuffled,
  toRecord,
} from './bulk-csv.ts';

const formats = fc.record<CsvFormat>({
  lineEnding: fc.constantFrom<LineEnding>('LF', 'CRLF'),
  columnDelimiter: fc.constantFrom<ColumnDelimiter>(
    'BACKQUOTE',
    'CARET',
    'COMMA',
    'PIPE',
    'SEMICOLON',
    'TAB',
  ),
});

/** Values with every character CSV cares about: quotes, delimiters, both line breaks. */
const values = fc.string({
  unit: fc.constantFrom('a', 'Z', ' ', '"', ',', ';', '|', '^', '`', '\t', '\n', '\r', 'é', '#', '/'),
  maxLength: 12,
});

/** A header and rows of its width; a one-column file gets no empty values (an empty line is no row). */
const tables = fc.integer({ min: 1, max: 4 }).chain((width) =>
  fc.record({
    header: fc.uniqueArray(fc.stringMatching(/^[A-Z][a-z]{0,6}(__c)?$/), {
      minLength: width,
      maxLength: width,
      comparator: (a, b) => a.toLowerCase() === b.toLowerCase(),
    }),
    rows: fc.array(
      fc.array(width === 1 ? values.filter((v) => v !== '') : values, { minLength: width, maxLength: width }),
      {
        maxLength: 8,
      },
    ),
  }),
);

// csv-stringify quotes a value holding the record delimiter but not one holding the other line
// break; RFC 4180 (and Salesforce's line ending check) want every line break inside quotes.
const write = (rows: string[][], format: CsvFormat) =>
  stringify(rows, {
    delimiter: COLUMN_DELIMITERS[format.columnDelimiter],
    record_delimiter: LINE_ENDINGS[format.lineEnding],
    quoted_match: /[\r\n]/,
  });

describe('reading an upload', () => {
  it('reads back any table a CSV writer produces, in any delimiter and line ending', () => {
    fc.assert(
      fc.property(tables, formats, ({ header, rows }, format) => {
        const text = write([header, ...rows], format);
        expect(lineEndingError(text, format.lineEnding)).toBeUndefined();
        expect(parseUpload(text, format)).toEqual({ header, rows });
      }),
    );
  });

  it('rejects any file with a line break outside quotes that is not the job line ending', () => {
    fc.assert(
      fc.property(tables, fc.constantFrom<LineEnding>('LF', 'CRLF'), ({ header, rows }, lineEnding) => {
        const other: LineEnding = lineEnding === 'LF' ? 'CRLF' : 'LF';
        const text = write([header, ...rows], { lineEnding: other, columnDelimiter: 'COMMA' });
        expect(lineEndingError(text, lineEnding)).toBe(
          `ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is ${lineEnding}`,
        );
      }),
    );
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), formats, (text, format) => {
        lineEndingError(text, format.lineEnding);
        const parsed = parseUpload(text, format);
        if ('error' in parsed) expect(parsed.error).toMatch(/^ClientInputError : /);
      }),
    );
  });
});

describe('mapping columns', () => {
  const schema = columnSchemaFromFieldNames(['Id', 'LastName', 'AccountId', 'Partner__c']);

  it('names the first unknown column the way Salesforce does', () => {
    expect(planColumns(['LastName', 'Foo', 'Bar'], schema)).toEqual({
      error: 'InvalidBatch : Field name not found : Foo',
    });
    expect(planColumns(['LastName', 'lastname'], schema)).toEqual({
      error: 'InvalidBatch : Duplicate field name found : lastname',
    });
    expect(planColumns(['Account.Ext__c.Other'], schema)).toEqual({
      error: 'InvalidBatch : Field name not found : Account.Ext__c.Other',
    });
  });

  it('turns rows into records: empty leaves out, #N/A nulls, relationships nest', () => {
    const plan = planColumns(['lastname', 'Account.Ext__c', 'Partner__r.Key__c', 'Id'], schema);
    if ('error' in plan) throw new Error(plan.error);
    expect(toRecord(['', '#N/A', 'P-1', '001'], plan.columns, 'update')).toEqual({
      AccountId: null,
      Partner__r: { Key__c: 'P-1' },
      Id: '001',
    });
    expect(toRecord(['#N/A', 'A-1', '', '003'], plan.columns, 'delete')).toEqual({ Id: '003' });
    expect(toRecord(['x', '', '', ''], plan.columns, 'hardDelete')).toEqual({});
  });
});

describe('writing results', () => {
  it('quotes every value and reads back to the same rows, with the job format', () => {
    fc.assert(
      fc.property(tables, formats, ({ header, rows }, format) => {
        const text = renderResults(
          ['sf__Id', 'sf__Created', ...header],
          rows.map((row) => ['001', 'true', ...row]),
          format,
        );
        const lines = text.split(LINE_ENDINGS[format.lineEnding]);
        const delimiter = COLUMN_DELIMITERS[format.columnDelimiter];
        expect(lines[0]?.startsWith(`"sf__Id"${delimiter}"sf__Created"`)).toBe(true);
        const [readHeader, ...readRows] = parse(text, {
          delimiter,
          record_delimiter: LINE_ENDINGS[format.lineEnding],
        });
        expect(readHeader).toEqual(['sf__Id', 'sf__Created', ...header]);
        expect(readRows).toEqual(rows.map((row) => ['001', 'true', ...row]));
        for (const line of lines.slice(1, rows.length === 0 ? 1 : 2))
          expect(line.startsWith('"001"')).toBe(true);
      }),
    );
  });

  it('formats errors like the sf__Error column', () => {
    expect(
      formatErrors([
        {
          statusCode: 'REQUIRED_FIELD_MISSING',
          message: 'Required fields are missing: [LastName]',
          fields: ['LastName'],
        },
      ]),
    ).toBe('REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --');
    expect(
      formatErrors([
        { statusCode: 'INVALID_CROSS_REFERENCE_KEY', message: 'invalid cross reference id', fields: [] },
        { statusCode: 'OTHER', message: 'second', fields: [] },
      ]),
    ).toBe('INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:--');
  });
});

describe('shuffling', () => {
  it('returns a permutation that is never the original order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer(), { maxLength: 30 }),
        fc.double({ min: 0, max: 0.9999, noNaN: true }),
        (items, r) => {
          const objects = items.map((value) => ({ value }));
          const result = shuffled(objects, () => r);
          expect([...result].sort((a, b) => a.value - b.value)).toEqual(
            [...objects].sort((a, b) => a.value - b.value),
          );
          if (objects.length > 1) expect(result.some((item, index) => item !== objects[index])).toBe(true);
        },
      ),
    );
  });
});
