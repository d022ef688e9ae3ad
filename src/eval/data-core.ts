// The browser-safe core of the evaluation data (no node:fs): NusaX language codes and groups, and the rows of an
// id,text,label table. datasets.ts adds the file loaders and re-exports all of this.
import { CsvError, type CsvTable } from '../util/csv-parse.ts';
import type { TaskName } from './tasks.ts';

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
  task: TaskName;
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

/** "L1=eng,ind;L2=ace,jav" → groups. */
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
      .filter(Boolean);
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
  for (const col of ['id', 'text', 'label']) {
    if (!header.includes(col))
      throw new CsvError(file, 1, `missing column "${col}" (header: ${header.join(',')}; need id,text,label)`);
  }
  const seen = new Map<string, number>();
  const out: Example[] = [];
  for (let k = 0; k < rows.length && (limit === undefined || out.length < limit); k++) {
    const { id, text } = rows[k];
    const label = normLabel(rows[k].label, labels);
    if (label === undefined)
      throw new CsvError(file, lines[k], `label "${rows[k].label}" is not one of ${labels.join(', ')} ${labelFix}`);
    if (seen.has(id))
      throw new CsvError(file, lines[k], `duplicate id "${id}" (first on line ${seen.get(id)}); ids must be unique`);
    seen.set(id, lines[k]);
    out.push({ id, text, label });
  }
  return out;
}

function normLabel(raw: string, labels: readonly string[]): string | undefined {
  const s = raw.trim();
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
