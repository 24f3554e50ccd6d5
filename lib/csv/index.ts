export { csvCells, csvRowProblem, type EncodedCsv, encodeCsv, encodeCsvRows } from './encode.ts';
export { type CsvRow, parseCsv, parseCsvStream } from './parse.ts';
export { CSV_NULL, csvCell, plainDecimal } from './values.ts';
