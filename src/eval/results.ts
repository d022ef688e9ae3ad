// results.json: the schema (documented in src/eval/README.md) and its construction from predictions.
import type { MetricSet } from './metrics.ts';
import { classify, meanMetrics, pickMetrics } from './metrics.ts';
import { groupOf, type EvalData } from './data-core.ts';
import type { PromptTemplate } from './tasks.ts';
import type { PredictionRecord } from './score-loop.ts';
import type { ScorerInfo } from './scorer.ts';
import { argmax } from './score-loop.ts';
import { BOOTSTRAP, BOOTSTRAP_METHOD, runIntervals, type Ci95, type LangPreds } from './bootstrap.ts';
import { rulesChosenFirst, SCORING_HELP, type ScoringRule } from './scoring.ts';
import {
  collapseWarning,
  distribution,
  dominantLabel,
  predictedCounts,
  sumConfusions,
  type DominantLabel,
  type LabelDistribution,
} from './distribution.ts';

export const RESULTS_SCHEMA = 'instructalign.eval.results/1';

/** A metric set with the 95 % bootstrap intervals of its accuracy and weighted F1 (issue 25; absent in older files). */
export interface MetricSetCi extends MetricSet {
  ci95?: Ci95;
}

/** Every metric is a fraction in [0, 1] (reports show percent). */
export interface PromptResult extends MetricSetCi {
  prompt: number; // prompt id (1 = EN1, ...)
  n: number; // examples scored
  confusion: number[][]; // [gold][pred] counts, rows/columns in `labels` order
  // Added by issue 19 (schema still /1: files written before lack them; distribution.ts derives them from confusion)
  predicted?: number[]; // how often each label was predicted (confusion column sums), `labels` order
}

export interface LanguageResult {
  lang: string; // ISO 639-3 code (or the CSV's name)
  name: string; // folder / file name
  group: string; // L1 | L2 | L3 | ... | "other"
  n: number; // examples per prompt
  prompts: PromptResult[]; // one per prompt, in `prompts` order
  mean: MetricSetCi; // mean over the prompts
  // Added by issue 19 (absent from older files of the same schema; see languageDistribution):
  confusion?: number[][]; // [gold][pred] summed over the prompts
  predicted?: LabelDistribution; // predicted labels over all prompts: counts and shares, `labels` order
  dominant?: DominantLabel | null; // a label with > 80 % of the predictions (a collapse), else null
}

export interface GroupResult {
  group: string;
  langs: string[]; // languages of this run in the group
  mean: MetricSetCi; // mean of the languages' prompt-averaged metrics
}

/** One scoring rule's results (issue 25): the same shape as the top level's groups / languages / overall. */
export interface ScoringResult {
  rule: ScoringRule;
  definition: string;
  /** why the rule could not score this run (then the metrics are absent) */
  unavailable?: string;
  groups?: GroupResult[];
  languages?: LanguageResult[];
  overall?: MetricSetCi;
}

export interface ResultsJson {
  schema: typeof RESULTS_SCHEMA;
  created: string; // ISO 8601 time
  task: string; // sentiment | emotion | topic
  data: string; // "nusax" or the resolved --data path
  labels: string[]; // label order of scores and confusion matrices
  prompts: { id: number; name: string; template: string }[];
  optionsQuoted: boolean; // [OPTIONS] labels in double quotes
  maxLength: number; // token limit per text (left truncation)
  limit: number | null; // --limit (examples per language), null = all
  model: ScorerInfo;
  groups: GroupResult[]; // in group-definition order, "other" last
  languages: LanguageResult[]; // in evaluation order
  overall: MetricSetCi; // mean over all languages' prompt means
  warnings?: string[]; // one per language whose predictions collapse onto one label (issue 19; absent before)
  // Added by issue 25 (schema still /1; absent in older files, which were scored with the paper's rule):
  scoring?: ScoringRule; // the rule of `groups`, `languages`, `overall` and predictions' `pred`
  scorings?: ScoringResult[]; // every rule from the same pass, the chosen one first
  bootstrap?: { resamples: number; seed: number; level: number; method: string }; // how the ci95 were drawn
  /** only on what a shard run returns (never in a results.json file): its metrics cover its own items */
  shard?: { index: number; count: number; items: number };
}

export interface BuildInput {
  data: EvalData;
  prompts: readonly PromptTemplate[];
  predictions: readonly PredictionRecord[];
  groups: Readonly<Record<string, readonly string[]>>;
  model: ScorerInfo;
  maxLength: number;
  limit?: number;
  optionsQuoted?: boolean;
  created?: Date;
  scoring?: ScoringRule;
}

interface Built {
  languages: LanguageResult[];
  groups: GroupResult[];
  overall: MetricSetCi;
}

/** Metrics per language, prompt and group with `pred` as each record's prediction. */
function buildMetrics(
  b: BuildInput,
  byItem: Map<string, PredictionRecord>,
  pred: (r: PredictionRecord) => string,
): Built {
  const labels = b.data.labels;
  const languages: LanguageResult[] = b.data.langs.map((l) => {
    const prompts = b.prompts.map((p): PromptResult => {
      const recs = l.rows.map((row) => byItem.get(JSON.stringify([l.lang, p.id, row.id]))).filter((r) => !!r);
      const c = classify(
        recs.map((r) => r.gold),
        recs.map(pred),
        labels,
      );
      return {
        prompt: p.id,
        n: c.n,
        ...pickMetrics(c),
        confusion: c.confusion,
        predicted: predictedCounts(c.confusion),
      };
    });
    const confusion = sumConfusions(prompts.map((p) => p.confusion));
    const predicted = distribution(confusion);
    return {
      lang: l.lang,
      name: l.name,
      group: groupOf(l.lang, b.groups),
      n: l.rows.length,
      prompts,
      mean: meanMetrics(prompts),
      confusion,
      predicted,
      dominant: dominantLabel(predicted, labels),
    };
  });
  const order = [...Object.keys(b.groups), 'other'];
  const groups = order
    .map((group) => ({ group, langs: languages.filter((l) => l.group === group) }))
    .filter((g) => g.langs.length > 0)
    .map((g) => ({ group: g.group, langs: g.langs.map((l) => l.lang), mean: meanMetrics(g.langs.map((l) => l.mean)) }));
  return { languages, groups, overall: meanMetrics(languages.map((l) => l.mean)) };
}

/** Label index arrays of one rule for the bootstrap (rows in evaluation order; a missing record counts as absent). */
function langPreds(b: BuildInput, byItem: Map<string, PredictionRecord>, pred: (r: PredictionRecord) => string) {
  const idx = new Map(b.data.labels.map((l, k) => [l, k]));
  return b.data.langs.map((l): LangPreds => {
    const rows = l.rows.filter((row) => b.prompts.every((p) => byItem.has(JSON.stringify([l.lang, p.id, row.id]))));
    return {
      gold: Int32Array.from(rows, (r) => idx.get(r.label) ?? 0),
      preds: b.prompts.map((p) =>
        Int32Array.from(rows, (row) => idx.get(pred(byItem.get(JSON.stringify([l.lang, p.id, row.id]))!)) ?? 0),
      ),
    };
  });
}

/** The rule's prediction of a record, or null when the record has no (complete) scores under it. */
function rulePred(r: PredictionRecord, rule: ScoringRule, chosen: ScoringRule, labels: readonly string[]) {
  if (rule === chosen) return r.pred;
  const s = r.scoresBy?.[rule];
  if (!s || s.length !== labels.length || s.some((v) => v === null)) return null;
  return labels[argmax(s as number[])];
}

export function buildResults(b: BuildInput): ResultsJson {
  const labels = b.data.labels;
  const chosen = b.scoring ?? 'paper';
  const byItem = new Map(b.predictions.map((r) => [JSON.stringify([r.lang, r.prompt, r.id]), r]));
  const rules = rulesChosenFirst(chosen).filter(
    (rule) => rule === chosen || b.predictions.every((r) => rulePred(r, rule, chosen, labels) !== null),
  );
  const built = rules.map((rule) => {
    const pred = (r: PredictionRecord) => rulePred(r, rule, chosen, labels)!;
    return { rule, built: buildMetrics(b, byItem, pred), preds: langPreds(b, byItem, pred) };
  });
  // intervals: one set of draws for every rule
  const groupIdx = built[0].built.groups.map((g) => g.langs.map((l) => b.data.langs.findIndex((x) => x.lang === l)));
  const cis = runIntervals(
    built.map((x) => x.preds),
    groupIdx,
    labels.length,
  );
  built.forEach(({ built: m }, k) => {
    const c = cis[k];
    m.languages.forEach((l, i) => {
      l.prompts.forEach((p, j) => (p.ci95 = c.prompts[i][j]));
      l.mean.ci95 = c.langs[i];
    });
    m.groups.forEach((g, i) => (g.mean.ci95 = c.groups[i]));
    m.overall.ci95 = c.overall;
  });
  const main = built[0].built;
  const scorings: ScoringResult[] = rulesChosenFirst(chosen).map((rule) => {
    const x = built.find((y) => y.rule === rule);
    return x
      ? { rule, definition: SCORING_HELP[rule], ...x.built }
      : {
          rule,
          definition: SCORING_HELP[rule],
          unavailable: 'some predictions hold no scores under this rule (see docs/evaluation.md)',
        };
  });
  return {
    schema: RESULTS_SCHEMA,
    created: (b.created ?? new Date()).toISOString(),
    task: b.data.task,
    data: b.data.source,
    labels: [...labels],
    prompts: b.prompts.map(({ id, name, template }) => ({ id, name, template })),
    optionsQuoted: !!b.optionsQuoted,
    maxLength: b.maxLength,
    limit: b.limit ?? null,
    model: b.model,
    groups: main.groups,
    languages: main.languages,
    overall: main.overall,
    warnings: main.languages.flatMap((l) =>
      l.dominant && l.predicted ? [collapseWarning(l.lang, l.dominant, l.predicted.n)] : [],
    ),
    scoring: chosen,
    scorings,
    bootstrap: { ...BOOTSTRAP, method: BOOTSTRAP_METHOD },
  };
}
