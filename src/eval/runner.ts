// The scoring loop: every (language, prompt, example) × label is filled, scored in batches through a Scorer, and the
// argmax label predicted. Finished items go to predictions.jsonl as they are made, so a rerun skips them.
import type { Scorer } from './scorer.ts';
import type { EvalData, Example } from './datasets.ts';
import { labelTexts, type OptionsFormat, type PromptTemplate } from './tasks.ts';
import { PredictionLog, predictionKey, readPredictions, type PredictionRecord } from './predictions.ts';
import { estimateEta } from '../util/progress.ts';

export interface RunProgress { done: number; total: number; resumed: number; etaSeconds: number }

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
  signal?: AbortSignal;
  onProgress?: (p: RunProgress) => void;
  now?: () => number;
}

export interface RunResult { predictions: PredictionRecord[]; computed: number; resumed: number; droppedTornLine: boolean }

interface WorkItem { lang: string; prompt: PromptTemplate; row: Example }

/** Index of the largest score; ties go to the first (numpy.argmax). */
export function argmax(scores: readonly number[]): number {
  let best = 0;
  for (let k = 1; k < scores.length; k++) if (scores[k] > scores[best]) best = k;
  return best;
}

const itemKey = (it: WorkItem) => predictionKey(it.lang, it.prompt.id, it.row.id);

/** Records of the log that belong to this run's items; a record that contradicts its item (gold, labels) is an error. */
function matchFinished(items: readonly WorkItem[], records: readonly PredictionRecord[], labels: readonly string[], path: string) {
  const previous = new Map(records.map((r) => [predictionKey(r.lang, r.prompt, r.id), r]));
  const results = new Map<string, PredictionRecord>();
  for (const it of items) {
    const r = previous.get(itemKey(it));
    if (!r) continue;
    if (r.gold !== it.row.label || r.scores.length !== labels.length || !labels.includes(r.pred)) {
      throw new Error(`${path} holds ${it.lang}/${it.row.id} (prompt ${it.prompt.id}) for other data or labels `
        + `(gold "${r.gold}", ${r.scores.length} scores); delete it or choose another --out`);
    }
    results.set(itemKey(it), r);
  }
  return results;
}

export async function runEval(o: RunOptions): Promise<RunResult> {
  const { data, scorer } = o;
  const labels = data.labels;
  const batchSize = Math.max(1, o.batchSize ?? 32);
  const now = o.now ?? Date.now;
  const items: WorkItem[] = [];
  for (const l of data.langs) for (const prompt of o.prompts) for (const row of l.rows) items.push({ lang: l.lang, prompt, row });

  const { records, droppedTornLine } = readPredictions(o.predictionsPath);
  const results = matchFinished(items, records, labels, o.predictionsPath);
  const resumed = results.size;
  const todo = items.filter((it) => !results.has(itemKey(it)));
  const total = items.length;
  const start = now();
  const report = () => o.onProgress?.({
    done: results.size, total, resumed, etaSeconds: estimateEta(results.size, total, resumed, start, now()),
  });
  report();

  const log = new PredictionLog(o.predictionsPath);
  try {
    for (let k = 0; k < todo.length;) {
      o.signal?.throwIfAborted();
      const batch: WorkItem[] = [];
      while (k < todo.length && (batch.length === 0 || (batch.length + 1) * labels.length <= batchSize)) batch.push(todo[k++]);
      const texts = batch.flatMap((it) => labelTexts(it.prompt.template, it.row.text, labels, o.options));
      const scores = await scorer.scoreTexts(texts, { maxLength: o.maxLength ?? 1024 });
      if (scores.length !== texts.length) throw new Error(`scorer returned ${scores.length} scores for ${texts.length} texts`);
      const made = batch.map((it, b): PredictionRecord => {
        // JSON has no -Infinity (log p = 0 in low precision): keep it as the most negative finite number.
        const s = scores.slice(b * labels.length, (b + 1) * labels.length).map((v) => (v === -Infinity ? -Number.MAX_VALUE : v));
        if (s.some((v) => !Number.isFinite(v))) throw new Error(`scorer returned ${s} for ${it.lang}/${it.row.id} prompt ${it.prompt.id} (expected finite log-probs)`);
        return { id: it.row.id, lang: it.lang, prompt: it.prompt.id, gold: it.row.label, pred: labels[argmax(s)], scores: s };
      });
      log.append(made);
      for (const r of made) results.set(predictionKey(r.lang, r.prompt, r.id), r);
      report();
    }
  } finally {
    log.close();
  }
  const predictions = items.map((it) => results.get(itemKey(it))!);
  return { predictions, computed: total - resumed, resumed, droppedTornLine };
}
