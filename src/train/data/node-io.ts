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
import { pairsForObjectives } from './stream.ts';
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
  pairs: string; // --pairs: a file, a FLORES folder or `a.eng,b.tgl`
  l1: readonly string[];
  l2: readonly string[];
  objectives: string | readonly string[];
  langNames?: LangNames;
  columns?: Readonly<Record<string, string>>;
  floresHeldOut?: number; // a FLORES folder: hold out this many dev+devtest rows (floresSplit, seed 0) and train on the rest
}

/** The directional training pairs of `train` and `data --preview`: read, then paired as the objectives need. */
export function loadTrainingPairs(r: PairsRequest): ParallelPair[] {
  let src = readParallel(r.pairs, { names: r.langNames, columns: r.columns });
  if (r.floresHeldOut && src.kind === 'aligned' && statSync(r.pairs, { throwIfNoEntry: false })?.isDirectory())
    src = { kind: 'aligned', corpus: floresSplit(src.corpus, { heldOut: r.floresHeldOut, seed: 0 }).train };
  return pairsForObjectives(src, r.l1, r.l2, r.objectives);
}
