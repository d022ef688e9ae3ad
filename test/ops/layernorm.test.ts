// LayerNorm forward (layernorm.wgsl) against a float64 reference of torch's definition, (x − mean)/sqrt(var + eps)·γ
// + β with the biased variance (docs/bloom.md), on rows where eps decides the result: a constant row (var = 0),
// near-constant rows (var ≈ 1e-7, below eps = 1e-5) and one ordinary row. The model fixtures' activations make eps
// invisible, so this is what pins where eps goes. C = 36 takes the ROWWISE kernel on SwiftShader, C = 37 the
// workgroup one (with subgroups where the device has them). Tolerance 2e-4 + 2e-4·|y| (f32 statistics of rows
// whose deviations are 1e-3 of their mean); eps outside the square root or left out changes y by 0.5 or more.
import assert from 'node:assert/strict';
import { compare, getGpu } from '../helpers/gpu.ts';
import type { Gpu } from '../../src/gpu/runtime.ts';
import { layernormForward } from '../../src/ops/layernorm.ts';

const EPS = 1e-5;

/** Deterministic rows: constant, near-constant around 0.5 and 3, tiny around 0, and an ordinary one. */
function rows(C: number): Float32Array[] {
  const wave = (k: number, a: number) => Array.from({ length: C }, (_, i) => a * Math.sin(1.7 * i + k));
  return [
    new Float32Array(C).fill(0.75),
    Float32Array.from(wave(1, 1e-3), (v) => 0.5 + v),
    Float32Array.from(wave(2, 1e-3), (v) => 3 + v),
    Float32Array.from(wave(3, 3e-3)),
    Float32Array.from(wave(4, 1.5), (v) => v - 0.25),
  ];
}

/** float64 torch LayerNorm of each row, and (mean, 1/sqrt(var + eps)) per row. */
function reference(x: Float32Array[], gamma: Float32Array, beta: Float32Array) {
  const y: number[] = [],
    stats: number[] = [];
  for (const r of x) {
    const mean = r.reduce((s, v) => s + v, 0) / r.length;
    const variance = r.reduce((s, v) => s + (v - mean) ** 2, 0) / r.length;
    const rstd = 1 / Math.sqrt(variance + EPS);
    r.forEach((v, i) => y.push((v - mean) * rstd * gamma[i] + beta[i]));
    stats.push(mean, rstd);
  }
  return { y, stats };
}

async function run(gpu: Gpu, C: number) {
  const x = rows(C),
    R = x.length;
  const gamma = Float32Array.from({ length: C }, (_, i) => 1 + 0.1 * Math.cos(i)),
    beta = Float32Array.from({ length: C }, (_, i) => 0.01 * i - 0.1);
  const flat = new Float32Array(R * C);
  x.forEach((r, i) => flat.set(r, i * C));
  const tx = gpu.fromF32(flat, 'test:x'),
    tg = gpu.fromF32(gamma, 'test:gamma'),
    tb = gpu.fromF32(beta, 'test:beta'),
    ty = gpu.tensor(R * C, 'f32', 'test:y'),
    ts = gpu.tensor(R * 2, 'f32', 'test:stats');
  layernormForward(gpu, tx, tg, tb, ty, ts, R, C, EPS);
  const got = { y: await gpu.readF32(ty), stats: await gpu.readF32(ts) };
  [tx, tg, tb, ty, ts].forEach((t) => t.destroy());
  return { got, want: reference(x, gamma, beta) };
}

describe('layernorm forward vs float64 on rows where eps matters', () => {
  for (const C of [36, 37]) {
    it(`C = ${C}: constant and near-constant rows, y and (mean, rstd)`, async () => {
      const { got, want } = await run(await getGpu(), C);
      const y = compare(got.y, want.y, 2e-4, 2e-4);
      assert.ok(y.ok, `y[${y.bad}] (row ${Math.floor(y.bad / C)}): ${y.got} vs ${y.want}, max abs ${y.maxAbs}`);
      // rstd is up to 1/sqrt(eps) ≈ 316 on the constant row: relative tolerance
      const s = compare(got.stats, want.stats, 1e-6, 1e-4);
      assert.ok(s.ok, `stats[${s.bad}]: ${s.got} vs ${s.want}`);
    });
  }
});
