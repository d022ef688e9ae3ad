// From parsed parallel sources to a run's data: several --pairs files combined, rows without a usable pair
// counted, a seeded held-out validation split (--eval-split N|P%: whole rows, so no held-out sentence is ever
// trained on, in either direction), and the fixed validation texts the eval loss is measured on. Browser-safe: the
// trainer (node-io.ts reads the files) and the page's align() use the same code.
import { Rng } from '../rng.ts';
import { baseCode } from './langs.ts';
import { drawObjective, isMonolingualOnly, makeExample, parseObjectives } from './objectives.ts';
import type { ExampleOptions } from './objectives.ts';
import { type AlignedCorpus, type PairsSource, type ParallelPair, columnFor, pairsFromSource } from './parallel.ts';

/** What the log and train_config.json say about the data (the start of the log states it). */
export interface DataSummary {
  /** the --pairs sources, in order */
  sources: string[];
  /** rows read: aligned rows (one sentence per language) and directional JSONL rows */
  rows: number;
  /** rows that give no training pair for --l1/--l2 (an empty or missing sentence, or other languages) */
  skippedRows: number;
  /** rows held out for validation (--eval-split), never trained on */
  evalRows: number;
  /** directional training pairs (each usable row gives one per direction) */
  pairs: number;
  /** directional validation pairs */
  evalPairs: number;
}

export interface PreparedData {
  pairs: ParallelPair[];
  evalPairs: ParallelPair[];
  summary: DataSummary;
}

export interface PrepareOptions {
  l1: readonly string[];
  l2: readonly string[];
  objectives: string | readonly string[];
  /** --eval-split: a row count (20) or a share of the usable rows ('10%'); absent or 0 = no validation split */
  evalSplit?: number | string;
  seed: number;
}

/** `--eval-split 20` / `10%` → the number of rows to hold out of `usable` (throws naming the flag). */
export function evalSplitRows(spec: number | string | undefined, usable: number): number {
  if (spec === undefined || spec === 0 || spec === '0') return 0;
  const s = String(spec).trim();
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(s);
  let n: number;
  if (pct) {
    const p = Number(pct[1]);
    if (!(p > 0 && p < 100)) throw new Error(`--eval-split ${s}: a share must be above 0 % and below 100 %`);
    n = Math.max(1, Math.round((p / 100) * usable));
  } else {
    n = Number(s);
    if (!/^\d+$/.test(s) || !Number.isInteger(n))
      throw new Error(`--eval-split must be a row count (e.g. 20) or a share (e.g. 10%), got "${s}"`);
  }
  if (n >= usable)
    throw new Error(
      `--eval-split ${s}: cannot hold out ${n} of ${usable} usable rows (some must be left to train on): ` +
        `give fewer, e.g. --eval-split ${Math.max(1, Math.floor(usable / 10))}`,
    );
  return n;
}

/** Aligned rows that give at least one pair for these languages (buildPairs' rule for empty cells). */
function usableRows(c: AlignedCorpus, l1: readonly string[], l2: readonly string[], mono: boolean): number[] {
  const col = (code: string) => {
    const k = columnFor(c.columns, code);
    return k === undefined ? undefined : c.columns[k];
  };
  const n = Object.values(c.columns)[0]?.length ?? 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let ok = false;
    for (const p of l1) {
      const A = col(p);
      if (!A?.[i]) continue;
      if (mono) ok = true;
      for (const x of l2) if (x !== p && col(x)?.[i]) ok = true;
    }
    if (ok) out.push(i);
  }
  return out;
}

function pick(c: AlignedCorpus, rows: readonly number[], source = c.source): AlignedCorpus {
  return { source, columns: Object.fromEntries(Object.entries(c.columns).map(([k, v]) => [k, rows.map((i) => v[i])])) };
}

/** The languages of a source (its columns, or the languages of its directional pairs). */
function sourceLangs(s: PairsSource): string[] {
  return s.kind === 'aligned'
    ? Object.keys(s.corpus.columns)
    : [...new Set(s.pairs.flatMap((p) => [p.lang1, p.lang2]))];
}

function sourceName(s: PairsSource): string {
  return s.kind === 'aligned' ? s.corpus.source : 'directional pairs';
}

/**
 * The run's pairs from one or more sources (in order), its validation split and a summary. One source behaves as
 * before (its errors name the missing language); with several, each file gives the pairs of the languages it has,
 * and every --l1/--l2 language must be in one of them.
 */
export function prepareData(sources: readonly PairsSource[], o: PrepareOptions): PreparedData {
  if (!sources.length) throw new Error('no parallel data: give --pairs');
  const mono = isMonolingualOnly(parseObjectives(o.objectives));
  const same = o.l1.filter((p) => o.l2.includes(p));
  if (same.length && o.l2.every((x) => o.l1.includes(x)))
    throw new Error(
      `--l1 ${o.l1.join(',')} and --l2 ${o.l2.join(',')} are the same language${same.length > 1 ? 's' : ''}: ` +
        'pairs need two languages (e.g. --l1 eng --l2 tgl)',
    );
  // each source with the languages it has (several files: a file may hold only some of the languages)
  const parts = sources.map((s) => {
    if (sources.length === 1) return { s, l1: o.l1, l2: o.l2 };
    const langs = sourceLangs(s);
    const has = (c: string) => s.kind === 'pairs' || columnFor(Object.fromEntries(langs.map((l) => [l, 1])), c);
    const l1 = o.l1.filter(has),
      l2 = o.l2.filter(has);
    if (!l1.length || !l2.filter((x) => !l1.includes(x) || l1.length > 1).length)
      throw new Error(
        `--pairs ${sourceName(s)}: none of its languages (${langs.join(', ')}) pairs an --l1 (${o.l1.join(',')}) ` +
          `with an --l2 (${o.l2.join(',')}); leave this file out or change --l1/--l2`,
      );
    return { s, l1, l2 };
  });
  if (sources.length > 1)
    for (const c of [...o.l1, ...o.l2])
      if (!parts.some((p) => p.l1.includes(c) || p.l2.includes(c)))
        throw new Error(`no --pairs file has language "${c}" (files: ${sources.map(sourceName).join(', ')})`);

  // units: the usable rows of every source, in order; the validation split takes a seeded sample of them
  const units: { part: number; row: number }[] = [];
  let rows = 0;
  parts.forEach(({ s, l1, l2 }, part) => {
    if (s.kind === 'aligned') {
      rows += Object.values(s.corpus.columns)[0]?.length ?? 0;
      for (const row of usableRows(s.corpus, l1, l2, mono)) units.push({ part, row });
    } else {
      rows += s.pairs.length;
      const kept = new Set(pairsFromSafe(s, l1, l2));
      s.pairs.forEach((p, row) => kept.has(p) && units.push({ part, row }));
    }
  });
  const nEval = evalSplitRows(o.evalSplit, units.length);
  const held = new Set<string>();
  if (nEval) {
    const order = Rng.fromSeed(o.seed)
      .fork('eval-split')
      .shuffle(units.map((_, i) => i));
    for (const i of order.slice(0, nEval)) held.add(`${units[i].part}:${units[i].row}`);
  }
  const pairs: ParallelPair[] = [],
    evalPairs: ParallelPair[] = [];
  parts.forEach(({ s, l1, l2 }, part) => {
    const n = s.kind === 'aligned' ? (Object.values(s.corpus.columns)[0]?.length ?? 0) : s.pairs.length;
    const all = Array.from({ length: n }, (_, i) => i);
    const train = all.filter((i) => !held.has(`${part}:${i}`)),
      test = all.filter((i) => held.has(`${part}:${i}`));
    const split = (idx: number[]): PairsSource =>
      s.kind === 'aligned'
        ? { kind: 'aligned', corpus: pick(s.corpus, idx) }
        : { kind: 'pairs', pairs: idx.map((i) => s.pairs[i]) };
    pairs.push(...pairsFromSource(split(train), { l1, l2, monolingual: mono }));
    if (test.length) evalPairs.push(...pairsFromSource(split(test), { l1, l2, monolingual: mono }));
  });
  if (!pairs.length) throw new Error('no training pairs: check --pairs, --l1 and --l2');
  return {
    pairs,
    evalPairs,
    summary: {
      sources: sources.map(sourceName),
      rows,
      skippedRows: rows - units.length,
      evalRows: nEval,
      pairs: pairs.length,
      evalPairs: evalPairs.length,
    },
  };
}

/**
 * The data line `train` logs and `data --preview` prints: rows read, the rows skipped and why (only when some are:
 * "0 skipped (no sentence pair …)" read as if there were no pairs), the rows held out, the training pairs.
 * `evalTexts`: the validation texts built from the held-out pairs (train).
 */
export function dataSummaryLine(
  s: DataSummary,
  o: Pick<PrepareOptions, 'l1' | 'l2' | 'objectives' | 'evalSplit'>,
  evalTexts?: number,
): string {
  // a run of monolingual objectives only (mlm) needs an --l1 sentence, not a pair
  const why = isMonolingualOnly(parseObjectives(o.objectives))
    ? `no ${o.l1.join(',')} sentence`
    : `no sentence pair for ${o.l1.join(',')} ↔ ${o.l2.join(',')}`;
  return (
    `data: ${s.rows} rows read from ${s.sources.length === 1 ? s.sources[0] : `${s.sources.length} sources`}` +
    (s.skippedRows ? `, ${s.skippedRows} skipped (${why})` : '') +
    (s.evalRows ? `, ${s.evalRows} held out for validation (--eval-split ${o.evalSplit})` : '') +
    ` → ${s.pairs} training pairs (directional)` +
    (s.evalRows
      ? `, ${s.evalPairs} validation pairs${evalTexts === undefined ? '' : ` → ${evalTexts} validation texts`}`
      : '')
  );
}

/** The directional pairs of a pairs source kept for these languages ([] instead of the "none" error). */
function pairsFromSafe(s: PairsSource & { kind: 'pairs' }, l1: readonly string[], l2: readonly string[]) {
  const want = new Set([...l1, ...l2].map(baseCode));
  return s.pairs.filter((p) => want.has(baseCode(p.lang1)) && want.has(baseCode(p.lang2)) && p.lang1 !== p.lang2);
}

/**
 * The fixed validation texts of a run: one per held-out directional pair, its objective, noise and template drawn
 * from Rng(seed).fork('eval-texts'), so every evaluation during the run (and after a resume) scores the same texts.
 */
export function evalTexts(
  pairs: readonly ParallelPair[],
  o: { objectives: string | readonly string[]; seed: number } & ExampleOptions,
): string[] {
  const mix = parseObjectives(o.objectives);
  const rng = Rng.fromSeed(o.seed).fork('eval-texts');
  return pairs.map((p) => makeExample(p, drawObjective(mix, rng), rng, o));
}
