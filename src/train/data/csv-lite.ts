// Minimal RFC 4180 CSV reader for the data loaders (browser-safe, no node:fs): quoted fields, "" escapes,
// line breaks inside quotes, CRLF/LF; each record keeps the 1-based line it starts on so errors can name it.

export interface CsvRow {
  fields: string[];
  line: number;
}

export function parseCsvLite(text: string, source = '<csv>'): CsvRow[] {
  const rows: CsvRow[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let start = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const end = () => {
    fields.push(field);
    rows.push({ fields, line: start });
    fields = [];
    field = '';
  };
  while (i < text.length) {
    const c = text[i];
    if (c === '"' && field === '') {
      const open = line;
      for (i++; ; i++) {
        if (i >= text.length) throw new Error(`${source}:${open}: unterminated quoted field (missing closing ")`);
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i++;
            continue;
          }
          break;
        }
        if (text[i] === '\n') line++;
        field += text[i];
      }
      i++;
      if (i < text.length && !',\r\n'.includes(text[i])) {
        throw new Error(`${source}:${line}: unexpected ${JSON.stringify(text[i])} after a closing quote`);
      }
      continue;
    }
    if (c === ',') {
      fields.push(field);
      field = '';
      i++;
      continue;
    }
    if (c === '\r' || c === '\n') {
      end();
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      start = ++line;
      continue;
    }
    field += c;
    i++;
  }
  if (field !== '' || fields.length > 0) end();
  return rows;
}
