// SwiGLU (swiglu.wgsl): h = silu(g)·u against the float64 reference (test/helpers/llama-ref.ts) and its backward
// (dg, du) against central finite differences of Σ dh·h in float64, on gates from −30 to 30 (where a naive
// 1/(1 + e^−g) overflows e^−g) and ordinary values. Tolerance 1e-6 + 1e-5·|v| forward, 1e-6 + 1e-4·|v| backward.
import assert from 'node:assert/strict';
import { compare, getGpu } from '../helpers/gpu.ts';
import { fdGrad, swiglu } from '../helpers/llama-ref.ts';
import { rng } from '../helpers/rng.ts';
import { swigluBackward, swigluForward } from '../../src/ops/swiglu.ts';

describe('swiglu forward and backward vs float64 and finite differences', () => {
  it('h = silu(g)·u, dg, du', async () => {
    const gpu = await getGpu();
    const r = rng(5);
    const g = Float32Array.from([-30, -10, -1, -0.1, 0, 0.1, 1, 10, 30, ...Array.from({ length: 300 }, () => 6 * r())]);
    const n = g.length;
    const u = Float32Array.from({ length: n }, () => 2 * r()),
      dh = Float32Array.from({ length: n }, () => r());
    const tg = gpu.fromF32(g, 'test:g'),
      tu = gpu.fromF32(u, 'test:u'),
      th = gpu.tensor(n, 'f32', 'test:h'),
      tdh = gpu.fromF32(dh, 'test:dh'),
      tdg = gpu.tensor(n, 'f32', 'test:dg'),
      tdu = gpu.tensor(n, 'f32', 'test:du');
    swigluForward(gpu, tg, tu, th);
    const h = compare(await gpu.readF32(th), swiglu(g, u), 1e-6, 1e-5);
    assert.ok(h.ok, `h[${h.bad}] (g = ${g[h.bad]}): ${h.got} vs ${h.want}`);
    swigluBackward(gpu, tg, tu, tdh, tdg, tdu);
    const g64 = Float64Array.from(g),
      u64 = Float64Array.from(u);
    // elementwise: ∂L/∂g[i] only involves element i, so one-element functions keep the differences exact
    const dgWant = g64.map((_, i) => fdGrad(() => swiglu([g64[i]], [u64[i]])[0] * dh[i], g64, [i], 1e-6).get(i)!);
    const duWant = u64.map((_, i) => fdGrad(() => swiglu([g64[i]], [u64[i]])[0] * dh[i], u64, [i], 1e-6).get(i)!);
    const dg = compare(await gpu.readF32(tdg), dgWant, 1e-6, 1e-4);
    assert.ok(dg.ok, `dg[${dg.bad}] (g = ${g[dg.bad]}): ${dg.got} vs ${dg.want}`);
    const du = compare(await gpu.readF32(tdu), duWant, 1e-6, 1e-4);
    assert.ok(du.ok, `du[${du.bad}] (g = ${g[du.bad]}): ${du.got} vs ${du.want}`);
    [tg, tu, th, tdh, tdg, tdu].forEach((t) => t.destroy());
  });
});
