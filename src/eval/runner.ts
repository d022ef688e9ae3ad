// The resumable scoring run: the loop of score-loop.ts, with finished items appended to predictions.jsonl as they are
// made, so a rerun skips them.
import type { Scorer } from './scorer.ts';
import type { EvalData } from './datasets.ts';
import type { OptionsFormat, PromptTemplate } from './tasks.ts';
import { PredictionLog, predictionKey, readPredictions, type PredictionRecord } from './predictions.ts';
import type { ScoringRule } from './scoring.ts';
import { itemKey, scoreItems, workItems, type RunProgress, type WorkItem } from './score-loop.ts';
import { textHash } from './text-hash.ts';
import { atomicWriteFile } from '../util/atomic.ts';

export { argmax, type RunProgress } from './score-loop.ts';

export interface RunOptions {
  scorer: Scorer;
  data: EvalData;
  prompts: readonly PromptTemplate[];
  predictionsPath: string;
  /** texts per Scorer call (an example's label texts are never split across calls; default 32) */
  batchSize?: number;
  /** token limit per text, left-truncated by the scorer (default 1024, as the official evaluation) */
  maxLength?: number;
  options?: OptionsFormat;
  scoring?: ScoringRule;
  /** score only these items (a shard); default every item of the data */
  items?: readonly WorkItem[];
  signal?: AbortSignal;
  onProgress?: (p: RunProgress) => void;
  now?: () => number;
}

export interface RunResult {
  predictions: PredictionRecord[];
  computed: number;
  resumed: number;
  droppedTornLine: boolean;
  /** records left out because their example's text changed since they were made (those examples are rescored) */
  textChanged: number;
}

/**
 * Records of the log that belong to this run's items (the last record of an item wins: a rescored example's new
 * record follows its old one). A record made for another text (same id, the data file edited since) is not reused:
 * the example is scored again. A record that contradicts its item (gold, labels) is an error.
 */
function matchFinished(
  items: readonly WorkItem[],
  records: readonly PredictionRecord[],
  labels: readonly string[],
  path: string,
) {
  const previous = new Map(records.map((r) => [predictionKey(r.lang, r.prompt, r.id), r]));
  const results = new Map<string, PredictionRecord>();
  const stale = new Set<string>();
  for (const it of items) {
    const r = previous.get(itemKey(it));
    if (!r) continue;
    if (r.textHash !== textHash(it.row.text)) {
      stale.add(itemKey(it));
      continue;
    }
    if (r.gold !== it.row.label || r.scores.length !== labels.length || !labels.includes(r.pred)) {
      throw new Error(
        `${path} holds ${it.lang}/${it.row.id} (prompt ${it.prompt.id}) for other data or labels ` +
          `(gold "${r.gold}", ${r.scores.length} scores); delete it or choose another --out`,
      );
    }
    results.set(itemKey(it), r);
  }
  return { results, stale };
}

export async function runEval(o: RunOptions): Promise<RunResult> {
  const items = o.items ?? workItems(o.data, o.prompts);
  const { records, droppedTornLine } = readPredictions(o.predictionsPath);
  const { results, stale } = matchFinished(items, records, o.data.labels, o.predictionsPath);
  // the records of changed texts leave the file (rewritten atomically) before their new ones are appended
  if (stale.size)
    await atomicWriteFile(
      o.predictionsPath,
      records
        .filter((r) => !stale.has(predictionKey(r.lang, r.prompt, r.id)))
        .map((r) => JSON.stringify(r) + '\n')
        .join(''),
    );
  const textChanged = stale.size;
  const resumed = results.size;
  const log = new PredictionLog(o.predictionsPath);
  try {
    const predictions = await scoreItems({
      scorer: o.scorer,
      labels: o.data.labels,
      items,
      results,
      batchSize: o.batchSize,
      maxLength: o.maxLength,
      options: o.options,
      scoring: o.scoring,
      signal: o.signal,
      onProgress: o.onProgress,
      now: o.now,
      onBatch: (made) => log.append(made),
    });
    return { predictions, computed: items.length - resumed, resumed, droppedTornLine, textChanged };
  } finally {
    log.close();
  }
}
