// Predicted-label distributions, confusion matrices per language, the > 80 % collapse warning (results.json,
// report.md) and the distribution shift in compare: all against values worked out by hand below.
import { strict as assert } from 'node:assert';
import { compareResults } from '../../src/eval/compare.ts';
import { renderCompare } from '../../src/eval/compare-report.ts';
import { DEFAULT_GROUPS, type EvalData } from '../../src/eval/data-core.ts';
import { distribution, dominantLabel, languageDistribution, predictedCounts } from '../../src/eval/distribution.ts';
import { renderReport } from '../../src/eval/report.ts';
import { buildResults, type ResultsJson } from '../../src/eval/results.ts';
import type { PredictionRecord } from '../../src/eval/score-loop.ts';
import { promptTemplates } from '../../src/eval/tasks.ts';

const LABELS = ['negative', 'neutral', 'positive'];
const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);

/** Examples as [gold, pred] pairs per prompt for one language. */
type Cases = Record<number, [string, string][]>;

function build(byLang: Record<string, Cases>): ResultsJson {
  const preds: PredictionRecord[] = [];
  const data: EvalData = { source: 'hand', task: 'sentiment', labels: LABELS, langs: [] };
  for (const [lang, byPrompt] of Object.entries(byLang)) {
    const n = byPrompt[1].length;
    data.langs.push({
      lang,
      name: lang,
      file: `${lang}.csv`,
      rows: byPrompt[1].map(([gold], k) => ({ id: String(k), text: `t${k}`, label: gold })),
    });
    for (const [p, cases] of Object.entries(byPrompt)) {
      assert.equal(cases.length, n);
      cases.forEach(([gold, pred], k) =>
        preds.push({ id: String(k), lang, prompt: Number(p), gold, pred, scores: [0, 0, 0] }),
      );
    }
  }
  return buildResults({
    data,
    prompts: promptTemplates('sentiment').slice(0, 2),
    predictions: preds,
    groups: DEFAULT_GROUPS,
    model: { model: 'm', adapter: 'a', dtype: 'f32', int8: false },
    maxLength: 1024,
    created: new Date(0),
  });
}

const [NEG, NEU, POS] = LABELS;
// jav, prompt 1: golds neg,neg,neu,pos,pos → preds neu,neu,neu,neu,pos; prompt 2: → neu,neu,neu,neu,neu
// predicted over both prompts: negative 0, neutral 9, positive 1 of 10 → neutral 90 % > 80 %: a collapse.
// summed confusion [gold][pred]: neg → neu 4; neu → neu 2; pos → neu 3, pos → pos 1.
const JAV: Cases = {
  1: [
    [NEG, NEU],
    [NEG, NEU],
    [NEU, NEU],
    [POS, NEU],
    [POS, POS],
  ],
  2: [
    [NEG, NEU],
    [NEG, NEU],
    [NEU, NEU],
    [POS, NEU],
    [POS, NEU],
  ],
};
// eng: neutral 4 of 5 per prompt = exactly 80 %: NOT above the threshold, no warning.
const ENG: Cases = {
  1: [
    [NEG, NEG],
    [NEG, NEU],
    [NEU, NEU],
    [POS, NEU],
    [POS, NEU],
  ],
  2: [
    [NEG, NEU],
    [NEG, NEG],
    [NEU, NEU],
    [POS, NEU],
    [POS, NEU],
  ],
};

describe('eval/distribution', () => {
  it('predicted counts are the confusion matrix column sums; shares; dominant only above 80 %', () => {
    const m = [
      [1, 3, 0],
      [0, 4, 1],
      [0, 1, 0],
    ];
    assert.deepEqual(predictedCounts(m), [1, 8, 1]);
    const d = distribution(m);
    assert.equal(d.n, 10);
    d.shares.forEach((s, k) => close(s, [0.1, 0.8, 0.1][k]));
    assert.equal(dominantLabel(d, LABELS), null); // 80 % is not > 80 %
    const d2 = distribution([
      [0, 5, 0],
      [0, 4, 0],
      [0, 0, 1],
    ]);
    assert.deepEqual(dominantLabel(d2, LABELS), { label: 'neutral', share: 0.9 });
    assert.equal(dominantLabel(distribution([[0]]), ['x']), null); // no predictions: nothing dominates
    assert.throws(() => predictedCounts([[1, 2], [3]]), /not square/);
  });

  it('results.json: per-prompt predicted counts, per-language confusion, distribution, dominant, warnings', () => {
    const r = build({ eng: ENG, jav: JAV });
    const jav = r.languages.find((l) => l.lang === 'jav')!;
    assert.deepEqual(
      jav.prompts.map((p) => p.predicted),
      [
        [0, 4, 1],
        [0, 5, 0],
      ],
    );
    assert.deepEqual(jav.confusion, [
      [0, 4, 0],
      [0, 2, 0],
      [0, 3, 1],
    ]);
    assert.deepEqual(jav.predicted, { n: 10, counts: [0, 9, 1], shares: [0, 0.9, 0.1] });
    assert.deepEqual(jav.dominant, { label: 'neutral', share: 0.9 });
    const eng = r.languages.find((l) => l.lang === 'eng')!;
    assert.deepEqual(eng.predicted!.counts, [2, 8, 0]);
    assert.equal(eng.dominant, null);
    assert.equal(r.warnings!.length, 1);
    assert.match(r.warnings![0], /^jav: "neutral" takes 90\.0 % of 10 predictions/);
  });

  it('report.md: a predicted-label table with the collapse flag, the warning on top', () => {
    const md = renderReport(build({ eng: ENG, jav: JAV }));
    assert.match(md, /\| L1 \| eng \(eng\) \| 10 \| 20\.0 % \| 80\.0 % \| 0\.0 % \| {2}\|/);
    assert.match(md, /\| L2 \| jav \(jav\) \| 10 \| 0\.0 % \| 90\.0 % \| 10\.0 % \| ⚠ neutral \|/);
    assert.ok(md.indexOf('- jav: "neutral" takes 90.0 %') < md.indexOf('## Group summary'));
  });

  it('compare: shares A → B per language, also from an older results.json without the new fields', () => {
    const a = build({ eng: ENG, jav: JAV });
    // B: jav predicts neg,neg,neu,pos,pos on both prompts: shares 40 / 20 / 40 %
    const fixed: [string, string][] = [
      [NEG, NEG],
      [NEG, NEG],
      [NEU, NEU],
      [POS, POS],
      [POS, POS],
    ];
    const b = build({ eng: ENG, jav: { 1: fixed, 2: fixed } });
    // an older file: strip the fields added by issue 19; they are derived from the prompts' confusion matrices
    const old = JSON.parse(JSON.stringify(a)) as ResultsJson;
    delete old.warnings;
    for (const l of old.languages) {
      delete l.predicted;
      delete l.dominant;
      delete l.confusion;
      for (const p of l.prompts) delete p.predicted;
    }
    assert.deepEqual(languageDistribution(old.languages[1]), a.languages[1].predicted);
    for (const A of [a, old]) {
      const c = compareResults(A, b, { a: 'A', b: 'B' });
      const jav = c.distribution.find((d) => d.lang === 'jav')!;
      assert.deepEqual(jav.a, [0, 0.9, 0.1]);
      assert.deepEqual(jav.b, [0.4, 0.2, 0.4]);
      [0.4, -0.7, 0.3].forEach((x, k) => close(jav.delta[k], x));
      assert.deepEqual(jav.dominantA, { label: 'neutral', share: 0.9 });
      assert.equal(jav.dominantB, null);
      assert.match(
        renderCompare(c),
        /\| jav \| L2 \| 0\.0 % → 40\.0 % \| 90\.0 % → 20\.0 % \| 10\.0 % → 40\.0 % \| ⚠ neutral → - \|/,
      );
    }
  });
});
