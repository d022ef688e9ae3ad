// 95 % intervals by the bootstrap over examples (docs/evaluation.md, "Intervals"). One replicate draws, for every
// language independently, as many examples as it has, uniformly with replacement (each language's rows in their
// evaluation order, indices from xorshift32 seeded by BOOTSTRAP.seed), and recomputes every metric from the drawn
// examples: a prompt's metric on the draw, a language's mean over its prompts (the same drawn examples under every
// prompt), a group's mean over its languages, the overall mean. The interval is the 2.5th and 97.5th percentile of the
// replicates (numpy's default linear interpolation). `compare` draws the examples both runs have, once for both
// (a paired bootstrap), so each replicate's Δ = B − A comes from the same examples.
import { xorshift32 } from '../util/random.ts';

export const BOOTSTRAP = { resamples: 1000, seed: 20231207, level: 0.95 } as const;
export const BOOTSTRAP_METHOD =
  'percentile bootstrap over examples, resampled with replacement within each language (the same draw for every ' +
  'prompt, scoring rule and, in compare, both runs); intervals at the 2.5th and 97.5th percentiles';

export type Interval = [number, number];
export interface Ci95 {
  accuracy: Interval;
  weightedF1: Interval;
}

/** Accuracy and weighted F1 (sklearn's definitions, as metrics.ts) of examples weighted by `w` (draw counts).
 *  gold/pred are label indices in [0, K); `c` is scratch space of K·K. */
export function weightedScores(
  gold: ArrayLike<number>,
  pred: ArrayLike<number>,
  w: ArrayLike<number> | null,
  K: number,
  c: Float64Array = new Float64Array(K * K),
): { accuracy: number; weightedF1: number } {
  c.fill(0);
  let n = 0;
  for (let i = 0; i < gold.length; i++) {
    const x = w ? w[i] : 1;
    if (x) {
      c[gold[i] * K + pred[i]] += x;
      n += x;
    }
  }
  if (n === 0) return { accuracy: 0, weightedF1: 0 };
  let tp = 0,
    f1 = 0;
  for (let k = 0; k < K; k++) {
    let support = 0,
      predicted = 0;
    for (let j = 0; j < K; j++) {
      support += c[k * K + j];
      predicted += c[j * K + k];
    }
    const t = c[k * K + k];
    tp += t;
    if (support + predicted > 0) f1 += (support * 2 * t) / (support + predicted);
  }
  return { accuracy: tp / n, weightedF1: f1 / n };
}

/** numpy.percentile(values, 100·q) with linear interpolation (values need not be sorted). */
export function percentile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (!s.length) return 0;
  const h = (s.length - 1) * q,
    lo = Math.floor(h),
    hi = Math.ceil(h);
  return s[lo] + (h - lo) * (s[hi] - s[lo]);
}

export function interval(values: readonly number[], level: number = BOOTSTRAP.level): Interval {
  const a = (1 - level) / 2;
  return [percentile(values, a), percentile(values, 1 - a)];
}

/** Draws `R` replicates: `each(r, counts)` gets, per language, how often each of its `ns[l]` examples was drawn. */
export function resample(
  ns: readonly number[],
  each: (r: number, counts: readonly Int32Array[]) => void,
  R: number = BOOTSTRAP.resamples,
  seed: number = BOOTSTRAP.seed,
): void {
  const rand = xorshift32(seed);
  const counts = ns.map((n) => new Int32Array(n));
  for (let r = 0; r < R; r++) {
    ns.forEach((n, l) => {
      const c = counts[l];
      c.fill(0);
      for (let i = 0; i < n; i++) c[Math.floor(rand() * n)]++;
    });
    each(r, counts);
  }
}

/** One language's examples under every prompt: gold and predicted label indices, examples in the same order. */
export interface LangPreds {
  gold: Int32Array;
  preds: Int32Array[]; // per prompt
}

export interface RunCis {
  prompts: Ci95[][]; // [language][prompt]
  langs: Ci95[]; // mean over prompts
  groups: Ci95[]; // mean over the group's languages
  overall: Ci95; // mean over all languages
}

const mean = (v: readonly number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : 0);

/** Intervals of one run's metrics (several rules share the draws: pass each rule's LangPreds, same gold). */
export function runIntervals(rules: readonly LangPreds[][], groups: readonly number[][], K: number): RunCis[] {
  type Reps = { acc: number[]; f1: number[] };
  const rep = (): Reps => ({ acc: [], f1: [] });
  const out = rules.map((langs) => ({
    prompts: langs.map((l) => l.preds.map(rep)),
    langs: langs.map(rep),
    groups: groups.map(rep),
    overall: rep(),
  }));
  const scratch = new Float64Array(K * K);
  resample(
    rules[0].map((l) => l.gold.length),
    (_, counts) => {
      rules.forEach((langs, k) => {
        const o = out[k];
        const la: number[] = [],
          lf: number[] = [];
        langs.forEach((l, i) => {
          const pa: number[] = [],
            pf: number[] = [];
          l.preds.forEach((p, j) => {
            const s = weightedScores(l.gold, p, counts[i], K, scratch);
            o.prompts[i][j].acc.push(s.accuracy);
            o.prompts[i][j].f1.push(s.weightedF1);
            pa.push(s.accuracy);
            pf.push(s.weightedF1);
          });
          la.push(mean(pa));
          lf.push(mean(pf));
          o.langs[i].acc.push(la[i]);
          o.langs[i].f1.push(lf[i]);
        });
        groups.forEach((g, gi) => {
          o.groups[gi].acc.push(mean(g.map((i) => la[i])));
          o.groups[gi].f1.push(mean(g.map((i) => lf[i])));
        });
        o.overall.acc.push(mean(la));
        o.overall.f1.push(mean(lf));
      });
    },
  );
  const ci = (r: Reps): Ci95 => ({ accuracy: interval(r.acc), weightedF1: interval(r.f1) });
  return out.map((o) => ({
    prompts: o.prompts.map((ps) => ps.map(ci)),
    langs: o.langs.map(ci),
    groups: o.groups.map(ci),
    overall: ci(o.overall),
  }));
}
