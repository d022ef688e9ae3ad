// Evaluation data: NusaX sentiment (12 languages, L1/L2/L3 groups) and any id,text,label CSV (one file or <lang>/test.csv).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CsvError, readCsvTable } from '../util/csv.ts';
import type { TaskName } from './tasks.ts';

export interface Example { id: string; text: string; label: string }
export interface LangData { lang: string; name: string; file: string; rows: Example[] }
export interface EvalData { source: string; task: TaskName; labels: string[]; langs: LangData[] }

/** NusaX languages: ISO 639-3 code ↔ folder name under sentiment/ (order = the paper's table order). */
export const NUSAX_LANGS: readonly { code: string; folder: string }[] = [
  { code: 'eng', folder: 'english' }, { code: 'ind', folder: 'indonesian' },
  { code: 'ace', folder: 'acehnese' }, { code: 'ban', folder: 'balinese' }, { code: 'bjn', folder: 'banjarese' },
  { code: 'bug', folder: 'buginese' }, { code: 'jav', folder: 'javanese' }, { code: 'min', folder: 'minangkabau' },
  { code: 'sun', folder: 'sundanese' },
  { code: 'bbc', folder: 'toba_batak' }, { code: 'mad', folder: 'madurese' }, { code: 'nij', folder: 'ngaju' },
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
  for (const part of spec.split(';').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`bad group "${part}" (expected NAME=lang,lang;NAME=...)`);
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).split(',').map((s) => s.trim()).filter(Boolean);
  }
  return out;
}

export function groupOf(lang: string, groups: Readonly<Record<string, readonly string[]>>): string {
  for (const [g, langs] of Object.entries(groups)) if (langs.includes(lang)) return g;
  return OTHER_GROUP;
}

/** data/nusax of this package: tried from the working directory, then upward from this module (src/ or dist/). */
export function findNusaxRoot(): string {
  const tried: string[] = [];
  const starts = [process.cwd(), dirname(fileURLToPath(import.meta.url))];
  for (const start of starts) {
    for (let d = resolve(start), k = 0; k < 5; d = dirname(d), k++) {
      const cand = join(d, 'data', 'nusax');
      tried.push(cand);
      if (existsSync(join(cand, 'sentiment'))) return cand;
    }
  }
  throw new Error(`NusaX data not found (looked in ${tried.slice(0, 3).join(', ')}, ...); pass --data PATH`);
}

/**
 * Rows of one id,text,label CSV. Gold labels must be in `labels`; a label may also be written as its 0-based index
 * into `labels` (NusaCrowd ClassLabel ids). Errors name the file and line.
 */
export function loadClassificationCsv(file: string, labels: readonly string[], limit?: number): Example[] {
  const { header, rows, lines } = readCsvTable(file);
  for (const col of ['id', 'text', 'label']) {
    if (!header.includes(col)) throw new CsvError(file, 1, `missing column "${col}" (header: ${header.join(',')}; need id,text,label)`);
  }
  const seen = new Map<string, number>();
  const out: Example[] = [];
  for (let k = 0; k < rows.length && (limit === undefined || out.length < limit); k++) {
    const { id, text } = rows[k];
    const label = normLabel(rows[k].label, labels);
    if (label === undefined) throw new CsvError(file, lines[k], `label "${rows[k].label}" is not one of ${labels.join(', ')} (pass --labels)`);
    if (seen.has(id)) throw new CsvError(file, lines[k], `duplicate id "${id}" (first on line ${seen.get(id)}); ids must be unique`);
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

function pickLangs(available: readonly string[], wanted: readonly string[] | undefined, where: string): string[] {
  if (!wanted) return [...available];
  const missing = wanted.filter((l) => !available.includes(l));
  if (missing.length) throw new Error(`no data for ${missing.join(', ')} in ${where} (available: ${available.join(', ')})`);
  return [...wanted];
}

/** NusaX sentiment, `split` of each chosen language (default all 12, test split). */
export function loadNusax(opts: { root?: string; langs?: readonly string[]; limit?: number; split?: string } = {}): EvalData {
  const root = opts.root ?? findNusaxRoot();
  const labels = ['negative', 'neutral', 'positive'];
  const langs = pickLangs(NUSAX_LANGS.map((l) => l.code), opts.langs, 'NusaX');
  return {
    source: 'nusax', task: 'sentiment', labels,
    langs: langs.map((code) => {
      const folder = NUSAX_LANGS.find((l) => l.code === code)!.folder;
      const file = join(root, 'sentiment', folder, `${opts.split ?? 'test'}.csv`);
      return { lang: code, name: folder, file, rows: loadClassificationCsv(file, labels, opts.limit) };
    }),
  };
}

/**
 * --data PATH: a folder of <lang>/test.csv (NusaX folder names map to their ISO codes), or one CSV (language = file name).
 */
export function loadDataPath(path: string, opts: { task: TaskName; labels: string[]; langs?: readonly string[]; limit?: number }): EvalData {
  if (!existsSync(path)) throw new Error(`--data ${path}: no such file or folder`);
  let found: { lang: string; name: string; file: string }[];
  if (statSync(path).isDirectory()) {
    found = readdirSync(path).sort()
      .filter((d) => existsSync(join(path, d, 'test.csv')))
      .map((d) => ({ lang: NUSAX_LANGS.find((l) => l.folder === d)?.code ?? d, name: d, file: join(path, d, 'test.csv') }));
    if (!found.length) throw new Error(`--data ${path}: no <lang>/test.csv inside (or pass one CSV file)`);
    const order = NUSAX_LANGS.map((l) => l.code);
    found.sort((a, b) => rank(order, a.lang) - rank(order, b.lang));
  } else {
    const lang = basename(path).replace(/\.csv$/i, '');
    found = [{ lang, name: lang, file: path }];
  }
  const chosen = pickLangs(found.map((f) => f.lang), opts.langs, path);
  return {
    source: resolve(path), task: opts.task, labels: opts.labels,
    langs: chosen.map((code) => {
      const f = found.find((x) => x.lang === code)!;
      return { ...f, rows: loadClassificationCsv(f.file, opts.labels, opts.limit) };
    }),
  };
}

function rank(order: readonly string[], lang: string): number {
  const k = order.indexOf(lang);
  return k < 0 ? order.length : k;
}
