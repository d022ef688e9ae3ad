// Column sums on the GPU family (src/ops/matmul.ts columnSums: bias gradients; LayerNorm's dγ/dβ): from 128 rows on
// they run in two stages (partial sums of 32 rows, then those in order), checked here against float64 with row
// counts that are not multiples of 32, accumulation into existing values included. Tolerance 1e-5 + 1e-5·|ref|.
import assert from 'node:assert/strict';
import { compare, getGpu } from '../helpers/gpu.ts';
import type { Gpu } from '../../src/gpu/runtime.ts';
import { columnSums } from '../../src/ops/matmul.ts';
import { layernormBackward, layernormForward } from '../../src/ops/layernorm.ts';
import { rng } from '../helpers/rng.ts';

describe('column sums (bias and LayerNorm parameter gradients), GPU family', () => {
  let gpu: Gpu;
  before(async () => {
    // the GPU family (its rowwise choices follow: the workgroup LayerNorm kernels)
    gpu = (await getGpu()).withPolicy({ family: 'gpu' });
    assert.equal(gpu.policy.layernorm.rowwise, false);
  });

  for (const [M, N] of [
    [200, 70],
    [1000, 36],
    [64, 10],
  ]) {
    it(`columnSums ${M}×${N}${M >= 128 ? ' (two stages)' : ''}: overwrite and accumulate`, async () => {
      const r = rng(M * 7 + N),
        a = Float32Array.from({ length: M * N }, r);
      const ref = new Float64Array(N);
      for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) ref[n] += a[m * N + n];
      const ta = gpu.fromF32(a, 'test:a'),
        tc = gpu.fromF32(new Float32Array(N).fill(0.25), 'test:c');
      const d0 = gpu.dispatchCount;
      columnSums(gpu, ta, tc, M, N, true);
      assert.equal(gpu.dispatchCount - d0, M >= 128 ? 2 : 1, 'stages dispatched');
      const acc = compare(
        await gpu.readF32(tc),
        Array.from(ref, (x) => x + 0.25),
        1e-5,
        1e-5,
      );
      columnSums(gpu, ta, tc, M, N, false);
      const over = compare(await gpu.readF32(tc), ref, 1e-5, 1e-5);
      ta.destroy();
      tc.destroy();
      assert.ok(acc.ok, `accumulate: [${acc.bad}] ${acc.got} vs ${acc.want}`);
      assert.ok(over.ok, `overwrite: [${over.bad}] ${over.got} vs ${over.want}`);
    });
  }

  it('LayerNorm dγ, dβ over 300 rows (two stages) accumulate into existing gradients', async () => {
    const R = 300,
      C = 48,
      eps = 1e-5,
      r = rng(5);
    const x = Float32Array.from({ length: R * C }, () => r() * 3),
      dy = Float32Array.from({ length: R * C }, r);
    const gamma = Float32Array.from({ length: C }, () => 1 + r()),
      beta = Float32Array.from({ length: C }, r);
    const refG = new Float64Array(C).fill(0.5),
      refB = new Float64Array(C).fill(-0.5);
    for (let i = 0; i < R; i++) {
      let mean = 0,
        v = 0;
      for (let c = 0; c < C; c++) mean += x[i * C + c] / C;
      for (let c = 0; c < C; c++) v += (x[i * C + c] - mean) ** 2 / C;
      const rstd = 1 / Math.sqrt(v + eps);
      for (let c = 0; c < C; c++) {
        refG[c] += dy[i * C + c] * (x[i * C + c] - mean) * rstd;
        refB[c] += dy[i * C + c];
      }
    }
    const t = (a: Float32Array, l: string) => gpu.fromF32(a, l);
    const tx = t(x, 'x'),
      tdy = t(dy, 'dy'),
      tg = t(gamma, 'g'),
      tb = t(beta, 'b');
    const y = gpu.tensor(R * C, 'f32', 'y'),
      st = gpu.tensor(R * 2, 'f32', 'st'),
      dx = gpu.tensor(R * C, 'f32', 'dx');
    const dg = t(new Float32Array(C).fill(0.5), 'dg'),
      db = t(new Float32Array(C).fill(-0.5), 'db');
    layernormForward(gpu, tx, tg, tb, y, st, R, C, eps);
    const d0 = gpu.dispatchCount;
    layernormBackward(gpu, tx, tg, st, tdy, dx, dg, db, R, C, false);
    assert.equal(gpu.dispatchCount - d0, 4, 'dx, the partial sums, and one pass each for dγ and dβ');
    const g = compare(await gpu.readF32(dg), refG, 1e-5, 1e-5),
      b = compare(await gpu.readF32(db), refB, 1e-5, 1e-5);
    [tx, tdy, tg, tb, y, st, dx, dg, db].forEach((z) => z.destroy());
    assert.ok(g.ok, `dγ: [${g.bad}] ${g.got} vs ${g.want} (max abs ${g.maxAbs})`);
    assert.ok(b.ok, `dβ: [${b.bad}] ${b.got} vs ${b.want} (max abs ${b.maxAbs})`);
  });
});
