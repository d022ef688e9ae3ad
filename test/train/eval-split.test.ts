// Issue 25 item 4: visible training. --eval-split holds out pairs, --eval-steps logs eval_loss/eval_perplexity,
// --save-best keeps the lowest-eval-loss weights in OUT/best (atomic, survives --resume), the log starts with the
// data's counts; the Node API's train takes the same options and reports the smoothed loss, tokens/s and eval loss.
import assert from 'node:assert/strict';
import { Runtime } from '../../src/host/runtime.ts';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, getGpu } from '../helpers/gpu.ts';
import { BEST, train, TRAIN_DEFAULTS, type TrainOptions } from '../../src/train/trainer.ts';
import { openCheckpoint } from '../../src/model/checkpoint.ts';
import { createRuntime } from '../../src/api/node.ts';
import type { TrainProgress } from '../../src/api/types.ts';

const EN = Array.from({ length: 20 }, (_, i) => `the child number ${i} walks to the market`);
const YO = Array.from({ length: 20 }, (_, i) => `ọmọ ${i} ń rìn lọ sí ọjà`);

describe('train --eval-split / --eval-steps / --save-best (bloom-tiny fixture)', function () {
  this.timeout(300000);
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'ia-evsplit-'));
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  let pairs = '';
  before(() => {
    pairs = join(tmp(), 'pairs.jsonl');
    // HF translation JSONL with ISO 639-1 keys (issue 25 item 5)
    writeFileSync(pairs, EN.map((e, i) => JSON.stringify({ translation: { en: e, yo: YO[i] } })).join('\n'));
  });
  const options = (out: string): TrainOptions => ({
    ...TRAIN_DEFAULTS,
    model: join(FIXTURES, 'bloom-tiny'),
    out,
    pairs,
    l1: ['eng'],
    l2: ['yor'],
    langNames: { yor: 'Yorùbá' },
    objectives: 'tlm,xss',
    replay: 'none',
    steps: 4,
    lr: 5e-3,
    batchSize: 2,
    maxLength: 24,
    saveSteps: 2,
    seed: 5,
    evalSplit: '20%',
    evalSteps: 2,
    saveBest: true,
  });
  const lines = (out: string) =>
    readFileSync(join(out, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));

  let full: ReturnType<typeof lines> = [];
  it('logs eval_loss and perplexity every K steps, keeps the best weights, states the data first', async () => {
    const out = tmp();
    const logs = await train(Runtime.onGpu(await getGpu()), options(out), false, { log: () => {} });
    full = lines(out);
    const [start, ...steps] = full;
    assert.deepEqual(
      [start.event, start.rows, start.eval_rows, start.pairs, start.eval_pairs, start.eval_texts, start.skipped_rows],
      ['start', 20, 4, 32, 8, 8, 0],
    );
    assert.equal(start.replay_rows, 0);
    assert.equal(start.epochs, 0.25); // 4 steps × 2 texts of 32 pairs
    assert.deepEqual(
      steps.map((s) => s.step),
      [1, 2, 3, 4],
    );
    const evals = steps.filter((s) => s.eval_loss !== undefined);
    assert.deepEqual(
      evals.map((s) => s.step),
      [2, 4],
    );
    for (const e of evals) {
      assert.ok(Number.isFinite(e.eval_loss) && e.eval_loss > 0);
      assert.ok(Math.abs(e.eval_perplexity - Math.exp(e.eval_loss)) < 1e-9 * e.eval_perplexity);
    }
    assert.equal(logs[1].eval_loss, evals[0].eval_loss);
    // best/: an HF folder of the lowest eval loss, and which step it is
    const bestStep = evals.reduce((a, b) => (b.eval_loss < a.eval_loss ? b : a));
    const ev = JSON.parse(readFileSync(join(out, BEST, 'eval.json'), 'utf8'));
    assert.deepEqual([ev.step, ev.eval_loss], [bestStep.step, bestStep.eval_loss]);
    const ck = await openCheckpoint(join(out, BEST));
    await ck.close();
    const state = JSON.parse(readFileSync(join(out, 'checkpoint', 'trainer_state.json'), 'utf8'));
    assert.deepEqual(state.best, { step: bestStep.step, eval_loss: bestStep.eval_loss });
    // the run and the checkpoint record the language names (a later eval reads checkpoint/languages.json)
    const cfg = JSON.parse(readFileSync(join(out, 'train_config.json'), 'utf8'));
    assert.deepEqual(cfg.lang_names, { eng: 'English', yor: 'Yorùbá' });
    assert.equal(cfg.evalSplit, '20%');
    assert.equal(cfg.data_checks.data.eval_rows, 4);
    const langs = JSON.parse(readFileSync(join(out, 'checkpoint', 'languages.json'), 'utf8'));
    assert.deepEqual(langs.lang_names, { eng: 'English', yor: 'Yorùbá' });
    assert.ok(existsSync(join(out, BEST, 'languages.json')));
  });

  it('a run stopped at step 2 and resumed gives the same losses, eval losses and best', async () => {
    const out = tmp();
    let last = 0;
    await train(Runtime.onGpu(await getGpu()), options(out), false, {
      log: () => {},
      onStep: (s) => {
        last = s.step;
      },
      shouldStop: () => last >= 2,
    });
    assert.equal(lines(out).length, 3, 'start + steps 1, 2');
    await train(Runtime.onGpu(await getGpu()), { out } as TrainOptions, true, { log: () => {} });
    const pick = (ls: ReturnType<typeof lines>) => ls.map((l) => [l.step, l.loss, l.eval_loss]);
    assert.deepEqual(pick(lines(out)), pick(full));
    assert.deepEqual(lines(out)[0], full[0], 'the start line is kept');
    const ev = JSON.parse(readFileSync(join(out, BEST, 'eval.json'), 'utf8'));
    const evals = full.filter((s) => s.eval_loss !== undefined);
    assert.equal(ev.eval_loss, Math.min(...evals.map((e) => e.eval_loss)));
  });

  it('the Node API: the same options; progress has the smoothed loss, tokens/s and the eval loss', async () => {
    const rt = await createRuntime({ log: () => {} });
    try {
      const out = tmp();
      const seen: TrainProgress[] = [];
      const { out: _o, ...o } = options(out);
      const r = await rt.train({ ...o, out }, { onProgress: (p) => seen.push(p) });
      assert.equal(r.best, join(out, BEST));
      assert.deepEqual(
        r.logs.map((l) => l.loss),
        full.slice(1).map((l) => l.loss),
        'the API trains as the trainer',
      );
      assert.equal(seen.length, 4);
      assert.equal(seen[0].evalLoss, undefined);
      assert.equal(seen[1].evalLoss, full[2].eval_loss);
      assert.ok(seen.every((p) => Number.isFinite(p.smoothedLoss) && p.tokensPerSecond > 0));
      assert.equal(seen[0].smoothedLoss, seen[0].loss, 'the first smoothed loss is the first loss');
      // train() leaves the trained weights loaded: they are recorded as changed (not as bloom-tiny's files, which an
      // evaluation's fingerprint would then have claimed), and evaluate() scores them under the run's checkpoint name
      // (it said "load a model first")
      const info = await rt.info();
      assert.match(info.files.changed ?? '', /^trained in place by train\(\)/);
      const res = await rt.evaluate({ data: 'nusax', langs: ['eng'], limit: 1, prompts: [1] });
      assert.equal(res.model.model, r.checkpoint);
      assert.equal(res.model.files?.changed, info.files.changed);
      const text = [`${EN[3]} ${YO[3]}`];
      const trained = await rt.score(text);
      await rt.loadModel(r.checkpoint);
      assert.deepEqual(await rt.score(text), trained, 'the weights left loaded are the checkpoint’s');
    } finally {
      await rt.dispose();
    }
  });
});
