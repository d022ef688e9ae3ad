// compare of two translation runs like with like (issue 24 item 4): Δ chrF++ and Δ BLEU per direction only on the
// sentences both runs translated (same direction, prompt, row id, source and reference), recomputed from the two
// predictions.jsonl, with how many were left out, and a paired bootstrap 95 % interval of each Δ: each replicate
// draws a direction's common rows with replacement (the same rows for A and B and every prompt) and recomputes both
// corpus metrics from their summed sentence statistics. Browser-safe.
import { BOOTSTRAP, BOOTSTRAP_METHOD, interval, resample } from './bootstrap.ts';
import { bleuFromStats, chrfFromStats, chrfStats, corpusBleu } from './mt-metrics.ts';
import {
  buildTranslationResults,
  compareTranslation,
  type TranslationCompare,
  type TranslationPrediction,
  type TranslationResults,
} from './translation.ts';

export interface TranslationCompareRuns extends TranslationCompare {
  sentences: { common: number; onlyInA: number; onlyInB: number; changed: number };
  bootstrap: { resamples: number; seed: number; level: number; method: string };
}

type Delta = { a: number; b: number; delta: number; ci95?: [number, number]; excludesZero?: boolean };

const dirKey = (p: TranslationPrediction) => `${p.src}>${p.tgt}`;
const rowKey = (p: TranslationPrediction) => JSON.stringify([p.src, p.tgt, p.id]);

/** Sentence statistics of one prediction: chrF++ counts, then BLEU matches/totals per order and the lengths. */
function stats(p: TranslationPrediction) {
  const b = corpusBleu([p.hypothesis], [[p.reference]]);
  return { chrf: chrfStats(p.hypothesis, p.reference), bleu: [...b.counts, ...b.totals, b.sysLen, b.refLen] };
}

export function compareTranslationRuns(
  a: TranslationResults,
  b: TranslationResults,
  pa: readonly TranslationPrediction[],
  pb: readonly TranslationPrediction[],
): TranslationCompareRuns {
  compareTranslation(a, b); // the checks of the results (same prompts, a direction in common)
  const prompts = b.prompts.map((p) => p.id);
  // rows translated under every prompt, per run
  const byRow = (ps: readonly TranslationPrediction[]) => {
    const m = new Map<string, Map<number, TranslationPrediction>>();
    for (const p of ps) {
      if (!prompts.includes(p.prompt)) continue;
      if (!m.has(rowKey(p))) m.set(rowKey(p), new Map());
      m.get(rowKey(p))!.set(p.prompt, p);
    }
    for (const [k, v] of m) if (!prompts.every((x) => v.has(x))) m.delete(k);
    return m;
  };
  const ra = byRow(pa),
    rb = byRow(pb);
  const counts = { common: 0, onlyInA: 0, onlyInB: 0, changed: 0 };
  const keep = new Set<string>();
  for (const [k, mb] of rb) {
    const ma = ra.get(k);
    if (!ma) counts.onlyInB++;
    else {
      const [x, y] = [ma.get(prompts[0])!, mb.get(prompts[0])!];
      if (x.source !== y.source || x.reference !== y.reference) counts.changed++;
      else {
        counts.common++;
        keep.add(k);
      }
    }
  }
  for (const k of ra.keys()) if (!rb.has(k)) counts.onlyInA++;
  if (!counts.common)
    throw new Error(
      `no sentence in common (same direction, row, source and reference under every prompt): ${counts.onlyInA} ` +
        `only in A, ${counts.onlyInB} only in B, ${counts.changed} changed`,
    );
  const pick = (ps: readonly TranslationPrediction[]) =>
    ps.filter((p) => prompts.includes(p.prompt) && keep.has(rowKey(p)));
  const [ca, cb] = [pick(pa), pick(pb)];
  const rebuild = (r: TranslationResults, ps: TranslationPrediction[]) =>
    buildTranslationResults(ps, { data: r.data, model: r.model, prompts, maxNewTokens: r.maxNewTokens });
  const c = compareTranslation({ ...rebuild(a, ca), created: a.created }, { ...rebuild(b, cb), created: b.created });
  // paired bootstrap per direction over its common rows
  for (const d of c.directions) {
    const rows = [...keep].filter((k) => (JSON.parse(k) as string[]).slice(0, 2).join('>') === `${d.src}>${d.tgt}`);
    const at = (ps: TranslationPrediction[]) => {
      const m = new Map(
        ps.filter((p) => dirKey(p) === `${d.src}>${d.tgt}`).map((p) => [`${rowKey(p)}|${p.prompt}`, p]),
      );
      return prompts.map((pr) => rows.map((k) => stats(m.get(`${k}|${pr}`)!)));
    };
    const [sa, sb] = [at(ca), at(cb)];
    const reps = { chrf: [] as number[], bleu: [] as number[] };
    const corpus = (st: ReturnType<typeof stats>[], w: Int32Array) => {
      const ch = new Array(st[0].chrf.length).fill(0),
        bl = new Array(10).fill(0);
      st.forEach((s, i) => {
        if (!w[i]) return;
        s.chrf.forEach((v, j) => (ch[j] += w[i] * v));
        s.bleu.forEach((v, j) => (bl[j] += w[i] * v));
      });
      return { chrf: chrfFromStats(ch), bleu: bleuFromStats(bl.slice(0, 4), bl.slice(4, 8), bl[8], bl[9]).score };
    };
    const mean = (v: number[]) => v.reduce((x, y) => x + y, 0) / v.length;
    resample([rows.length], (_, [w]) => {
      const xa = sa.map((st) => corpus(st, w)),
        xb = sb.map((st) => corpus(st, w));
      reps.chrf.push(mean(xb.map((x) => x.chrf)) - mean(xa.map((x) => x.chrf)));
      reps.bleu.push(mean(xb.map((x) => x.bleu)) - mean(xa.map((x) => x.bleu)));
    });
    for (const k of ['chrf', 'bleu'] as const) {
      const p = d[k] as Delta;
      p.ci95 = interval(reps[k]);
      p.excludesZero = p.ci95[0] > 0 || p.ci95[1] < 0;
    }
  }
  return { ...c, sentences: counts, bootstrap: { ...BOOTSTRAP, method: BOOTSTRAP_METHOD } };
}
