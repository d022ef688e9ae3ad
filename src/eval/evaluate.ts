// One evaluation end to end: score (resumable) → metrics per language × prompt → results.json, report.md, chart.svg.
import { makeDir } from '../util/mkdir.ts';
import type { Scorer } from './scorer.ts';
import type { EvalData } from './datasets.ts';
import type { OptionsFormat, PromptTemplate } from './tasks.ts';
import { runEval, type RunProgress } from './runner.ts';
import { buildResults, type ResultsJson } from './results.ts';
import { outputPaths, writeOutputs, type OutputPaths } from './output.ts';
import type { ScoringRule } from './scoring.ts';
import { shardItems, shardName, type ShardSpec } from './shard.ts';
import { workItems } from './score-loop.ts';
import { shardManifest, writeShardManifest } from './merge.ts';
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
  /** evaluate only this shard of the items (shard.ts); the folder gets shard.json instead of results.json etc. */
  shard?: ShardSpec;
}

export interface EvaluateResult {
  results: ResultsJson;
  paths: OutputPaths;
  computed: number;
  resumed: number;
  droppedTornLine: boolean;
  /** earlier predictions not reused because their example's text changed since (scored again) */
  textChanged: number;
  /** a shard run: its shard.json (results.json, report.md and chart.svg are written by merge) */
  shardManifest?: string;
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
    shard: o.shard ? shardName(o.shard) : undefined,
  });
  await claimEvalFolder(o.outDir, fp, o.overwrite ?? false);
  const items = o.shard ? shardItems(workItems(o.data, o.prompts), o.shard) : undefined;
  const run = await runEval({
    items,
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
  let shardManifestPath: string | undefined;
  if (o.shard) {
    // a shard's metrics cover its own items only: returned (flagged), not written; merge writes the run's
    results.shard = { ...o.shard, items: items!.length };
    shardManifestPath = await writeShardManifest(
      o.outDir,
      shardManifest({
        data: o.data,
        prompts: o.prompts,
        groups: o.groups,
        maxLength,
        limit: o.limit,
        optionsQuoted: !!o.options?.quote,
        scoring: o.scoring ?? 'paper',
        model: o.scorer.describe(),
        shard: o.shard,
        fingerprint: fp,
        items: items!.length,
      }),
    );
  } else await writeOutputs(o.outDir, results);
  return {
    results,
    paths,
    computed: run.computed,
    resumed: run.resumed,
    droppedTornLine: run.droppedTornLine,
    textChanged: run.textChanged,
    ...(shardManifestPath ? { shardManifest: shardManifestPath } : {}),
  };
}
