// The evaluation pipeline end to end with a fake Scorer: scoring, argmax, metrics, all four output files.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate } from '../../src/eval/evaluate.ts';
import { argmax } from '../../src/eval/runner.ts';
import { DEFAULT_GROUPS, loadDataPath } from '../../src/eval/datasets.ts';
import { selectPrompts, labelTexts } from '../../src/eval/tasks.ts';
import type { ResultsJson } from '../../src/eval/results.ts';
import type { PredictionRecord } from '../../src/eval/predictions.ts';
import { fakeScorer, fakeTokens } from './fake-scorer.ts';
import { tempDir, writeTinyData } from './helpers.ts';

const LABELS = ['negative', 'neutral', 'positive'];

describe('eval/runner (fake scorer)', () => {
  it('argmax: ties go to the first label', () => {
    assert.equal(argmax([-1, -1, -1]), 0);
    assert.equal(argmax([-3, -1, -1]), 1);
    assert.equal(argmax([-3, -2, -1]), 2);
  });

  it('scores every example × prompt × label and writes results.json, predictions.jsonl, report.md, chart.svg', async () => {
    const data = loadDataPath(writeTinyData(tempDir()), { task: 'sentiment', labels: LABELS });
    assert.deepEqual(
      data.langs.map((l) => l.lang),
      ['eng', 'mad'],
    );
    const prompts = selectPrompts('sentiment', [1, 2, 3]);
    const scorer = fakeScorer();
    const out = tempDir();
    const seen: number[] = [];
    const res = await evaluate({
      scorer,
      data,
      prompts,
      groups: DEFAULT_GROUPS,
      outDir: out,
      batchSize: 7,
      onProgress: (p) => seen.push(p.done),
    });

    // 2 languages × 3 prompts × 7 rows = 42 items, 3 texts each; batches hold 2 items (6 ≤ 7 texts).
    assert.equal(res.computed, 42);
    assert.equal(scorer.calls.flat().length, 126);
    assert.ok(scorer.calls.every((c) => c.length <= 7 && c.length % 3 === 0));
    assert.equal(seen[0], 0);
    assert.equal(seen.at(-1), 42);
    const row0 = data.langs[0].rows[0];
    assert.deepEqual(scorer.calls[0].slice(0, 3), labelTexts(prompts[0].template, row0.text, LABELS));
    assert.equal(row0.text, 'english sentence 0, with "quotes"');

    assert.deepEqual(readdirSync(out).sort(), [
      'chart.svg',
      'fingerprint.json',
      'predictions.jsonl',
      'report.md',
      'results.json',
    ]); // no temp files left
    const preds = readFileSync(join(out, 'predictions.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as PredictionRecord);
    assert.equal(preds.length, 42);
    for (const p of preds) {
      assert.deepEqual(Object.keys(p).sort(), [
        'gold',
        'id',
        'lang',
        'pred',
        'prompt',
        'scores',
        'scoresBy',
        'textHash',
      ]);
      assert.deepEqual(p.scores, p.scoresBy!.paper); // default --scoring paper
      assert.equal(p.pred, LABELS[argmax(p.scores)]);
    }

    const r = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsJson;
    assert.equal(r.schema, 'instructalign.eval.results/1');
    assert.deepEqual(
      r.groups.map((g) => [g.group, g.langs]),
      [
        ['L1', ['eng']],
        ['L3', ['mad']],
      ],
    );
    const eng = r.languages[0];
    assert.equal(eng.prompts.length, 3);
    // accuracy of eng / prompt 1 straight from the prediction lines
    const e1 = preds.filter((p) => p.lang === 'eng' && p.prompt === 1);
    assert.equal(eng.prompts[0].accuracy, e1.filter((p) => p.pred === p.gold).length / 7);
    assert.equal(
      eng.prompts[0].confusion.flat().reduce((a, b) => a + b, 0),
      7,
    );
    assert.ok(Math.abs(eng.mean.weightedF1 - eng.prompts.reduce((a, p) => a + p.weightedF1, 0) / 3) < 1e-12);
    assert.equal(r.groups[0].mean.weightedF1, eng.mean.weightedF1); // a one-language group
    assert.equal(r.model.model, 'fake');

    const md = readFileSync(join(out, 'report.md'), 'utf8');
    assert.match(md, /## Weighted F1/);
    assert.match(md, /\| group \| language \| EN1 \| EN2 \| EN3 \| mean \|/);
    assert.match(md, /\| L3 \| mad \(madurese\) \|/);
    const svg = readFileSync(join(out, 'chart.svg'), 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(svg, />weighted F1 \(%\)</);
    assert.equal((svg.match(/<title>/g) ?? []).length, 2); // one bar per language
    assert.doesNotMatch(svg, /<script|href=/);
  });

  it('ties predict the first label; a scorer returning the wrong count is an error', async () => {
    const data = loadDataPath(writeTinyData(tempDir(), 2), { task: 'sentiment', labels: LABELS, langs: ['eng'] });
    const prompts = selectPrompts('sentiment', [1]);
    const flat = fakeScorer({ score: () => -2 });
    const res = await evaluate({ scorer: flat, data, prompts, groups: DEFAULT_GROUPS, outDir: tempDir() });
    assert.ok(res.results.languages[0].prompts[0].confusion.every((row) => row[1] === 0 && row[2] === 0));
    for (const broken of [
      { ...fakeScorer(), scoreTokens: undefined, scoreTexts: async () => [0] },
      { ...fakeScorer(), scoreTokens: async () => [fakeTokens('a b')] },
    ])
      await assert.rejects(
        evaluate({ scorer: broken, data, prompts, groups: DEFAULT_GROUPS, outDir: tempDir(), batchSize: 3 }),
        /returned 1 scores for 3 texts/,
      );
    const nan = fakeScorer({ score: (t) => (t.endsWith('neutral') ? NaN : -1) });
    await assert.rejects(
      evaluate({ scorer: nan, data, prompts, groups: DEFAULT_GROUPS, outDir: tempDir() }),
      /expected finite log-probs/,
    );
    const inf = fakeScorer({ score: (t) => (t.endsWith('positive') ? -1 : -Infinity) });
    const ok = await evaluate({ scorer: inf, data, prompts, groups: DEFAULT_GROUPS, outDir: tempDir() });
    assert.ok(ok.results.languages[0].prompts[0].confusion.every((row) => row[2] === row.reduce((a, b) => a + b, 0)));
  });
});
