// replay.ts: JSONL parsing and errors, seeded sampling, HF interleave_datasets(all_exhausted) order, the bundled file.
import assert from 'node:assert/strict';
import { readReplay } from '../../../src/train/data/node-io.ts';
import { dataPath } from '../../../src/train/data/paths.ts';
import { interleaveAllExhausted, parseReplayJsonl, replayText, sampleReplay } from '../../../src/train/data/replay.ts';
import { Rng } from '../../../src/train/rng.ts';

describe('train/data/replay', () => {
  it('interleave = HF all_exhausted: the datasets docstring example, lengths [3,4,5]', () => {
    // Concatenated indices: dataset 0 → 0..2, 1 → 3..6, 2 → 7..11 (arrow_dataset._interleave_map_style_datasets).
    const srcs = [
      [0, 1, 2],
      [3, 4, 5, 6],
      [7, 8, 9, 10, 11],
    ];
    assert.deepEqual(interleaveAllExhausted(srcs), [0, 3, 7, 1, 4, 8, 2, 5, 9, 0, 6, 10, 1, 3, 11]);
  });

  it('two sources alternate 1:1 and the shorter one is recycled from its start until both are exhausted', () => {
    assert.deepEqual(
      interleaveAllExhausted([
        ['r0', 'r1'],
        ['n0', 'n1', 'n2', 'n3', 'n4'],
      ]),
      ['r0', 'n0', 'r1', 'n1', 'r0', 'n2', 'r1', 'n3', 'r0', 'n4'],
    );
    assert.deepEqual(interleaveAllExhausted([['n0'], ['r0', 'r1', 'r2']]), ['n0', 'r0', 'n0', 'r1', 'n0', 'r2']);
    assert.throws(() => interleaveAllExhausted([[1], []]), /source 1 is empty/);
  });

  it('sampleReplay: seeded, without replacement, capped at the pool', () => {
    const pool = Array.from({ length: 100 }, (_, i) => i);
    const a = sampleReplay(pool, 10, Rng.fromSeed(1)),
      b = sampleReplay(pool, 10, Rng.fromSeed(1));
    assert.deepEqual(a, b);
    assert.equal(new Set(a).size, 10);
    assert.notDeepEqual(a, sampleReplay(pool, 10, Rng.fromSeed(2)));
    assert.equal(sampleReplay(pool, 1000, Rng.fromSeed(1)).length, 100);
  });

  it('rows become "inputs targets"; malformed lines name file:line', () => {
    const rows = parseReplayJsonl('{"inputs":"Q?","targets":"A","x":1}\n', 'r.jsonl');
    assert.equal(replayText(rows[0]), 'Q? A');
    assert.throws(
      () => parseReplayJsonl('{"inputs":"a","targets":"b"}\nnot json\n', 'r.jsonl'),
      /r\.jsonl:2: bad JSON/,
    );
    assert.throws(
      () => parseReplayJsonl('{"inputs":"a","targets":"b"}\n\n{"inputs":"a"}\n', 'r.jsonl'),
      /r\.jsonl:3: expected \{"inputs"/,
    );
    assert.throws(() => parseReplayJsonl('', 'r.jsonl'), /r\.jsonl:1: no rows/);
  });

  it('the bundled NusaX L1 sentiment replay: 1000 rows, eng+ind train, labels as targets, EN prompts without the label', () => {
    const rows = readReplay(dataPath('replay/nusax_l1_sentiment.jsonl'));
    assert.equal(rows.length, 1000);
    const starts = ['What is the sentiment of this text?\nText: ', 'Text: '];
    for (const r of rows) {
      assert.ok(['negative', 'neutral', 'positive'].includes(r.targets));
      assert.ok(
        r.inputs.endsWith('above? negative, neutral, or positive?') ||
          r.inputs.endsWith('Answer with negative, neutral, or positive:'),
        r.inputs,
      );
      assert.ok(!/\[(INPUT|OPTIONS|LABELS_CHOICE)\]/.test(r.inputs), r.inputs);
    }
    assert.ok(starts.some((s) => rows.some((r) => r.inputs.startsWith(s))));
    assert.equal(
      replayText(rows[0]),
      'Enjoy 0% instalment for up to 12 months when ordering an Air Asia plane ticket with BNI Credit Card!\nWhat would be the sentiment of the text above? negative, neutral, or positive? neutral',
    );
  });
});
