// CSV files from disk (Node): the parser itself is csv-parse.ts (browser-safe), re-exported here.
import { readUtf8File } from './text-file.ts';
import { parseCsvTable, type CsvTable } from './csv-parse.ts';

export * from './csv-parse.ts';

export function readCsvTable(path: string): CsvTable {
  return parseCsvTable(readUtf8File(path), path);
}
