// Compare two evaluations (A = before, B = after): Δ = B − A per language and group for accuracy and weighted F1,
// how the predicted-label distribution moved, and how the L3 (unseen) languages' Δ follows the L2 (aligned) ones'.
//
// The correlation is this package's statistic, not the paper's: the paper's r ≈ 0.96 relates L3 gains to L2 gains,
// but its pairing is not established (src/eval/README.md), so nothing is compared with it. With one A/B pair the
// only repeated measurements are the prompts, so, on weighted F1: x_p = mean over L2 languages of Δ_{lang,p},
// y_p = mean over L3 languages of Δ_{lang,p}, r = Pearson(x, y) over prompts p; and, per L3 language,
// Pearson(Δ_{l3,·}, x). With 3 prompts this is a 3-point correlation: read it as a sign, not a test.
import { pearson } from './metrics.ts';
import { distributionShift, languageDistribution, type DistributionShift } from './distribution.ts';
import { RESULTS_SCHEMA, type LanguageResult, type ResultsJson } from './results.ts';

export const COMPARE_SCHEMA = 'instructalign.eval.compare/1';
export const L2L3_DEFINITION =
  'Pearson r over prompts p of x_p = mean_{L2} ΔwF1(lang,p) and y_p = mean_{L3} ΔwF1(lang,p), Δ = B − A ' +
  "(this package's statistic; not comparable with the paper's r ≈ 0.96, whose pairing is not established)";

export interface Pair {
  a: number;
  b: number;
  delta: number;
  /** paired bootstrap 95 % interval of delta (compare-runs.ts; absent when compared from results.json alone) */
  ci95?: [number, number];
  /** the interval excludes 0 (marked * in the tables) */
  excludesZero?: boolean;
}
export interface Delta {
  accuracy: Pair;
  weightedF1: Pair;
}
export interface LangDelta extends Delta {
  lang: string;
  group: string;
  byPrompt: (Delta & { prompt: number })[];
}
export interface GroupDelta extends Delta {
  group: string;
  langs: string[];
}

/** How a language's predicted-label shares moved (null where a file has no confusion matrices). */
export interface LangShift extends DistributionShift {
  lang: string;
  group: string;
  nA: number;
  nB: number;
}

export interface CompareJson {
  schema: typeof COMPARE_SCHEMA;
  a: { dir: string; model: string; created: string };
  b: { dir: string; model: string; created: string };
  task: string;
  prompts: number[]; // prompts both runs have; every mean is over these
  languages: LangDelta[]; // languages both runs have, in B's order
  groups: GroupDelta[]; // B's grouping; Δ = mean of the languages' Δ
  labels: string[]; // order of the shares in `distribution` (added by issue 19; schema still /1)
  distribution: LangShift[]; // predicted-label shares A → B per common language (all prompts of each run)
  mismatch: {
    onlyInA: string[];
    onlyInB: string[];
    promptsOnlyInA: number[];
    promptsOnlyInB: number[];
    groupChanged: { lang: string; a: string; b: string }[];
  };
  l2l3: {
    definition: string;
    prompts: number[];
    l2: number[];
    l3: number[];
    pearson: number | null;
    perL3: { lang: string; pearson: number | null }[];
  };
}

/** A results.json text, its schema checked (browser-safe: results-file.ts reads the file in Node). */
export function parseResults(text: string, file: string): ResultsJson {
  const r = JSON.parse(text) as ResultsJson;
  if (r.schema !== RESULTS_SCHEMA) throw new Error(`${file}: schema "${r.schema}", expected "${RESULTS_SCHEMA}"`);
  return r;
}

const mean = (v: readonly number[]) => (v.length ? v.reduce((s, x) => s + x, 0) / v.length : 0);
const pair = (a: number, b: number): Pair => ({ a, b, delta: b - a });

function langDelta(a: LanguageResult, b: LanguageResult, prompts: number[]): LangDelta {
  const at = (l: LanguageResult, p: number) => l.prompts.find((x) => x.prompt === p)!;
  const byPrompt = prompts.map((p) => ({
    prompt: p,
    accuracy: pair(at(a, p).accuracy, at(b, p).accuracy),
    weightedF1: pair(at(a, p).weightedF1, at(b, p).weightedF1),
  }));
  const avg = (k: 'accuracy' | 'weightedF1') =>
    pair(mean(byPrompt.map((x) => x[k].a)), mean(byPrompt.map((x) => x[k].b)));
  return { lang: b.lang, group: b.group, accuracy: avg('accuracy'), weightedF1: avg('weightedF1'), byPrompt };
}

export function compareResults(a: ResultsJson, b: ResultsJson, dirs: { a: string; b: string }): CompareJson {
  if (a.task !== b.task) throw new Error(`${dirs.a} evaluated ${a.task} but ${dirs.b} evaluated ${b.task}`);
  if (a.labels.join() !== b.labels.join())
    throw new Error(`label sets differ: ${a.labels.join(',')} vs ${b.labels.join(',')}`);
  const aLangs = new Map(a.languages.map((l) => [l.lang, l]));
  const bLangs = new Map(b.languages.map((l) => [l.lang, l]));
  const common = b.languages.filter((l) => aLangs.has(l.lang)).map((l) => l.lang);
  const aP = a.prompts.map((p) => p.id),
    bP = b.prompts.map((p) => p.id);
  const prompts = bP.filter((p) => aP.includes(p));
  if (!common.length)
    throw new Error(`no language in common (A: ${[...aLangs.keys()].join(',')}; B: ${[...bLangs.keys()].join(',')})`);
  if (!prompts.length) throw new Error(`no prompt in common (A: ${aP.join(',')}; B: ${bP.join(',')})`);
  const languages = common.map((l) => langDelta(aLangs.get(l)!, bLangs.get(l)!, prompts));
  const distribution = common.flatMap((l): LangShift[] => {
    const [la, lb] = [aLangs.get(l)!, bLangs.get(l)!];
    const [da, db] = [languageDistribution(la), languageDistribution(lb)];
    if (!da || !db) return [];
    return [{ lang: l, group: lb.group, nA: da.n, nB: db.n, ...distributionShift(da, db, b.labels) }];
  });
  const groups = b.groups
    .map((g) => ({ group: g.group, langs: languages.filter((l) => l.group === g.group) }))
    .filter((g) => g.langs.length)
    .map(
      (g): GroupDelta => ({
        group: g.group,
        langs: g.langs.map((l) => l.lang),
        accuracy: pair(mean(g.langs.map((l) => l.accuracy.a)), mean(g.langs.map((l) => l.accuracy.b))),
        weightedF1: pair(mean(g.langs.map((l) => l.weightedF1.a)), mean(g.langs.map((l) => l.weightedF1.b))),
      }),
    );
  const deltaAt = (g: string) =>
    prompts.map((_, k) => mean(languages.filter((l) => l.group === g).map((l) => l.byPrompt[k].weightedF1.delta)));
  const hasGroup = (g: string) => languages.some((l) => l.group === g);
  const l2 = hasGroup('L2') ? deltaAt('L2') : [];
  const l3 = hasGroup('L3') ? deltaAt('L3') : [];
  const ok = l2.length > 0 && l3.length > 0;
  return {
    schema: COMPARE_SCHEMA,
    a: { dir: dirs.a, model: a.model.model, created: a.created },
    b: { dir: dirs.b, model: b.model.model, created: b.created },
    task: b.task,
    prompts,
    languages,
    groups,
    labels: [...b.labels],
    distribution,
    mismatch: {
      onlyInA: [...aLangs.keys()].filter((l) => !bLangs.has(l)),
      onlyInB: [...bLangs.keys()].filter((l) => !aLangs.has(l)),
      promptsOnlyInA: aP.filter((p) => !bP.includes(p)),
      promptsOnlyInB: bP.filter((p) => !aP.includes(p)),
      groupChanged: common
        .filter((l) => aLangs.get(l)!.group !== bLangs.get(l)!.group)
        .map((l) => ({ lang: l, a: aLangs.get(l)!.group, b: bLangs.get(l)!.group })),
    },
    l2l3: {
      definition: L2L3_DEFINITION,
      prompts,
      l2,
      l3,
      pearson: ok ? pearson(l2, l3) : null,
      perL3: ok
        ? languages
            .filter((l) => l.group === 'L3')
            .map((l) => ({
              lang: l.lang,
              pearson: pearson(
                l.byPrompt.map((x) => x.weightedF1.delta),
                l2,
              ),
            }))
        : [],
    },
  };
}
