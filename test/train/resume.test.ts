// Resume means resume: a run restored from --resume alone (its options come from the checkpoint) reproduces the
// uninterrupted run's losses; a given option that would change the run is refused, one that may change is logged.
import assert from 'node:assert/strict';
import { Runtime } from '../../src/host/runtime.ts';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getGpu, FIXTURES, REPO } from '../helpers/gpu.ts';
import {
  ResumeConflictError,
  resumeOptions,
  train,
  TRAIN_DEFAULTS,
  type TrainOptions,
} from '../../src/train/trainer.ts';

// deliberately far from TRAIN_DEFAULTS in every option the schedule and data depend on, so that falling back to a
// default anywhere changes the losses
function options(out: string): TrainOptions {
  return {
    ...TRAIN_DEFAULTS,
    model: join(FIXTURES, 'bloom-tiny'),
    out,
    pairs: join(REPO, 'data/nusax/mt/train.csv'),
    l1: ['eng'],
    l2: ['sun'],
    objectives: 'tlm,xss',
    replay: join(REPO, 'data/replay/nusax_l1_sentiment.jsonl'),
    replaySize: 6,
    steps: 5,
    lr: 3e-3,
    warmupSteps: 1,
    batchSize: 2,
    gradAccum: 2,
    maxLength: 20,
    saveSteps: 2,
    seed: 11,
  };
}

describe('trainer resume (bloom-tiny fixture)', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'ia-resume-'));
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('restored from the checkpoint alone ({ out } only), the losses and lrs equal the uninterrupted run', async () => {
    const gpu = await getGpu();
    const full = await train(Runtime.onGpu(gpu), options(tmp()), false, { log: () => {} });
    const out = tmp();
    await assert.rejects(
      train(Runtime.onGpu(gpu), options(out), false, {
        log: () => {},
        onStep: (s) => {
          if (s.step === 3) throw new Error('simulated crash');
        },
      }),
      /simulated crash/,
    );
    const logged: string[] = [];
    let started: TrainOptions | undefined;
    const resumed = await train(Runtime.onGpu(gpu), { out }, true, {
      log: (m) => logged.push(m),
      onStart: (o) => {
        started = o;
      },
    });
    assert.equal(started?.steps, 5);
    assert.equal(started?.batchSize, 2);
    assert.deepEqual(
      resumed.map((l) => l.step),
      [3, 4, 5],
    );
    assert.deepEqual(
      resumed.map((l) => [l.loss, l.lr]),
      full.slice(2).map((l) => [l.loss, l.lr]),
    );
    assert.ok(logged.some((m) => /resumed from .* at step 2/.test(m)));
  });

  it('an option that changes the run is refused, naming it; --save-steps may change and is logged', async () => {
    const gpu = await getGpu();
    const out = tmp();
    const o = { ...options(out), steps: 2 };
    await train(Runtime.onGpu(gpu), o, false, { log: () => {} });
    await assert.rejects(
      train(Runtime.onGpu(gpu), { out, steps: 4, lr: 1e-3 }, true, { log: () => {} }),
      (e) =>
        e instanceof ResumeConflictError &&
        /--steps 4 \(the run has 2\)/.test(e.message) &&
        /--lr 0\.001 \(the run has 0\.003\)/.test(e.message),
    );
    const logged: string[] = [];
    // the same values as saved are no change; a different --save-steps is allowed and said
    const logs = await train(Runtime.onGpu(gpu), { out, steps: 2, saveSteps: 1 }, true, { log: (m) => logged.push(m) });
    assert.equal(logs.length, 0, 'the run had already finished');
    assert.ok(
      logged.includes('resume: --save-steps 2 → 1 (allowed: it changes no number of the run)'),
      logged.join('\n'),
    );
  });

  it('a damaged trainer_state.json is named (empty, truncated, another version, a step that is no number)', async () => {
    const gpu = await getGpu();
    const out = tmp();
    await train(Runtime.onGpu(gpu), { ...options(out), steps: 1 }, false, { log: () => {} });
    const file = join(out, 'checkpoint', 'trainer_state.json');
    const good = readFileSync(file, 'utf8');
    const state = JSON.parse(good);
    for (const [text, msg] of [
      ['', /Unexpected end of JSON input.*damaged checkpoint/],
      [good.slice(0, 100), /trainer_state\.json: .*damaged checkpoint/],
      [JSON.stringify({ ...state, version: 99 }), /version 99 \(this instructalign writes 1\)/],
      [JSON.stringify({ ...state, step: 'three' }), /step "three" \(not a step count\)/],
    ] as const) {
      writeFileSync(file, text);
      await assert.rejects(
        train(Runtime.onGpu(gpu), { out }, true, { log: () => {} }),
        (e) => e instanceof Error && e.message.startsWith(file) && msg.test(e.message),
      );
    }
  });

  it('resumeOptions: saved options win, relative and absolute paths of the same file are the same option', () => {
    const saved = options('/x');
    const { options: o, changed } = resumeOptions(saved, { out: '/y', recompute: true, pairs: saved.pairs });
    assert.deepEqual({ ...o, out: '/x', recompute: undefined }, { ...saved, recompute: undefined });
    assert.equal(o.out, '/y');
    assert.deepEqual(changed, ['--recompute (unset) → true']);
    assert.throws(() => resumeOptions(saved, { out: '/x', l2: ['jav'] }), /--l2 jav \(the run has sun\)/);
  });
});
