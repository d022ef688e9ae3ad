// RMSNorm (rmsnorm.wgsl) against the float64 reference of test/helpers/llama-ref.ts (HF's LlamaRMSNorm:
// x·rsqrt(mean(x²) + eps)·γ), forward (y and the saved rstd) and backward: dx (overwritten, then accumulated) and
// dγ (accumulated) against central finite differences of Σ dy·rmsnorm(x) in float64. Rows where eps decides the
// result (zero, tiny) and ordinary ones; C = 37 (no vec4 assumptions) and C = 16 (a Qwen3 head dim, q_norm/k_norm).
// Tolerances: forward 1e-5 + 1e-5·|y| (f32 statistics); gradients 1e-4 + 1e-3·|g| (f32 sums vs float64 differences).
import assert from 'node:assert/strict';
import { compare, getGpu } from '../helpers/gpu.ts';
import { fdGrad, rmsnorm } from '../helpers/llama-ref.ts';
import { rng } from '../helpers/rng.ts';
import { rmsnormBackward, rmsnormForward } from '../../src/ops/rmsnorm.ts';

const EPS = 1e-6;

function inputs(R: number, C: number, seed: number) {
  const r = rng(seed);
  const x = Float32Array.from({ length: R * C }, (_, i) => {
    const row = Math.floor(i / C);
    // row 0 all zero (rstd = 1/sqrt(eps)), row 1 tiny (mean(x²) ≈ eps), then ordinary rows
    return row === 0 ? 0 : row === 1 ? 1e-3 * r() : 2 * r();
  });
  const gamma = Float32Array.from({ length: C }, () => 1 + r());
  const dy = Float32Array.from({ length: R * C }, () => r());
  return { x, gamma, dy };
}

describe('rmsnorm forward and backward vs float64 and finite differences', () => {
  for (const C of [37, 16]) {
    it(`C = ${C}`, async () => {
      const gpu = await getGpu();
      const R = 5;
      const { x, gamma, dy } = inputs(R, C, 11 + C);
      const tx = gpu.fromF32(x, 'test:x'),
        tg = gpu.fromF32(gamma, 'test:gamma'),
        ty = gpu.tensor(R * C, 'f32', 'test:y'),
        ts = gpu.tensor(R, 'f32', 'test:rstd'),
        tdy = gpu.fromF32(dy, 'test:dy'),
        tdx = gpu.fromF32(new Float32Array(R * C).fill(0.5), 'test:dx'),
        tdg = gpu.fromF32(new Float32Array(C).fill(0.25), 'test:dgamma');
      rmsnormForward(gpu, tx, tg, ty, ts, R, C, EPS);
      const want = rmsnorm(x, gamma, R, C, EPS);
      const y = compare(await gpu.readF32(ty), want.y, 1e-5, 1e-5);
      assert.ok(y.ok, `y[${y.bad}]: ${y.got} vs ${y.want}`);
      const s = compare(await gpu.readF32(ts), want.rstd, 1e-6, 1e-5);
      assert.ok(s.ok, `rstd[${s.bad}]: ${s.got} vs ${s.want}`);

      // L = Σ dy·y: its gradients by finite differences of the float64 reference
      const x64 = Float64Array.from(x),
        g64 = Float64Array.from(gamma);
      const L = () => rmsnorm(x64, g64, R, C, EPS).y.reduce((a, v, i) => a + v * dy[i], 0);
      const dxWant = fdGrad(L, x64, x64.keys(), 1e-6);
      const dgWant = fdGrad(L, g64, g64.keys());
      // the zero row: d/dx of x·rstd at x = 0 is rstd·γ·dy exactly; finite differences see the same
      rmsnormBackward(gpu, tx, tg, ts, tdy, tdx, tdg, R, C, false);
      const dx1 = compare(await gpu.readF32(tdx), [...dxWant.values()], 1e-4, 1e-3);
      assert.ok(dx1.ok, `dx[${dx1.bad}]: ${dx1.got} vs ${dx1.want} (max abs ${dx1.maxAbs})`);
      const dg1 = compare(
        await gpu.readF32(tdg),
        [...dgWant.values()].map((v) => v + 0.25),
        1e-4,
        1e-3,
      );
      assert.ok(dg1.ok, `dgamma[${dg1.bad}]: ${dg1.got} vs ${dg1.want}`);
      // a second backward accumulates into dx (accumulateDx) and into dγ
      rmsnormBackward(gpu, tx, tg, ts, tdy, tdx, tdg, R, C, true);
      const dx2 = compare(
        await gpu.readF32(tdx),
        [...dxWant.values()].map((v) => 2 * v),
        2e-4,
        1e-3,
      );
      assert.ok(dx2.ok, `accumulated dx[${dx2.bad}]: ${dx2.got} vs ${dx2.want}`);
      const dg2 = compare(
        await gpu.readF32(tdg),
        [...dgWant.values()].map((v) => 2 * v + 0.25),
        2e-4,
        1e-3,
      );
      assert.ok(dg2.ok, `accumulated dgamma[${dg2.bad}]: ${dg2.got} vs ${dg2.want}`);
      [tx, tg, ty, ts, tdy, tdx, tdg].forEach((t) => t.destroy());
    });
  }
});
