// RFC 4180 CSV parser (browser-safe, no node:fs): quoted fields, "" escapes, line breaks inside quotes, CRLF / LF / CR;
// errors name file and line. src/util/csv.ts re-exports it with the file reader.

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

/** Parse CSV text into records (each with the 1-based line it starts on). A final line break adds no record; a BOM is skipped. */
export function parseCsvRecords(text: string, file = '<csv>'): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false; // the current field was quoted (so an empty one still counts)
  let line = 1;
  let start = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const n = text.length;
  const breakAt = (k: number) => (text[k] === '\n' ? 1 : text[k] === '\r' ? (text[k + 1] === '\n' ? 2 : 1) : 0);
  const endRecord = () => {
    fields.push(field);
    records.push({ fields, line: start });
    fields = [];
    field = '';
    quoted = false;
  };
  while (i < n) {
    const c = text[i];
    if (c === '"') {
      if (field !== '' || quoted)
        throw new CsvError(
          file,
          line,
          'quote inside an unquoted field (quote the whole field and double inner quotes: "")',
        );
      const open = line;
      quoted = true;
      for (i++; ; ) {
        if (i >= n) throw new CsvError(file, open, 'unterminated quoted field (missing closing ")');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        const b = breakAt(i);
        if (b) {
          field += text.slice(i, i + b);
          i += b;
          line++;
          continue;
        }
        field += text[i++];
      }
      if (i < n && text[i] !== ',' && !breakAt(i)) {
        throw new CsvError(
          file,
          line,
          `unexpected ${JSON.stringify(text[i])} after a closing quote (expected , or end of line)`,
        );
      }
      continue;
    }
    if (c === ',') {
      fields.push(field);
      field = '';
      quoted = false;
      i++;
      continue;
    }
    const b = breakAt(i);
    if (b) {
      endRecord();
      i += b;
      line++;
      start = line;
      continue;
    }
    field += c;
    i++;
  }
  if (field !== '' || quoted || fields.length > 0) endRecord();
  return records;
}

export function parseCsv(text: string, file = '<csv>'): string[][] {
  return parseCsvRecords(text, file).map((r) => r.fields);
}

export interface CsvTable {
  header: string[];
  rows: Record<string, string>[];
  lines: number[];
}

/** Parse a CSV with a header row; every record must have as many fields as the header. `lines[k]` = line of rows[k]. */
export function parseCsvTable(text: string, file = '<csv>'): CsvTable {
  const recs = parseCsvRecords(text, file);
  if (recs.length === 0) throw new CsvError(file, 1, 'empty file (expected a header row)');
  const header = recs[0].fields.map((h) => h.trim());
  const rows: Record<string, string>[] = [];
  const lines: number[] = [];
  for (const { fields, line } of recs.slice(1)) {
    if (fields.length === 1 && fields[0] === '') continue; // blank line
    if (fields.length !== header.length) {
      throw new CsvError(
        file,
        line,
        `${fields.length} fields, but the header has ${header.length} (${header.join(',')})`,
      );
    }
    rows.push(Object.fromEntries(header.map((h, k) => [h, fields[k]])));
    lines.push(line);
  }
  return { header, rows, lines };
}
