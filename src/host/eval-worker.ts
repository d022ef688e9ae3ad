// Evaluation inside the browser worker: rows or CSV text in, the same results.json object as `instructalign eval`
// out. Only browser-safe modules of src/eval are used (data-core, score-loop, results), with the CLI's defaults.
import { parseCsvTable } from '../util/csv-parse.ts';
import {
  DEFAULT_GROUPS,
  NUSAX_LANGS,
  classificationRows,
  pickLangs,
  type EvalData,
  type Example,
} from '../eval/data-core.ts';
import { customPrompts, DEFAULT_LABELS, isTask, selectPrompts, TASKS, type TaskName } from '../eval/tasks.ts';
import { scoreItems, workItems, type PredictionRecord, type RunProgress } from '../eval/score-loop.ts';
import { buildResults, type ResultsJson } from '../eval/results.ts';
import { scorerFromRuntime, type RuntimeLike, type ScorerInfo } from '../eval/scorer.ts';

/** One language's rows: objects (id, text, label) or the text of an id,text,label CSV. */
export type LangRows = readonly { id: string | number; text: string; label: string | number }[] | string;

export interface EvalRequest {
  task?: string; // sentiment (default) | emotion | topic
  /** rows by language code, or one CSV text (its language is `name`, default "csv") */
  data: Record<string, LangRows> | string;
  name?: string; // the language of a single CSV text
  /** "nusax" when `data` holds NusaX test splits by ISO code (the default when every key is a NusaX code) */
  source?: string;
  labels?: string[]; // default: the task's labels (sentiment: negative, neutral, positive)
  langs?: string[]; // which languages, in this order (default: all, NusaX order first)
  prompts?: number[]; // prompt ids (default 1,2,3)
  /** your own templates instead ([INPUT], [OPTIONS], [LABELS_CHOICE]), as the CLI's --prompt; task: any name */
  templates?: string[];
  limit?: number; // first N rows per language
  batchSize?: number; // texts per scoring call = GPU micro-batch (default 16, as the CLI)
  prefixSharing?: boolean; // each example's prompt computed once for all labels (default true)
  maxLength?: number; // tokens per text, left-truncated (default 1024)
  groups?: Record<string, string[]>; // default: the paper's L1/L2/L3
  quoteOptions?: boolean; // [OPTIONS] as "a", "b", or "c"
}

export interface EvalProgress extends RunProgress {
  predictions: PredictionRecord[];
}

const nusaxFolder = (code: string) => NUSAX_LANGS.find((l) => l.code === code)?.folder;

/** The request as the CLI's EvalData (same label normalisation, limit and errors as its CSV loader). */
export function evalData(req: EvalRequest): EvalData {
  const task = req.task ?? (req.templates ? 'classification' : 'sentiment');
  if (!req.templates && !isTask(task)) throw new Error(`task must be one of ${TASKS.join(', ')}, got "${task}"`);
  const labels = req.labels ?? DEFAULT_LABELS[task as TaskName]?.slice();
  if (!labels?.length) throw new Error(`task ${task} needs labels (the label names, in order)`);
  if (req.limit !== undefined && (!Number.isInteger(req.limit) || req.limit < 1))
    throw new Error(`limit must be a positive integer, got ${req.limit}`);
  const byLang: Record<string, LangRows> = typeof req.data === 'string' ? { [req.name ?? 'csv']: req.data } : req.data;
  const order = NUSAX_LANGS.map((l) => l.code);
  const rank = (l: string) => (order.includes(l) ? order.indexOf(l) : order.length);
  const available = Object.keys(byLang).sort((a, b) => rank(a) - rank(b));
  if (!available.length) throw new Error('evaluate: no data (pass rows or CSV text per language)');
  const langs = pickLangs(available, req.langs, 'the given data');
  const isNusax = available.every((l) => nusaxFolder(l));
  return {
    source: req.source ?? (isNusax ? 'nusax' : 'browser'),
    task,
    labels,
    langs: langs.map((lang) => {
      const name = (req.source ?? (isNusax ? 'nusax' : '')) === 'nusax' ? (nusaxFolder(lang) ?? lang) : lang;
      const file = `${name}.csv`;
      const raw = byLang[lang];
      const table =
        typeof raw === 'string'
          ? parseCsvTable(raw, file)
          : {
              header: ['id', 'text', 'label'],
              rows: raw.map((r) => ({ id: String(r.id), text: String(r.text), label: String(r.label) })),
              lines: raw.map((_, k) => k + 2), // as if row k were line k+2 of a CSV with a header
            };
      const fix = `(or its 0-based index; change the file's label column)`; // a page has no --labels flag
      const rows: Example[] = classificationRows(table, file, labels, req.limit, fix);
      return { lang, name, file, rows };
    }),
  };
}

/** Scores every (language, prompt, example) and returns results.json; `onProgress` gets each batch's records. */
export async function evaluateRequest(
  rt: RuntimeLike,
  info: ScorerInfo,
  req: EvalRequest,
  opts: { signal?: AbortSignal; onProgress?: (p: EvalProgress) => void } = {},
): Promise<ResultsJson> {
  const data = evalData(req);
  const prompts = req.templates
    ? customPrompts(req.templates)
    : selectPrompts(data.task as TaskName, [...new Set(req.prompts ?? [1, 2, 3])]);
  const batchSize = req.batchSize ?? 16;
  const maxLength = req.maxLength ?? 1024;
  for (const [k, v] of [
    ['batchSize', batchSize],
    ['maxLength', maxLength],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${k} must be a positive integer, got ${v}`);
  }
  const scorer = scorerFromRuntime(rt, info, batchSize, req.prefixSharing ?? true);
  let made: PredictionRecord[] = [];
  const predictions = await scoreItems({
    scorer,
    labels: data.labels,
    items: workItems(data, prompts),
    results: new Map(),
    batchSize,
    maxLength,
    options: { quote: !!req.quoteOptions },
    signal: opts.signal,
    onBatch: (m) => {
      made = m;
    },
    onProgress: (p) => {
      opts.onProgress?.({ ...p, predictions: made });
      made = [];
    },
  });
  return buildResults({
    data,
    prompts,
    predictions,
    groups: req.groups ?? DEFAULT_GROUPS,
    model: info,
    maxLength,
    limit: req.limit,
    optionsQuoted: !!req.quoteOptions,
  });
}
