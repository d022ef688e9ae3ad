// trainStep (src/train/step.ts) with gradient accumulation: the bloom-tiny fixture's batch as one micro-batch and
// as one micro-batch per row gives the same step, since the loss is divided by the targets of the whole accumulated
// batch as HF ≥ 4.46 does (a per-micro-batch mean would weight the rows differently: they hold different numbers of
// targets). Compared: loss and gradient norm (rel 1e-5), every weight after the step (atol 1e-5 + rtol 1e-5: Adam's
// first update is about lr·g/|g|, so where g is near 0 a rounding difference in g moves it by a part of lr = 1e-3).
// Parity of a single-batch trainStep with HF Trainer itself is test/train/optimizer.test.ts.
import assert from 'node:assert/strict';
import { compare, getGpu, loadFixture } from '../helpers/gpu.ts';
import { BloomModel } from '../../src/model/bloom/model.ts';
import { withScope } from '../../src/gpu/scope.ts';
import { AdamW } from '../../src/train/optimizer.ts';
import { type MicroBatch, trainStep } from '../../src/train/step.ts';
import { fixtureBatch, loadF32Weights } from '../model/backward.test.ts';

describe('trainStep: one batch or the same rows as micro-batches give the same step (bloom-tiny)', () => {
  it('loss, gradient norm and the updated weights agree', async () => {
    const gpu = await getGpu();
    const fx = await loadFixture('bloom-tiny');
    const { batch, labels } = await fixtureBatch(fx);
    const { B, T } = batch;
    // rows hold different numbers of targets (left padding), which is what makes the normalisation matter
    const perRow: MicroBatch[] = Array.from({ length: B }, (_, r) => ({
      batch: { ids: batch.ids.slice(r * T, r * T + T), mask: batch.mask.slice(r * T, r * T + T), B: 1, T },
      labels: labels.slice(r * T, r * T + T),
    }));
    const run = async (micro: MicroBatch[]) => {
      const w = await loadF32Weights(gpu, fx);
      return withScope(gpu, async (mem) => {
        const lm = mem.own(new BloomModel(gpu, w));
        const model = lm.training(),
          opt = new AdamW(mem, model.params, {
            lr: 1e-3,
            betas: [0.9, 0.999],
            eps: 1e-8,
            weightDecay: 0.01,
            maxGradNorm: 1,
          });
        const r = await trainStep({ model, opt }, micro, 1e-3);
        return { r, after: await lm.readParameters() };
      });
    };
    try {
      assert.ok(B >= 2, 'the fixture batch has several rows');
      const whole = await run([{ batch, labels }]),
        split = await run(perRow);
      assert.equal(split.r.nTokens, whole.r.nTokens);
      const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
      assert.ok(rel(split.r.loss, whole.r.loss) <= 1e-5, `loss ${split.r.loss} vs ${whole.r.loss}`);
      assert.ok(
        rel(split.r.gradNorm, whole.r.gradNorm) <= 1e-5,
        `grad norm ${split.r.gradNorm} vs ${whole.r.gradNorm}`,
      );
      for (const [name, a] of whole.after) {
        const c = compare(split.after.get(name)!, a, 1e-5, 1e-5);
        assert.ok(c.ok, `${name}[${c.bad}]: ${c.got} vs ${c.want}`);
      }
    } finally {
      await fx.ref.close();
    }
  });
});
