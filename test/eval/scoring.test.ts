// The three scoring rules (paper, label, label-norm) pinned on a case computed by hand: a fake scorer whose tokens and
// log-probs are written out below, one example, three labels, the label in the middle of the template.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate } from '../../src/eval/evaluate.ts';
import type { EvalData } from '../../src/eval/data-core.ts';
import type { Scorer, TextScore } from '../../src/eval/scorer.ts';
import { customPrompts } from '../../src/eval/tasks.ts';
import { labelSpan, spanLogprob } from '../../src/eval/scoring.ts';
import type { PredictionRecord } from '../../src/eval/predictions.ts';
import { tempDir } from './helpers.ts';

// "it is <label> indeed": the first token has no log-prob; " good" also covers the space before the label;
// " indeed" comes after the label, so it counts for `paper` only.
const TOKENS: Record<string, [string, number][]> = {
  'it is good indeed': [
    ['it', NaN],
    [' is', -1],
    [' good', -2],
    [' indeed', -0.1],
  ],
  'it is excellent indeed': [
    ['it', NaN],
    [' is', -1],
    [' excel', -2],
    ['lent', -1],
    [' indeed', -2],
  ],
  'it is ok indeed': [
    ['it', NaN],
    [' is', -1],
    [' ok', -1.2],
    [' indeed', -3],
  ],
};
// By hand:               paper (mean of all but the first)   label (label's tokens)   label-norm (÷ UTF-8 bytes)
//   good       (4 B)     (-1 - 2 - 0.1) / 3   = -1.0333       -2                        -0.5
//   excellent  (9 B)     (-1 - 2 - 1 - 2) / 4 = -1.5          -3                        -0.3333
//   ok         (2 B)     (-1 - 1.2 - 3) / 3   = -1.7333       -1.2                      -0.6
// → paper picks good, label picks ok, label-norm picks excellent.
const LABELS = ['good', 'excellent', 'ok'];
const EXPECT = {
  paper: [-3.1 / 3, -1.5, -5.2 / 3],
  label: [-2, -3, -1.2],
  'label-norm': [-0.5, -3 / 9, -0.6],
};

function tokens(text: string): TextScore {
  const spec = TOKENS[text];
  if (!spec) throw new Error(`no tokens written for ${JSON.stringify(text)}`);
  const offsets: number[] = [];
  let at = 0;
  for (const [t] of spec) {
    offsets.push(at);
    at += Buffer.byteLength(t);
  }
  const logprobs = spec.slice(1).map(([, lp]) => lp);
  return { mean: logprobs.reduce((a, b) => a + b, 0) / logprobs.length, logprobs, offsets, bytes: at };
}

const scorer: Scorer = {
  scoreTexts: async (texts) => texts.map((t) => tokens(t).mean),
  scoreTokens: async (texts) => texts.map(tokens),
  describe: () => ({ model: 'hand', adapter: 'none', dtype: 'f32', int8: false }),
};

const data = (gold: string): EvalData => ({
  source: 'hand',
  task: 'classification',
  labels: LABELS,
  langs: [{ lang: 'eng', name: 'eng', file: 'x.csv', rows: [{ id: '1', text: 'it', label: gold }] }],
});
const prompts = customPrompts(['[INPUT] is [LABELS_CHOICE] indeed']);
const close = (a: readonly (number | null)[], b: readonly number[]) =>
  a.length === b.length && a.every((x, k) => x !== null && Math.abs(x - b[k]) < 1e-12);

describe('eval --scoring (paper, label, label-norm) on a case computed by hand', () => {
  it('the label span and its tokens', () => {
    assert.deepEqual(labelSpan('it is [LABELS_CHOICE] indeed', 'excellent'), [6, 15]);
    assert.deepEqual(labelSpan('é [LABELS_CHOICE]', 'ò'), [3, 5]); // bytes, not characters
    assert.equal(spanLogprob(tokens('it is excellent indeed'), [6, 15]), -3);
    assert.equal(spanLogprob(tokens('it is good indeed'), [0, 2]), null); // the first token has no log-prob
  });

  for (const [rule, pick] of [
    ['paper', 'good'],
    ['label', 'ok'],
    ['label-norm', 'excellent'],
  ] as const) {
    it(`--scoring ${rule} predicts "${pick}"; every rule's scores are recorded and reported, the chosen first`, async () => {
      const out = tempDir();
      const res = await evaluate({
        scorer,
        data: data('ok'),
        prompts,
        groups: { L1: ['eng'] },
        outDir: out,
        scoring: rule,
      });
      const rec = JSON.parse(readFileSync(join(out, 'predictions.jsonl'), 'utf8')) as PredictionRecord;
      assert.equal(rec.pred, pick);
      for (const [r, want] of Object.entries(EXPECT))
        assert.ok(close(rec.scoresBy![r as keyof typeof EXPECT], want), `${r}: ${rec.scoresBy![r as 'paper']}`);
      assert.ok(close(rec.scores, EXPECT[rule]));
      const r = res.results;
      assert.equal(r.scoring, rule);
      assert.deepEqual(
        r.scorings!.map((s) => s.rule),
        [rule, ...['paper', 'label', 'label-norm'].filter((x) => x !== rule)],
      );
      // gold is "ok": only the label rule is right
      for (const s of r.scorings!) assert.equal(s.overall!.accuracy, s.rule === 'label' ? 1 : 0, s.rule);
      assert.equal(r.overall.accuracy, rule === 'label' ? 1 : 0);
      const md = readFileSync(join(out, 'report.md'), 'utf8');
      assert.match(md, new RegExp(`\\| ${rule} \\(chosen\\) \\| L1 \\|`));
      assert.equal(
        JSON.parse(readFileSync(join(out, 'fingerprint.json'), 'utf8')).scoring,
        rule === 'paper' ? undefined : rule,
      );
    });
  }

  it('a label with no scored token: the label rules are unavailable; choosing one is an error naming the fix', async () => {
    const first = customPrompts(['[LABELS_CHOICE] [INPUT]']);
    const tok = (t: string): TextScore => {
      const words = t.split(' ');
      return { mean: -1, logprobs: [-1], offsets: [0, Buffer.byteLength(words[0])], bytes: Buffer.byteLength(t) };
    };
    const s: Scorer = { ...scorer, scoreTokens: async (texts) => texts.map(tok) };
    const res = await evaluate({ scorer: s, data: data('ok'), prompts: first, groups: {}, outDir: tempDir() });
    assert.deepEqual(
      res.results.scorings!.map((x) => [x.rule, !!x.unavailable]),
      [
        ['paper', false],
        ['label', true],
        ['label-norm', true],
      ],
    );
    await assert.rejects(
      evaluate({ scorer: s, data: data('ok'), prompts: first, groups: {}, outDir: tempDir(), scoring: 'label' }),
      /--scoring label: no scored token covers label "good" .*use --scoring paper/,
    );
  });
});
