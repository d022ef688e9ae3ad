// The evaluation's output files, each written atomically (temp file in the same folder, fsync, rename).
import { makeDir } from '../util/mkdir.ts';
import { dirname, join } from 'node:path';
import { atomicWriteFile } from '../util/atomic.ts';
import type { ResultsJson } from './results.ts';
import { renderReport } from './report.ts';
import { renderChart } from './chart.ts';

/** Write `text` so that readers see the old file or the new one, never a half-written one (creates the folder). */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  makeDir(dirname(path), '--out'); // EROFS/EACCES reported as such (Node's recursive mkdir says ENOENT)
  await atomicWriteFile(path, text);
}

export interface OutputPaths {
  results: string;
  predictions: string;
  report: string;
  chart: string;
}

export function outputPaths(outDir: string): OutputPaths {
  return {
    results: join(outDir, 'results.json'),
    predictions: join(outDir, 'predictions.jsonl'),
    report: join(outDir, 'report.md'),
    chart: join(outDir, 'chart.svg'),
  };
}

/** results.json, report.md and chart.svg (predictions.jsonl is written by the runner as it goes). */
export async function writeOutputs(outDir: string, r: ResultsJson): Promise<OutputPaths> {
  const p = outputPaths(outDir);
  await writeFileAtomic(p.results, JSON.stringify(r, null, 1) + '\n');
  await writeFileAtomic(p.report, renderReport(r));
  await writeFileAtomic(p.chart, renderChart(r));
  return p;
}
