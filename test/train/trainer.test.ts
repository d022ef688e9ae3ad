// Trainer: the loss falls on a fixed small dataset; a run interrupted mid-way and resumed reproduces the
// uninterrupted loss curve exactly; checkpoints are HF-loadable folders.
import assert from 'node:assert/strict';
import { Runtime } from '../../src/host/runtime.ts';
import fs, { mkdtempSync, rmSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getGpu, FIXTURES, REPO } from '../helpers/gpu.ts';
import { train, TRAIN_DEFAULTS, type TrainOptions } from '../../src/train/trainer.ts';
import { openCheckpoint } from '../../src/model/checkpoint.ts';
import { tuneState } from '../../src/ops/matmul.ts';

function options(out: string, steps: number): TrainOptions {
  return {
    ...TRAIN_DEFAULTS,
    model: join(FIXTURES, 'bloom-tiny'),
    out,
    pairs: join(REPO, 'data/nusax/mt/train.csv'),
    l1: ['eng'],
    l2: ['jav'],
    objectives: 'tlm,xss',
    replay: join(REPO, 'data/replay/nusax_l1_sentiment.jsonl'),
    replaySize: 8,
    steps,
    lr: 2e-3,
    batchSize: 4,
    gradAccum: 2,
    maxLength: 24,
    saveSteps: 2,
    seed: 7,
  };
}

describe('trainer (bloom-tiny fixture, NusaX eng↔jav + replay)', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'ia-train-'));
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  let full: number[] = [];
  it('trains: the mean loss of the last 3 steps is at least 15% below the first 3 steps', async () => {
    const gpu = await getGpu();
    const out = tmp();
    const logs = await train(Runtime.onGpu(gpu), options(out, 10), false, { log: () => {} });
    full = logs.map((l) => l.loss);
    assert.equal(logs.length, 10);
    const first = (full[0] + full[1] + full[2]) / 3,
      last = (full[7] + full[8] + full[9]) / 3;
    assert.ok(
      last < 0.85 * first,
      `loss ${first.toFixed(3)} → ${last.toFixed(3)}: ${full.map((x) => x.toFixed(2)).join(' ')}`,
    );
    const [start, ...lines] = readFileSync(join(out, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // the first line states the data: pairs, texts per objective, replay rows, epochs, skipped rows
    assert.equal(start.event, 'start');
    assert.equal(start.step, 0);
    assert.equal(start.replay_rows, 8);
    assert.equal(start.texts, 40);
    assert.equal(
      Object.values(start.texts_per_objective as Record<string, number>).reduce((a, b) => a + b),
      40,
    );
    assert.equal(start.texts_per_objective.replay, 20, 'replay interleaved 1:1');
    assert.ok(start.pairs > 0 && start.skipped_rows >= 0 && start.epochs > 0);
    assert.deepEqual(Object.keys(lines[0]).sort(), [
      'grad_norm',
      'loss',
      'loss_scale',
      'lr',
      'skipped',
      'step',
      'tokens',
      'tokens_per_s',
    ]);
    const ck = await openCheckpoint(join(out, 'checkpoint'));
    assert.equal(ck.config.hiddenSize, 64);
    await ck.close();
    assert.ok(
      existsSync(join(out, 'checkpoint', 'optimizer.safetensors')) && existsSync(join(out, 'train_config.json')),
    );
    assert.deepEqual(
      readdirSync(out).filter((f) => f.startsWith('.')),
      [],
      'no temporary checkpoint folders left',
    );
  });

  it('a run that crashes after step 5 resumes from its step-4 checkpoint and reproduces the losses exactly', async () => {
    const gpu = await getGpu();
    const out = tmp();
    await assert.rejects(
      train(Runtime.onGpu(gpu), options(out, 10), false, {
        log: () => {},
        onStep: (s) => {
          if (s.step === 5) throw new Error('simulated crash');
        },
      }),
      /simulated crash/,
    );
    const resumed = await train(Runtime.onGpu(gpu), options(out, 10), true, { log: () => {} });
    assert.equal(resumed[0].step, 5);
    assert.deepEqual(
      resumed.map((l) => l.loss),
      full.slice(4),
    );
    const all = readFileSync(join(out, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .slice(1) // the start line
      .map((l) => JSON.parse(l).loss);
    assert.deepEqual(all, full);
  });

  it('a crash between the two renames of a save, twice: --resume loads .checkpoint-old, losses reproduced', async () => {
    // replaceDir (src/util/atomic.ts) swaps folders: checkpoint → .checkpoint-old, .checkpoint-tmp → checkpoint,
    // then deletes the old copy. The run crashes at its second save (step 4) after the first rename; the resumed run
    // crashes at its first save, where only .checkpoint-old exists: that copy must survive until the new one is in.
    const gpu = await getGpu();
    const out = tmp();
    const rename = fs.renameSync;
    const crashAtSwap = async (n: number, resume: boolean) => {
      let swaps = 0;
      fs.renameSync = (from: fs.PathLike, to: fs.PathLike) => {
        if (String(from).endsWith('.checkpoint-tmp') && ++swaps === n) throw new Error('simulated crash in the save');
        rename(from, to);
      };
      syncBuiltinESMExports(); // `import('node:fs')` in atomic.ts now sees the patched function
      try {
        await assert.rejects(
          train(Runtime.onGpu(gpu), options(out, 10), resume, { log: () => {} }),
          /simulated crash in the save/,
        );
      } finally {
        fs.renameSync = rename;
        syncBuiltinESMExports();
      }
      assert.ok(!existsSync(join(out, 'checkpoint')) && existsSync(join(out, '.checkpoint-old')), 'crashed mid-swap');
    };
    await crashAtSwap(2, false);
    await crashAtSwap(1, true);
    const resumed = await train(Runtime.onGpu(gpu), options(out, 10), true, { log: () => {} });
    assert.equal(resumed[0].step, 3, 'resumed after the step-2 checkpoint');
    assert.deepEqual(
      resumed.map((l) => l.loss),
      full.slice(2),
    );
    assert.deepEqual(
      readdirSync(out).filter((f) => f.startsWith('.')),
      [],
      'the next save cleaned up the old and temporary folders',
    );
  });

  it('GPU family: the matmul tiles are tuned during the first steps (logged) and the losses stay bit for bit', async () => {
    const device = await getGpu();
    // the tiled kernels, as on a real GPU (tuning 'on': SwiftShader is no real GPU); the other ops keep SwiftShader's
    const rowwise = { rowwise: true };
    const gpuFamily = (tune: 'on' | 'off') =>
      device.withPolicy({
        family: 'gpu',
        matmul: { tune },
        attention: rowwise,
        layernorm: rowwise,
        crossEntropy: rowwise,
      });
    const gpu = gpuFamily('on');
    try {
      const fixed = await train(Runtime.onGpu(gpuFamily('off')), options(tmp(), 3), false, { log: () => {} });
      tuneState(gpu).table.clear();
      const said: string[] = [];
      const tuned = await train(Runtime.onGpu(gpu), options(tmp(), 3), false, { log: (m) => said.push(m) });
      assert.match(said.join('\n'), /^matmul tuned for \d+ shape class(es)?: (tiled\w+ ×\d+(, )?)+$/m);
      assert.ok(tuneState(gpu).table.size >= 3, `${tuneState(gpu).table.size} classes tuned`);
      assert.deepEqual(
        tuned.map((l) => l.loss),
        fixed.map((l) => l.loss),
      );
      assert.deepEqual(
        tuned.map((l) => l.grad_norm),
        fixed.map((l) => l.grad_norm),
      );
    } finally {
      tuneState(gpu).table.clear();
      tuneState(gpu).pending.clear();
    }
  });

  it('--resume without a checkpoint is a clear error', async () => {
    await assert.rejects(
      train(Runtime.onGpu(await getGpu()), options(tmp(), 2), true, { log: () => {} }),
      /no checkpoint in .*start without --resume/,
    );
  });
});
