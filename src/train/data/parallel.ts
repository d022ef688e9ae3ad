// Parallel data for InstructAlign, in the formats people have: CSV/TSV with a header of languages (NusaX-MT is one),
// JSONL (flat {"eng":…,"tgl":…}, HF {"translation":{…}}, or directional {"lang1","lang2","sentence1","sentence2"}),
// FLORES-200 files, two line-aligned text files (Moses style); and the directional pairs built from them the way the
// official `load_flores_datasets` does. Everything here takes already-loaded text (browser-safe); node-io.ts reads
// files by path. Errors name the file and line.
import { Rng } from '../rng.ts';
import { needString } from '../../api/requests/core.ts';
import { CsvError, type Delimiter, delimiterFor, parseCsvRecords } from '../../util/csv-parse.ts';
import { baseCode, langCode, type LangNames } from './langs.ts';

/** One training example's raw material; sentence1/lang1 is the source side. Languages are ISO 639-3 codes. */
export interface ParallelPair {
  lang1: string;
  lang2: string;
  sentence1: string;
  sentence2: string;
}

/** Sentences aligned by index across languages (one array per code, all the same length; '' = missing). */
export interface AlignedCorpus {
  source: string;
  columns: Record<string, string[]>;
}

/** Parallel data as read: aligned columns (pairs built by buildPairs from --l1/--l2) or ready directional pairs. */
export type PairsSource = { kind: 'aligned'; corpus: AlignedCorpus } | { kind: 'pairs'; pairs: ParallelPair[] };

export interface ParseOptions {
  /** prompt names from --lang-names: also makes their codes acceptable (e.g. a code outside ISO 639-3) */
  names?: LangNames;
  /** `--columns eng=english,tgl=tagalog`: language code → header; only these columns are read */
  columns?: Readonly<Record<string, string>>;
  delimiter?: Delimiter;
}

/** `eng=src,tgl=tgt` → { eng: 'src', tgl: 'tgt' } (codes checked and normalised). */
export function parseColumnsSpec(spec: string, names: LangNames = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of spec.split(',').map((s) => s.trim())) {
    if (!part) continue;
    const eq = part.indexOf('=');
    if (eq <= 0 || !part.slice(eq + 1).trim())
      throw new Error(`--columns: bad entry "${part}" (expected CODE=HEADER, e.g. eng=english,tgl=tagalog)`);
    out[langCode(part.slice(0, eq), names, '--columns')] = part.slice(eq + 1).trim();
  }
  return out;
}

/** CSV/TSV with a header naming one language per column (codes `tgl`, `tgl_Latn`, or names as NusaX's `english`); an
 *  unnamed first column (pandas' row index, as in NusaX-MT) is skipped. With `columns`, only the mapped headers. */
export function parsePairsTable(text: string, source = '<pairs.csv>', o: ParseOptions = {}): AlignedCorpus {
  needString('parsePairsTable', 'text', text);
  const rows = parseCsvRecords(text, source, o.delimiter ?? delimiterFor(source, text));
  if (rows.length === 0 || rows[0].fields.every((f) => f.trim() === ''))
    throw new CsvError(source, 1, 'empty file (expected a header row of language codes, e.g. eng,tgl)');
  if (rows.length < 2) throw new CsvError(source, 2, 'no data rows after the header');
  const header = rows[0].fields.map((h) => h.trim());
  const cols: { idx: number; code: string }[] = [];
  if (o.columns) {
    for (const [code, h] of Object.entries(o.columns)) {
      const idx = header.indexOf(h);
      if (idx < 0)
        throw new CsvError(source, 1, `--columns ${code}=${h}: no column "${h}" (header: ${header.join(', ')})`);
      cols.push({ idx, code });
    }
  } else {
    header.forEach((h, idx) => {
      if (idx === 0 && h === '') return; // pandas' unnamed index column
      if (ROW_ID_KEYS.has(h.toLowerCase())) return; // a row identifier (`id` is not read as ISO 639-1 Indonesian)
      try {
        cols.push({ idx, code: langCode(h, o.names) });
      } catch {
        throw new CsvError(
          source,
          1,
          `column ${idx + 1} "${h}" is not a language code (use codes like eng,tgl in the header, or map the ` +
            'headers with --columns eng=HEADER,tgl=HEADER)',
        );
      }
    });
  }
  const dup = cols.find((c, k) => cols.findIndex((d) => d.code === c.code) !== k);
  if (dup) throw new CsvError(source, 1, `two columns are language "${dup.code}" (keep one, or use --columns)`);
  const columns: Record<string, string[]> = Object.fromEntries(cols.map((c) => [c.code, [] as string[]]));
  for (const r of rows.slice(1)) {
    if (r.fields.length === 1 && r.fields[0] === '') continue; // blank line
    if (r.fields.length !== header.length) {
      const sep = o.delimiter === '\t' || delimiterFor(source, text) === '\t' ? 'a tab' : 'an unquoted comma';
      throw new CsvError(
        source,
        r.line,
        `${r.fields.length} fields, the header has ${header.length} (a missing column or ${sep} in a sentence)`,
      );
    }
    for (const c of cols) columns[c.code].push(r.fields[c.idx].trim());
  }
  return { source, columns };
}

/** NusaX-MT: a parsePairsTable CSV whose header names the languages (`english`, `toba_batak`, …). */
export function parseNusaxMT(text: string, source = '<nusax-mt.csv>', o: ParseOptions = {}): AlignedCorpus {
  return parsePairsTable(text, source, { delimiter: ',', ...o });
}

/** Lines of one text file; a final line break adds no line. */
function textLines(text: string): string[] {
  const lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split(/\r\n|\n|\r/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** FLORES-200: one `<lang>_<Script>.<split>` text per language, line i of every file the same sentence.
 *  `files` maps a file name (e.g. `dev/sun_Latn.dev`) to its text; files of one split must have equal line counts.
 *  The corpus is dev followed by devtest (the official code's concatenation); see floresSplit for the held-out part. */
export function parseFlores(files: Record<string, string>, source = '<flores>', o: ParseOptions = {}): AlignedCorpus {
  const bySplit = new Map<string, { name: string; code: string; lines: string[] }[]>();
  for (const [name, text] of Object.entries(files)) {
    const m = /(?:^|\/)([a-z]{3}_[A-Za-z]{4})\.(dev|devtest)$/.exec(name);
    if (!m) continue;
    const lines = textLines(text);
    if (lines.length === 0) throw new Error(`${source}/${name}:1: empty file`);
    const blank = lines.findIndex((l) => l.trim() === '');
    if (blank >= 0)
      throw new Error(`${source}/${name}:${blank + 1}: empty line (FLORES files have one sentence per line)`);
    const split = m[2];
    const code = langCode(m[1], o.names, `${source}/${name}`);
    const same = bySplit.get(split)?.find((f) => f.code === code);
    if (same) throw new Error(`${source}: ${same.name} and ${name} are both language "${code}" (keep one)`);
    if (!bySplit.has(split)) bySplit.set(split, []);
    bySplit.get(split)!.push({ name, code, lines });
  }
  if (bySplit.size === 0)
    throw new Error(`${source}: no FLORES files (expected names like dev/eng_Latn.dev, devtest/tgl_Latn.devtest)`);
  const columns: Record<string, string[]> = {};
  for (const split of ['dev', 'devtest']) {
    const fs = bySplit.get(split) ?? [];
    const ragged = fs.filter((f) => f.lines.length !== fs[0].lines.length);
    if (ragged.length) {
      const counts = fs.map((f) => `${f.name}: ${f.lines.length} lines`).join(', ');
      throw new Error(`${source}: ${split} files are not line-aligned (${counts})`);
    }
    for (const f of fs) (columns[f.code] ??= []).push(...f.lines);
  }
  const lens = new Set(Object.values(columns).map((c) => c.length));
  if (lens.size > 1) {
    const have = Object.entries(columns).map(([k, v]) => `${k}: ${v.length}`);
    throw new Error(`${source}: languages differ in splits present (${have.join(', ')})`);
  }
  return { source, columns };
}

/**
 * The official InstructAlign split of FLORES dev+devtest (HF `train_test_split(test_size=1000, seed=0)`): `heldOut`
 * aligned rows for evaluation, the rest for training. The rows are drawn with this project's seeded Rng, so the
 * *number* held out matches the official code but not which rows (HF draws them with numpy's PCG64).
 */
export function floresSplit(
  corpus: AlignedCorpus,
  o: { heldOut?: number; seed?: number } = {},
): { train: AlignedCorpus; test: AlignedCorpus } {
  const heldOut = o.heldOut ?? 1000;
  const n = Object.values(corpus.columns)[0]?.length ?? 0;
  if (!Number.isInteger(heldOut) || heldOut < 0 || heldOut >= n)
    throw new Error(`${corpus.source}: cannot hold out ${heldOut} of ${n} rows (need 0 ≤ held out < rows)`);
  const order = Rng.fromSeed(o.seed ?? 0)
    .fork('flores-split')
    .shuffle(Array.from({ length: n }, (_, i) => i));
  const pick = (idx: number[]) => {
    const sorted = [...idx].sort((a, b) => a - b);
    return Object.fromEntries(Object.entries(corpus.columns).map(([k, v]) => [k, sorted.map((i) => v[i])]));
  };
  return {
    test: { source: `${corpus.source} (held out)`, columns: pick(order.slice(0, heldOut)) },
    train: { source: corpus.source, columns: pick(order.slice(heldOut)) },
  };
}

/** Moses style: one text per language (`{eng: text, tgl: text}`), line i of each the same sentence. `sources` names
 *  each language's file for errors. Empty lines stay as missing sentences (buildPairs skips them). */
export function parseAlignedTexts(
  texts: Readonly<Record<string, string>>,
  sources: Readonly<Record<string, string>> = {},
): AlignedCorpus {
  const codes = Object.keys(texts);
  if (codes.length < 2) throw new Error('line-aligned pairs need two files, one per language (corpus.eng,corpus.tgl)');
  const columns = Object.fromEntries(codes.map((c) => [c, textLines(texts[c]).map((l) => l.trim())]));
  const name = (c: string) => sources[c] ?? `<${c}>`;
  const [a, b] = codes;
  if (columns[a].length !== columns[b].length) {
    const k = Math.min(columns[a].length, columns[b].length);
    throw new Error(
      `${name(a)} has ${columns[a].length} lines, ${name(b)} has ${columns[b].length}: the files are not line-aligned ` +
        `(${name(columns[a].length > k ? a : b)}:${k + 1} has no partner)`,
    );
  }
  if (columns[a].every((l) => l === '')) throw new Error(`${name(a)}:1: empty file`);
  return { source: codes.map(name).join(','), columns };
}

/**
 * JSONL parallel data, one object per line, in one of three forms (not mixed):
 *  - flat `{"eng": "...", "tgl": "..."}` and HF `{"translation": {"eng": "...", "tgl": "..."}}`: aligned rows, the keys
 *    language codes (a missing key = a missing sentence); non-string fields and id/idx/index/row/uid are ignored;
 *  - directional `{"lang1","lang2","sentence1","sentence2"}`: used as given.
 */
export function parsePairsJsonl(text: string, source = '<pairs.jsonl>', o: ParseOptions = {}): PairsSource {
  needString('parsePairsJsonl', 'text', text);
  const pairs: ParallelPair[] = [];
  const rows: Record<string, string>[] = [];
  let form: 'directional' | 'flat' | 'translation' | undefined;
  const seenKeys = new Set<string>(); // --columns keys found in some row
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const at = `${source}:${i + 1}`;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line);
    } catch (e) {
      throw new Error(`${at}: bad JSON (${(e as Error).message})`);
    }
    if (!r || typeof r !== 'object' || Array.isArray(r)) throw new Error(`${at}: expected a JSON object`);
    const f = 'translation' in r ? 'translation' : 'sentence1' in r || 'lang1' in r ? 'directional' : 'flat';
    if (form && f !== form) throw new Error(`${at}: a ${f} row in a file of ${form} rows (use one form per file)`);
    form = f;
    if (f === 'directional') {
      if (o.columns)
        throw new Error(
          `${at}: --columns maps CSV/TSV headers and JSONL keys of aligned rows; these rows name their languages ` +
            '("lang1", "lang2"): leave --columns out',
        );
      for (const k of ['lang1', 'lang2', 'sentence1', 'sentence2'])
        if (typeof r[k] !== 'string') throw new Error(`${at}: missing string field "${k}"`);
      const [s1, s2] = [(r.sentence1 as string).trim(), (r.sentence2 as string).trim()];
      if (s1 && s2)
        pairs.push({
          lang1: langCode(r.lang1 as string, o.names, at),
          lang2: langCode(r.lang2 as string, o.names, at),
          sentence1: s1,
          sentence2: s2,
        });
      return;
    }
    const obj = f === 'translation' ? r.translation : r;
    if (!obj || typeof obj !== 'object' || Array.isArray(obj))
      throw new Error(`${at}: "translation" must be an object of language code → sentence`);
    const row: Record<string, string> = {};
    const fields = obj as Record<string, unknown>;
    if (o.columns) {
      // --columns eng=en,yor=yo: only these keys, whatever they are called
      for (const [code, key] of Object.entries(o.columns)) {
        const v = fields[key];
        if (typeof v === 'string') row[code] = v.trim();
        else if (v !== undefined && v !== null) throw notASentence(at, key, v);
        if (key in fields) seenKeys.add(key);
      }
    } else
      for (const [k, v] of Object.entries(fields)) {
        if (f === 'flat' && ROW_ID_KEYS.has(k)) continue;
        if (typeof v !== 'string') {
          // a sentence that is an array or a number was dropped without a word (audit P13); other keys' values stay
          if (v !== null && isLanguageKey(k, o.names)) throw notASentence(at, k, v);
          continue;
        }
        let code: string;
        try {
          code = langCode(k, o.names);
        } catch (e) {
          throw new Error(
            `${at}: key "${k}": ${(e as Error).message}; or map the keys with --columns CODE=KEY (e.g. ` +
              `--columns eng=${k},tgl=OTHER_KEY)`,
          );
        }
        if (code in row) throw new Error(`${at}: two keys are language "${code}" (keep one, or use --columns)`);
        row[code] = v.trim();
      }
    if (Object.keys(row).length === 0 && !o.columns)
      throw new Error(`${at}: no sentences (expected e.g. {"eng": "...", "tgl": "..."})`);
    rows.push(row);
  });
  if (form === undefined) throw new Error(`${source}:1: no pairs (empty file)`);
  const unseen = Object.entries(o.columns ?? {}).find(([, key]) => !seenKeys.has(key));
  if (unseen && form !== 'directional')
    throw new Error(`${source}: --columns ${unseen[0]}=${unseen[1]}: no row has the key "${unseen[1]}"`);
  if (form === 'directional') {
    if (pairs.length === 0) throw new Error(`${source}:1: no pairs (every row has an empty sentence)`);
    return { kind: 'pairs', pairs };
  }
  const codes = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const columns = Object.fromEntries(codes.map((c) => [c, rows.map((r) => r[c] ?? '')]));
  return { kind: 'aligned', corpus: { source, columns } };
}

function isLanguageKey(k: string, names: LangNames | undefined): boolean {
  try {
    langCode(k, names);
    return true;
  } catch {
    return false;
  }
}

function notASentence(at: string, key: string, v: unknown): Error {
  const kind = Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v} (${String(v)})`;
  return new Error(`${at}: key "${key}": the sentence must be a string, got ${kind} (one sentence per row and key)`);
}

/** Row identifiers that flat JSONL rows often carry next to the sentences (not languages). */
const ROW_ID_KEYS = new Set(['id', 'idx', 'index', 'row', 'uid']);

/** One pairs file's text by its name: *.jsonl → parsePairsJsonl, anything else → a CSV/TSV table (browser entry). */
export function parseParallelText(text: string, name: string, o: ParseOptions = {}): PairsSource {
  needString('parseParallelText', 'text', text);
  needString('parseParallelText', 'name', name);
  if (/\.jsonl$/i.test(name)) return parsePairsJsonl(text, name, o);
  return { kind: 'aligned', corpus: parsePairsTable(text, name, o) };
}

/** Directional pairs from any source: aligned corpora through buildPairs, directional JSONL filtered to pairs whose
 *  languages are all among --l1/--l2 (an error when that leaves none). */
export function pairsFromSource(src: PairsSource, opts: PairOptions): ParallelPair[] {
  if (src.kind === 'aligned') return buildPairs(src.corpus, opts);
  const want = Object.fromEntries([...opts.l1, ...opts.l2].map((c) => [c, true]));
  // a pair's language as the --l1/--l2 code that names it (yor for a yor-Latn row)
  const as = (l: string) => (l in want ? l : Object.keys(want).find((w) => columnFor({ [l]: 1 }, w) === l));
  const out = src.pairs.flatMap((p) => {
    const [a, b] = [as(p.lang1), as(p.lang2)];
    return a && b ? [{ ...p, lang1: a, lang2: b }] : [];
  });
  if (out.length === 0) {
    const have = [...new Set(src.pairs.flatMap((p) => [p.lang1, p.lang2]))].join(', ');
    throw new Error(
      `no pair in the data is between --l1 ${opts.l1.join(',')} and --l2 ${opts.l2.join(',')} (have: ${have})`,
    );
  }
  return out;
}

export interface PairOptions {
  l1: readonly string[]; // pivots
  l2: readonly string[]; // aligned languages
  /** Official `monolingual` pairing: each pivot once as sentence1 (paired with the first L2), plus L2→pivot. */
  monolingual?: boolean;
}

/**
 * The column of language `code`: its own, else the one column of the same base language (`yor` reads a `yo-Latn`
 * column; `zho-Hant` reads a `zho` column); undefined when there is none or several (zho-Hans and zho-Hant for zho).
 */
export function columnFor(columns: Readonly<Record<string, unknown>>, code: string): string | undefined {
  if (code in columns) return code;
  const same = Object.keys(columns).filter((k) => baseCode(k) === baseCode(code));
  return same.length === 1 ? same[0] : undefined;
}

/** Directional pairs: for each pivot p and each L2 x (x ≠ p): p→x and x→p; empty cells are skipped. */
export function buildPairs(corpus: AlignedCorpus, opts: PairOptions): ParallelPair[] {
  const col = (code: string) => {
    const c = corpus.columns[columnFor(corpus.columns, code) ?? code];
    if (!c) {
      const have = Object.keys(corpus.columns);
      const hint = have.length === 2 ? ` (e.g. --l1 ${have[0]} --l2 ${have[1]})` : '';
      throw new Error(
        `${corpus.source}: no column for language "${code}" (have: ${have.join(', ')}); pass --l1/--l2${hint}`,
      );
    }
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
