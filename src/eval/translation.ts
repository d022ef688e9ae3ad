// "Did it learn the language?": greedy translations in both directions with InstructAlign's MT templates, scored
// with chrF++ and BLEU (mt-metrics.ts, sacreBLEU's definitions) per direction and prompt; results.json of schema
// instructalign.eval.translation/1 and a before/after comparison of two such runs. Browser-safe (no node:fs).
import { langName, type LangNames } from '../train/data/langs.ts';
import type { AlignedCorpus } from '../train/data/parallel.ts';
import { TRANSLATION_TEMPLATES, fill } from '../train/data/templates.ts';
import { corpusBleu, corpusChrf } from './mt-metrics.ts';
import type { ScorerInfo } from './scorer.ts';
import { textTable } from './report.ts';

export const TRANSLATION_SCHEMA = 'instructalign.eval.translation/1';
export const TRANSLATION_COMPARE_SCHEMA = 'instructalign.eval.translation-compare/1';

/** The model seam of translation: greedy continuations of prompts (src/host/runtime.ts provides the real one). */
export interface Generator {
  generate(prompts: readonly string[], maxNewTokens: number): Promise<string[]>;
  describe(): ScorerInfo;
}

/** Template `id` (1–6, the official prompt_utils.py order) filled up to the target: the model writes the rest.
 *  The trailing space before [TARGET_TEXT] is dropped: BLOOM's tokens carry their leading space. */
export function translationPrompt(id: number, srcName: string, tgtName: string, source: string): string {
  const t = TRANSLATION_TEMPLATES[id - 1];
  if (!t) throw new Error(`unknown translation prompt ${id} (choose from 1-${TRANSLATION_TEMPLATES.length})`);
  const head = t.slice(0, t.indexOf('[TARGET_TEXT]'));
  return fill(head, [
    ['[SOURCE_LANG]', srcName],
    ['[TARGET_LANG]', tgtName],
    ['[SOURCE_TEXT]', source],
  ]).trimEnd();
}

/** The translation in a continuation: its first non-empty line, trimmed (the model may go on after it). */
export function firstLine(text: string): string {
  return (
    text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .find((l) => l !== '') ?? ''
  );
}

export interface TranslationPrediction {
  src: string;
  tgt: string;
  prompt: number;
  id: number; // row of the aligned data, 1-based
  source: string;
  reference: string;
  hypothesis: string;
}

export interface DirectionScores {
  chrf: number; // chrF++ (0–100)
  bleu: number; // BLEU (0–100)
}
export interface DirectionResult extends DirectionScores {
  src: string;
  tgt: string;
  n: number; // sentences
  prompts: (DirectionScores & { prompt: number })[];
}
export interface TranslationResults {
  schema: typeof TRANSLATION_SCHEMA;
  created: string;
  task: 'translation';
  data: string;
  model: ScorerInfo;
  metrics: string; // what chrf and bleu are
  prompts: { id: number; template: string }[];
  maxNewTokens: number;
  limit: number | null;
  directions: DirectionResult[]; // chrf / bleu: means over the prompts
}

export const METRICS_NOTE =
  'chrf = corpus chrF++ (sacreBLEU: character 6-grams without spaces + word 2-grams, β = 2); bleu = corpus BLEU ' +
  '(sacreBLEU defaults: 13a tokenization, exp smoothing); one reference; 0-100; mean over the prompts';

export interface TranslationRun {
  generator: Generator;
  corpus: AlignedCorpus;
  l1: readonly string[];
  l2: readonly string[];
  prompts: readonly number[];
  limit?: number;
  maxNewTokens?: number;
  langNames?: LangNames;
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Every (pivot, L2) pair in both directions, every prompt, the first `limit` rows with both sentences. */
export async function runTranslation(
  o: TranslationRun,
): Promise<{ results: TranslationResults; predictions: TranslationPrediction[] }> {
  const col = (c: string) => {
    const v = o.corpus.columns[c];
    if (!v)
      throw new Error(`${o.corpus.source}: no sentences in "${c}" (have: ${Object.keys(o.corpus.columns).join(', ')})`);
    return v;
  };
  const dirs: [string, string][] = [];
  for (const p of o.l1) for (const x of o.l2) if (p !== x) dirs.push([p, x], [x, p]);
  if (!dirs.length) throw new Error('translation needs two different languages (--l1 and --l2)');
  const maxNew = o.maxNewTokens ?? 64;
  const items: Omit<TranslationPrediction, 'hypothesis'>[] = [];
  for (const [src, tgt] of dirs) {
    const S = col(src),
      T = col(tgt);
    const rows = S.map((_, i) => i).filter((i) => S[i] && T[i]);
    const chosen = o.limit === undefined ? rows : rows.slice(0, o.limit);
    if (!chosen.length) throw new Error(`${o.corpus.source}: no row has both ${src} and ${tgt}`);
    for (const prompt of o.prompts)
      for (const i of chosen) items.push({ src, tgt, prompt, id: i + 1, source: S[i], reference: T[i] });
  }
  const predictions: TranslationPrediction[] = [];
  const B = o.batchSize ?? 8;
  for (let k = 0; k < items.length; k += B) {
    o.signal?.throwIfAborted();
    const batch = items.slice(k, k + B);
    const texts = batch.map((it) =>
      translationPrompt(it.prompt, langName(it.src, o.langNames), langName(it.tgt, o.langNames), it.source),
    );
    const out = await o.generator.generate(texts, maxNew);
    batch.forEach((it, j) => predictions.push({ ...it, hypothesis: firstLine(out[j] ?? '') }));
    o.onProgress?.(predictions.length, items.length);
  }
  return {
    results: buildTranslationResults(predictions, {
      data: o.corpus.source,
      model: o.generator.describe(),
      prompts: o.prompts,
      maxNewTokens: maxNew,
      limit: o.limit,
    }),
    predictions,
  };
}

export function buildTranslationResults(
  preds: readonly TranslationPrediction[],
  m: { data: string; model: ScorerInfo; prompts: readonly number[]; maxNewTokens: number; limit?: number },
): TranslationResults {
  const dirs = [...new Set(preds.map((p) => `${p.src}>${p.tgt}`))].map((d) => d.split('>') as [string, string]);
  const directions = dirs.map(([src, tgt]) => {
    const prompts = m.prompts.map((prompt) => {
      const ps = preds.filter((p) => p.src === src && p.tgt === tgt && p.prompt === prompt);
      const hyps = ps.map((p) => p.hypothesis),
        refs = ps.map((p) => p.reference);
      return { prompt, chrf: corpusChrf(hyps, refs), bleu: corpusBleu(hyps, [refs]).score };
    });
    const mean = (k: 'chrf' | 'bleu') => prompts.reduce((s, p) => s + p[k], 0) / prompts.length;
    const n = preds.filter((p) => p.src === src && p.tgt === tgt && p.prompt === m.prompts[0]).length;
    return { src, tgt, n, chrf: mean('chrf'), bleu: mean('bleu'), prompts };
  });
  return {
    schema: TRANSLATION_SCHEMA,
    created: new Date().toISOString(),
    task: 'translation',
    data: m.data,
    model: m.model,
    metrics: METRICS_NOTE,
    prompts: m.prompts.map((id) => ({ id, template: TRANSLATION_TEMPLATES[id - 1] })),
    maxNewTokens: m.maxNewTokens,
    limit: m.limit ?? null,
    directions,
  };
}

const f2 = (x: number) => x.toFixed(2);

export function translationTable(r: TranslationResults): string {
  return textTable(
    ['direction', 'n', 'chrF++', 'BLEU'],
    r.directions.map((d) => [`${d.src} → ${d.tgt}`, String(d.n), f2(d.chrf), f2(d.bleu)]),
  );
}

export function renderTranslationReport(r: TranslationResults, preds: readonly TranslationPrediction[]): string {
  const lines = [
    '# Translation evaluation',
    '',
    `- model: ${r.model.model} (${r.model.adapter}, ${r.model.dtype}${r.model.int8 ? ', int8' : ''})`,
    `- data: ${r.data}${r.limit ? ` (first ${r.limit} rows per direction)` : ''}`,
    `- greedy decoding, at most ${r.maxNewTokens} new tokens, the first line kept`,
    `- ${r.metrics}`,
    '',
    '```',
    translationTable(r),
    '```',
    '',
    '## Prompts',
    ...r.prompts.map((p) => `- ${p.id}: \`${p.template.replace(/\n/g, '\\n')}\``),
    '',
    '## Examples (first 3 per direction, prompt ' + r.prompts[0].id + ')',
  ];
  for (const d of r.directions) {
    lines.push('', `### ${d.src} → ${d.tgt}`);
    for (const p of preds.filter((x) => x.src === d.src && x.tgt === d.tgt && x.prompt === r.prompts[0].id).slice(0, 3))
      lines.push(`- source: ${p.source}`, `  reference: ${p.reference}`, `  model: ${p.hypothesis || '(empty)'}`);
  }
  return lines.join('\n') + '\n';
}

export interface TranslationCompare {
  schema: typeof TRANSLATION_COMPARE_SCHEMA;
  a: { model: string; created: string };
  b: { model: string; created: string };
  metrics: string;
  directions: {
    src: string;
    tgt: string;
    chrf: { a: number; b: number; delta: number };
    bleu: { a: number; b: number; delta: number };
  }[];
  onlyInA: string[];
  onlyInB: string[];
}

/** Δ = B − A per direction common to both runs (chrF++ and BLEU points); prompts must match. */
export function compareTranslation(a: TranslationResults, b: TranslationResults): TranslationCompare {
  const key = (d: DirectionResult) => `${d.src}→${d.tgt}`;
  const pa = a.prompts.map((p) => p.id).join(','),
    pb = b.prompts.map((p) => p.id).join(',');
  if (pa !== pb)
    throw new Error(`the runs used different prompts (A: ${pa}; B: ${pb}): rerun one with --prompts ${pa}`);
  const directions = b.directions
    .filter((d) => a.directions.some((x) => key(x) === key(d)))
    .map((d) => {
      const x = a.directions.find((y) => key(y) === key(d))!;
      return {
        src: d.src,
        tgt: d.tgt,
        chrf: { a: x.chrf, b: d.chrf, delta: d.chrf - x.chrf },
        bleu: { a: x.bleu, b: d.bleu, delta: d.bleu - x.bleu },
      };
    });
  if (!directions.length) throw new Error('no translation direction in common');
  return {
    schema: TRANSLATION_COMPARE_SCHEMA,
    a: { model: a.model.model, created: a.created },
    b: { model: b.model.model, created: b.created },
    metrics: a.metrics,
    directions,
    onlyInA: a.directions.map(key).filter((k) => !b.directions.some((d) => key(d) === k)),
    onlyInB: b.directions.map(key).filter((k) => !a.directions.some((d) => key(d) === k)),
  };
}

export function translationCompareTable(c: TranslationCompare): string {
  const sign = (x: number) => (x >= 0 ? '+' : '') + f2(x);
  type D = { delta: number; ci95?: [number, number]; excludesZero?: boolean };
  const ci = c.directions.some((d) => (d.chrf as D).ci95);
  const delta = (p: D) => [
    `${sign(p.delta)}${p.excludesZero ? '*' : ''}`,
    ...(ci ? [p.ci95 ? `[${sign(p.ci95[0])}, ${sign(p.ci95[1])}]` : ''] : []),
  ];
  const head = (m: string) => [`${m} A`, `${m} B`, `Δ ${m}`, ...(ci ? ['95% CI'] : [])];
  return textTable(
    ['direction', ...head('chrF++'), ...head('BLEU')],
    c.directions.map((d) => [
      `${d.src} → ${d.tgt}`,
      f2(d.chrf.a),
      f2(d.chrf.b),
      ...delta(d.chrf),
      f2(d.bleu.a),
      f2(d.bleu.b),
      ...delta(d.bleu),
    ]),
  );
}

export function renderTranslationCompare(c: TranslationCompare): string {
  return [
    '# Comparison: translation',
    '',
    `- A: ${c.a.model} (${c.a.created})`,
    `- B: ${c.b.model} (${c.b.created})`,
    `- ${c.metrics}; Δ = B − A`,
    '',
    '```',
    translationCompareTable(c),
    '```',
    ...(c.onlyInA.length || c.onlyInB.length
      ? ['', `Left out: only in A: ${c.onlyInA.join(', ') || '-'}; only in B: ${c.onlyInB.join(', ') || '-'}`]
      : []),
    '',
  ].join('\n');
}
