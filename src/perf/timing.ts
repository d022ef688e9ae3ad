// Benchmark timings: the median of ≥5 timed runs after a warm-up, with min/max, mean and the coefficient of
// variation; functions that are compared run interleaved (run 1 of each, then run 2 of each, …) so that drifting
// machine load hits them alike.

export interface Timing {
  median: number;
  min: number;
  max: number;
  mean: number;
  cv: number;
  runs: number;
}

function stats(t: number[]): Timing {
  const s = [...t].sort((a, b) => a - b),
    n = s.length;
  const mean = s.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n - 1));
  const median = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return { median, min: s[0], max: s[n - 1], mean, cv: sd / mean, runs: n };
}

/** Seconds of `runs` calls after one warm-up; `fn` must await its own GPU work. */
export async function timeIt(fn: () => Promise<void>, runs: number): Promise<Timing> {
  return (await timeMany({ x: fn }, runs)).x;
}

/** Like timeIt for several functions, their runs interleaved; each warmed up once first. */
export async function timeMany<K extends string>(
  fns: Record<K, () => Promise<void>>,
  runs: number,
): Promise<Record<K, Timing>> {
  const keys = Object.keys(fns) as K[];
  for (const k of keys) await fns[k]();
  const t = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let r = 0; r < runs; r++) {
    for (const k of keys) {
      const t0 = performance.now();
      await fns[k]();
      t[k].push((performance.now() - t0) / 1000);
    }
  }
  return Object.fromEntries(keys.map((k) => [k, stats(t[k])])) as Record<K, Timing>;
}

export const spread = (t: Timing) => `[${fmtS(t.min)}–${fmtS(t.max)}, cv ${(100 * t.cv).toFixed(1)}%, n=${t.runs}]`;
export const fmtS = (s: number) =>
  s < 0.01 ? `${(s * 1000).toFixed(2)} ms` : s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(2)} s`;
export const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;
