// Evaluation inside the browser worker: rows or CSV text in, the same results.json object as `instructalign eval`
// out. Only browser-safe modules of src/eval are used (data-core, score-loop, results), with the CLI's defaults.
import { parseCsvTable } from '../util/csv-parse.ts';
import { RequestError, type RequestOf } from '../api/requests/core.ts';
import { EVALUATE_ROWS, type LangRows } from '../api/requests/eval.ts';
import {
  DEFAULT_GROUPS,
  NUSAX_LANGS,
  classificationRows,
  parseClassificationText,
  pickLangs,
  type EvalData,
  type Example,
} from '../eval/data-core.ts';
import { customPrompts, DEFAULT_LABELS, isTask, selectPrompts, TASKS, type TaskName } from '../eval/tasks.ts';
import { scoreItems, workItems, type PredictionRecord, type RunProgress } from '../eval/score-loop.ts';
import { buildResults, type ResultsJson } from '../eval/results.ts';
import { scorerFromRuntime, type RuntimeLike, type ScorerInfo } from '../eval/scorer.ts';
import { parseShard, shardItems } from '../eval/shard.ts';

/**
 * The worker's evaluate request: `instructalign eval`'s options (src/api/requests/eval.ts, the one definition of
 * them) with the data as rows by language or the text of one CSV/TSV/JSONL file, whose `lang` column groups the
 * rows as the CLI's --data FILE does.
 */
export type EvalRequest = RequestOf<typeof EVALUATE_ROWS.fields>;
export type { LangRows };

export interface EvalProgress extends RunProgress {
  predictions: PredictionRecord[];
}

const nusaxFolder = (code: string) => NUSAX_LANGS.find((l) => l.code === code)?.folder;

/** The request as the CLI's EvalData (same label normalisation, lang column, limit and errors as its loaders). */
export function evalData(request: EvalRequest): EvalData {
  const req = EVALUATE_ROWS.parse(request);
  const task = req.task ?? (req.templates ? 'classification' : 'sentiment');
  if (!req.templates && !isTask(task))
    throw new RequestError('evaluate', 'task', `must be one of ${TASKS.join(', ')}, got "${task}"`);
  const labels = req.labels ?? DEFAULT_LABELS[task as TaskName]?.slice();
  if (!labels?.length) throw new RequestError('evaluate', 'labels', `are needed for task ${task} (in order)`);
  const fix = `(or its 0-based index; change the file's label column)`; // a page has no --labels flag
  const order = NUSAX_LANGS.map((l) => l.code);
  const rank = (l: string) => (order.includes(l) ? order.indexOf(l) : order.length);
  if (typeof req.data === 'string') {
    // one file's text: grouped by its lang column (else it is one language, `name`), as `eval --data FILE`
    const file =
      req.fileName ??
      (req.source && /\.(csv|tsv|tab|jsonl)$/i.test(req.source) ? req.source : `${req.name ?? 'csv'}.csv`);
    const defaultLang = req.name ?? file.replace(/\.(csv|tsv|tab|jsonl)$/i, '');
    const groups = parseClassificationText(req.data, file, labels, { defaultLang, limit: req.limit, labelFix: fix });
    const langs = pickLangs(
      groups.map((g) => g.lang),
      req.langs,
      file,
    );
    return {
      source: req.source ?? file,
      task,
      labels,
      langs: langs.map((lang) => ({ lang, name: lang, file, rows: groups.find((g) => g.lang === lang)!.rows })),
    };
  }
  const byLang = req.data;
  const available = Object.keys(byLang).sort((a, b) => rank(a) - rank(b));
  if (!available.length)
    throw new RequestError('evaluate', 'data', 'holds no language (pass rows or CSV text per language)');
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
      const rows: Example[] = classificationRows(table, file, labels, req.limit, fix);
      return { lang, name, file, rows };
    }),
  };
}

/** Scores every (language, prompt, example) and returns results.json; `onProgress` gets each batch's records. */
export async function evaluateRequest(
  rt: RuntimeLike,
  info: ScorerInfo,
  request: EvalRequest,
  opts: { signal?: AbortSignal; onProgress?: (p: EvalProgress) => void } = {},
): Promise<ResultsJson> {
  const req = EVALUATE_ROWS.parse(request);
  const data = evalData(req);
  const prompts = req.templates
    ? customPrompts(
        req.templates,
        req.templates.map((_, k) => `templates[${k}]`),
      )
    : selectPrompts(data.task as TaskName, req.prompts);
  const { batchSize, maxLength, scoring } = req;
  const scorer = scorerFromRuntime(rt, info, batchSize, req.prefixSharing);
  const shard = req.shard === undefined ? undefined : parseShard(req.shard, 'shard');
  const all = workItems(data, prompts);
  const items = shard ? shardItems(all, shard) : all;
  let made: PredictionRecord[] = [];
  const predictions = await scoreItems({
    scorer,
    labels: data.labels,
    items,
    results: new Map(),
    batchSize,
    maxLength,
    options: { quote: !!req.quoteOptions },
    scoring,
    signal: opts.signal,
    onBatch: (m) => {
      made = m;
    },
    onProgress: (p) => {
      opts.onProgress?.({ ...p, predictions: made });
      made = [];
    },
  });
  const results = buildResults({
    data,
    prompts,
    predictions,
    groups: req.groups ?? DEFAULT_GROUPS,
    model: info,
    maxLength,
    limit: req.limit,
    optionsQuoted: !!req.quoteOptions,
    scoring,
  });
  if (shard) results.shard = { ...shard, items: items.length };
  return results;
}
