// The one CSV/TSV reader of the project (browser-safe, no node:fs), on papaparse: RFC 4180 quoting ("" escapes, line
// breaks inside quotes), LF / CRLF / CR (one style per file: papaparse detects it from the first line), a BOM skipped;
// each record keeps the 1-based line it starts on, and errors name file and line. src/util/csv.ts adds the file reader.
import Papa from 'papaparse';

export class CsvError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    msg: string,
  ) {
    super(`${file}:${line}: ${msg}`);
  }
}

export interface CsvRecord {
  fields: string[];
  line: number;
}

export type Delimiter = ',' | '\t';

/** `\t` for *.tsv / *.tab names, else `,`; a header line with tabs and no comma is read as TSV too. */
export function delimiterFor(name: string, text = ''): Delimiter {
  if (/\.(tsv|tab)$/i.test(name)) return '\t';
  if (/\.csv$/i.test(name)) return ',';
  const first = text.slice(0, Math.max(0, text.search(/\r?\n|\r/)) || text.length);
  return first.includes('\t') && !first.includes(',') ? '\t' : ',';
}

/** Parse CSV (or TSV) text into records, each with the line it starts on. A final line break adds no record. */
export function parseCsvRecords(text: string, file = '<csv>', delimiter: Delimiter = ','): CsvRecord[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let line = 1;
  let counted = 0; // offset up to which line breaks are counted into `line`
  const lineAt = (offset: number) => {
    for (; counted < offset; counted++) {
      const c = body.charCodeAt(counted);
      if (c === 10 || (c === 13 && body.charCodeAt(counted + 1) !== 10)) line++;
    }
    return line;
  };
  let start = 0;
  Papa.parse<string[]>(body, {
    delimiter,
    quoteChar: '"',
    escapeChar: '"',
    step: (res) => {
      const at = lineAt(start);
      const err = res.errors[0];
      if (err?.code === 'MissingQuotes') throw new CsvError(file, at, 'unterminated quoted field (missing closing ")');
      if (err?.code === 'InvalidQuotes')
        throw new CsvError(file, at, 'text after a closing quote (quote the whole field and double inner quotes: "")');
      if (err) throw new CsvError(file, at, err.message);
      records.push({ fields: res.data, line: at });
      start = res.meta.cursor;
    },
  });
  const last = records[records.length - 1];
  if (last && last.fields.length === 1 && last.fields[0] === '' && /[\r\n]$/.test(body)) records.pop();
  return records;
}

export function parseCsv(text: string, file = '<csv>', delimiter: Delimiter = ','): string[][] {
  return parseCsvRecords(text, file, delimiter).map((r) => r.fields);
}

export interface CsvTable {
  header: string[];
  rows: Record<string, string>[];
  lines: number[];
}

/** Parse a table with a header row; every record must have as many fields as the header. `lines[k]` = line of rows[k]. */
export function parseCsvTable(text: string, file = '<csv>', delimiter: Delimiter = delimiterFor(file, text)): CsvTable {
  const recs = parseCsvRecords(text, file, delimiter);
  if (recs.length === 0 || recs[0].fields.every((f) => f.trim() === ''))
    throw new CsvError(file, 1, 'empty file (expected a header row)');
  const header = recs[0].fields.map((h) => h.trim());
  const rows: Record<string, string>[] = [];
  const lines: number[] = [];
  for (const { fields, line } of recs.slice(1)) {
    if (fields.length === 1 && fields[0] === '') continue; // blank line
    if (fields.length !== header.length) {
      const sep = delimiter === '\t' ? 'a tab' : 'an unquoted comma';
      throw new CsvError(
        file,
        line,
        `${fields.length} fields, but the header has ${header.length} (${header.join(',')}; a missing column or ${sep})`,
      );
    }
    rows.push(Object.fromEntries(header.map((h, k) => [h, fields[k]])));
    lines.push(line);
  }
  return { header, rows, lines };
}
