// Node only: an evaluation folder's results.json, read and checked (compare.ts itself stays browser-safe).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseResults } from './compare.ts';
import type { ResultsJson } from './results.ts';
import type { EvalRun } from './compare-runs.ts';
import { readPredictions } from './predictions.ts';

export function loadResults(dir: string): ResultsJson {
  const file = join(dir, 'results.json');
  if (!existsSync(file)) throw new Error(`no results.json in ${dir} (run 'instructalign eval --out ${dir}' first)`);
  return parseResults(readFileSync(file, 'utf8'), file);
}

/** An evaluation folder for compare: results.json, and predictions.jsonl and fingerprint.json when present. */
export function loadRun(dir: string): EvalRun {
  const results = loadResults(dir);
  const preds = join(dir, 'predictions.jsonl');
  const fp = join(dir, 'fingerprint.json');
  let fingerprint: Record<string, unknown> | undefined;
  if (existsSync(fp))
    try {
      fingerprint = JSON.parse(readFileSync(fp, 'utf8'));
    } catch {
      fingerprint = undefined;
    }
  return {
    dir,
    results,
    predictions: existsSync(preds) ? readPredictions(preds, false).records : undefined,
    fingerprint,
  };
}
