// results.json: the schema (documented in src/eval/README.md) and its construction from predictions.
import type { MetricSet } from './metrics.ts';
import { classify, meanMetrics, pickMetrics } from './metrics.ts';
import { groupOf, type EvalData } from './data-core.ts';
import type { PromptTemplate } from './tasks.ts';
import type { PredictionRecord } from './score-loop.ts';
import type { ScorerInfo } from './scorer.ts';
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

/** Every metric is a fraction in [0, 1] (reports show percent). */
export interface PromptResult extends MetricSet {
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
  mean: MetricSet; // mean over the prompts
  // Added by issue 19 (absent from older files of the same schema; see languageDistribution):
  confusion?: number[][]; // [gold][pred] summed over the prompts
  predicted?: LabelDistribution; // predicted labels over all prompts: counts and shares, `labels` order
  dominant?: DominantLabel | null; // a label with > 80 % of the predictions (a collapse), else null
}

export interface GroupResult {
  group: string;
  langs: string[]; // languages of this run in the group
  mean: MetricSet; // mean of the languages' prompt-averaged metrics
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
  overall: MetricSet; // mean over all languages' prompt means
  warnings?: string[]; // one per language whose predictions collapse onto one label (issue 19; absent before)
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
}

export function buildResults(b: BuildInput): ResultsJson {
  const labels = b.data.labels;
  const languages: LanguageResult[] = b.data.langs.map((l) => {
    const prompts = b.prompts.map((p): PromptResult => {
      const recs = b.predictions.filter((r) => r.lang === l.lang && r.prompt === p.id);
      const c = classify(
        recs.map((r) => r.gold),
        recs.map((r) => r.pred),
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
    groups,
    languages,
    overall: meanMetrics(languages.map((l) => l.mean)),
    warnings: languages.flatMap((l) =>
      l.dominant && l.predicted ? [collapseWarning(l.lang, l.dominant, l.predicted.n)] : [],
    ),
  };
}
