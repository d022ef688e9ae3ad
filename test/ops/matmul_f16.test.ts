// f16 arithmetic (shaders/matmul_f16.wgsl, device feature shader-f16: Mesa lavapipe here, not SwiftShader): the X·Wᵀ
// of a Linear with f16 weights, against a float64 product, the f32 path and the KernelPolicy's choice.
// Tolerances (bounds, not fits): with A rounded to f16 (relative error ≤ 2⁻¹¹) and each f16 product rounded
// (≤ 2⁻¹¹), |got − ref| ≤ 2⁻¹⁰·Σ_k|a_k·b_k| + 1e-5 against the float64 product of f16 B and the *unrounded* f32 A
// (what the f32 path computes), and half that against the product of the rounded A. ACC16 (f16 sums of K/4 terms per
// lane, then 4 lanes) adds ≤ (K/4 + 2)·2⁻¹¹·Σ|a·b|. GELU (slope ≤ 1.13) and a residual carry the bound through.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { getGpu, REPO } from '../helpers/gpu.ts';
import { Runtime } from '../../src/host/runtime.ts';
import type { Gpu } from '../../src/gpu/runtime.ts';
import { f16Applies, linearForward, matmul } from '../../src/ops/matmul.ts';
import { resolvePolicy, type F16Mode } from '../../src/gpu/policy.ts';
import { f16ToF32, f32ToF16 } from '../../src/model/dtype.ts';
import { rng } from '../helpers/rng.ts';

const gelu = (x: number) => 0.5 * x * (1 + Math.tanh(0.79788456 * x * (1 + 0.044715 * x * x)));
const U = 2 ** -11; // f16 unit roundoff

interface Case {
  M: number;
  N: number;
  K: number;
  bias?: boolean;
  gelu?: boolean;
  residual?: boolean;
  scale?: number;
}

async function run(gpu: Gpu, c: Case, mode: F16Mode) {
  const r = rng(c.M * 7 + c.N * 13 + c.K);
  const s = c.scale ?? 1;
  const A = Float32Array.from({ length: c.M * c.K }, () => r() * 4 * s);
  const B = Float32Array.from({ length: Math.ceil((c.N * c.K) / 8) * 8 }, () => f16ToF32(f32ToF16(r())));
  const bias = Float32Array.from({ length: c.N }, () => r());
  const Res = Float32Array.from({ length: c.M * c.N }, () => r());
  const ta = gpu.fromF32(A, 'test:a');
  const tb = gpu.tensor(B.length, 'f16p', 'test:b');
  gpu.upload(
    tb,
    Uint16Array.from(B, (v) => f32ToF16(v)),
  );
  const tbias = c.bias ? gpu.fromF32(bias, 'test:bias') : undefined;
  const tres = c.residual ? gpu.fromF32(Res, 'test:res') : undefined;
  const tc = gpu.tensor(c.M * c.N, 'f32', 'test:c');
  const g = gpu.withPolicy({ f16: mode });
  const seen: string[] = [];
  const orig = g.run.bind(g);
  g.run = (shader, entry, bind, params, wg, defines = {}) => {
    seen.push(`${shader}${defines.ACC16 ? '+ACC16' : ''}`);
    orig(shader, entry, bind, params, wg, defines);
  };
  matmul(g, {
    ...{ a: ta, b: tb, c: tc, bias: tbias, residual: tres, gelu: c.gelu },
    ...{ M: c.M, N: c.N, K: c.K, aSm: c.K, aSk: 1, bSk: 1, bSn: c.K },
  });
  const got = await gpu.readF32(tc);
  [ta, tb, tbias, tc, tres].forEach((t) => t?.destroy());
  // float64 references: with A as given (the f32 path's) and with A rounded to f16 (the kernel's inputs)
  const out = { got, seen, ref: new Float64Array(got.length), refH: new Float64Array(got.length), mag: [0] };
  out.mag = Array.from({ length: got.length }, () => 0);
  for (let m = 0; m < c.M; m++)
    for (let n = 0; n < c.N; n++) {
      let acc = 0,
        accH = 0,
        mag = 0;
      for (let k = 0; k < c.K; k++) {
        const a = A[m * c.K + k],
          b = B[n * c.K + k];
        acc += a * b;
        accH += f16ToF32(f32ToF16(a)) * b;
        mag += Math.abs(a * b);
      }
      const epi = (v: number) => {
        let y = v + (c.bias ? bias[n] : 0);
        if (c.gelu) y = gelu(y);
        return y + (c.residual ? Res[m * c.N + n] : 0);
      };
      const i = m * c.N + n;
      out.ref[i] = epi(acc);
      out.refH[i] = epi(accH);
      out.mag[i] = mag * (c.gelu ? 1.13 : 1);
    }
  return out;
}

function worst(got: Float32Array, ref: Float64Array, bound: (i: number) => number) {
  let maxErr = 0,
    bad = 0,
    first = '';
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i] - ref[i]);
    maxErr = Math.max(maxErr, e);
    if (!(e <= bound(i))) {
      bad++;
      first ||= `[${i}] got ${got[i]}, ref ${ref[i]}, bound ${bound(i)}`;
    }
  }
  return { maxErr, bad, first };
}

const CASES: Case[] = [
  { M: 70, N: 132, K: 52, bias: true, gelu: true },
  { M: 33, N: 64, K: 256, bias: true, residual: true },
  { M: 1, N: 72, K: 4 },
  { M: 17, N: 40, K: 1024, scale: 8 },
];

describe('matmul with f16 arithmetic (shader-f16)', () => {
  let gpu: Gpu;
  before(async function () {
    gpu = await getGpu();
    if (!gpu.handle.features.has('shader-f16')) {
      console.log('      (skipped: the adapter has no shader-f16; INSTRUCTALIGN_VULKAN=lavapipe runs them)');
      this.skip();
    }
  });

  for (const c of CASES)
    it(`${c.M}×${c.N}×${c.K}${c.bias ? ' +bias' : ''}${c.gelu ? ' GELU' : ''}${c.residual ? ' +residual' : ''}: f32 and f16 sums within their bounds`, async () => {
      const f = await run(gpu, c, 'f32acc');
      assert.equal(f.seen[0], 'matmul_f16');
      const toF32Path = worst(f.got, f.ref, (i) => 2 * U * f.mag[i] + 1e-5);
      const toRoundedA = worst(f.got, f.refH, (i) => U * f.mag[i] + 1e-5);
      assert.equal(toF32Path.bad, 0, toF32Path.first);
      assert.equal(toRoundedA.bad, 0, toRoundedA.first);
      const h = await run(gpu, c, 'f16acc');
      assert.equal(h.seen[0], 'matmul_f16+ACC16');
      const acc16 = worst(h.got, h.ref, (i) => (2 + c.K / 4 + 2) * U * h.mag[i] + 1e-5);
      assert.equal(acc16.bad, 0, acc16.first);
      const o = await run(gpu, c, 'off');
      assert.ok(!o.seen.includes('matmul_f16'), 'f16 off: the f32 kernels');
      const f32 = worst(o.got, o.ref, (i) => 2e-5 + 2e-5 * Math.abs(o.ref[i]));
      assert.equal(f32.bad, 0, f32.first);
      console.log(
        `      max |err| vs float64: f32 path ${f32.maxErr.toExponential(2)}, f16 products + f32 sums ` +
          `${toF32Path.maxErr.toExponential(2)}, f16 sums ${acc16.maxErr.toExponential(2)}`,
      );
    });

  it('the policy picks f16 arithmetic for f16 weights on this adapter, and only for the forward X·Wᵀ', async () => {
    assert.equal(gpu.policy.f16, 'f32acc');
    const [M, N, K] = [8, 16, 32];
    const x = gpu.fromF32(new Float32Array(M * K).fill(0.5), 'x');
    const w = gpu.tensor(N * K, 'f16p', 'w');
    gpu.upload(w, new Uint16Array(N * K).fill(f32ToF16(0.25)));
    const y = gpu.tensor(M * N, 'f32', 'y');
    const p = { a_sk: 1, b_sk: 1, c_sm: N, c_off: 0, alpha: 1 };
    const args = { a: x, b: w, c: y, M, N, K, aSm: K, aSk: 1, bSk: 1, bSn: K };
    assert.equal(f16Applies(gpu, args, p), true);
    assert.equal(f16Applies(gpu, { ...args, accumulate: true }, p), false, 'no accumulation (backward)');
    assert.equal(f16Applies(gpu, args, { ...p, b_sk: N }), false, 'dY·W layout');
    assert.equal(f16Applies(gpu.withPolicy({ matmul: { kernel: 'tiled64' } }), args, p), false, 'a forced kernel');
    linearForward(gpu, x, w, undefined, y, M, N, K);
    assert.ok((await gpu.readF32(y)).every((v) => v === K * 0.125));
    [x, w, y].forEach((t) => t.destroy());
  });
});

describe('a model with --dtype f16 weights in f16 arithmetic (shader-f16)', () => {
  it('nano-bloomz mean log-probs: f16 products with f32 sums within 5e-3 of f32 math (measured ≈ 1e-3)', async function () {
    if (!(await getGpu()).handle.features.has('shader-f16')) this.skip(); // no shader-f16: nothing to compare
    const texts = ['Sentiment: positive. The food was good.', 'Kalimat ini sangat bagus sekali', 'It is cold.'];
    const scores: Record<string, number[]> = {};
    for (const f16 of ['off', 'f32acc'] as const) {
      const rt = await Runtime.create({ log: () => {}, policy: { f16 } });
      try {
        await rt.loadModel({ path: join(REPO, 'models/nano-bloomz'), dtype: 'f16' });
        scores[f16] = await rt.scoreTexts(texts);
      } finally {
        rt.dispose();
      }
    }
    for (let i = 0; i < texts.length; i++)
      assert.ok(
        Math.abs(scores.off[i] - scores.f32acc[i]) <= 5e-3,
        `${texts[i]}: f32 math ${scores.off[i]}, f16 math ${scores.f32acc[i]}`,
      );
  });
});

describe('KernelPolicy f16', () => {
  it('f16 arithmetic only where the device has shader-f16 (SwiftShader keeps the f32 path)', () => {
    const f = (features: string[], f16?: F16Mode) =>
      resolvePolicy({ swiftshader: false, features: new Set(features) }, f16 ? { f16 } : {}).f16;
    assert.equal(f(['shader-f16']), 'f32acc');
    assert.equal(f(['shader-f16'], 'f16acc'), 'f16acc');
    assert.equal(f(['shader-f16'], 'off'), 'off');
    assert.equal(f([]), 'off');
    assert.equal(f([], 'f16acc'), 'off', 'asked for, but the device cannot');
    assert.throws(() => f(['shader-f16'], 'half' as F16Mode), /f16 "half": use off, f32acc or f16acc/);
  });
});
