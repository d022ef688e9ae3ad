// CSV files from disk (Node): the parser itself is csv-parse.ts (browser-safe), re-exported here.
import { readFileSync } from 'node:fs';
import { parseCsvTable, type CsvTable } from './csv-parse.ts';

export * from './csv-parse.ts';

export function readCsvTable(path: string): CsvTable {
  return parseCsvTable(readFileSync(path, 'utf8'), path);
}
