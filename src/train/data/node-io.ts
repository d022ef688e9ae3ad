// Node-only readers: load the parallel/replay formats of parallel.ts and replay.ts from paths.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseFlores, parseNusaxMT, parsePairsJsonl } from './parallel.ts';
import type { AlignedCorpus, ParallelPair } from './parallel.ts';
import { parseReplayJsonl } from './replay.ts';
import type { ReplayRow } from './replay.ts';

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
}

export function readNusaxMT(path: string): AlignedCorpus {
  return parseNusaxMT(read(path), path);
}

/** A FLORES-200 folder: every `<lang>_<Script>.dev|devtest` file in it or in its subfolders (e.g. dev/, devtest/). */
export function readFlores(dir: string): AlignedCorpus {
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
  return parseFlores(files, dir);
}

export function readPairsJsonl(path: string): ParallelPair[] {
  return parsePairsJsonl(read(path), path);
}

export function readReplay(path: string): ReplayRow[] {
  return parseReplayJsonl(read(path), path);
}

export type PairsSource = { kind: 'aligned'; corpus: AlignedCorpus } | { kind: 'pairs'; pairs: ParallelPair[] };

/** By form: a folder → FLORES, *.jsonl → pairs, anything else → NusaX-MT CSV. */
export function readParallel(path: string): PairsSource {
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) return { kind: 'aligned', corpus: readFlores(path) };
  if (/\.jsonl$/i.test(path)) return { kind: 'pairs', pairs: readPairsJsonl(path) };
  return { kind: 'aligned', corpus: readNusaxMT(path) };
}
