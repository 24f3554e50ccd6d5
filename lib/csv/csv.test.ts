import { stringify } from 'csv-stringify/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJsonExact } from '../decode/exact-number.ts';
import type { JsonObject } from '../records.ts';
import { csvRowProblem, encodeCsv, parseCsv, parseCsvStream, plainDecimal } from './index.ts';

describe('encodeCsv', () => {
  it('builds the header from every record: only the last of 1,000 records has X', () => {
    const records: JsonObject[] = Array.from({ length: 1000 }, (_, i) => ({ LastName: `n${i}` }));
    records[999]!.X__c = 'only here';
    const { header, text } = encodeCsv(records);
    expect(header).toEqual(['LastName', 'X__c']);
    const rows = parseCsv(text);
    expect(rows).toHaveLength(1000);
    expect(rows[999]).toEqual({ LastName: 'n999', X__c: 'only here' });
    expect(rows[0]).toEqual({ LastName: 'n0', X__c: '' });
  });

  it('writes null as #N/A, absent as an empty cell, "" as #N/A, booleans as true/false, LF endings', () => {
    const { text } = encodeCsv([
      { A: null, B: true, C: '' },
      { B: false, D: 'x' },
    ]);
    expect(text).toBe('A,B,C,D\n#N/A,true,#N/A,\n,false,,x\n');
  });

  it('writes 1000000, 12345678.5 and 1e21 without an exponent', () => {
    const { text } = encodeCsv([{ A: 1000000, B: 12345678.5, C: 1e21, D: 1e-7, E: -2.5e-8 }]);
    expect(text).toBe('A,B,C,D,E\n1000000,12345678.5,1000000000000000000000,0.0000001,-0.000000025\n');
    expect(text).not.toMatch(/e[+-]?\d/i);
  });

  it('writes exact numbers with their own digits, in plain decimal: 123456789012345678 is not …680', () => {
    const fields = parseJsonExact(
      '{"A":123456789012345678,"B":1.5e-30,"C":-12345678901234567.125}',
    ) as JsonObject;
    const { text } = encodeCsv([fields]);
    expect(text).toBe(`A,B,C\n123456789012345678,0.${'0'.repeat(29)}15,-12345678901234567.125\n`);
    expect(csvRowProblem(fields)).toBeUndefined();
  });

  it('names a non-finite number as a value a CSV cannot carry, instead of throwing', () => {
    expect(csvRowProblem({ A: Number.POSITIVE_INFINITY })).toEqual({
      message: 'A is not a finite number',
      fields: ['A'],
    });
  });

  it('quotes quotes, commas, CR and LF (RFC 4180)', () => {
    const { text } = encodeCsv([{ A: 'say "hi"', B: 'a,b', C: 'line1\nline2', D: 'cr\rhere', E: 'plain' }]);
    expect(text).toBe('A,B,C,D,E\n"say ""hi""","a,b","line1\nline2","cr\rhere",plain\n');
  });

  it('keeps a row whose only cell is empty (a blank line would be skipped)', () => {
    const { text } = encodeCsv([{ A: 'x' }, {}]);
    expect(text).toBe('A\nx\n""\n');
    expect(parseCsv(text)).toEqual([{ A: 'x' }, { A: '' }]);
  });

  it('flattens relationship references to Relationship.Field columns', () => {
    const { header, text } = encodeCsv([{ LastName: 'Doe', Account: { External_Id__c: 'A-1' } }]);
    expect(header).toEqual(['LastName', 'Account.External_Id__c']);
    expect(text).toBe('LastName,Account.External_Id__c\nDoe,A-1\n');
  });

  it('names the values a CSV cannot carry', () => {
    expect(csvRowProblem({ A: 'ok', Tags: ['a'], Weird: '#N/A' })).toEqual({
      message: 'Tags is an array; Weird is the text #N/A, which Bulk API reads as null',
      fields: ['Tags', 'Weird'],
    });
    expect(csvRowProblem({ A: 'ok', R: { Ext__c: 'x' } })).toBeUndefined();
  });

  it('round-trips any record of strings, numbers, booleans and nulls (property)', () => {
    const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,12}$/);
    const text = fc.string({ unit: 'grapheme', maxLength: 30 }).filter((s) => s !== '' && s !== '#N/A');
    const value = fc.oneof(
      text,
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
    );
    const record = fc.dictionary(name, value, { maxKeys: 6 });
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 20 }), (records) => {
        const { header, text: csv } = encodeCsv(records);
        if (header.length === 0) return;
        const rows = parseCsv(csv);
        expect(rows).toHaveLength(records.length);
        rows.forEach((row, i) => {
          for (const column of header) {
            const original = records[i]![column];
            const cell = row[column];
            if (original === undefined) expect(cell).toBe('');
            else if (original === null) expect(cell).toBe('#N/A');
            else if (typeof original === 'number') {
              expect(cell).not.toMatch(/e/i);
              expect(Number(cell)).toBe(original === 0 ? 0 : original);
            } else expect(cell).toBe(String(original));
          }
        });
      }),
      { numRuns: 500 },
    );
  });
});

describe('CSV syntax', () => {
  it('is byte-identical to csv-stringify for any cells (property)', () => {
    const cell = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 12 }),
      fc.constantFrom('"', ',', '\n', '\r', '\r\n', ' a ', '""'),
    );
    const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,8}$/);
    fc.assert(
      fc.property(
        fc.uniqueArray(name, { minLength: 2, maxLength: 5 }),
        fc.array(fc.array(cell, { minLength: 5, maxLength: 5 }), { maxLength: 10 }),
        (columns, rows) => {
          const records = rows
            .map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i]!])))
            .filter((r) => Object.values(r).every((v) => v !== '' && v !== '#N/A'));
          const expected = stringify([columns, ...records.map((r) => columns.map((c) => r[c]))], {
            record_delimiter: 'unix',
            quoted_match: /\r/,
          });
          expect(
            encodeCsv(records.length > 0 ? records : [Object.fromEntries(columns.map((c) => [c, 'x']))]).text,
          ).toBe(
            records.length > 0
              ? expected
              : stringify([columns, columns.map(() => 'x')], { record_delimiter: 'unix' }),
          );
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('plainDecimal', () => {
  it('round-trips every finite double in plain decimal (property)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        const text = plainDecimal(n);
        expect(text).toMatch(/^-?\d+(\.\d+)?$/);
        expect(Number(text)).toBe(n === 0 ? 0 : n);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('parseCsvStream', () => {
  it('streams a Bulk result file row by row, in chunks that split rows and quotes', async () => {
    const text =
      '"sf__Id","sf__Created","LastName"\n"00Q000000000001AAA","true","Doe, ""J"""\n"00Q000000000002AAA","false","Roe"\n';
    async function* chunks() {
      for (let i = 0; i < text.length; i += 7) yield Buffer.from(text.slice(i, i + 7));
    }
    const rows = [];
    for await (const row of parseCsvStream(chunks())) rows.push(row);
    expect(rows).toEqual([
      { sf__Id: '00Q000000000001AAA', sf__Created: 'true', LastName: 'Doe, "J"' },
      { sf__Id: '00Q000000000002AAA', sf__Created: 'false', LastName: 'Roe' },
    ]);
  });
});
