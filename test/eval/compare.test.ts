// compare: Δ per language and group on two synthetic results.json, the L2/L3 correlation, mismatches, errors.
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { compareResults } from '../../src/eval/compare.ts';
import { l2l3Line } from '../../src/eval/compare-report.ts';
import { RESULTS_SCHEMA, type LanguageResult, type ResultsJson } from '../../src/eval/results.ts';
import { meanMetrics, type MetricSet } from '../../src/eval/metrics.ts';
import { writeFileAtomic } from '../../src/eval/output.ts';
import { run as compareCli } from '../../src/cli/compare.ts';
import { tempDir } from './helpers.ts';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} != ${b}`);

/** A metric set where accuracy = acc and weighted F1 = wf1 (the rest is irrelevant to compare). */
const ms = (acc: number, wf1: number): MetricSet => ({
  accuracy: acc,
  macroPrecision: 0,
  macroRecall: 0,
  macroF1: 0,
  weightedPrecision: 0,
  weightedRecall: acc,
  weightedF1: wf1,
  microF1: acc,
});

function results(langs: { lang: string; group: string; wf1: number[]; acc?: number[] }[]): ResultsJson {
  const languages: LanguageResult[] = langs.map((l) => {
    const prompts = l.wf1.map((w, k) => ({ prompt: k + 1, n: 10, confusion: [], ...ms(l.acc?.[k] ?? 0.5, w) }));
    return { lang: l.lang, name: l.lang, group: l.group, n: 10, prompts, mean: meanMetrics(prompts) };
  });
  const names = [...new Set(langs.map((l) => l.group))];
  return {
    schema: RESULTS_SCHEMA,
    created: '2024-01-01T00:00:00.000Z',
    task: 'sentiment',
    data: 'nusax',
    labels: ['negative', 'neutral', 'positive'],
    prompts: [1, 2, 3].map((id) => ({ id, name: `EN${id}`, template: '' })),
    optionsQuoted: false,
    maxLength: 1024,
    limit: null,
    model: { model: 'm', adapter: 'a', dtype: 'f32', int8: false },
    groups: names.map((g) => {
      const ls = languages.filter((l) => l.group === g);
      return { group: g, langs: ls.map((l) => l.lang), mean: meanMetrics(ls.map((l) => l.mean)) };
    }),
    languages,
    overall: meanMetrics(languages.map((l) => l.mean)),
  };
}

// A: every weighted F1 is 0.30. B adds Δ per prompt: eng +0, ace +.10/+.20/+.30, jav +0/+.10/+.20, mad +.02/+.04/+.09.
const langsA = [
  { lang: 'eng', group: 'L1', wf1: [0.3, 0.3, 0.3], acc: [0.4, 0.5, 0.6] },
  { lang: 'ace', group: 'L2', wf1: [0.3, 0.3, 0.3] },
  { lang: 'jav', group: 'L2', wf1: [0.3, 0.3, 0.3] },
  { lang: 'mad', group: 'L3', wf1: [0.3, 0.3, 0.3] },
  { lang: 'sun', group: 'L2', wf1: [0.3, 0.3, 0.3] },
];
const A = results(langsA);
const langsB = [
  { lang: 'eng', group: 'L1', wf1: [0.3, 0.3, 0.3], acc: [0.5, 0.5, 0.5] },
  { lang: 'ace', group: 'L2', wf1: [0.4, 0.5, 0.6] },
  { lang: 'jav', group: 'L2', wf1: [0.3, 0.4, 0.5] },
  { lang: 'mad', group: 'L3', wf1: [0.32, 0.34, 0.39] },
  { lang: 'nij', group: 'L3', wf1: [0.1, 0.1, 0.1] },
];
const B = results(langsB);

describe('eval/compare', () => {
  const c = compareResults(A, B, { a: 'A', b: 'B' });

  it('Δ per language and group (means over prompts; group = mean of its languages)', () => {
    assert.deepEqual(
      c.languages.map((l) => l.lang),
      ['eng', 'ace', 'jav', 'mad'],
    );
    const ace = c.languages[1];
    close(ace.weightedF1.a, 0.3);
    close(ace.weightedF1.b, 0.5);
    close(ace.weightedF1.delta, 0.2);
    close(c.languages[0].accuracy.delta, 0); // (0.5+0.5+0.5)/3 − (0.4+0.5+0.6)/3
    const l2 = c.groups.find((g) => g.group === 'L2')!;
    assert.deepEqual(l2.langs, ['ace', 'jav']);
    close(l2.weightedF1.delta, (0.2 + 0.1) / 2); // ace +0.20, jav +0.10
    close(c.groups.find((g) => g.group === 'L3')!.weightedF1.delta, 0.05); // mad (0.02+0.04+0.09)/3
  });

  it('mismatched languages are reported and left out', () => {
    assert.deepEqual(c.mismatch.onlyInA, ['sun']);
    assert.deepEqual(c.mismatch.onlyInB, ['nij']);
  });

  it('L2/L3 correlation across prompts', () => {
    // x = L2 mean Δ per prompt = [.05, .15, .25]; y = L3 (mad) Δ = [.02, .04, .09]
    // dx = [−.1, 0, .1], dy = [−.03, −.01, .04]: Σdxdy = .007, Σdx² = .02, Σdy² = .0026 → r = .007/√(.000052) ≈
    // 0.970725
    c.l2l3.l2.forEach((v, k) => close(v, [0.05, 0.15, 0.25][k]));
    c.l2l3.l3.forEach((v, k) => close(v, [0.02, 0.04, 0.09][k]));
    close(c.l2l3.pearson!, 0.007 / Math.sqrt(0.000052));
    assert.equal(c.l2l3.perL3.length, 1);
    close(c.l2l3.perL3[0].pearson!, c.l2l3.pearson!);
  });

  it("worked example: a second L3 language against the L2 mean, and the label that it is not the paper's r", () => {
    // B2 adds bbc (L3) with Δ = [+.30, +.10, +.20] (A: .30 everywhere). x (L2 mean Δ) = [.05, .15, .25] as above.
    // bbc: dx = [−.1, 0, .1], dy = [.1, −.1, 0]: Σdxdy = −.01, Σdx² = Σdy² = .02 → r = −.01/.02 = −0.5.
    // L3 mean y = mean of mad [.02, .04, .09] and bbc [.30, .10, .20] = [.16, .07, .145]:
    // dy = [.035, −.055, .02]: Σdxdy = −.0035 + .002 = −.0015; Σdy² = .001225 + .003025 + .0004 = .00465
    // → r = −.0015/√(.02·.00465) ≈ −0.15554
    const A2 = results([...langsA, { lang: 'bbc', group: 'L3', wf1: [0.3, 0.3, 0.3] }]);
    const B2 = results([...langsB, { lang: 'bbc', group: 'L3', wf1: [0.6, 0.4, 0.5] }]);
    const c2 = compareResults(A2, B2, { a: 'A', b: 'B' });
    close(c2.l2l3.perL3.find((x) => x.lang === 'bbc')!.pearson!, -0.5);
    close(c2.l2l3.pearson!, -0.0015 / Math.sqrt(0.02 * 0.00465));
    assert.match(c2.l2l3.definition, /not comparable with the paper's r ≈ 0\.96/);
    assert.match(l2l3Line(c2), /r = -0\.156 \(a direction, not the paper's statistic\)/);
  });

  it('errors: different tasks; CLI: missing results.json or predictions.jsonl names the folder', async () => {
    assert.throws(
      () => compareResults(A, { ...B, task: 'emotion' }, { a: 'A', b: 'B' }),
      /A evaluated sentiment but B evaluated emotion/,
    );
    const root = tempDir();
    const [da, db, out] = ['a', 'b', 'out'].map((d) => join(root, d));
    await assert.rejects(compareCli([da, db]), new RegExp(`no results.json in ${da}`));
    await writeFileAtomic(join(da, 'results.json'), JSON.stringify(A));
    await writeFileAtomic(join(db, 'results.json'), JSON.stringify(B));
    // results.json alone cannot be matched example by example (issue 24 item 4): refused, naming the folder
    await assert.rejects(compareCli([da, db, '--out', out]), new RegExp(`${da} has no predictions.jsonl`));
    assert.ok(!existsSync(join(out, 'compare.json')));
  });
});
