// `compare` like with like (issue 24 item 4, issue 25 item 2): Δ = B − A only on the examples both runs scored — same
// language, id and text hash, the same prompt template (matched by template, not by number) and the same label set —
// recomputed from the two predictions.jsonl; how many examples were left out is reported. Two runs scored in different
// ways (scoring rule, templates under one prompt number, dtype, int8 and its threshold, first-pad rule, max length,
// options format, tokenizer) are refused unless allowMismatch, with what differs. Every Δ gets a paired bootstrap
// interval (bootstrap.ts): the same draw of common examples for A and B. Browser-safe (the files are read by
// results-file.ts).
import { BOOTSTRAP, BOOTSTRAP_METHOD, interval, resample, weightedScores } from './bootstrap.ts';
import { compareResults, type CompareJson, type Pair } from './compare.ts';
import type { EvalData, Example } from './data-core.ts';
import { buildResults, type ResultsJson } from './results.ts';
import type { PredictionRecord } from './score-loop.ts';

/** One evaluation folder as compare reads it. */
export interface EvalRun {
  dir: string;
  results: ResultsJson;
  predictions?: PredictionRecord[];
  /** fingerprint.json's fields (absent in folders without one) */
  fingerprint?: Record<string, unknown>;
}

export interface CompareOptions {
  /** compare runs scored in different ways (what differs is still reported) */
  allowMismatch?: boolean;
}

const show = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v));

/** How each run's scores were produced, the parts that must agree for a like-with-like Δ. */
function settings(r: EvalRun): Record<string, unknown> {
  const m = r.results.model,
    f = r.fingerprint ?? {};
  const files = (f.modelFiles ?? {}) as Record<string, unknown>;
  return {
    scoring: r.results.scoring ?? 'paper',
    dtype: m.dtype,
    int8: !!m.int8,
    int8Threshold: m.int8 ? (f.int8Threshold ?? (m as { int8Threshold?: number }).int8Threshold) : undefined,
    firstPad: !!m.firstPad,
    maxLength: r.results.maxLength,
    optionsQuoted: !!r.results.optionsQuoted,
    tokenizer: files['tokenizer.json'],
  };
}

/** "what: A → B" for every setting that differs (tokenizer only when both folders record it). */
export function settingDiffs(a: EvalRun, b: EvalRun): string[] {
  const sa = settings(a),
    sb = settings(b);
  const out: string[] = [];
  for (const k of Object.keys(sa)) {
    if (k === 'tokenizer' && (sa[k] === undefined || sb[k] === undefined)) continue;
    if (JSON.stringify(sa[k]) !== JSON.stringify(sb[k])) out.push(`${k}: A ${show(sa[k])}, B ${show(sb[k])}`);
  }
  for (const p of b.results.prompts) {
    const q = a.results.prompts.find((x) => x.id === p.id);
    if (q && q.template !== p.template)
      out.push(`prompt ${p.id} template: A ${JSON.stringify(q.template)}, B ${JSON.stringify(p.template)}`);
  }
  return out;
}

export interface ExampleCounts {
  common: number; // (language, example) pairs in both runs, under every common prompt
  onlyInA: number;
  onlyInB: number;
  changed: number; // same id, other text or gold label
}

const keyOf = (lang: string, id: string) => JSON.stringify([lang, id]);

/** A's and B's records of the common examples, A's prompts renumbered as B's (matched by template). */
function commonExamples(a: EvalRun, b: EvalRun, langs: readonly string[]) {
  const pairs = b.results.prompts.flatMap((p) => {
    const q = a.results.prompts.find((x) => x.template === p.template);
    return q ? [{ a: q.id, b: p.id }] : [];
  });
  const index = (recs: readonly PredictionRecord[], prompts: number[]) => {
    const m = new Map<string, Map<number, PredictionRecord>>();
    for (const r of recs) {
      if (!prompts.includes(r.prompt) || !langs.includes(r.lang)) continue;
      const k = keyOf(r.lang, r.id);
      if (!m.has(k)) m.set(k, new Map());
      m.get(k)!.set(r.prompt, r);
    }
    return m;
  };
  const ia = index(
    a.predictions!,
    pairs.map((p) => p.a),
  );
  const ib = index(
    b.predictions!,
    pairs.map((p) => p.b),
  );
  const counts: ExampleCounts = { common: 0, onlyInA: 0, onlyInB: 0, changed: 0 };
  const perLang = new Map<string, ExampleCounts>(
    langs.map((l) => [l, { common: 0, onlyInA: 0, onlyInB: 0, changed: 0 }]),
  );
  const recsA: PredictionRecord[] = [],
    recsB: PredictionRecord[] = [];
  const rows = new Map<string, Example[]>(langs.map((l) => [l, []]));
  // B's order of examples (its predictions.jsonl order), then A's leftovers counted
  const seen = new Set<string>();
  for (const r of b.predictions!) {
    const k = keyOf(r.lang, r.id);
    if (seen.has(k) || !ib.has(k)) continue;
    seen.add(k);
    const lc = perLang.get(r.lang)!;
    const ra = ia.get(k),
      rb = ib.get(k)!;
    const complete = (m: Map<number, PredictionRecord> | undefined, side: 'a' | 'b') =>
      !!m && pairs.every((p) => m.has(p[side]));
    if (!complete(ra, 'a') || !complete(rb, 'b')) {
      lc.onlyInB++;
      continue;
    }
    const first = (m: Map<number, PredictionRecord>, side: 'a' | 'b') => m.get(pairs[0][side])!;
    const x = first(ra!, 'a'),
      y = first(rb, 'b');
    const hashDiffers = x.textHash !== undefined && y.textHash !== undefined && x.textHash !== y.textHash;
    if (hashDiffers || x.gold !== y.gold) {
      lc.changed++;
      continue;
    }
    lc.common++;
    rows.get(r.lang)!.push({ id: r.id, text: '', label: y.gold });
    for (const p of pairs) {
      recsA.push({ ...ra!.get(p.a)!, prompt: p.b });
      recsB.push(rb.get(p.b)!);
    }
  }
  for (const [k, m] of ia) {
    if (seen.has(k)) continue;
    const lang = JSON.parse(k)[0] as string;
    if (pairs.every((p) => m.has(p.a))) perLang.get(lang)!.onlyInA++;
  }
  for (const c of perLang.values()) {
    counts.common += c.common;
    counts.onlyInA += c.onlyInA;
    counts.onlyInB += c.onlyInB;
    counts.changed += c.changed;
  }
  return { pairs, recsA, recsB, rows, counts, perLang };
}

export interface CompareRunsJson extends CompareJson {
  /** examples in both runs (the only ones every Δ is computed on) and those left out */
  examples: ExampleCounts & { perLanguage: (ExampleCounts & { lang: string })[] };
  /** settings that differ between A and B (only with allowMismatch; otherwise compare refuses) */
  settingsDiffer: string[];
  bootstrap: { resamples: number; seed: number; level: number; method: string };
}

/** Paired bootstrap intervals of every Δ of `c` (languages, their prompts, groups), in place. */
function pairedIntervals(c: CompareJson, a: ResultsJson, b: ResultsJson, data: EvalData, labels: readonly string[]) {
  const idx = new Map(labels.map((l, k) => [l, k]));
  const K = labels.length;
  const langs = c.languages.map((l) => data.langs.find((d) => d.lang === l.lang)!);
  const arrays = (recs: Map<string, PredictionRecord>, lang: string, rows: readonly Example[]) =>
    c.prompts.map((p) => Int32Array.from(rows, (row) => idx.get(recs.get(JSON.stringify([lang, p, row.id]))!.pred)!));
  const mapOf = (r: PredictionRecord[]) => new Map(r.map((x) => [JSON.stringify([x.lang, x.prompt, x.id]), x]));
  const ma = mapOf(recordsOf.get(a)!),
    mb = mapOf(recordsOf.get(b)!);
  const L = langs.map((d) => ({
    gold: Int32Array.from(d.rows, (r) => idx.get(r.label)!),
    pa: arrays(ma, d.lang, d.rows),
    pb: arrays(mb, d.lang, d.rows),
  }));
  type Reps = { acc: number[]; f1: number[] };
  const rep = (): Reps => ({ acc: [], f1: [] });
  const promptReps = L.map((l) => l.pa.map(rep));
  const langReps = L.map(rep);
  const groupReps = c.groups.map(rep);
  const mean = (v: number[]) => (v.length ? v.reduce((x, y) => x + y, 0) / v.length : 0);
  const scratch = new Float64Array(K * K);
  resample(
    L.map((l) => l.gold.length),
    (_, counts) => {
      const la: number[] = [],
        lf: number[] = [];
      L.forEach((l, i) => {
        const da: number[] = [],
          df: number[] = [];
        l.pa.forEach((pa, j) => {
          const sa = weightedScores(l.gold, pa, counts[i], K, scratch);
          const sb = weightedScores(l.gold, l.pb[j], counts[i], K, scratch);
          da.push(sb.accuracy - sa.accuracy);
          df.push(sb.weightedF1 - sa.weightedF1);
          promptReps[i][j].acc.push(da[j]);
          promptReps[i][j].f1.push(df[j]);
        });
        la.push(mean(da));
        lf.push(mean(df));
        langReps[i].acc.push(la[i]);
        langReps[i].f1.push(lf[i]);
      });
      c.groups.forEach((g, gi) => {
        const ix = g.langs.map((x) => c.languages.findIndex((l) => l.lang === x));
        groupReps[gi].acc.push(mean(ix.map((i) => la[i])));
        groupReps[gi].f1.push(mean(ix.map((i) => lf[i])));
      });
    },
  );
  const mark = (p: Pair, reps: number[]) => {
    p.ci95 = interval(reps);
    p.excludesZero = p.ci95[0] > 0 || p.ci95[1] < 0;
  };
  c.languages.forEach((l, i) => {
    mark(l.accuracy, langReps[i].acc);
    mark(l.weightedF1, langReps[i].f1);
    l.byPrompt.forEach((x, j) => {
      mark(x.accuracy, promptReps[i][j].acc);
      mark(x.weightedF1, promptReps[i][j].f1);
    });
  });
  c.groups.forEach((g, i) => {
    mark(g.accuracy, groupReps[i].acc);
    mark(g.weightedF1, groupReps[i].f1);
  });
}

// the restricted results → their records (pairedIntervals reads the predictions the results were built from)
const recordsOf = new WeakMap<ResultsJson, PredictionRecord[]>();

export function compareRuns(a: EvalRun, b: EvalRun, o: CompareOptions = {}): CompareRunsJson {
  const ra = a.results,
    rb = b.results;
  if (ra.task !== rb.task) throw new Error(`${a.dir} evaluated ${ra.task} but ${b.dir} evaluated ${rb.task}`);
  if (ra.labels.join('\u0000') !== rb.labels.join('\u0000'))
    throw new Error(`label sets differ: ${ra.labels.join(',')} vs ${rb.labels.join(',')}`);
  const diffs = settingDiffs(a, b);
  if (diffs.length && !o.allowMismatch)
    throw new Error(
      `${a.dir} and ${b.dir} were not scored the same way:\n  ${diffs.join('\n  ')}\n` +
        'a Δ between them mixes the model change with this; rerun one of them to match, or pass --allow-mismatch',
    );
  for (const r of [a, b])
    if (!r.predictions)
      throw new Error(
        `${r.dir} has no predictions.jsonl: compare matches the two runs example by example (rerun eval there)`,
      );
  const langs = rb.languages.map((l) => l.lang).filter((l) => ra.languages.some((x) => x.lang === l));
  const m = commonExamples(a, b, langs);
  if (!m.pairs.length)
    throw new Error(
      `no prompt template in common (A: ${ra.prompts.map((p) => p.name).join(',')}; B: ${rb.prompts.map((p) => p.name).join(',')})`,
    );
  if (!m.counts.common)
    throw new Error(
      `no example in common (same language, id, text and gold label under every common prompt): ${m.counts.onlyInA} only in A, ${m.counts.onlyInB} only in B, ${m.counts.changed} changed`,
    );
  const bLang = new Map(rb.languages.map((l) => [l.lang, l]));
  const data: EvalData = {
    source: rb.data,
    task: rb.task,
    labels: rb.labels,
    langs: langs
      .filter((l) => m.rows.get(l)!.length)
      .map((l) => ({ lang: l, name: bLang.get(l)!.name, file: '', rows: m.rows.get(l)! })),
  };
  const groups: Record<string, string[]> = {};
  for (const g of rb.groups) if (g.group !== 'other') groups[g.group] = g.langs;
  const prompts = rb.prompts.filter((p) => m.pairs.some((x) => x.b === p.id));
  const rebuild = (r: ResultsJson, recs: PredictionRecord[]) => {
    const out = buildResults({
      data,
      prompts,
      predictions: recs,
      groups,
      model: r.model,
      maxLength: r.maxLength,
      optionsQuoted: r.optionsQuoted,
      scoring: r.scoring,
      created: new Date(r.created),
    });
    recordsOf.set(out, recs);
    return out;
  };
  const xa = rebuild(ra, m.recsA),
    xb = rebuild(rb, m.recsB);
  const c = compareResults(xa, xb, { a: a.dir, b: b.dir });
  // languages and prompts of the original runs (the restricted ones hold only the common part)
  c.mismatch.onlyInA = ra.languages.map((l) => l.lang).filter((l) => !rb.languages.some((x) => x.lang === l));
  c.mismatch.onlyInB = rb.languages.map((l) => l.lang).filter((l) => !ra.languages.some((x) => x.lang === l));
  c.mismatch.promptsOnlyInA = ra.prompts.filter((p) => !m.pairs.some((x) => x.a === p.id)).map((p) => p.id);
  c.mismatch.promptsOnlyInB = rb.prompts.filter((p) => !m.pairs.some((x) => x.b === p.id)).map((p) => p.id);
  c.mismatch.groupChanged = langs
    .filter((l) => ra.languages.find((x) => x.lang === l)!.group !== bLang.get(l)!.group)
    .map((l) => ({ lang: l, a: ra.languages.find((x) => x.lang === l)!.group, b: bLang.get(l)!.group }));
  pairedIntervals(c, xa, xb, data, rb.labels);
  return {
    ...c,
    examples: { ...m.counts, perLanguage: [...m.perLang].map(([lang, x]) => ({ lang, ...x })) },
    settingsDiffer: diffs,
    bootstrap: { ...BOOTSTRAP, method: BOOTSTRAP_METHOD },
  };
}
