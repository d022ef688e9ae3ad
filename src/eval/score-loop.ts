// The browser-safe scoring loop (no node:fs): every (language, prompt, example) × label is filled, scored in batches
// through a Scorer, and the argmax label predicted. runner.ts adds the resumable predictions.jsonl around it; the
// browser worker runs it as is.
import { EVAL_FIELDS } from '../api/requests/eval.ts';
import type { Scorer } from './scorer.ts';
import type { EvalData, Example } from './data-core.ts';
import { fillPrompt, labelTexts, type OptionsFormat, type PromptTemplate } from './tasks.ts';
import { estimateEta } from '../util/progress.ts';
import { labelSpan, ruleScores, type RuleScores, type ScoringRule } from './scoring.ts';
import { textHash } from './text-hash.ts';

export interface PredictionRecord {
  id: string; // example id from the CSV
  lang: string; // language code
  prompt: number; // prompt id (1 = EN1, ...)
  gold: string; // gold label
  pred: string; // argmax label (ties → the first label)
  scores: number[]; // each label's score under the run's --scoring rule, in the task's label order
  /** every rule's scores from the same pass (null: the rule cannot score that label); absent in older files */
  scoresBy?: RuleScores;
  textHash?: string; // hash of the example's text (textHash in text-hash.ts); absent in older files
}

export const predictionKey = (lang: string, prompt: number, id: string) => JSON.stringify([lang, prompt, id]);

export interface RunProgress {
  done: number;
  total: number;
  resumed: number;
  etaSeconds: number;
}

export interface WorkItem {
  lang: string;
  prompt: PromptTemplate;
  row: Example;
}

export const itemKey = (it: WorkItem) => predictionKey(it.lang, it.prompt.id, it.row.id);

/** Index of the largest score; ties go to the first (numpy.argmax). */
export function argmax(scores: readonly number[]): number {
  let best = 0;
  for (let k = 1; k < scores.length; k++) if (scores[k] > scores[best]) best = k;
  return best;
}

/** Every (language, prompt, example) of a run, in evaluation order. */
export function workItems(data: EvalData, prompts: readonly PromptTemplate[]): WorkItem[] {
  const items: WorkItem[] = [];
  for (const l of data.langs)
    for (const prompt of prompts) for (const row of l.rows) items.push({ lang: l.lang, prompt, row });
  return items;
}

export interface ScoreLoopOptions {
  scorer: Scorer;
  labels: readonly string[];
  items: readonly WorkItem[];
  /** records already made (by itemKey); they are kept and not scored again. Filled as the loop goes. */
  results: Map<string, PredictionRecord>;
  /** texts per Scorer call (an example's label texts are never split across calls; default: evaluate's, 16) */
  batchSize?: number;
  /** token limit per text, left-truncated by the scorer (default 1024, as the official evaluation) */
  maxLength?: number;
  options?: OptionsFormat;
  /** which rule's scores pick the prediction (default paper); all three are recorded */
  scoring?: ScoringRule;
  signal?: AbortSignal;
  onProgress?: (p: RunProgress) => void;
  /** each batch's new records, in order, right after they are made */
  onBatch?: (made: PredictionRecord[]) => void;
  now?: () => number;
}

/** Scores the items not in `results`; returns every item's record in `items` order. */
export async function scoreItems(o: ScoreLoopOptions): Promise<PredictionRecord[]> {
  const { scorer, labels, items, results } = o;
  const batchSize = Math.max(1, o.batchSize ?? EVAL_FIELDS.batchSize.default);
  const scoring = o.scoring ?? 'paper';
  const now = o.now ?? Date.now;
  const resumed = results.size;
  const todo = items.filter((it) => !results.has(itemKey(it)));
  const total = items.length;
  const start = now();
  const report = () =>
    o.onProgress?.({
      done: results.size,
      total,
      resumed,
      etaSeconds: estimateEta(results.size, total, resumed, start, now()),
    });
  report();
  for (let k = 0; k < todo.length; ) {
    o.signal?.throwIfAborted();
    const batch: WorkItem[] = [];
    while (k < todo.length && (batch.length === 0 || (batch.length + 1) * labels.length <= batchSize))
      batch.push(todo[k++]);
    const texts = batch.flatMap((it) => labelTexts(it.prompt.template, it.row.text, labels, o.options));
    const opts = { maxLength: o.maxLength ?? 1024, groupSize: labels.length };
    const detailed = scorer.scoreTokens ? await scorer.scoreTokens(texts, opts) : undefined;
    const means = detailed ? detailed.map((d) => d.mean) : await scorer.scoreTexts(texts, opts);
    if (means.length !== texts.length)
      throw new Error(`scorer returned ${means.length} scores for ${texts.length} texts`);
    const made = batch.map((it, b): PredictionRecord => {
      const at = b * labels.length;
      const prompt = fillPrompt(it.prompt.template, it.row.text, labels, o.options);
      const by: RuleScores = detailed
        ? ruleScores(
            detailed.slice(at, at + labels.length),
            labels,
            labels.map((l) => labelSpan(prompt, l)),
          )
        : {
            paper: means.slice(at, at + labels.length),
            label: labels.map(() => null),
            'label-norm': labels.map(() => null),
          };
      // JSON has no -Infinity (log p = 0 in low precision): keep it as the most negative finite number.
      for (const r of Object.keys(by) as ScoringRule[])
        by[r] = by[r].map((v) => (v === -Infinity ? -Number.MAX_VALUE : v));
      const s = by[scoring];
      if (s.some((v) => v === null) && scoring !== 'paper')
        throw new Error(
          `--scoring ${scoring}: no scored token covers label "${labels[s.indexOf(null)]}" in ${it.lang}/${it.row.id} ` +
            `prompt ${it.prompt.id} (the label is the first token or truncated away${detailed ? '' : ', or the model gives no token log-probs'}); ` +
            'put text before [LABELS_CHOICE], raise --max-length, or use --scoring paper',
        );
      if (s.some((v) => !Number.isFinite(v)))
        throw new Error(
          `scorer returned ${s} for ${it.lang}/${it.row.id} prompt ${it.prompt.id} (expected finite log-probs)`,
        );
      const scores = s as number[];
      return {
        id: it.row.id,
        lang: it.lang,
        prompt: it.prompt.id,
        gold: it.row.label,
        pred: labels[argmax(scores)],
        scores,
        scoresBy: by,
        textHash: textHash(it.row.text),
      };
    });
    o.onBatch?.(made);
    for (const r of made) results.set(predictionKey(r.lang, r.prompt, r.id), r);
    report();
  }
  return items.map((it) => results.get(itemKey(it))!);
}
