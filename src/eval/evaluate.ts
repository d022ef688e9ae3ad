// One evaluation end to end: score (resumable) → metrics per language × prompt → results.json, report.md, chart.svg.
import { makeDir } from '../util/mkdir.ts';
import type { Scorer } from './scorer.ts';
import type { EvalData } from './datasets.ts';
import type { OptionsFormat, PromptTemplate } from './tasks.ts';
import { runEval, type RunProgress } from './runner.ts';
import { buildResults, type ResultsJson } from './results.ts';
import { outputPaths, writeOutputs, type OutputPaths } from './output.ts';
import type { ScoringRule } from './scoring.ts';
import { claimEvalFolder, evalFingerprint } from './fingerprint.ts';

export interface EvaluateOptions {
  scorer: Scorer;
  data: EvalData;
  prompts: readonly PromptTemplate[];
  groups: Readonly<Record<string, readonly string[]>>;
  outDir: string;
  batchSize?: number;
  maxLength?: number;
  limit?: number;
  options?: OptionsFormat;
  signal?: AbortSignal;
  onProgress?: (p: RunProgress) => void;
  overwrite?: boolean; // delete an earlier evaluation's files in outDir instead of resuming it
  scoring?: ScoringRule; // which rule picks the predictions (default paper); all three are reported
}

export interface EvaluateResult {
  results: ResultsJson;
  paths: OutputPaths;
  computed: number;
  resumed: number;
  droppedTornLine: boolean;
  /** earlier predictions not reused because their example's text changed since (scored again) */
  textChanged: number;
}

export async function evaluate(o: EvaluateOptions): Promise<EvaluateResult> {
  makeDir(o.outDir, '--out');
  const paths = outputPaths(o.outDir);
  const maxLength = o.maxLength ?? 1024;
  // resume only what this very model and setting produced (fingerprint.ts)
  // (the model's files and int8 threshold come from the scorer: what was loaded, not what the folder holds now)
  const fp = await evalFingerprint({
    model: o.scorer.describe(),
    maxLength,
    task: o.data.task,
    labels: o.data.labels,
    prompts: o.prompts,
    optionsQuoted: !!o.options?.quote,
    scoring: o.scoring,
  });
  await claimEvalFolder(o.outDir, fp, o.overwrite ?? false);
  const run = await runEval({
    scorer: o.scorer,
    data: o.data,
    prompts: o.prompts,
    predictionsPath: paths.predictions,
    batchSize: o.batchSize,
    maxLength,
    options: o.options,
    scoring: o.scoring,
    signal: o.signal,
    onProgress: o.onProgress,
  });
  const results = buildResults({
    data: o.data,
    prompts: o.prompts,
    predictions: run.predictions,
    groups: o.groups,
    model: o.scorer.describe(),
    maxLength,
    limit: o.limit,
    optionsQuoted: !!o.options?.quote,
    scoring: o.scoring,
  });
  await writeOutputs(o.outDir, results);
  return {
    results,
    paths,
    computed: run.computed,
    resumed: run.resumed,
    droppedTornLine: run.droppedTornLine,
    textChanged: run.textChanged,
  };
}
