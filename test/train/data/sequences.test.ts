// sequences.ts and stream.ts: truncation, left-padded collate with -100 labels, TrainingStream order/resume/epochs.
import assert from 'node:assert/strict';
import { readNusaxMT } from '../../../src/train/data/node-io.ts';
import type { ParallelPair } from '../../../src/train/data/parallel.ts';
import { dataPath } from '../../../src/train/data/paths.ts';
import { TrainingStream, collate, encodeText } from '../../../src/train/data/sequences.ts';
import type { TextTokenizer } from '../../../src/train/data/sequences.ts';
import { pairsForObjectives } from '../../../src/train/data/stream.ts';

/** Fake char-level tokenizer: code unit + 10; pad id 3 as BLOOM's. */
const charTok: TextTokenizer = { encode: (t) => Array.from(t, (c) => c.charCodeAt(0) + 10), padId: 3 };

const PAIRS: ParallelPair[] = Array.from({ length: 5 }, (_, i) => ({
  lang1: 'eng',
  lang2: 'sun',
  sentence1: `en ${i}.`,
  sentence2: `su ${i}.`,
}));

describe('train/data/sequences', () => {
  it('right-truncates to maxLength (default 128), adds no EOS', () => {
    const long = 'x'.repeat(300) + 'END';
    const ids = encodeText(charTok, long);
    assert.equal(ids.length, 128);
    assert.deepEqual(ids, charTok.encode(long).slice(0, 128));
    assert.deepEqual(encodeText(charTok, 'abc'), charTok.encode('abc'));
    assert.equal(encodeText(charTok, long, 16).length, 16);
  });

  it('collate: dynamic T, left padding by default, labels = ids with pads → -100', () => {
    const b = collate([[20, 21, 22], [30]], 3);
    assert.equal(b.B, 2);
    assert.equal(b.T, 3);
    assert.deepEqual([...b.inputIds], [20, 21, 22, 3, 3, 30]);
    assert.deepEqual([...b.attentionMask], [1, 1, 1, 0, 0, 1]);
    assert.deepEqual([...b.labels], [20, 21, 22, -100, -100, 30]);
    const r = collate([[20, 21, 22], [30]], 3, 'right');
    assert.deepEqual([...r.inputIds], [20, 21, 22, 30, 3, 3]);
    assert.deepEqual([...r.labels], [20, 21, 22, 30, -100, -100]);
    assert.deepEqual([...collate([[3, 5]], 3).labels], [-100, 5]); // as HF: any id equal to pad is masked
  });
});

describe('train/data/stream (TrainingStream)', () => {
  it('without replay: each epoch is a reshuffled pass over all pairs', () => {
    const s = new TrainingStream({ pairs: PAIRS, objectives: 'mt', seed: 1 });
    const epochs = [0, 1, 2].map(() => s.take(5).map((t) => /(?:^|: )en (\d)\./.exec(t.text)![1]));
    for (const e of epochs) assert.deepEqual([...e].sort(), ['0', '1', '2', '3', '4']);
    assert.ok(new Set(epochs.map((e) => e.join())).size > 1, `epochs ${epochs.map((e) => e.join(''))}`);
    assert.equal(s.currentEpoch, 2);
  });

  it('with replay: replay and new alternate 1:1 (replay first, as [xp3, flores]); the shorter is recycled', () => {
    const replay = ['R0', 'R1'];
    const s = new TrainingStream({ pairs: PAIRS, objectives: 'mt', seed: 1, replay, shuffle: false });
    assert.equal(s.epochLength, 10);
    const got = s.take(10);
    assert.deepEqual(
      got.map((t) => t.kind),
      ['replay', 'mt', 'replay', 'mt', 'replay', 'mt', 'replay', 'mt', 'replay', 'mt'],
    );
    assert.deepEqual(
      got.filter((t) => t.kind === 'replay').map((t) => t.text),
      ['R0', 'R1', 'R0', 'R1', 'R0'],
    );
    const n = new TrainingStream({
      pairs: PAIRS.slice(0, 1),
      objectives: 'mt',
      seed: 1,
      replay: ['R0', 'R1', 'R2'],
      shuffle: false,
      replayFirst: false,
    });
    assert.deepEqual(
      n.take(6).map((t) => t.kind),
      ['mt', 'replay', 'mt', 'replay', 'mt', 'replay'],
    );
  });

  it('replaySize samples the pool once with the seed', () => {
    const pool = Array.from({ length: 50 }, (_, i) => ({ inputs: `q${i}`, targets: `a${i}` }));
    const a = new TrainingStream({ pairs: PAIRS, objectives: 'mt', seed: 4, replay: pool, replaySize: 7 });
    const b = new TrainingStream({ pairs: PAIRS, objectives: 'mt', seed: 4, replay: pool, replaySize: 7 });
    assert.equal(a.replayTexts.length, 7);
    assert.deepEqual(a.replayTexts, b.replayTexts);
    assert.ok(a.replayTexts.every((t) => /^q(\d+) a\1$/.test(t)));
  });

  it('getState/setState (JSON) resumes on exactly the same texts, across epoch boundaries', () => {
    const pairs = pairsForObjectives(readNusaxMT(dataPath('nusax/mt/train.csv')), ['eng'], ['sun'], 'random-xss').slice(
      0,
      40,
    );
    const opts = { pairs, objectives: 'random-xss', seed: 7, replay: ['R0', 'R1', 'R2'] };
    const ref = new TrainingStream(opts).take(150);
    const a = new TrainingStream(opts);
    a.take(95);
    const state = JSON.parse(JSON.stringify(a.getState()));
    const b = new TrainingStream(opts);
    b.setState(state);
    assert.deepEqual(b.take(55), ref.slice(95));
    assert.throws(() => new TrainingStream({ ...opts, seed: 8 }).setState(state), /state has seed 7/);
    assert.deepEqual(new Set(ref.map((t) => t.kind)), new Set(['mlm', 'tlm', 'mt', 'xss', 'replay']));
  });

  it('objectives exactly mlm → official monolingual pairing; otherwise both directions', () => {
    const c = readNusaxMT(dataPath('nusax/mt/train.csv'));
    assert.equal(pairsForObjectives(c, ['eng'], ['sun'], 'mlm').length, 1000); // eng once + sun→eng
    assert.equal(pairsForObjectives(c, ['eng'], ['sun'], 'tlm,xss').length, 1000); // eng→sun + sun→eng
    assert.ok(
      pairsForObjectives(c, ['eng'], ['sun', 'jav'], 'monolingual').every(
        (p) => p.lang2 === 'sun' || p.lang2 === 'eng',
      ),
    );
  });
});
