// Node side of the translation evaluation: read the pairs file, run, write results.json, predictions.jsonl and
// report.md atomically into a fresh --out (an existing results.json is not overwritten).
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LangNames } from '../train/data/langs.ts';
import { readParallel } from '../train/data/node-io.ts';
import { floresSplit } from '../train/data/parallel.ts';
import { writeFileAtomic } from './output.ts';
import {
  type Generator,
  type TranslationPrediction,
  type TranslationResults,
  renderTranslationReport,
  runTranslation,
} from './translation.ts';

export interface TranslationFilesOptions {
  generator: Generator;
  pairs: string; // --data: any --pairs format with aligned rows (CSV/TSV, JSONL, FLORES folder, a.eng,b.tgl)
  l1: readonly string[];
  l2: readonly string[];
  prompts: readonly number[];
  outDir: string;
  limit?: number;
  maxNewTokens?: number;
  langNames?: LangNames;
  columns?: Readonly<Record<string, string>>;
  /** evaluate on the rows `train --flores-held-out N` held out (floresSplit, seed 0) instead of all rows */
  floresHeldOut?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export async function evaluateTranslationFiles(
  o: TranslationFilesOptions,
): Promise<{ results: TranslationResults; predictions: TranslationPrediction[]; paths: string[] }> {
  const results = join(o.outDir, 'results.json');
  if (existsSync(results))
    throw new Error(`${results} exists: choose another --out (or delete it) to run the translation evaluation again`);
  if (o.floresHeldOut && !statSync(o.pairs, { throwIfNoEntry: false })?.isDirectory())
    throw new Error(`--flores-held-out is for a FLORES-200 folder (as in train); --data ${o.pairs} is not one`);
  const src = readParallel(o.pairs, { names: o.langNames, columns: o.columns });
  if (src.kind !== 'aligned')
    throw new Error(
      `--data ${o.pairs}: translation needs aligned rows (CSV/TSV, flat or HF JSONL, FLORES, a.eng,b.tgl)`,
    );
  const all = { ...src.corpus, source: resolve(o.pairs) };
  const corpus = o.floresHeldOut ? floresSplit(all, { heldOut: o.floresHeldOut, seed: 0 }).test : all;
  const run = await runTranslation({ ...o, corpus });
  const paths = [results, join(o.outDir, 'predictions.jsonl'), join(o.outDir, 'report.md')];
  await writeFileAtomic(paths[1], run.predictions.map((p) => JSON.stringify(p)).join('\n') + '\n');
  await writeFileAtomic(paths[2], renderTranslationReport(run.results, run.predictions));
  await writeFileAtomic(paths[0], JSON.stringify(run.results, null, 1) + '\n');
  return { ...run, paths };
}
