// Parallel data for InstructAlign: NusaX-MT CSV, FLORES-200 line-aligned files, generic JSONL; and the
// directional sentence pairs built from them the way the official `load_flores_datasets` does.
// Everything here takes already-loaded text (browser-safe); node-io.ts reads files by path.
import { parseCsvLite } from './csv-lite.ts';
import { findLang, langCode } from './langs.ts';

/** One training example's raw material; sentence1/lang1 is the source side. Languages are ISO 639-3 codes. */
export interface ParallelPair {
  lang1: string;
  lang2: string;
  sentence1: string;
  sentence2: string;
}

/** Sentences aligned by index across languages (one array per code, all the same length). */
export interface AlignedCorpus {
  source: string;
  columns: Record<string, string[]>;
}

/** NusaX-MT: a header naming one language per column (first column an unnamed row index), one row per sentence. */
export function parseNusaxMT(text: string, source = '<nusax-mt.csv>'): AlignedCorpus {
  const rows = parseCsvLite(text, source);
  if (rows.length === 0 || rows[0].fields.every((f) => f.trim() === ''))
    throw new Error(`${source}:1: empty file (expected a header row)`);
  if (rows.length < 2) throw new Error(`${source}:2: no data rows after the header`);
  const header = rows[0].fields;
  const cols: { idx: number; code: string }[] = [];
  header.forEach((h, idx) => {
    if (idx === 0 && h.trim() === '') return; // pandas' unnamed index column
    const l = findLang(h);
    if (!l)
      throw new Error(
        `${source}:1: column ${idx + 1} "${h}" is not a known language (expected e.g. indonesian, acehnese, english)`,
      );
    cols.push({ idx, code: l.code });
  });
  const columns: Record<string, string[]> = Object.fromEntries(cols.map((c) => [c.code, [] as string[]]));
  for (const r of rows.slice(1)) {
    if (r.fields.length === 1 && r.fields[0] === '') continue; // blank line
    if (r.fields.length !== header.length) {
      throw new Error(
        `${source}:${r.line}: ${r.fields.length} fields, the header has ${header.length} (a missing column or an unquoted comma)`,
      );
    }
    for (const c of cols) columns[c.code].push(r.fields[c.idx].trim());
  }
  return { source, columns };
}

/** FLORES-200: one `<lang>_<Script>.<split>` text per language, line i of every file the same sentence.
 *  `files` maps a file name (e.g. `sun_Latn.dev`) to its text; files of one split must have equal line counts. */
export function parseFlores(files: Record<string, string>, source = '<flores>'): AlignedCorpus {
  const bySplit = new Map<string, { name: string; code: string; lines: string[] }[]>();
  for (const [name, text] of Object.entries(files)) {
    const m = /(?:^|\/)([a-z]{3}_[A-Za-z]{4})\.(dev|devtest)$/.exec(name);
    if (!m) continue;
    const lines = text.split(/\r?\n/);
    if (lines.length && lines[lines.length - 1] === '') lines.pop();
    if (lines.length === 0) throw new Error(`${source}/${name}:1: empty file`);
    const blank = lines.findIndex((l) => l.trim() === '');
    if (blank >= 0)
      throw new Error(`${source}/${name}:${blank + 1}: empty line (FLORES files have one sentence per line)`);
    const split = m[2];
    if (!bySplit.has(split)) bySplit.set(split, []);
    bySplit.get(split)!.push({ name, code: langCode(m[1]), lines });
  }
  if (bySplit.size === 0)
    throw new Error(`${source}: no FLORES files (expected names like eng_Latn.dev, sun_Latn.devtest)`);
  const columns: Record<string, string[]> = {};
  for (const split of ['dev', 'devtest']) {
    // dev then devtest, as the official concatenation
    const fs = bySplit.get(split) ?? [];
    const ragged = fs.filter((f) => f.lines.length !== fs[0].lines.length);
    if (ragged.length) {
      const counts = fs.map((f) => `${f.name}: ${f.lines.length} lines`).join(', ');
      throw new Error(`${source}: ${split} files are not line-aligned (${counts})`);
    }
    for (const f of fs) (columns[f.code] ??= []).push(...f.lines);
  }
  const lens = new Set(Object.values(columns).map((c) => c.length));
  if (lens.size > 1)
    throw new Error(
      `${source}: languages differ in splits present (${Object.entries(columns)
        .map(([k, v]) => `${k}: ${v.length}`)
        .join(', ')})`,
    );
  return { source, columns };
}

/** JSONL, one `{"lang1","lang2","sentence1","sentence2"}` per line, used as given (directional). */
export function parsePairsJsonl(text: string, source = '<pairs.jsonl>'): ParallelPair[] {
  const out: ParallelPair[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch (e) {
      throw new Error(`${source}:${i + 1}: bad JSON (${(e as Error).message})`);
    }
    const r = o as Record<string, unknown>;
    for (const k of ['lang1', 'lang2', 'sentence1', 'sentence2']) {
      if (typeof r?.[k] !== 'string') throw new Error(`${source}:${i + 1}: missing string field "${k}"`);
    }
    const [s1, s2] = [(r.sentence1 as string).trim(), (r.sentence2 as string).trim()];
    if (s1 && s2)
      out.push({
        lang1: langCode(r.lang1 as string),
        lang2: langCode(r.lang2 as string),
        sentence1: s1,
        sentence2: s2,
      });
  });
  if (out.length === 0) throw new Error(`${source}:1: no pairs (empty file)`);
  return out;
}

export interface PairOptions {
  l1: readonly string[]; // pivots
  l2: readonly string[]; // aligned languages
  /** Official `monolingual` pairing: each pivot once as sentence1 (paired with the first L2), plus L2→pivot. */
  monolingual?: boolean;
}

/** Directional pairs: for each pivot p and each L2 x (x ≠ p): p→x and x→p; empty cells are skipped. */
export function buildPairs(corpus: AlignedCorpus, opts: PairOptions): ParallelPair[] {
  const col = (code: string) => {
    const c = corpus.columns[code];
    if (!c)
      throw new Error(
        `${corpus.source}: no column for language "${code}" (have: ${Object.keys(corpus.columns).join(', ')})`,
      );
    return c;
  };
  const out: ParallelPair[] = [];
  const add = (a: string, b: string, needB: boolean) => {
    const A = col(a),
      B = col(b);
    for (let i = 0; i < A.length; i++) {
      if (A[i] && (B[i] || !needB)) out.push({ lang1: a, lang2: b, sentence1: A[i], sentence2: B[i] });
    }
  };
  for (const p of opts.l1) {
    if (opts.monolingual && opts.l2.length) add(p, opts.l2[0], false);
    for (const x of opts.l2) {
      if (x === p) continue;
      if (!opts.monolingual) add(p, x, true);
      add(x, p, !opts.monolingual);
    }
  }
  return out;
}
