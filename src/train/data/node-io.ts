// Node-only readers: load the parallel/replay formats of parallel.ts and replay.ts from paths (thin wrappers: all
// parsing is in the browser-safe modules, which take text).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join, relative } from 'node:path';
import { readUtf8File } from '../../util/text-file.ts';
import type { LangNames } from './langs.ts';
import { langCode } from './langs.ts';
import {
  type AlignedCorpus,
  type PairsSource,
  type ParallelPair,
  type ParseOptions,
  floresSplit,
  parseAlignedTexts,
  parseFlores,
  parseNusaxMT,
  parseParallelText,
  parsePairsJsonl,
} from './parallel.ts';
import { parseReplayJsonl } from './replay.ts';
import { type PreparedData, prepareData } from './prepare.ts';
import type { ReplayRow } from './replay.ts';

export type { PairsSource } from './parallel.ts';

function read(path: string): string {
  try {
    return readUtf8File(path);
  } catch (e) {
    const m = (e as Error).message;
    throw new Error(m.startsWith(path) ? m : `cannot read ${path}: ${m}`);
  }
}

export function readNusaxMT(path: string): AlignedCorpus {
  return parseNusaxMT(read(path), path);
}

/** A FLORES-200 folder: every `<lang>_<Script>.dev|devtest` file in it or in its subfolders (e.g. dev/, devtest/). */
export function readFlores(dir: string, o: ParseOptions = {}): AlignedCorpus {
  const files: Record<string, string> = {};
  const walk = (d: string, depth: number) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) {
        if (depth < 2) walk(p, depth + 1);
      } else if (/\.(dev|devtest)$/.test(name)) files[relative(dir, p)] = read(p);
    }
  };
  walk(dir, 0);
  return parseFlores(files, dir, o);
}

/** Directional pairs JSONL only (the old form); readParallel reads every JSONL form. */
export function readPairsJsonl(path: string, o: ParseOptions = {}): ParallelPair[] {
  const src = parsePairsJsonl(read(path), path, o);
  if (src.kind !== 'pairs') throw new Error(`${path}: expected {"lang1","lang2","sentence1","sentence2"} rows`);
  return src.pairs;
}

export function readReplay(path: string): ReplayRow[] {
  return parseReplayJsonl(read(path), path);
}

/** Two line-aligned files whose extensions are their languages: `corpus.eng,corpus.tgl`. */
export function readAlignedFiles(paths: readonly string[], names: LangNames = {}): AlignedCorpus {
  const texts: Record<string, string> = {};
  const sources: Record<string, string> = {};
  for (const p of paths) {
    const ext = extname(p).slice(1);
    if (/^(csv|tsv|jsonl|json|txt)$/i.test(ext))
      throw new Error(
        `--pairs ${paths.join(',')}: a comma joins two line-aligned files named by language (corpus.eng,corpus.tgl); ` +
          `to combine several pair files, repeat --pairs (--pairs ${paths.map((p) => basename(p)).join(' --pairs ')})`,
      );
    let code: string;
    try {
      code = langCode(ext, names);
    } catch {
      throw new Error(
        `--pairs ${paths.join(',')}: cannot tell the language of ${basename(p)} from its extension ` +
          `".${ext}" (name line-aligned files by language: corpus.eng,corpus.tgl)`,
      );
    }
    if (code in texts) throw new Error(`--pairs ${paths.join(',')}: two files are language "${code}"`);
    texts[code] = read(p);
    sources[code] = p;
  }
  return parseAlignedTexts(texts, sources);
}

/** By form: a folder → FLORES; `a.eng,b.tgl` → line-aligned files; *.jsonl → JSONL; anything else → CSV/TSV. */
export function readParallel(path: string, o: ParseOptions = {}): PairsSource {
  const st = statSync(path, { throwIfNoEntry: false });
  if (st?.isDirectory()) return { kind: 'aligned', corpus: readFlores(path, o) };
  if (!st && path.includes(',')) {
    const parts = path.split(',').map((s) => s.trim());
    const missing = parts.find((p) => !existsSync(p));
    if (missing) throw new Error(`--pairs: no such file ${missing}`);
    if (parts.length !== 2) throw new Error(`--pairs ${path}: give two line-aligned files (corpus.eng,corpus.tgl)`);
    return { kind: 'aligned', corpus: readAlignedFiles(parts, o.names) };
  }
  if (!st) throw new Error(`--pairs ${path}: no such file or folder`);
  return parseParallelText(read(path), path, o);
}

export interface PairsRequest {
  pairs: string | readonly string[]; // --pairs (repeatable): a file, a FLORES folder or `a.eng,b.tgl` each
  l1: readonly string[];
  l2: readonly string[];
  objectives: string | readonly string[];
  langNames?: LangNames;
  columns?: Readonly<Record<string, string>>;
  floresHeldOut?: number; // a FLORES folder: hold out this many dev+devtest rows (floresSplit, seed 0) and train on the rest
  evalSplit?: number | string; // --eval-split N|P%: rows held out for the validation loss (prepare.ts)
  seed?: number; // the run's seed (the validation split draws with it)
  recipe?: string; // the recipe that set floresHeldOut (named in its error)
}

/** The --pairs paths of a request (one string may be a single path). */
export function pairsPaths(pairs: string | readonly string[]): string[] {
  return typeof pairs === 'string' ? [pairs] : [...pairs];
}

/** One --pairs path read, a FLORES folder's held-out rows (--flores-held-out) removed. */
function readSource(path: string, r: PairsRequest): PairsSource {
  const src = readParallel(path, { names: r.langNames, columns: r.columns });
  if (!r.floresHeldOut || src.kind !== 'aligned' || !statSync(path, { throwIfNoEntry: false })?.isDirectory())
    return src;
  const rows = Object.values(src.corpus.columns)[0]?.length ?? 0;
  if (r.floresHeldOut >= rows) {
    const from = r.recipe && r.recipe !== 'default' ? ` (--recipe ${r.recipe} holds out ${r.floresHeldOut})` : '';
    throw new Error(
      `--pairs ${path}: cannot hold out ${r.floresHeldOut} of its ${rows} FLORES rows${from}: pass ` +
        `--flores-held-out N with N below ${rows} (e.g. --flores-held-out ${Math.max(1, Math.floor(rows / 10))}), ` +
        'or --flores-held-out 0 to train on every row',
    );
  }
  return { kind: 'aligned', corpus: floresSplit(src.corpus, { heldOut: r.floresHeldOut, seed: 0 }).train };
}

/** A run's data (`train`, `data --preview`): every --pairs source read, combined, split and paired (prepare.ts). */
export function loadTrainingData(r: PairsRequest): PreparedData {
  const paths = pairsPaths(r.pairs);
  return prepareData(
    paths.map((p) => readSource(p, r)),
    { l1: r.l1, l2: r.l2, objectives: r.objectives, evalSplit: r.evalSplit, seed: r.seed ?? 0 },
  );
}

/** The directional training pairs of `train` and `data --preview`: read, then paired as the objectives need. */
export function loadTrainingPairs(r: PairsRequest): ParallelPair[] {
  return loadTrainingData(r).pairs;
}

/**
 * The prompt names a training run recorded in its checkpoint folder (languages.json, written by the trainer with
 * checkpoint/ and best/): code → name; {} for a folder without one.
 */
export function checkpointLangNames(dir: string): Record<string, string> {
  const f = join(dir, 'languages.json');
  if (!existsSync(f)) return {};
  try {
    const names = JSON.parse(read(f))?.lang_names;
    if (names && typeof names === 'object' && !Array.isArray(names))
      return Object.fromEntries(Object.entries(names).filter(([, v]) => typeof v === 'string')) as Record<
        string,
        string
      >;
  } catch {
    /* a damaged file: the built-in names and --lang-names apply */
  }
  return {};
}
