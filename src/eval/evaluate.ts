// One evaluation end to end: score (resumable) → metrics per language × prompt → results.json, report.md, chart.svg.
import { mkdirSync } from 'node:fs';
import type { Scorer } from './scorer.ts';
import type { EvalData } from './datasets.ts';
import type { OptionsFormat, PromptTemplate } from './tasks.ts';
import { runEval, type RunProgress } from './runner.ts';
import { buildResults, type ResultsJson } from './results.ts';
import { outputPaths, writeOutputs, type OutputPaths } from './output.ts';

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
}

export interface EvaluateResult {
  results: ResultsJson;
  paths: OutputPaths;
  computed: number;
  resumed: number;
  droppedTornLine: boolean;
}

export async function evaluate(o: EvaluateOptions): Promise<EvaluateResult> {
  mkdirSync(o.outDir, { recursive: true });
  const paths = outputPaths(o.outDir);
  const maxLength = o.maxLength ?? 1024;
  const run = await runEval({
    scorer: o.scorer,
    data: o.data,
    prompts: o.prompts,
    predictionsPath: paths.predictions,
    batchSize: o.batchSize,
    maxLength,
    options: o.options,
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
  });
  await writeOutputs(o.outDir, results);
  return { results, paths, computed: run.computed, resumed: run.resumed, droppedTornLine: run.droppedTornLine };
}
