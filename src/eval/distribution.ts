// What the model predicts, not only how well: the predicted-label distribution of a confusion matrix, the warning
// when one label takes most predictions (mean-log-prob scoring can collapse onto one label on unfamiliar text), and
// how the distribution moved between two runs. Pure functions over results.json data (the CLI and the page share them).

/** A label taking more than this share of a language's predictions is reported as a collapse. */
export const DOMINANT_SHARE = 0.8;

export interface LabelDistribution {
  n: number; // predictions counted
  counts: number[]; // per label, in `labels` order (the confusion matrix's column sums)
  shares: number[]; // counts / n (all 0 when n = 0)
}

export interface DominantLabel {
  label: string;
  share: number; // > DOMINANT_SHARE
}

/** Column sums of a [gold][pred] confusion matrix: how often each label was predicted. */
export function predictedCounts(confusion: readonly (readonly number[])[]): number[] {
  const k = confusion.length;
  for (const row of confusion)
    if (row.length !== k) throw new Error(`confusion matrix is not square (${k} rows, a row of ${row.length})`);
  return confusion[0]?.map((_, j) => confusion.reduce((a, row) => a + row[j], 0)) ?? [];
}

/** Element-wise sum of confusion matrices of the same shape (e.g. a language's prompts). */
export function sumConfusions(ms: readonly (readonly (readonly number[])[])[]): number[][] {
  if (!ms.length) return [];
  return ms[0].map((row, i) => row.map((_, j) => ms.reduce((a, m) => a + m[i][j], 0)));
}

export function distribution(confusion: readonly (readonly number[])[]): LabelDistribution {
  const counts = predictedCounts(confusion);
  const n = counts.reduce((a, b) => a + b, 0);
  return { n, counts, shares: counts.map((c) => (n ? c / n : 0)) };
}

/** The label predicted for more than `threshold` of the examples, or null. */
export function dominantLabel(
  d: LabelDistribution,
  labels: readonly string[],
  threshold = DOMINANT_SHARE,
): DominantLabel | null {
  if (d.shares.length !== labels.length)
    throw new Error(`${d.shares.length} shares for ${labels.length} labels (${labels.join(', ')})`);
  const k = d.shares.findIndex((s) => s > threshold);
  return d.n > 0 && k >= 0 ? { label: labels[k], share: d.shares[k] } : null;
}

export const pct1 = (x: number) => `${(100 * x).toFixed(1)} %`;

/** One warning line per language whose predictions collapse onto one label. */
export function collapseWarning(lang: string, dom: DominantLabel, n: number): string {
  return (
    `${lang}: "${dom.label}" takes ${pct1(dom.share)} of ${n} predictions (> ${pct1(DOMINANT_SHARE)}): ` +
    'the scores mostly reflect that label, not the text'
  );
}

export interface DistributionShift {
  a: number[]; // shares before
  b: number[]; // shares after
  delta: number[]; // b − a per label
  dominantA: DominantLabel | null;
  dominantB: DominantLabel | null;
}

export function distributionShift(
  a: LabelDistribution,
  b: LabelDistribution,
  labels: readonly string[],
): DistributionShift {
  return {
    a: a.shares,
    b: b.shares,
    delta: b.shares.map((s, k) => s - a.shares[k]),
    dominantA: dominantLabel(a, labels),
    dominantB: dominantLabel(b, labels),
  };
}

/** A language's predicted-label distribution over its prompts: the stored one, or (results.json written before
 *  these fields existed) the column sums of its prompts' confusion matrices; null when those are missing too. */
export function languageDistribution(l: {
  predicted?: LabelDistribution;
  prompts: readonly { confusion?: readonly (readonly number[])[] }[];
}): LabelDistribution | null {
  if (l.predicted) return l.predicted;
  const ms = l.prompts.map((p) => p.confusion ?? []);
  if (!ms.length || ms.some((m) => m.length === 0)) return null;
  return distribution(sumConfusions(ms));
}
