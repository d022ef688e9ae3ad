// The browser-safe core of the evaluation data (no node:fs): NusaX language codes and groups, and the rows of an
// id,text,label table. datasets.ts adds the file loaders and re-exports all of this.
import { langTag } from '../train/data/langs.ts';
import { CsvError, parseCsvTable, type CsvTable } from '../util/csv-parse.ts';
import { needString } from '../api/requests/core.ts';

export interface Example {
  id: string;
  text: string;
  label: string;
}
export interface LangData {
  lang: string;
  name: string;
  file: string;
  rows: Example[];
}
export interface EvalData {
  source: string;
  task: string; // sentiment | emotion | topic (built-in prompts) or any name with your own prompts
  labels: string[];
  langs: LangData[];
}

/** NusaX languages: ISO 639-3 code ↔ folder name under sentiment/ (order = the paper's table order). */
export const NUSAX_LANGS: readonly { code: string; folder: string }[] = [
  { code: 'eng', folder: 'english' },
  { code: 'ind', folder: 'indonesian' },
  { code: 'ace', folder: 'acehnese' },
  { code: 'ban', folder: 'balinese' },
  { code: 'bjn', folder: 'banjarese' },
  { code: 'bug', folder: 'buginese' },
  { code: 'jav', folder: 'javanese' },
  { code: 'min', folder: 'minangkabau' },
  { code: 'sun', folder: 'sundanese' },
  { code: 'bbc', folder: 'toba_batak' },
  { code: 'mad', folder: 'madurese' },
  { code: 'nij', folder: 'ngaju' },
];

/** L1 = pre-trained, L2 = aligned by InstructAlign, L3 = never seen (data/nusax/README.md). */
export const DEFAULT_GROUPS: Readonly<Record<string, readonly string[]>> = {
  L1: ['eng', 'ind'],
  L2: ['ace', 'ban', 'bjn', 'bug', 'jav', 'min', 'sun'],
  L3: ['bbc', 'mad', 'nij'],
};

export const OTHER_GROUP = 'other';

/** "L1=eng,ind;L2=ace,jav" → groups; languages as codes where they read as one (`tgl_Latn`, `javanese` → tgl, jav). */
export function parseGroups(spec: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const part of spec
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`bad group "${part}" (expected NAME=lang,lang;NAME=...)`);
    out[part.slice(0, eq).trim()] = part
      .slice(eq + 1)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map(langOf);
  }
  return out;
}

export function groupOf(lang: string, groups: Readonly<Record<string, readonly string[]>>): string {
  for (const [g, langs] of Object.entries(groups)) if (langs.includes(lang)) return g;
  return OTHER_GROUP;
}

/**
 * Rows of one id,text,label table (a parsed CSV). Gold labels must be in `labels`; a label may also be written as its
 * 0-based index into `labels` (NusaCrowd ClassLabel ids). Errors name the file and line; `labelFix` ends the
 * message of an unknown label (the CLI's says which flag sets the labels, the page's that the file must change).
 */
export function classificationRows(
  table: CsvTable,
  file: string,
  labels: readonly string[],
  limit?: number,
  labelFix = '(pass --labels)',
): Example[] {
  const { header, rows, lines } = table;
  for (const col of ['text', 'label']) {
    if (!header.includes(col))
      throw new CsvError(
        file,
        1,
        `missing column "${col}" (header: ${header.join(',')}; need text,label, optionally id and lang)`,
      );
  }
  // a language without rows would be reported as 0 % and averaged in as 0 (it has no score at all)
  if (!rows.length)
    throw new CsvError(file, 2, 'no data rows after the header: add examples or remove this file from --data');
  const hasId = header.includes('id');
  const seen = new Map<string, number>();
  const out: Example[] = [];
  for (let k = 0; k < rows.length && (limit === undefined || out.length < limit); k++) {
    const { text } = rows[k];
    const id = hasId ? rows[k].id : String(k + 1);
    if (id.trim() === '') throw new CsvError(file, lines[k], 'empty id (give every row an id, or drop the column)');
    const label = normLabel(rows[k].label, labels);
    if (label === undefined)
      throw new CsvError(file, lines[k], `label "${rows[k].label}" is not one of ${labels.join(', ')} ${labelFix}`);
    if (seen.has(id))
      throw new CsvError(file, lines[k], `duplicate id "${id}" (first on line ${seen.get(id)}); ids must be unique`);
    seen.set(id, lines[k]);
    out.push({ id, text: text.normalize('NFC'), label }); // NFC: the same text in any Unicode form scores the same
  }
  return out;
}

function normLabel(raw: string, labels: readonly string[]): string | undefined {
  const s = raw.trim().normalize('NFC'); // the label set is NFC (src/api/requests/eval.ts)
  if (labels.includes(s)) return s;
  const lower = s.toLowerCase().replace(/_/g, ' '); // the official preprocessing of label names
  if (labels.includes(lower)) return lower;
  if (/^\d+$/.test(s) && Number(s) < labels.length) return labels[Number(s)];
  return undefined;
}

/** The wanted languages (in the order given), all of `available` when none are named; a missing one is an error. */
export function pickLangs(
  available: readonly string[],
  wanted: readonly string[] | undefined,
  where: string,
): string[] {
  if (!wanted) return [...available];
  const missing = wanted.filter((l) => !available.includes(l));
  if (missing.length)
    throw new Error(`no data for ${missing.join(', ')} in ${where} (available: ${available.join(', ')})`);
  return [...wanted];
}

/** A JSONL file of objects as a table: keys become columns (strings; numbers and booleans as text). */
export function jsonlTable(text: string, file: string): CsvTable {
  const rows: Record<string, string>[] = [];
  const lines: number[] = [];
  const header: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch (e) {
      throw new CsvError(file, i + 1, `bad JSON (${(e as Error).message})`);
    }
    if (!o || typeof o !== 'object' || Array.isArray(o))
      throw new CsvError(file, i + 1, 'expected a JSON object like {"text": "...", "label": "..."}');
    const row: Record<string, string> = {};
    for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') row[k] = String(v);
      else if (['text', 'label', 'lang', 'id'].includes(k))
        throw new CsvError(file, i + 1, `"${k}" must be a string or a number`);
      if (!header.includes(k)) header.push(k);
    }
    for (const k of ['text', 'label'])
      if (!(k in row)) throw new CsvError(file, i + 1, `missing "${k}" (need text, label; optionally id, lang)`);
    rows.push(row);
    lines.push(i + 1);
  });
  if (rows.length === 0) throw new CsvError(file, 1, 'empty file (expected one {"text","label"} object per line)');
  return { header, rows, lines };
}

/** A `lang` cell or group entry as a code when it reads as one (`tgl_Latn` → `tgl`, `english` → `eng`). */
const langOf = langTag;

/**
 * A classification file's text (CSV, TSV or JSONL, chosen by the file name): columns `text`, `label`, optionally
 * `id` (the row number when absent) and `lang` (rows grouped by it; without it every row is `defaultLang`).
 * Languages come in the order they first appear. Browser-safe: text in, no paths read.
 */
export function parseClassificationText(
  text: string,
  file: string,
  labels: readonly string[],
  o: { defaultLang: string; limit?: number; labelFix?: string },
): { lang: string; rows: Example[] }[] {
  needString('parseClassificationText', 'text', text);
  needString('parseClassificationText', 'file', file);
  const table = /\.jsonl$/i.test(file) ? jsonlTable(text, file) : parseCsvTable(text, file);
  if (!table.header.includes('id'))
    table.rows.forEach((r, k) => {
      r.id = String(k + 1); // numbered before grouping, so ids stay unique in the file
    });
  const header = table.header.includes('id') ? table.header : [...table.header, 'id'];
  if (!header.includes('lang'))
    return [{ lang: o.defaultLang, rows: classificationRows({ ...table, header }, file, labels, o.limit, o.labelFix) }];
  const byLang = new Map<string, CsvTable>();
  table.rows.forEach((r, k) => {
    const raw = (r.lang ?? '').trim();
    if (!raw) throw new CsvError(file, table.lines[k], 'empty lang (give every row a language code, e.g. tgl)');
    const lang = langOf(raw);
    if (!byLang.has(lang)) byLang.set(lang, { header, rows: [], lines: [] });
    byLang.get(lang)!.rows.push(r);
    byLang.get(lang)!.lines.push(table.lines[k]);
  });
  return [...byLang].map(([lang, t]) => ({ lang, rows: classificationRows(t, file, labels, o.limit, o.labelFix) }));
}
