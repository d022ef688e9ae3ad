// f16 arithmetic in LayerNorm, RMSNorm and GELU (the F16 variants of layernorm.wgsl, rmsnorm.wgsl, elementwise.wgsl
// and matmul_f16.wgsl's GELU16 epilogue; device feature shader-f16: Mesa lavapipe here, not SwiftShader), forward and
// backward, against float64 references of the formulas and against the f32 kernels on the same inputs.
// Tolerances (bounds, not fits; U = 2⁻¹¹, f16's unit roundoff), each on top of the f32 kernel's own tolerance:
// - LayerNorm y = x̂·γ + β, x̂ = (x − mean)·rstd from f32 statistics and centring: x̂, γ, β rounded to f16, one f16 product and one
//   f16 sum: |Δy| ≤ 4U·(|x̂·γ| + |β|) + 2⁻²⁴·|γ| (f16 subnormal spacing). RMSNorm y = f16(x̂)·f16(γ): 3U·|x̂·γ| + 2⁻²⁴·|γ|.
// - dx = rstd·(dy·γ − m₁ − x̂·m₂) (m₁ = 0 for RMSNorm) with f32 row sums m₁, m₂: seven operand roundings and four f16
//   operations: |Δdx| ≤ 8U·rstd·(|dy·γ| + |m₁| + |x̂·m₂|) + 2⁻²⁴·rstd. dγ, dβ stay f32 sums (the f32 tolerance).
// - GELU: x rounded to f16 and the tanh form in f16; the tanh argument's relative error ≤ 6U enters through
//   tanh' ≤ 1 with |u·tanh'(u)| ≤ 0.45, tanh itself is assumed within 4U absolute (WGSL leaves f16 tanh's accuracy
//   to the implementation): |Δgelu| ≤ 0.5·|x|·(2.7U + 4U) + 3U·|gelu(x)| + 2⁻²⁴, stated as 4U·|x| + 3U·|y| + 2⁻²⁴;
//   gelu′ likewise ≤ 6U·(1 + x²) + 2⁻²⁴ for |x| ≤ 16 (clamped there: gelu′ is 1 or 0 in f16 beyond).
import assert from 'node:assert/strict';
import { gpuWithF16, REPO } from '../helpers/gpu.ts';
import { rng } from '../helpers/rng.ts';
import type { Gpu, Tensor } from '../../src/gpu/runtime.ts';
import { layernormBackward, layernormForward } from '../../src/ops/layernorm.ts';
import { rmsnormBackward, rmsnormForward } from '../../src/ops/rmsnorm.ts';
import { geluBackward, geluForward } from '../../src/ops/elementwise.ts';
import { linearForward } from '../../src/ops/matmul.ts';
import { f16ToF32, f32ToF16 } from '../../src/model/dtype.ts';
import { Runtime } from '../../src/host/runtime.ts';
import type { PolicyOverrides } from '../../src/gpu/policy.ts';
import { makeTinyQwen3 } from '../helpers/tiny-qwen3.ts';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

const U = 2 ** -11;
/** the shaders whose F16 variants this file tests (attention has its own) */
const NORM_GELU = ['layernorm', 'rmsnorm', 'elementwise'];
const SUB = 2 ** -24;
const EPS = 1e-5;

/** A view of `gpu` with `overrides` that records the defines of every dispatch. */
function spy(gpu: Gpu, overrides: Parameters<Gpu['withPolicy']>[0]) {
  const g = gpu.withPolicy(overrides);
  const seen: string[] = [];
  const orig = g.run.bind(g);
  g.run = (shader, entry, bind, params, wg, defines = {}) => {
    seen.push(`${entry}${defines.F16 ? '+F16' : ''}${defines.GELU16 ? '+GELU16' : ''}`);
    orig(shader, entry, bind, params, wg, defines);
  };
  return { g, seen };
}

/** Checks |got − ref| ≤ bound(i) everywhere; returns the largest error and the largest error/bound ratio. */
function within(name: string, got: ArrayLike<number>, ref: ArrayLike<number>, bound: (i: number) => number) {
  let maxErr = 0,
    maxRatio = 0;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i] - ref[i]);
    maxErr = Math.max(maxErr, e);
    maxRatio = Math.max(maxRatio, e / bound(i));
    assert.ok(e <= bound(i), `${name}[${i}]: got ${got[i]}, ref ${ref[i]}, error ${e} > bound ${bound(i)}`);
  }
  return { maxErr, maxRatio };
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/** Rows: ordinary ones at several scales, a near-constant row far from 0 (f32 centring matters) and a constant one. */
function rows(R: number, C: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: R * C }, (_, i) => {
    const row = Math.floor(i / C);
    if (row === 0) return 0.75;
    if (row === 1) return 3 + 1e-3 * r();
    return (row % 3) * 5 * r() + row - 3;
  });
}

async function upload(gpu: Gpu, data: Record<string, Float32Array>): Promise<Record<string, Tensor>> {
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, gpu.fromF32(v, `test:${k}`)]));
}

describe('f16 arithmetic in LayerNorm, RMSNorm and GELU (shader-f16)', () => {
  let gpu: Gpu;
  before(async function () {
    gpu = await gpuWithF16(this);
  });

  // C = 36: vec4 rows (ROWWISE where the policy's layernorm.rowwise), C = 37: the workgroup kernel only
  for (const [C, rowwise, subgroups] of [
    [36, true, true],
    [36, false, true],
    [37, false, false],
  ] as const)
    it(`LayerNorm C = ${C} ${rowwise ? 'ROWWISE' : `workgroup${subgroups ? ' +subgroups' : ''}`}: forward and dx within their bounds, dγ/dβ as f32`, async () => {
      const R = 7;
      const r = rng(C);
      const x = rows(R, C, C + 1);
      const gamma = Float32Array.from({ length: C }, () => 1 + 2 * r());
      const beta = Float32Array.from({ length: C }, () => r());
      const dy = Float32Array.from({ length: R * C }, () => 4 * r());
      // float64 reference
      const ref = { y: new Float64Array(R * C), dx: new Float64Array(R * C), xh: new Float64Array(R * C) };
      const rs: number[] = [],
        m1: number[] = [],
        m2: number[] = [];
      for (let i = 0; i < R; i++) {
        const row = Array.from(x.subarray(i * C, (i + 1) * C));
        const mean = row.reduce((a, v) => a + v, 0) / C;
        const rstd = 1 / Math.sqrt(row.reduce((a, v) => a + (v - mean) ** 2, 0) / C + EPS);
        let s1 = 0,
          s2 = 0;
        row.forEach((v, c) => {
          const xh = (v - mean) * rstd;
          ref.xh[i * C + c] = xh;
          ref.y[i * C + c] = xh * gamma[c] + beta[c];
          s1 += dy[i * C + c] * gamma[c];
          s2 += dy[i * C + c] * gamma[c] * xh;
        });
        rs.push(rstd);
        m1.push(s1 / C);
        m2.push(s2 / C);
        row.forEach((_, c) => {
          const k = i * C + c;
          ref.dx[k] = rstd * (dy[k] * gamma[c] - m1[i] - ref.xh[k] * m2[i]);
        });
      }
      const out: Record<string, Record<string, Float32Array>> = {};
      const seen: Record<string, string[]> = {};
      for (const f16 of [false, true]) {
        const s = spy(gpu, { layernorm: { rowwise }, subgroups });
        const t = await upload(gpu, { x, gamma, beta, dy });
        const y = gpu.tensor(R * C, 'f32', 'test:y'),
          st = gpu.tensor(R * 2, 'f32', 'test:stats'),
          dx = gpu.tensor(R * C, 'f32', 'test:dx'),
          dg = gpu.fromF32(new Float32Array(C), 'test:dg'),
          db = gpu.fromF32(new Float32Array(C), 'test:db');
        layernormForward(s.g, t.x, t.gamma, t.beta, y, st, R, C, EPS, f16);
        layernormBackward(s.g, t.x, t.gamma, st, t.dy, dx, dg, db, R, C, false, f16);
        const o: Record<string, Float32Array> = {};
        for (const [k, v] of Object.entries({ y, st, dx, dg, db })) o[k] = await gpu.readF32(v);
        [...Object.values(t), y, st, dx, dg, db].forEach((z) => z.destroy());
        out[String(f16)] = o;
        seen[String(f16)] = s.seen;
      }
      assert.deepEqual(seen.true, [
        'layernorm_forward+F16',
        'layernorm_backward+F16',
        ...seen.false.slice(2), // the parameter gradient (and its column sums) stay f32
      ]);
      assert.ok(
        seen.false.every((e) => !e.includes('F16')),
        `f32 model: ${seen.false}`,
      );
      const h = out.true,
        f = out.false;
      // the statistics are the f32 kernel's own, bit for bit; dγ, dβ too (the same f32 kernels)
      assert.deepEqual(h.st, f.st, 'mean, rstd: f32 statistics in both');
      assert.deepEqual([h.dg, h.db], [f.dg, f.db], 'dγ, dβ: f32 sums in both');
      const f32tol = (v: number) => 2e-4 + 2e-4 * Math.abs(v);
      const yr = within('f32 y', f.y, ref.y, (i) => f32tol(ref.y[i]));
      const yh = within(
        'f16 y',
        h.y,
        ref.y,
        (i) => f32tol(ref.y[i]) + 4 * U * (Math.abs(ref.xh[i] * gamma[i % C]) + Math.abs(beta[i % C])) + SUB * 2,
      );
      const dxTol = (i: number) => 1e-4 + 1e-3 * Math.abs(ref.dx[i]);
      const row = (i: number) => Math.floor(i / C);
      const dr = within('f32 dx', f.dx, ref.dx, dxTol);
      const dh = within(
        'f16 dx',
        h.dx,
        ref.dx,
        (i) =>
          dxTol(i) +
          8 *
            U *
            rs[row(i)] *
            (Math.abs(dy[i] * gamma[i % C]) + Math.abs(m1[row(i)]) + Math.abs(ref.xh[i] * m2[row(i)])) +
          SUB * rs[row(i)],
      );
      // the f16 kernels did round: their results differ from the f32 kernels'
      assert.ok(maxDiff(h.y, f.y) > 0 && maxDiff(h.dx, f.dx) > 0, 'F16 results equal the f32 ones: no f16 arithmetic?');
      console.log(
        `      max |error| y: f32 ${yr.maxErr.toExponential(2)}, f16 ${yh.maxErr.toExponential(2)} (${(100 * yh.maxRatio).toFixed(0)} % of bound); ` +
          `dx: f32 ${dr.maxErr.toExponential(2)}, f16 ${dh.maxErr.toExponential(2)} (${(100 * dh.maxRatio).toFixed(0)} %)`,
      );
    });

  for (const C of [37, 16])
    it(`RMSNorm C = ${C}: forward and dx within their bounds, dγ as f32`, async () => {
      const R = 6,
        eps = 1e-6;
      const r = rng(C + 100);
      const x = Float32Array.from({ length: R * C }, (_, i) => (Math.floor(i / C) === 0 ? 0 : (1 + (i % 5)) * r()));
      const gamma = Float32Array.from({ length: C }, () => 1 + r());
      const dy = Float32Array.from({ length: R * C }, () => 4 * r());
      const ref = { y: new Float64Array(R * C), dx: new Float64Array(R * C), xh: new Float64Array(R * C) };
      const rs: number[] = [],
        m: number[] = [];
      for (let i = 0; i < R; i++) {
        let ss = 0;
        for (let c = 0; c < C; c++) ss += x[i * C + c] ** 2;
        const rstd = 1 / Math.sqrt(ss / C + eps);
        let s = 0;
        for (let c = 0; c < C; c++) {
          const k = i * C + c;
          ref.xh[k] = x[k] * rstd;
          ref.y[k] = ref.xh[k] * gamma[c];
          s += dy[k] * gamma[c] * ref.xh[k];
        }
        rs.push(rstd);
        m.push(s / C);
        for (let c = 0; c < C; c++) {
          const k = i * C + c;
          ref.dx[k] = rstd * (dy[k] * gamma[c] - ref.xh[k] * m[i]);
        }
      }
      const out: Record<string, Record<string, Float32Array>> = {};
      for (const f16 of [false, true]) {
        const s = spy(gpu, {});
        const t = await upload(gpu, { x, gamma, dy });
        const y = gpu.tensor(R * C, 'f32', 'test:y'),
          st = gpu.tensor(R, 'f32', 'test:rstd'),
          dx = gpu.tensor(R * C, 'f32', 'test:dx'),
          dg = gpu.fromF32(new Float32Array(C), 'test:dg');
        rmsnormForward(s.g, t.x, t.gamma, y, st, R, C, eps, f16);
        rmsnormBackward(s.g, t.x, t.gamma, st, t.dy, dx, dg, R, C, false, f16);
        const o: Record<string, Float32Array> = {};
        for (const [k, v] of Object.entries({ y, st, dx, dg })) o[k] = await gpu.readF32(v);
        [...Object.values(t), y, st, dx, dg].forEach((z) => z.destroy());
        out[String(f16)] = o;
        assert.deepEqual(
          s.seen,
          f16
            ? ['rmsnorm_forward+F16', 'rmsnorm_backward+F16', 'rmsnorm_param_grad']
            : ['rmsnorm_forward', 'rmsnorm_backward', 'rmsnorm_param_grad'],
        );
      }
      const h = out.true,
        f = out.false;
      assert.deepEqual([h.st, h.dg], [f.st, f.dg], 'rstd and dγ: f32 in both');
      const yTol = (i: number) => 1e-5 + 1e-5 * Math.abs(ref.y[i]);
      within('f32 y', f.y, ref.y, yTol);
      const yh = within(
        'f16 y',
        h.y,
        ref.y,
        (i) => yTol(i) + 3 * U * Math.abs(ref.y[i]) + SUB * Math.abs(gamma[i % C]),
      );
      // HF's f16 RMSNorm exactly: f16(f16(x̂)·f16(γ)) from the f32 x̂ (rounding the kernel's f32 x̂ and rstd)
      const hf = Array.from(f.y, (_, i) =>
        f16ToF32(f32ToF16(f16ToF32(f32ToF16(x[i] * f.st[Math.floor(i / C)])) * f16ToF32(f32ToF16(gamma[i % C])))),
      );
      within('F16 y vs HF f16 RMSNorm (one f16 rounding apart at most)', h.y, hf, (i) => 2 * U * Math.abs(hf[i]) + SUB);
      const dxTol = (i: number) => 1e-4 + 1e-3 * Math.abs(ref.dx[i]);
      within('f32 dx', f.dx, ref.dx, dxTol);
      const row = (i: number) => Math.floor(i / C);
      const dh = within(
        'f16 dx',
        h.dx,
        ref.dx,
        (i) =>
          dxTol(i) +
          8 * U * rs[row(i)] * (Math.abs(dy[i] * gamma[i % C]) + Math.abs(ref.xh[i] * m[row(i)])) +
          SUB * rs[row(i)],
      );
      assert.ok(maxDiff(h.y, f.y) > 0 && maxDiff(h.dx, f.dx) > 0, 'F16 results equal the f32 ones: no f16 arithmetic?');
      console.log(`      max |error| f16: y ${yh.maxErr.toExponential(2)}, dx ${dh.maxErr.toExponential(2)}`);
    });

  it('GELU forward and gradient, elementwise (F16) and the f16 matmul epilogue (GELU16), within their bounds', async () => {
    // a sweep over [−20, 20] (both tails), large values (f16's range ends at 65504), and 0
    const n = 1024;
    const x = Float32Array.from({ length: n }, (_, i) =>
      i < 1000 ? -20 + (40 * i) / 999 : ([0, 300, -300, 7e4, -7e4, 1e-6][i - 1000] ?? 0.5),
    );
    const dy = Float32Array.from({ length: n }, (_, i) => 1 + (i % 7));
    const gelu = (v: number) => 0.5 * v * (1 + Math.tanh(0.79788456 * v * (1 + 0.044715 * v * v)));
    const grad = (v: number) => {
      const t = Math.tanh(0.79788456 * v * (1 + 0.044715 * v * v));
      return 0.5 * v * ((1 - t * t) * (0.79788456 + 0.1070322243 * v * v)) + 0.5 * (1 + t);
    };
    const out: Record<string, Float32Array[]> = {};
    for (const f16 of [false, true]) {
      const s = spy(gpu, {});
      const tx = gpu.fromF32(x, 'test:x'),
        tdy = gpu.fromF32(dy, 'test:dy'),
        ty = gpu.tensor(n, 'f32', 'test:y'),
        tdx = gpu.tensor(n, 'f32', 'test:dx');
      geluForward(s.g, tx, ty, n, f16);
      geluBackward(s.g, tx, tdy, tdx, n, false, f16);
      out[String(f16)] = [await gpu.readF32(ty), await gpu.readF32(tdx)];
      [tx, tdy, ty, tdx].forEach((t) => t.destroy());
      assert.deepEqual(s.seen, f16 ? ['gelu_forward+F16', 'gelu_backward+F16'] : ['gelu_forward', 'gelu_backward']);
    }
    const [y, dx] = out.true;
    // past f16's range (±7e4) the f32 form is taken (what an overflow upstream needs to stay visible)
    const xc = Array.from(x);
    const yRef = xc.map(gelu);
    const yr = within('f16 gelu', y, yRef, (i) => 4 * U * Math.abs(xc[i]) + 3 * U * Math.abs(yRef[i]) + SUB);
    const gRef = xc.map((v) => grad(Math.max(-16, Math.min(16, v))) * 1);
    const gr = within(
      'f16 gelu′·dy',
      dx,
      gRef.map((g, i) => g * dy[i]),
      (i) => {
        const v = Math.min(Math.abs(xc[i]), 16);
        return (6 * U * (1 + v * v) + SUB) * dy[i];
      },
    );
    assert.ok(!y.some(Number.isNaN) && !dx.some(Number.isNaN), 'no NaN at the extremes');
    assert.ok(maxDiff(out.true[0], out.false[0]) > 0, 'F16 GELU equals the f32 one: no f16 arithmetic?');

    // the f16 matmul's GELU epilogue: the same GELU in f16 on the f32 sums; against the f32 epilogue of the same
    // kernel (policy gelu.f16 off), |Δ| within the GELU bound of the pre-activation (recovered from a run without GELU)
    const M = 8,
      N = 16,
      K = 8,
      r = rng(3);
    const A = Float32Array.from({ length: M * K }, () => 8 * r());
    const W = Uint16Array.from({ length: N * K }, () => f32ToF16(r()));
    const eps: Float32Array[] = [];
    for (const [geluOn, gelu16] of [
      [false, true],
      [true, false],
      [true, true],
    ]) {
      const s = spy(gpu, { gelu: { f16: gelu16 } });
      const ta = gpu.fromF32(A, 'test:a'),
        tw = gpu.tensor(N * K, 'f16p', 'test:w'),
        tc = gpu.tensor(M * N, 'f32', 'test:c');
      gpu.upload(tw, W);
      linearForward(s.g, ta, tw, undefined, tc, M, N, K, geluOn);
      eps.push(await gpu.readF32(tc));
      [ta, tw, tc].forEach((t) => t.destroy());
      assert.deepEqual(s.seen, [`matmul_f16${geluOn && gelu16 ? '+GELU16' : ''}`]);
    }
    const [pre, g32, g16] = eps;
    const e = within('GELU16 epilogue', g16, g32, (i) => 4 * U * Math.abs(pre[i]) + 3 * U * Math.abs(g32[i]) + SUB);
    assert.ok(maxDiff(g16, g32) > 0, 'GELU16 equals the f32 epilogue');
    console.log(
      `      max |error| f16 GELU ${yr.maxErr.toExponential(2)} (${(100 * yr.maxRatio).toFixed(0)} % of bound), ` +
        `gelu′·dy ${gr.maxErr.toExponential(2)} (${(100 * gr.maxRatio).toFixed(0)} %), GELU16 vs f32 epilogue ${e.maxErr.toExponential(2)}`,
    );
  });

  it('past f16 range: a dy over 65504 gives dx = +inf (loss scaling sees it); GELU of ±inf/NaN as on the f32 path', async () => {
    const R = 2,
      C = 36;
    const x = rows(R, C, 5),
      gamma = new Float32Array(C).fill(1.5),
      beta = new Float32Array(C).fill(0.25);
    const dy = Float32Array.from({ length: R * C }, (_, i) => (i === 40 ? 1e5 : 0.5));
    const outs: Record<string, Float32Array> = {};
    for (const [name, rowwise, f16] of [
      ['ln-rowwise', true, true],
      ['ln-wg', false, true],
      ['ln-f32', false, false],
    ] as const) {
      const g = gpu.withPolicy({ layernorm: { rowwise } });
      const t = await upload(gpu, { x, gamma, beta, dy });
      const y = gpu.tensor(R * C, 'f32', 'test:y'),
        st = gpu.tensor(R * 2, 'f32', 'test:st'),
        dx = gpu.tensor(R * C, 'f32', 'test:dx'),
        dg = gpu.fromF32(new Float32Array(C), 'test:dg'),
        db = gpu.fromF32(new Float32Array(C), 'test:db');
      layernormForward(g, t.x, t.gamma, t.beta, y, st, R, C, EPS, f16);
      layernormBackward(g, t.x, t.gamma, st, t.dy, dx, dg, db, R, C, false, f16);
      outs[name] = await gpu.readF32(dx);
      [...Object.values(t), y, st, dx, dg, db].forEach((z) => z.destroy());
    }
    {
      const t = await upload(gpu, { x, gamma, dy });
      const y = gpu.tensor(R * C, 'f32', 'test:y'),
        st = gpu.tensor(R, 'f32', 'test:st'),
        dx = gpu.tensor(R * C, 'f32', 'test:dx'),
        dg = gpu.fromF32(new Float32Array(C), 'test:dg');
      rmsnormForward(gpu, t.x, t.gamma, y, st, R, C, EPS, true);
      rmsnormBackward(gpu, t.x, t.gamma, st, t.dy, dx, dg, R, C, false, true);
      outs.rms = await gpu.readF32(dx);
      [...Object.values(t), y, st, dx, dg].forEach((z) => z.destroy());
    }
    assert.ok(Number.isFinite(outs['ln-f32'][40]), 'the f32 path stays finite');
    for (const k of ['ln-rowwise', 'ln-wg', 'rms']) {
      assert.equal(outs[k][40], Infinity, `${k}: dx at the dy past f16 range`);
      // the row's other elements: the row sums (f32) stay in range for the LayerNorm rows' x̂ near 0; others finite
      assert.ok(outs[k].slice(0, C).every(Number.isFinite), `${k}: the other row stays finite`);
    }
    const v = Float32Array.of(Infinity, -Infinity, Number.NaN, 7e4, -7e4, 65504, -65504, 1);
    const got: Float32Array[] = [];
    for (const f16 of [true, false]) {
      const tx = gpu.fromF32(v, 'test:x'),
        ty = gpu.tensor(v.length, 'f32', 'test:y'),
        tdy = gpu.fromF32(new Float32Array(v.length).fill(1), 'test:dy'),
        tdx = gpu.tensor(v.length, 'f32', 'test:dx');
      geluForward(gpu, tx, ty, v.length, f16);
      geluBackward(gpu, tx, tdy, tdx, v.length, false, f16);
      got.push(await gpu.readF32(ty), await gpu.readF32(tdx));
      [tx, ty, tdy, tdx].forEach((t) => t.destroy());
    }
    // the first five take the f32 form exactly; 65504 and 1 are in range (f16 results, close to f32)
    assert.deepEqual([...got[0].slice(0, 5)], [...got[2].slice(0, 5)], 'GELU past f16 range = the f32 path');
    assert.deepEqual([...got[1].slice(0, 5)], [...got[3].slice(0, 5)], 'gelu′ past f16 range = the f32 path');
    assert.equal(got[0][0], Infinity);
  });

  it('f32 models (f16 = false) and policy layernorm.f16 / gelu.f16 off keep the f32 kernels', async () => {
    const C = 8,
      R = 2;
    const t = await upload(gpu, { x: rows(R, C, 9), gamma: new Float32Array(C).fill(1), beta: new Float32Array(C) });
    const y = gpu.tensor(R * C, 'f32', 'test:y'),
      st = gpu.tensor(R * 2, 'f32', 'test:st');
    const s1 = spy(gpu, {});
    layernormForward(s1.g, t.x, t.gamma, t.beta, y, st, R, C, EPS);
    geluForward(s1.g, t.x, y, R * C);
    const s2 = spy(gpu, { layernorm: { f16: false }, gelu: { f16: false } });
    layernormForward(s2.g, t.x, t.gamma, t.beta, y, st, R, C, EPS, true);
    rmsnormForward(s2.g, t.x, t.gamma, y, st, R, C, EPS, true);
    geluForward(s2.g, t.x, y, R * C, true);
    const s3 = spy(gpu, { f16: 'off' });
    layernormForward(s3.g, t.x, t.gamma, t.beta, y, st, R, C, EPS, true);
    [...Object.values(t), y, st].forEach((z) => z.destroy());
    assert.deepEqual(s1.seen, ['layernorm_forward', 'gelu_forward']);
    assert.deepEqual(s2.seen, ['layernorm_forward', 'rmsnorm_forward', 'gelu_forward']);
    assert.deepEqual(s3.seen, ['layernorm_forward'], 'INSTRUCTALIGN_F16=off: no f16 arithmetic anywhere');
    assert.equal(gpu.policy.layernorm.f16, true, 'shader-f16: on by default');
    assert.equal(gpu.policy.gelu.f16, true);
  });

  // Whole models with --dtype f16: the mean log-probs of a few texts with the f16 matmul, norm and GELU kernels
  // (f16 attention off: it has its own test) against f32 math on the same f16 weights (policy f16 'off'): bound 5e-3
  // nats per token (the f16 matmul's own tolerance in matmul_f16.test.ts). nano-bloomz also runs f16 matmuls only
  // (what the norms and GELU add) and the default, every f16 kernel (attention too): bound 1e-2, the stages' roundings
  // adding up. Measured values printed.
  for (const family of ['nano-bloomz', 'tiny Qwen3'] as const)
    it(`${family} --dtype f16: mean log-probs with f16 norms${family === 'nano-bloomz' ? ' and GELU' : ''} within 5e-3 of f32 math`, async () => {
      const texts = ['Sentiment: positive. The food was good.', 'Kalimat ini sangat bagus sekali', 'It is cold.'];
      const dir = family === 'nano-bloomz' ? join(REPO, 'models/nano-bloomz') : await makeTinyQwen3();
      const noAttn = { attention: { f16: false } };
      // (the extra runs for nano-bloomz alone: Qwen3's 151,936-row vocabulary makes each load cost seconds)
      const runs: Record<string, PolicyOverrides> = {
        f32: { f16: 'off' },
        norms: noAttn,
        ...(family === 'nano-bloomz'
          ? { matmul: { ...noAttn, layernorm: { f16: false }, gelu: { f16: false } }, all: {} }
          : {}),
      };
      const scores: Record<string, number[]> = {};
      const built: Record<string, string[]> = {};
      try {
        for (const [k, policy] of Object.entries(runs)) {
          const rt = await Runtime.create({ log: () => {}, policy });
          try {
            await rt.loadModel({ path: dir, dtype: 'f16' });
            scores[k] = await rt.scoreTexts(texts);
            built[k] = rt.gpu.pipelines
              .built()
              .filter((p) => (NORM_GELU.includes(p.shader) && p.defines.F16) || p.defines.GELU16)
              .map((p) => `${p.shader}${p.defines.GELU16 ? '+GELU16' : ''}`);
          } finally {
            rt.dispose();
          }
        }
      } finally {
        if (family !== 'nano-bloomz') rmSync(dir, { recursive: true, force: true });
      }
      assert.deepEqual([built.f32, built.matmul ?? []], [[], []], 'no f16 norm/GELU kernel when they are off');
      const want = family === 'nano-bloomz' ? ['layernorm', 'matmul_f16+GELU16'] : ['rmsnorm'];
      assert.deepEqual([...new Set(built.norms)].sort(), want, 'the f16 kernels the model ran');
      const d = (a: string, b: string) => Math.max(...scores[a].map((v, i) => Math.abs(v - scores[b][i])));
      for (const [run, bound] of [
        ['norms', 5e-3],
        ['all', 1e-2],
      ] as const)
        for (let i = 0; run in scores && i < texts.length; i++)
          assert.ok(
            Math.abs(scores[run][i] - scores.f32[i]) <= bound,
            `${run}: ${texts[i]}: f32 math ${scores.f32[i]}, f16 math ${scores[run][i]}`,
          );
      const more = scores.matmul
        ? `; f16 matmul only ${d('matmul', 'f32').toExponential(2)}; every f16 kernel ${d('all', 'f32').toExponential(2)}`
        : '';
      console.log(
        `      max |Δ mean log-prob| vs f32 math: f16 matmul + norms/GELU ${d('norms', 'f32').toExponential(2)}${more}`,
      );
    });
});
