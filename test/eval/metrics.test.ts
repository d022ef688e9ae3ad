// Metrics against worked examples computed by hand from scikit-learn's documented definitions
// (precision = tp/(tp+fp), recall = tp/(tp+fn), F1 = 2tp/(2tp+fp+fn), zero_division → 0; macro = unweighted mean over
// labels present in y_true ∪ y_pred; weighted = support-weighted mean; micro from global counts).
import { strict as assert } from 'node:assert';
import { classify, confusionMatrix, pearson } from '../../src/eval/metrics.ts';

const close = (a: number, b: number, msg?: string) => assert.ok(Math.abs(a - b) < 1e-12, `${msg ?? ''} ${a} != ${b}`);

describe('eval/metrics', () => {
  it('imbalanced classes with one class never predicted', () => {
    // gold: 6 neg, 3 neu, 1 pos. Predictions: neg → 4 neg, 2 pos; neu → 2 neg, 1 pos; pos → 1 pos. "neu" never
    // predicted.
    const gold = [...Array(6).fill('neg'), ...Array(3).fill('neu'), 'pos'];
    const pred = ['neg', 'neg', 'neg', 'neg', 'pos', 'pos', 'neg', 'neg', 'pos', 'pos'];
    const c = classify(gold, pred, ['neg', 'neu', 'pos']);
    // confusion (rows gold, cols pred):  neg [4,0,2]  neu [2,0,1]  pos [0,0,1]
    assert.deepEqual(c.confusion, [
      [4, 0, 2],
      [2, 0, 1],
      [0, 0, 1],
    ]);
    // neg: tp 4, predicted 6, support 6 → P 4/6, R 4/6, F1 8/12 = 2/3
    // neu: tp 0, predicted 0, support 3 → P 0/0 → 0, R 0, F1 0/(0+3) = 0
    // pos: tp 1, predicted 4, support 1 → P 1/4, R 1, F1 2/(4+1) = 0.4
    close(c.perClass[0].f1, 2 / 3);
    close(c.perClass[1].precision, 0);
    close(c.perClass[2].f1, 0.4);
    close(c.accuracy, 5 / 10); // (4 + 0 + 1) / 10
    close(c.macroPrecision, (2 / 3 + 0 + 1 / 4) / 3); // = 11/36
    close(c.macroRecall, (2 / 3 + 0 + 1) / 3); // = 5/9
    close(c.macroF1, (2 / 3 + 0 + 0.4) / 3); // = 16/45 ≈ 0.3556
    close(c.weightedPrecision, (6 * (2 / 3) + 3 * 0 + 1 * 0.25) / 10); // = 0.425
    close(c.weightedRecall, 0.5); // (6·2/3 + 0 + 1·1)/10 = accuracy
    close(c.weightedF1, (6 * (2 / 3) + 3 * 0 + 1 * 0.4) / 10); // = 0.44
    close(c.microF1, 0.5); // Σtp / n
  });

  it('sklearn docs example: cat/dog/pig (precision_recall_fscore_support)', () => {
    // Documented result: macro (0.222, 0.333, 0.267), micro (0.333, 0.333, 0.333), weighted (0.222, 0.333, 0.267).
    const gold = ['cat', 'dog', 'pig', 'cat', 'dog', 'pig'];
    const pred = ['cat', 'pig', 'dog', 'cat', 'cat', 'dog'];
    const c = classify(gold, pred, ['cat', 'dog', 'pig']);
    // cat: tp 2, predicted 3, support 2 → P 2/3, R 1, F1 4/5; dog and pig: tp 0 → all 0.
    close(c.macroPrecision, 2 / 9);
    close(c.macroRecall, 1 / 3);
    close(c.macroF1, 0.8 / 3);
    close(c.weightedPrecision, 2 / 9);
    close(c.weightedF1, 0.8 / 3);
    close(c.microF1, 1 / 3);
  });

  it('a label in neither gold nor pred is left out of the averages (sklearn labels=None)', () => {
    // neg: tp 1, predicted 1, support 2 → F1 2/3;  pos: tp 2, predicted 3, support 2 → F1 4/5;  neu absent.
    const c = classify(['neg', 'neg', 'pos', 'pos'], ['neg', 'pos', 'pos', 'pos'], ['neg', 'neu', 'pos']);
    close(c.macroF1, (2 / 3 + 0.8) / 2); // 11/15, not divided by 3
    close(c.macroPrecision, (1 + 2 / 3) / 2);
    close(c.accuracy, 0.75);
    assert.deepEqual(c.confusion, [
      [1, 0, 1],
      [0, 0, 0],
      [0, 0, 2],
    ]);
  });

  it('a label predicted but never gold counts in macro, not in weighted', () => {
    // a: tp 1, pred 1, sup 2 → P 1, R 1/2, F1 2/3; b: tp 1, pred 1, sup 1 → 1, 1, 1; c: tp 0, pred 1, sup 0 → 0, 0/0 →
    // 0, 0
    const c = classify(['a', 'a', 'b'], ['a', 'c', 'b'], ['a', 'b', 'c']);
    close(c.macroPrecision, 2 / 3);
    close(c.macroRecall, 0.5);
    close(c.macroF1, (2 / 3 + 1) / 3);
    close(c.weightedF1, (2 * (2 / 3) + 1) / 3); // 7/9
    close(c.accuracy, 2 / 3);
  });

  it('empty input gives zeros; unknown labels are errors', () => {
    const c = classify([], [], ['x', 'y']);
    assert.equal(c.accuracy, 0);
    assert.equal(c.macroF1, 0);
    assert.equal(c.weightedF1, 0);
    assert.throws(() => confusionMatrix(['x'], ['z'], ['x', 'y']), /"z" is not one of x, y/);
    assert.throws(() => confusionMatrix(['x'], [], ['x']), /1 labels but pred has 0/);
  });

  it('pearson', () => {
    // x = [1,2,3], y = [2,4,7]: Σdxdy = 5, Σdx² = 2, Σdy² = 114/9 → r = 5 / sqrt(228/9) ≈ 0.993399
    close(pearson([1, 2, 3], [2, 4, 7])!, 5 / Math.sqrt(228 / 9));
    close(pearson([1, 2, 3], [3, 2, 1])!, -1);
    assert.equal(pearson([1, 2, 3], [5, 5, 5]), null);
    assert.equal(pearson([1], [2]), null);
  });
});
