// `instructalign compare A/ B/`: Δ (B − A) per language and group, and the L2 → L3 transfer correlation.
import { COMPARE } from '../api/requests/compare.ts';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bool, helpText, parseCommand, str, type CommandSpec } from './args.ts';
import { compareRuns } from '../eval/compare-runs.ts';
import { loadRun } from '../eval/results-file.ts';
import {
  ciNote,
  DELTA_HEADER,
  distributionHeader,
  distributionRows,
  groupRows,
  l2l3Line,
  mismatchLines,
  renderCompare,
} from '../eval/compare-report.ts';
import { textTable } from '../eval/report.ts';
import { writeFileAtomic } from '../eval/output.ts';
import {
  renderTranslationCompare,
  TRANSLATION_SCHEMA,
  translationCompareTable,
  type TranslationPrediction,
  type TranslationResults,
} from '../eval/translation.ts';
import { compareTranslationRuns } from '../eval/translation-compare.ts';

export const spec: CommandSpec = {
  name: 'compare',
  usage: 'instructalign compare A/ B/ [--out DIR] [--allow-mismatch]',
  positionals: [2, 2],
  about: `Reads A/results.json (before, e.g. the base model) and B/results.json (after, e.g. InstructAlign) and prints
Δ = B − A in percentage points for accuracy and weighted F1 per group and language, each language's
predicted-label shares A → B (⚠ = one label above 80 %), and the correlation of Δ weighted F1 between L2 (aligned)
and L3 (unseen) languages across prompts (this package's statistic, not the paper's; definition in compare.md).
Like with like: every Δ is over the examples both runs scored (same language, id, text and label set; prompts
matched by template), recomputed from the two predictions.jsonl, with how many were left out; each Δ has a paired
bootstrap 95% interval (* = it excludes 0). Runs scored differently (scoring rule, a prompt number's template,
dtype, int8, max length, first-pad rule, options format, tokenizer) are refused unless --allow-mismatch. Two
translation runs (eval --task translation) give Δ chrF++ and Δ BLEU per direction instead.`,
  options: COMPARE.options,
};
export const help = helpText(spec);

export async function run(argv: string[], print: (s: string) => void = console.log): Promise<number> {
  const a = parseCommand(argv, spec);
  const [dirA, dirB] = a.positional;
  const ta = readTranslation(dirA),
    tb = readTranslation(dirB);
  if (ta || tb) {
    if (!ta || !tb)
      throw new Error(`${ta ? dirB : dirA} is not a translation evaluation: compare it with one of its kind`);
    const [pa, pb] = [dirA, dirB].map(readTranslationPredictions);
    const c = compareTranslationRuns(ta, tb, pa, pb);
    const n = c.sentences;
    if (n.onlyInA || n.onlyInB || n.changed)
      print(
        `warning: sentences left out: ${n.onlyInA} only in A, ${n.onlyInB} only in B, ${n.changed} with another ` +
          `source or reference; every Δ is over the ${n.common} sentences both runs translated`,
      );
    if (c.onlyInA.length || c.onlyInB.length)
      print(
        `warning: directions left out: only in A: ${c.onlyInA.join(', ') || '-'}; only in B: ${c.onlyInB.join(', ') || '-'}`,
      );
    print(translationCompareTable(c));
    print(
      `(${c.metrics}; Δ = B − A over ${n.common} common sentences; 95% CI: paired bootstrap, ` +
        `${c.bootstrap.resamples} resamples; * = excludes 0)`,
    );
    const out = str(a, 'out');
    if (out) {
      await writeFileAtomic(join(out, 'compare.json'), JSON.stringify(c, null, 1) + '\n');
      await writeFileAtomic(join(out, 'compare.md'), renderTranslationCompare(c));
      print(`wrote ${join(out, 'compare.md')}, ${join(out, 'compare.json')}`);
    }
    return 0;
  }
  const c = compareRuns(loadRun(dirA), loadRun(dirB), { allowMismatch: bool(a, 'allow-mismatch') });
  for (const m of mismatchLines(c)) print(`warning: ${m}`);
  print(textTable(['group', 'languages', ...DELTA_HEADER], groupRows(c)));
  print(`(${ciNote(c)})`);
  if (c.distribution.length) {
    print('');
    print('predicted labels, A → B:');
    print(textTable(distributionHeader(c), distributionRows(c)));
  }
  print('');
  print(l2l3Line(c));
  const out = str(a, 'out');
  if (out) {
    await writeFileAtomic(join(out, 'compare.json'), JSON.stringify(c, null, 1) + '\n');
    await writeFileAtomic(join(out, 'compare.md'), renderCompare(c));
    print(`wrote ${join(out, 'compare.md')}, ${join(out, 'compare.json')}`);
  }
  return 0;
}

/** DIR/predictions.jsonl of a translation evaluation (compare matches the two runs sentence by sentence). */
function readTranslationPredictions(dir: string): TranslationPrediction[] {
  const f = join(dir, 'predictions.jsonl');
  if (!existsSync(f))
    throw new Error(`${dir} has no predictions.jsonl: compare matches the two runs sentence by sentence`);
  return readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l, k) => {
      try {
        return JSON.parse(l) as TranslationPrediction;
      } catch {
        throw new Error(`${f}:${k + 1}: not JSON`);
      }
    });
}

/** DIR/results.json when it is a translation evaluation, else undefined (loadResults reports other problems). */
function readTranslation(dir: string): TranslationResults | undefined {
  const f = join(dir, 'results.json');
  if (!existsSync(f)) return undefined;
  try {
    const r = JSON.parse(readFileSync(f, 'utf8'));
    return r?.schema === TRANSLATION_SCHEMA ? (r as TranslationResults) : undefined;
  } catch {
    return undefined;
  }
}
