// Classification metrics with scikit-learn's definitions (precision_recall_fscore_support, zero_division=0).
//
// As sklearn with labels=None, the averaged scores run over the labels that occur in gold ∪ pred (a label absent from
// both is not averaged in); the confusion matrix always covers every task label, in task order.

export interface MetricSet {
  accuracy: number;
  macroPrecision: number;
  macroRecall: number;
  macroF1: number;
  weightedPrecision: number;
  weightedRecall: number;
  weightedF1: number;
  microF1: number;
}

export interface ClassScores {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface Classification extends MetricSet {
  n: number;
  perClass: ClassScores[];
  /** confusion[i][j] = examples with gold labels[i] predicted labels[j] (sklearn's confusion_matrix layout). */
  confusion: number[][];
}

export const METRIC_KEYS: readonly (keyof MetricSet)[] = [
  'accuracy',
  'macroPrecision',
  'macroRecall',
  'macroF1',
  'weightedPrecision',
  'weightedRecall',
  'weightedF1',
  'microF1',
];

const div = (a: number, b: number) => (b === 0 ? 0 : a / b); // zero_division=0

export function confusionMatrix(
  gold: readonly string[],
  pred: readonly string[],
  labels: readonly string[],
): number[][] {
  if (gold.length !== pred.length) throw new Error(`gold has ${gold.length} labels but pred has ${pred.length}`);
  const idx = new Map(labels.map((l, k) => [l, k]));
  const m = labels.map(() => labels.map(() => 0));
  for (let k = 0; k < gold.length; k++) {
    const i = idx.get(gold[k]);
    const j = idx.get(pred[k]);
    if (i === undefined || j === undefined)
      throw new Error(`label "${i === undefined ? gold[k] : pred[k]}" is not one of ${labels.join(', ')}`);
    m[i][j]++;
  }
  return m;
}

export function classify(gold: readonly string[], pred: readonly string[], labels: readonly string[]): Classification {
  const confusion = confusionMatrix(gold, pred, labels);
  const n = gold.length;
  const stats = labels.map((label, i) => {
    const tp = confusion[i][i];
    const support = confusion[i].reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + row[i], 0);
    // sklearn: F = 2·tp / (2·tp + fp + fn), 0 when tp + fp + fn = 0 (equal to 2PR/(P+R) with P, R below).
    return {
      label,
      precision: div(tp, predicted),
      recall: div(tp, support),
      f1: div(2 * tp, support + predicted),
      support,
      predicted,
    };
  });
  const present = stats.filter((c) => c.support > 0 || c.predicted > 0);
  const mean = (f: (c: ClassScores) => number) =>
    div(
      present.reduce((a, c) => a + f(c), 0),
      present.length,
    );
  const weighted = (f: (c: ClassScores) => number) =>
    div(
      present.reduce((a, c) => a + f(c) * c.support, 0),
      n,
    );
  const accuracy = div(
    labels.reduce((a, _, i) => a + confusion[i][i], 0),
    n,
  );
  return {
    n,
    accuracy,
    macroPrecision: mean((c) => c.precision),
    macroRecall: mean((c) => c.recall),
    macroF1: mean((c) => c.f1),
    weightedPrecision: weighted((c) => c.precision),
    weightedRecall: weighted((c) => c.recall),
    weightedF1: weighted((c) => c.f1),
    // Single-label multiclass over all present labels: micro P = micro R = micro F1 = Σtp / n = accuracy.
    microF1: accuracy,
    perClass: stats.map(({ label, precision, recall, f1, support }) => ({ label, precision, recall, f1, support })),
    confusion,
  };
}

/** Element-wise mean of metric sets (used for "mean over prompts" and "mean over languages"). */
export function meanMetrics(sets: readonly MetricSet[]): MetricSet {
  const out = {} as MetricSet;
  for (const k of METRIC_KEYS)
    out[k] = div(
      sets.reduce((a, s) => a + s[k], 0),
      sets.length,
    );
  return out;
}

export function pickMetrics(c: MetricSet): MetricSet {
  const out = {} as MetricSet;
  for (const k of METRIC_KEYS) out[k] = c[k];
  return out;
}

/** Pearson's r; null when fewer than 2 points or a constant series (undefined correlation). */
export function pearson(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length) throw new Error(`pearson: ${x.length} vs ${y.length} values`);
  const n = x.length;
  if (n < 2) return null;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0,
    sxx = 0,
    syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  if (sxx === 0 || syy === 0) return null;
  return sxy / Math.sqrt(sxx * syy);
}
