// adamw.wgsl's update (src/ops/adamw.ts adamwStep) against torch.optim.AdamW's published algorithm in float64, with
// a weight decay and learning rate large enough to see (the HF parity test in test/train/optimizer.test.ts uses
// lr·wd = 1e-5, below its tolerance, so a wrong sign or a missing bias correction there goes unnoticed).
// torch: p ← p·(1 − lr·wd); m ← β1·m + (1 − β1)·g; v ← β2·v + (1 − β2)·g²;
//        p ← p − lr/(1 − β1^t) · m / (sqrt(v)/sqrt(1 − β2^t) + eps). Tolerance 1e-6 + 1e-5·|p|.
import assert from 'node:assert/strict';
import { compare, getGpu } from '../helpers/gpu.ts';
import { adamwStep } from '../../src/ops/adamw.ts';

describe('adamw_step: three steps vs torch AdamW in float64 (lr 0.1, weight decay 0.5, gradient scale 0.5)', () => {
  it('weights and both moments', async () => {
    const gpu = await getGpu();
    const n = 10,
      lr = 0.1,
      wd = 0.5,
      b1 = 0.9,
      b2 = 0.999,
      eps = 1e-8,
      gscale = 0.5;
    const p0 = Float32Array.from({ length: n }, (_, i) => Math.sin(i + 1)),
      grads = [1, 2, 3].map((s) => Float32Array.from({ length: n }, (_, i) => Math.cos(3 * i + s) * (i % 3))),
      ref = { p: Array.from(p0, Number), m: new Array(n).fill(0), v: new Array(n).fill(0) };
    const tp = gpu.fromF32(p0, 'test:p'),
      tm = gpu.fromF32(new Float32Array(n), 'test:m'),
      tv = gpu.fromF32(new Float32Array(n), 'test:v');
    for (let t = 1; t <= 3; t++) {
      const g = grads[t - 1],
        tg = gpu.fromF32(g, 'test:g');
      adamwStep(gpu, tp, tg, tm, tv, { lr, beta1: b1, beta2: b2, eps, wd, gscale, step: t });
      tg.destroy();
      for (let i = 0; i < n; i++) {
        const gi = g[i] * gscale;
        ref.p[i] *= 1 - lr * wd;
        ref.m[i] = b1 * ref.m[i] + (1 - b1) * gi;
        ref.v[i] = b2 * ref.v[i] + (1 - b2) * gi * gi;
        ref.p[i] -= ((lr / (1 - b1 ** t)) * ref.m[i]) / (Math.sqrt(ref.v[i]) / Math.sqrt(1 - b2 ** t) + eps);
      }
    }
    const got = { p: await gpu.readF32(tp), m: await gpu.readF32(tm), v: await gpu.readF32(tv) };
    [tp, tm, tv].forEach((t) => t.destroy());
    for (const k of ['p', 'm', 'v'] as const) {
      const c = compare(got[k], ref[k], 1e-6, 1e-5);
      assert.ok(c.ok, `${k}[${c.bad}]: ${c.got} vs ${c.want} (max abs ${c.maxAbs})`);
    }
  });
});
