// The dry-run memory plan (`instructalign bench --memory`, Gpu.dryRun) must give exactly the peak that a real
// training step allocates, since the BLOOMZ-560M/1B1 figures in docs/performance.md come from it. Checked on
// nano-bloomz at a small shape, with and without recomputation, and that a dry run dispatches no kernel. The plan
// also simulates the buffer pool (src/gpu/runtime.ts) over two steps: bytes really held, buffers created per step.
import assert from 'node:assert/strict';
import { getGpu } from '../helpers/gpu.ts';
import type { Gpu } from '../../src/gpu/runtime.ts';
import { memoryPlan } from '../../src/perf/memory.ts';
import { bloomConfigFor } from '../../src/model/bloom/config.ts';
import { buildModel, randomParameters } from '../../src/model/families.ts';
import { withScope } from '../../src/gpu/scope.ts';
import { AdamW } from '../../src/train/optimizer.ts';

async function realPeak(gpu: Gpu, B: number, T: number, recompute: boolean) {
  const cfg = bloomConfigFor('nano-bloomz');
  await gpu.sync();
  gpu.trimPool(); // as the plan: from an empty buffer pool (a reused buffer may be larger than asked, up to 2×)
  const before = gpu.bytesAllocated;
  gpu.peakBytes = before;
  // the plan's order: the model, its training set-up, AdamW (a real step, through the seam)
  return withScope(gpu, async (mem) => {
    const lm = mem.own(await buildModel(gpu, cfg, randomParameters(cfg), { dtype: 'f32' }));
    const model = mem.own(lm.training({ recompute }));
    const opt = new AdamW(mem, model.params, {
      lr: 1e-5,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0,
      maxGradNorm: 1,
    });
    const ids = new Int32Array(B * T).map((_, i) => 5 + (i % (cfg.vocabSize - 5)));
    model.grads.zero();
    const loss = await model.lossAndBackward({ ids, mask: new Int32Array(B * T).fill(1), B, T }, ids);
    await opt.step(model.grads, 1e-5);
    await gpu.sync();
    return { peak: gpu.peakBytes - before, loss };
  });
}

describe('bench: the dry-run memory plan', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await getGpu();
  });
  for (const recompute of [false, true]) {
    it(`equals the peak of a real nano-bloomz training step (B=2 T=16${recompute ? ', --recompute' : ''})`, async () => {
      const real = await realPeak(gpu, 2, 16, recompute);
      const dispatches = gpu.dispatchCount;
      const plan = await memoryPlan(gpu, 'nano-bloomz', 2, 16, recompute);
      assert.ok(real.peak > 0);
      assert.equal(plan.peakBytes, real.peak, `plan ${plan.peakBytes} vs real ${real.peak}`);
      assert.ok(plan.stateBytes < plan.peakBytes && plan.weightsBytes < plan.stateBytes);
      assert.equal(gpu.dryRun, false, 'the dry run is switched off afterwards');
      assert.ok(gpu.dispatchCount > dispatches, 'the plan goes through every dispatch (checked, not recorded)');
    });
  }
  it('equals the real peak with flash attention (lse instead of probs, policy attention.flash always)', async () => {
    const flash = gpu.withPolicy({ attention: { flash: 'always' } });
    const real = await realPeak(flash, 2, 16, false);
    const plan = await memoryPlan(gpu, 'nano-bloomz', 2, 16, false, false, 'always');
    assert.equal(plan.flash, 'always');
    assert.equal(plan.peakBytes, real.peak, `plan ${plan.peakBytes} vs real ${real.peak}`);
  });
  it('recomputation lowers the planned activations of BLOOMZ-560M at B=4 T=256 (and fits 12 GB)', async () => {
    const plain = await memoryPlan(gpu, 'bloomz-560m', 4, 256, false);
    const rc = await memoryPlan(gpu, 'bloomz-560m', 4, 256, true);
    assert.equal(rc.stateBytes, plain.stateBytes);
    assert.ok(rc.activationBytes < plain.activationBytes / 4, `${rc.activationBytes} vs ${plain.activationBytes}`);
    assert.ok(rc.peakBytes < 12e9, `560M with recomputation plans ${rc.peakBytes} bytes`);
    // the buffer pool: the second step creates no buffer, and what the GPU holds (live + pooled) stays within
    // the pool's headroom over the live peak (in fact +1–2 %) and within 12 GB
    for (const p of [plain, rc]) {
      assert.equal(
        p.buffersPerStep,
        0,
        `${p.recompute ? 'recompute: ' : ''}${p.buffersPerStep} buffers created in the second step`,
      );
      assert.ok(
        p.residentBytes >= p.peakBytes && p.residentBytes <= p.peakBytes * (1 + gpu.poolHeadroom),
        `resident ${p.residentBytes} vs live peak ${p.peakBytes}`,
      );
    }
    assert.ok(rc.residentBytes < 12e9, `560M with recomputation holds ${rc.residentBytes} bytes`);
  });
});
