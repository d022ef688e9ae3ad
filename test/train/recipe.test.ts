// --recipe paper: the resolved settings pinned against the official InstructAlign values (docs/instructalign.md,
// written out here rather than read from PAPER_RECIPE), explicit flags overriding it, and data --preview showing it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainOptions } from '../../src/cli/train.ts';
import type { TrainOptions } from '../../src/train/trainer.ts';
import { parseNusaxMT } from '../../src/train/data/parallel.ts';
import { DEFAULT_PAIRS, DEFAULT_REPLAY, dataPath } from '../../src/train/data/paths.ts';
import { pairsForObjectives } from '../../src/train/data/stream.ts';
import { loadTrainingPairs } from '../../src/train/data/node-io.ts';
import { TRAIN_DEFAULTS } from '../../src/train/trainer.ts';

const base = ['--model', 'models/nano-bloomz', '--out', '/tmp/ia-recipe-test'];
/** A fresh run's options (not --resume: every field is set). */
const fresh = (argv: string[]) => {
  const r = trainOptions(argv);
  return { o: r.o as TrainOptions, recipeLog: r.recipeLog };
};

describe('train --recipe', () => {
  it('paper: the official setup (pivots, 16 directions, lr, batch, length, replay, fp16, FLORES held out)', () => {
    const { o, recipeLog } = fresh([...base, '--recipe', 'paper']);
    // data_utils.load_flores_datasets: eng_Latn ↔ {ind, sun, jav, bug, ace, bjn, ban, min}_Latn
    assert.deepEqual(o.l1, ['eng']);
    assert.deepEqual([...o.l2].sort(), ['ace', 'ban', 'bjn', 'bug', 'ind', 'jav', 'min', 'sun']);
    const file = dataPath(DEFAULT_PAIRS);
    const pairs = pairsForObjectives(parseNusaxMT(readFileSync(file, 'utf8'), file), o.l1, o.l2, o.objectives);
    const directions = new Set(pairs.map((p) => `${p.lang1}>${p.lang2}`));
    assert.equal(directions.size, 16); // both directions of 8 pairs
    assert.ok(directions.has('eng>ind') && directions.has('ind>eng') && !directions.has('ind>sun'));
    // run_t2t_finetuning.sh: lr 1e-5, effective batch 32, max source length 128, --fp16; HF defaults otherwise
    assert.equal(o.lr, 1e-5);
    assert.equal(o.batchSize, 32); // effective batch (the official 32×1, 16×2 or 8×4)
    assert.equal(o.batchSize % o.gradAccum, 0);
    assert.equal(o.maxLength, 128);
    assert.equal(o.fp16, true);
    assert.deepEqual([o.warmupSteps, o.weightDecay, o.maxGradNorm, o.seed], [0, 0, 1, 42]);
    // replay interleaved 1:1 (the stream always alternates when replay is given) with the bundled stand-in
    assert.equal(o.replay, dataPath(DEFAULT_REPLAY));
    assert.equal(o.replaySize, undefined);
    // FLORES-200 dev+devtest with train_test_split(test_size=1000)
    assert.equal(o.floresHeldOut, 1000);
    assert.equal(o.recipe, 'paper');
    assert.match(recipeLog[0], /^recipe paper: /);
    assert.equal(recipeLog.length, 1);
  });

  it('explicit flags override the recipe, and the log says so', () => {
    const { o, recipeLog } = fresh([...base, '--recipe', 'paper', '--lr', '2e-4', '--no-fp16', '--l1', 'eng']);
    assert.equal(o.lr, 2e-4);
    assert.equal(o.fp16, false);
    assert.equal(o.batchSize, 32);
    assert.ok(recipeLog.some((l) => /--lr 0\.0002 given explicitly, overrides the recipe's 0\.00001/.test(l)));
    assert.ok(recipeLog.some((l) => /--fp16 false given explicitly, overrides the recipe's true/.test(l)));
    assert.ok(!recipeLog.some((l) => /--l1/.test(l)), 'the same value as the recipe is no override');
    assert.throws(() => trainOptions([...base, '--fp16', '--no-fp16']), /contradict/);
  });

  it('default: the package defaults, unchanged and explained', () => {
    const { o, recipeLog } = fresh(base);
    assert.deepEqual(o.l1, TRAIN_DEFAULTS.l1);
    assert.deepEqual(o.l2, TRAIN_DEFAULTS.l2);
    assert.equal(o.lr, TRAIN_DEFAULTS.lr);
    assert.equal(o.fp16, false);
    assert.equal(o.floresHeldOut, 0);
    assert.deepEqual(recipeLog, []);
    assert.throws(() => trainOptions([...base, '--recipe', 'official']), /recipe/);
  });

  it('a FLORES folder: the recipe holds rows of dev+devtest out of training (none without it)', () => {
    const d = mkdtempSync(join(tmpdir(), 'ia-flores-'));
    try {
      mkdirSync(join(d, 'dev'));
      mkdirSync(join(d, 'devtest'));
      const rows = (p: string, n: number, k0: number) =>
        Array.from({ length: n }, (_, k) => `${p}${k0 + k}`).join('\n');
      for (const [lang, p] of [
        ['eng_Latn', 'E'],
        ['sun_Latn', 'S'],
      ]) {
        writeFileSync(join(d, `dev/${lang}.dev`), `${rows(p, 6, 0)}\n`);
        writeFileSync(join(d, `devtest/${lang}.devtest`), `${rows(p, 4, 6)}\n`);
      }
      const req = { pairs: d, l1: ['eng'], l2: ['sun'], objectives: 'tlm' };
      const all = loadTrainingPairs(req);
      assert.equal(all.length, 20); // 10 aligned rows × both directions
      const held = loadTrainingPairs({ ...req, floresHeldOut: 3 });
      assert.equal(held.length, 14); // 7 training rows × 2
      const kept = new Set(held.map((p) => (p.lang1 === 'eng' ? p.sentence1 : p.sentence2)));
      assert.equal(kept.size, 7);
      for (const p of held) assert.equal(p.sentence1.slice(1), p.sentence2.slice(1)); // still aligned
      // a CSV is not a FLORES folder: nothing is held out
      assert.equal(
        loadTrainingPairs({
          pairs: dataPath(DEFAULT_PAIRS),
          l1: ['eng'],
          l2: ['sun'],
          objectives: 'tlm',
          floresHeldOut: 3,
        }).length,
        1000,
      );
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('data --preview --recipe paper prints the resolved settings, then texts of the recipe', () => {
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'data', '--preview', '4', '--recipe', 'paper'],
      { encoding: 'utf8' },
    );
    assert.match(
      out,
      /^# pivots \(L1\): eng ↔ aligned \(L2\): ind,sun,jav,bug,ace,bjn,ban,min — both directions, 16 directions$/m,
    );
    assert.match(out, /^# lr: 0\.00001 /m);
    assert.match(out, /^# precision: fp16 /m);
    assert.match(out, /^# FLORES-200 folder: dev\+devtest, 1000 rows held out$/m);
    assert.equal(out.match(/^--- \d+ \[(tlm|xss|replay)\]$/gm)?.length, 4);
    assert.match(out, /\[replay\]/);
  });
});
