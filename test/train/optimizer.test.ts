// AdamW parity with HF Trainer on both fixtures (two trainSteps: losses, grad norms, every parameter), the linear
// schedule, state round-trip, and the overflow skip of dynamic loss scaling.
import assert from 'node:assert/strict';
import { FIXTURE_NAMES, getGpu, loadFixture, type Fixture } from '../helpers/gpu.ts';
import type { BloomWeights } from '../../src/model/bloom/weights.ts';
import { BloomModel } from '../../src/model/bloom/model.ts';
import { lossAndBackward } from '../../src/model/bloom/backward.ts';
import { readParamTensors } from '../../src/model/causal-lm.ts';
import { Scope } from '../../src/gpu/scope.ts';
import { bloomParameters } from '../../src/model/bloom/config.ts';
import { AdamW, decays, linearLr } from '../../src/train/optimizer.ts';
import { trainStep } from '../../src/train/step.ts';
import type { Gpu } from '../../src/gpu/runtime.ts';
import { compareParams, fixtureBatch, loadF32Weights } from '../model/backward.test.ts';

const readWeights = (gpu: Gpu, w: BloomWeights) => readParamTensors(gpu, w.tensors(), w.table);

describe('AdamW schedule and decay groups', () => {
  it('linear decay with warmup follows HF get_linear_schedule_with_warmup', () => {
    assert.equal(linearLr(0, { lr: 1e-3, totalSteps: 2 }), 1e-3);
    assert.equal(linearLr(1, { lr: 1e-3, totalSteps: 2 }), 5e-4);
    assert.equal(linearLr(0, { lr: 1, totalSteps: 10, warmupSteps: 4 }), 0);
    assert.equal(linearLr(2, { lr: 1, totalSteps: 10, warmupSteps: 4 }), 0.5);
    assert.equal(linearLr(4, { lr: 1, totalSteps: 10, warmupSteps: 4 }), 1);
    assert.equal(linearLr(7, { lr: 1, totalSteps: 10, warmupSteps: 4 }), 0.5);
    assert.equal(linearLr(12, { lr: 1, totalSteps: 10, warmupSteps: 4 }), 0);
    assert.equal(linearLr(5, { lr: 2 }), 2);
  });
  it('excludes biases and LayerNorm parameters from weight decay (by the role each tensor carries)', () => {
    assert.ok(decays('matrix') && decays('embedding'));
    assert.ok(!decays('bias') && !decays('norm'));
  });
});

for (const name of FIXTURE_NAMES) {
  describe(`AdamW parity: ${name}`, () => {
    let gpu: Gpu;
    let fx: Fixture;
    before(async () => {
      gpu = await getGpu();
      fx = await loadFixture(name);
    });
    after(async () => {
      await fx?.ref.close();
    });

    async function setup() {
      const w = await loadF32Weights(gpu, fx);
      const a = fx.json.adamw;
      const mem = new Scope(gpu);
      const tr = mem.own(new BloomModel(gpu, w)).training();
      const opt = new AdamW(mem, tr.params, {
        lr: a.lr,
        betas: a.betas,
        eps: a.eps,
        weightDecay: a.weight_decay,
        maxGradNorm: a.max_grad_norm,
        decayAll: true,
        totalSteps: a.steps,
      });
      const { fwd, grads } = tr;
      const done = () => mem.destroy();
      return { w, opt, fwd, grads, tr, mem, done };
    }

    it('two steps: losses, grad norms (rel 1e-4) and every parameter (atol 1e-4, rtol 1e-2) match HF Trainer', async () => {
      const { w, opt, tr, done } = await setup();
      try {
        const { batch, labels } = await fixtureBatch(fx);
        const log: string[] = [];
        for (let s = 0; s < 2; s++) {
          const { loss, gradNorm, skipped } = await trainStep({ model: tr, opt }, [{ batch, labels }], opt.lrAt(s));
          const wl = fx.json.losses_per_step[s],
            wn = fx.json.grad_norms_before_clip[s];
          log.push(`step ${s}: loss ${loss} vs ${wl}, grad norm ${gradNorm} vs ${wn}, lr ${opt.lrAt(s)}`);
          assert.ok(!skipped);
          assert.ok(Math.abs(loss - wl) <= 1e-4 * Math.abs(wl), log.join('\n'));
          assert.ok(Math.abs(gradNorm - wn) <= 1e-4 * Math.abs(wn), log.join('\n'));
        }
        const got = await readWeights(gpu, w);
        const lines: string[] = [];
        const failures = await compareParams(
          fx,
          got,
          'after_adamw_2_steps.',
          bloomParameters(w.cfg).map((p) => p.name),
          (l) => lines.push(l),
        );
        if (process.env.INSTRUCTALIGN_VERBOSE) console.log('  ' + [...log, ...lines].join('\n  '));
        assert.deepEqual(failures, [], failures.join('\n'));
      } finally {
        done();
      }
    });

    it('an overflowing loss scale skips the step and leaves weights and state untouched; state round-trips', async () => {
      const { w, opt, fwd, grads, tr, mem, done } = await setup();
      try {
        const { batch, labels } = await fixtureBatch(fx);
        // one real step so that the moments are non-zero
        await lossAndBackward(fwd, batch, labels, grads);
        assert.ok(!(await opt.step(grads, 1e-3)).skipped);
        const before = await readWeights(gpu, w);
        const state = await opt.getState();
        grads.zero();
        // a loss scale of 1e38 overflows f32: the norm of the (scaled) gradients is no longer finite
        await lossAndBackward(fwd, batch, labels, grads, { lossScale: 1e38 });
        const r = await opt.step(grads, 1e-3);
        assert.ok(r.skipped && !Number.isFinite(r.gradNorm), `expected a skipped step, got ${JSON.stringify(r)}`);
        // a single NaN gradient element (an fp16 overflow upstream) is caught too
        grads.zero();
        await lossAndBackward(fwd, batch, labels, grads);
        gpu.upload(grads.get('h.1.mlp.dense_4h_to_h.weight'), new Float32Array([NaN]), 7);
        const r2 = await opt.step(grads, 1e-3);
        assert.ok(r2.skipped && Number.isNaN(r2.gradNorm), `expected a skipped step on NaN, got ${JSON.stringify(r2)}`);
        assert.equal(opt.stepCount, 1);
        const after = await readWeights(gpu, w);
        for (const [n, a] of before) assert.deepEqual(after.get(n), a, `${n} changed by a skipped step`);
        const st2 = await opt.getState();
        for (const k of ['m', 'v'] as const)
          for (const [n, a] of state[k]) assert.deepEqual(st2[k].get(n), a, `${k} of ${n} changed`);
        assert.ok(
          [...state.m.values()].some((a) => a.some((x) => x !== 0)),
          'moments are non-zero after a step',
        );
        // state round-trip into a fresh optimizer
        const opt2 = new AdamW(mem, tr.params, opt.opts);
        opt2.setState(state);
        const st3 = await opt2.getState();
        assert.equal(st3.step, 1);
        for (const k of ['m', 'v'] as const)
          for (const [n, a] of state[k]) assert.deepEqual(st3[k].get(n), a, `${k} of ${n} after setState`);
      } finally {
        done();
      }
    });
  });
}
