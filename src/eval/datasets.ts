// Evaluation data: NusaX sentiment (12 languages, L1/L2/L3 groups) and any id,text,label CSV (one file or
// <lang>/test.csv).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCsvTable } from '../util/csv.ts';
import { readUtf8File } from '../util/text-file.ts';
import {
  NUSAX_LANGS,
  classificationRows,
  parseClassificationText,
  pickLangs,
  type EvalData,
  type Example,
  type LangData,
} from './data-core.ts';

export * from './data-core.ts';

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

/** Rows of one id,text,label CSV file (see classificationRows). */
export function loadClassificationCsv(file: string, labels: readonly string[], limit?: number): Example[] {
  return classificationRows(readCsvTable(file), file, labels, limit);
}

/** NusaX sentiment, `split` of each chosen language (default all 12, test split). */
export function loadNusax(
  opts: { root?: string; langs?: readonly string[]; limit?: number; split?: string } = {},
): EvalData {
  const root = opts.root ?? findNusaxRoot();
  const labels = ['negative', 'neutral', 'positive'];
  const langs = pickLangs(
    NUSAX_LANGS.map((l) => l.code),
    opts.langs,
    'NusaX',
  );
  return {
    source: 'nusax',
    task: 'sentiment',
    labels,
    langs: langs.map((code) => {
      const folder = NUSAX_LANGS.find((l) => l.code === code)!.folder;
      const file = join(root, 'sentiment', folder, `${opts.split ?? 'test'}.csv`);
      return { lang: code, name: folder, file, rows: loadClassificationCsv(file, labels, opts.limit) };
    }),
  };
}

/**
 * --data PATH: a folder of <lang>/test.csv (NusaX folder names map to their ISO codes), or one CSV/TSV/JSONL file
 * (loadDataFile).
 */
export function loadDataPath(
  path: string,
  opts: { task: string; labels: string[]; langs?: readonly string[]; limit?: number },
): EvalData {
  if (!existsSync(path)) throw new Error(`--data ${path}: no such file or folder`);
  if (!statSync(path).isDirectory()) return loadDataFile(path, opts);
  const found = readdirSync(path)
    .sort()
    .filter((d) => existsSync(join(path, d, 'test.csv')))
    .map((d) => ({
      lang: NUSAX_LANGS.find((l) => l.folder === d)?.code ?? d,
      name: d,
      file: join(path, d, 'test.csv'),
    }));
  if (!found.length) throw new Error(`--data ${path}: no <lang>/test.csv inside (or pass one CSV file)`);
  const order = NUSAX_LANGS.map((l) => l.code);
  found.sort((a, b) => rank(order, a.lang) - rank(order, b.lang));
  const chosen = pickLangs(
    found.map((f) => f.lang),
    opts.langs,
    path,
  );
  return {
    source: resolve(path),
    task: opts.task,
    labels: opts.labels,
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

/** One CSV/TSV/JSONL file of text,label[,id][,lang] rows: its `lang` column groups the rows (without one, the file
 *  name is the language, as before). */
export function loadDataFile(
  path: string,
  opts: { task: string; labels: string[]; langs?: readonly string[]; limit?: number },
): EvalData {
  let text: string;
  try {
    text = readUtf8File(path);
  } catch (e) {
    const m = (e as Error).message;
    throw new Error(m.startsWith(path) ? m : `--data ${path}: ${m}`);
  }
  const defaultLang = basename(path).replace(/\.(csv|tsv|tab|jsonl)$/i, '');
  const groups = parseClassificationText(text, path, opts.labels, { defaultLang, limit: opts.limit });
  const chosen = pickLangs(
    groups.map((g) => g.lang),
    opts.langs,
    path,
  );
  const langs: LangData[] = chosen.map((lang) => ({
    lang,
    name: lang,
    file: path,
    rows: groups.find((g) => g.lang === lang)!.rows,
  }));
  return { source: resolve(path), task: opts.task, labels: opts.labels, langs };
}
