// f16 arithmetic in inference attention (shaders/attention.wgsl F16; device feature shader-f16: Mesa lavapipe here,
// not SwiftShader): ROWWISE one row and four rows per invocation (the CPU family's kernels) and the workgroup flash
// kernel (real GPUs), against a float64 reference of the f32 inputs, with the KernelPolicy's choice.
// Bound (derived, not fitted; U = 2⁻¹¹ the f16 unit roundoff): the kernel rounds q·scale, k and each product q̂·k̂ to
// f16 (3 roundings) and sums in f32, so a score's error is E_ij ≤ 3.1·U·scale·Σ_d|q_d·k_d| + D·2⁻²³·(1 + max|k|)
// (the second term: f16 subnormals, absolute half-ulp 2⁻²⁵). Softmax moves each probability by a factor within
// e^(±2·E_i), E_i = max_j E_ij (f32 max, exp and sum). p·v rounds the unnormalized weight e ≤ 1, v and their product
// to f16 (3·U, plus 2⁻²⁵ absolute for subnormals) summed in f32 and divided by the sum l ≥ 1, so
// |ctx − ref| ≤ Σ_j p_j·|v_j|·(e^(2·E_i) − 1 + 3.1·U) + Tk·2⁻²³·(1 + max|v|) + 1e-5 + 1e-5·|ref| (the f32 test's slack).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { gpuWithF16, REPO } from '../helpers/gpu.ts';
import { Runtime } from '../../src/host/runtime.ts';
import type { Gpu } from '../../src/gpu/runtime.ts';
import { resolvePolicy } from '../../src/gpu/policy.ts';
import {
  alibiSlopes,
  attentionBackward,
  attentionBackwardScratch,
  attentionF16Applies,
  attentionForward,
  keyInfo,
  type AttnShape,
} from '../../src/ops/attention.ts';
import { rng } from '../helpers/rng.ts';
import { makeTinyQwen3 } from '../helpers/tiny-qwen3.ts';

const U = 2 ** -11;

interface Case {
  name: string;
  s: AttnShape;
  mask: number[];
}

const CASES: Case[] = [
  {
    name: 'B=2 T=7 D=8, left padding (a fully masked query row)',
    s: { B: 2, Tq: 7, Tk: 7, q0: 0, Tmax: 7, NH: 3, D: 8 },
    mask: [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
  },
  {
    name: 'KV-cache step: 1 query at q0 = 11 of 12 keys (buffer of 16 rows), D=16',
    s: { B: 1, Tq: 1, Tk: 12, q0: 11, Tmax: 16, NH: 2, D: 16 },
    mask: new Array(12).fill(1),
  },
  {
    name: 'KV-cache chunk: 5 queries at q0 = 7 of 12 keys, D=32',
    s: { B: 1, Tq: 5, Tk: 12, q0: 7, Tmax: 16, NH: 2, D: 32 },
    mask: new Array(12).fill(1),
  },
  {
    // flash F16 stages 64 keys per tile at D = 32 (the cap; f16 tiles would fit 120), 64 rows per block: 3 key tiles,
    // 3 row blocks
    name: 'B=1 T=130 D=32, left padding (5 masked)',
    s: { B: 1, Tq: 130, Tk: 130, q0: 0, Tmax: 130, NH: 2, D: 32 },
    mask: [...new Array(5).fill(0), ...new Array(125).fill(1)],
  },
  {
    // D = 64: f16 tiles of 62 keys (f32 tiles hold 31): 2 key tiles of the F16 size
    name: 'B=1 T=70 D=64',
    s: { B: 1, Tq: 70, Tk: 70, q0: 0, Tmax: 70, NH: 1, D: 64 },
    mask: new Array(70).fill(1),
  },
];

const FAMILIES = [
  ['ROWWISE, 1 row', { rowwise: true, rows4: false }],
  ['ROWWISE, 4 rows (ROWS4)', { rowwise: true, rows4: true }],
  ['workgroup flash (GPU)', { rowwise: false, rows4: false }],
] as const;

function inputs(c: Case) {
  const { s } = c,
    r = rng(s.Tq * 37 + s.Tk + s.D);
  const n = s.B * s.Tmax * 3 * s.NH * s.D;
  // q and k in [−2, 2) (peaked softmax rows), v in [−1, 1)
  const qkv = Float32Array.from({ length: n }, (_, i) => r() * (Math.floor(i / s.D) % 3 === 2 ? 2 : 4));
  return { qkv, info: keyInfo(c.mask, s.B, s.Tk), slopes: alibiSlopes(s.NH) };
}

/** float64 ctx [B, Tq, NH·D] and each element's bound (header) */
function reference(qkv: Float32Array, info: Float32Array, slopes: Float32Array, s: AttnShape) {
  const { B, Tq, Tk, q0, Tmax, NH, D } = s,
    scale = 1 / Math.sqrt(D);
  const ctx = new Float64Array(B * Tq * NH * D),
    bound = new Float64Array(ctx.length);
  const at = (b: number, t: number, n: number, c: number, d: number) =>
    qkv[((b * Tmax + t) * 3 * NH + n * 3 + c) * D + d];
  for (let b = 0; b < B; b++)
    for (let n = 0; n < NH; n++)
      for (let i = 0; i < Tq; i++) {
        const qi = q0 + i,
          sc: number[] = [];
        let E = 0,
          vmax = 0;
        for (let j = 0; j < Tk; j++) {
          const valid = j <= qi && info[2 * (b * Tk + j)] > 0.5;
          let dot = 0,
            mag = 0,
            kmax = 0;
          for (let d = 0; d < D; d++) {
            const q = at(b, qi, n, 0, d),
              k = at(b, j, n, 1, d);
            dot += q * k;
            mag += Math.abs(q * k);
            kmax = Math.max(kmax, Math.abs(k));
            vmax = Math.max(vmax, Math.abs(at(b, j, n, 2, d)));
          }
          sc.push(valid ? dot * scale + slopes[n] * info[2 * (b * Tk + j) + 1] : -Infinity);
          if (valid) E = Math.max(E, 3.1 * U * scale * mag + D * 2 ** -23 * (1 + kmax));
        }
        const mx = Math.max(...sc),
          ex = sc.map((x) => (x === -Infinity ? 0 : Math.exp(x - mx))),
          sum = ex.reduce((x, y) => x + y, 0);
        for (let d = 0; d < D; d++) {
          let acc = 0,
            mag = 0;
          for (let j = 0; j < Tk; j++) {
            const p = sum ? ex[j] / sum : 0;
            acc += p * at(b, j, n, 2, d);
            mag += p * Math.abs(at(b, j, n, 2, d));
          }
          const o = ((b * Tq + i) * NH + n) * D + d;
          ctx[o] = acc;
          bound[o] = mag * (Math.exp(2 * E) - 1 + 3.1 * U) + Tk * 2 ** -23 * (1 + vmax) + 1e-5 + 1e-5 * Math.abs(acc);
        }
      }
  return { ctx, bound };
}

/** ctx from attentionForward, and the F16 define of every attention dispatch it made */
async function run(device: Gpu, c: Case, f16: boolean, lse = false) {
  const { qkv, info, slopes } = inputs(c);
  const seen: boolean[] = [];
  const gpu = device.withPolicy({}); // a view of its own, whose run is wrapped
  const orig = gpu.run.bind(gpu);
  gpu.run = (shader, entry, bind, params, wg, defines = {}) => {
    if (shader === 'attention') seen.push(!!defines.F16);
    orig(shader, entry, bind, params, wg, defines);
  };
  const tq = gpu.fromF32(qkv, 'test:qkv'),
    ti = gpu.fromF32(info, 'test:keyinfo'),
    ts = gpu.fromF32(slopes, 'test:slopes');
  const { s } = c;
  const ctx = gpu.tensor(s.B * s.Tq * s.NH * s.D, 'f32', 'test:ctx');
  const tl = lse ? gpu.tensor(s.B * s.NH * s.Tq, 'f32', 'test:lse') : undefined;
  attentionForward(gpu, tq, ti, ts, null, ctx, s, tl, { f16 });
  const got = await gpu.readF32(ctx);
  [tq, ti, ts, ctx, tl].forEach((t) => t?.destroy());
  return { got, seen, ...reference(qkv, info, slopes, s) };
}

/** ctx of attentionForward on the given qkv (key info and slopes as inputs() makes them) */
async function runWith(gpu: Gpu, c: Case, qkv: Float32Array, f16: boolean) {
  const { info, slopes } = inputs(c);
  const tq = gpu.fromF32(qkv, 'test:qkv'),
    ti = gpu.fromF32(info, 'test:keyinfo'),
    ts = gpu.fromF32(slopes, 'test:slopes'),
    ctx = gpu.tensor(c.s.B * c.s.Tq * c.s.NH * c.s.D, 'f32', 'test:ctx');
  attentionForward(gpu, tq, ti, ts, null, ctx, c.s, undefined, { f16 });
  const got = await gpu.readF32(ctx);
  [tq, ti, ts, ctx].forEach((t) => t.destroy());
  return got;
}

function worst(got: Float32Array, ref: Float64Array, bound: Float64Array) {
  let maxErr = 0,
    ratio = 0,
    bad = 0,
    first = '';
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i] - ref[i]);
    maxErr = Math.max(maxErr, e);
    ratio = Math.max(ratio, e / bound[i]);
    if (!(e <= bound[i])) {
      bad++;
      first ||= `[${i}] got ${got[i]}, ref ${ref[i]}, bound ${bound[i]}`;
    }
  }
  return { maxErr, ratio, bad, first };
}

describe('attention with f16 arithmetic (shader-f16)', () => {
  let device: Gpu;
  before(async function () {
    device = await gpuWithF16(this);
  });

  for (const [label, cfg] of FAMILIES)
    it(`${label}: ctx within the f16 bound of float64 (f32 path within 1e-5)`, async () => {
      const gpu = device.withPolicy({ attention: cfg });
      const lines: string[] = [];
      for (const c of CASES) {
        const h = await run(gpu, c, true);
        assert.ok(h.seen.length > 0 && h.seen.every(Boolean), `${c.name}: the F16 kernel ran (${h.seen})`);
        const w = worst(h.got, h.ctx, h.bound);
        assert.equal(w.bad, 0, `${c.name}: ${w.first}`);
        const f = await run(gpu, c, false);
        assert.ok(!f.seen.some(Boolean), `${c.name}: f32 weights keep the f32 kernel`);
        const w32 = worst(
          f.got,
          f.ctx,
          f.ctx.map((x) => 1e-5 + 1e-5 * Math.abs(x)),
        );
        assert.equal(w32.bad, 0, `${c.name} (f32): ${w32.first}`);
        lines.push(`T=${c.s.Tk} D=${c.s.D}: f32 ${w32.maxErr.toExponential(1)}, f16 ${w.maxErr.toExponential(1)}`);
        lines.push(`(${(w.ratio * 100).toFixed(0)} % of its bound)`);
      }
      console.log(`      max |ctx err| vs float64: ${lines.join(' ')}`);
    });

  // f16 range: one key whose q·k lane products are −70000, +40000, +40000 (q already scaled): its true score 10000
  // dominates the row, but −70000 is −∞ in f16, which would drop the key silently (ctx = the other key's v); and a
  // v element past 65504, which f16 cannot hold. Either makes the row's ctx NaN, never a finite wrong value.
  for (const [label, cfg] of FAMILIES)
    it(`${label}: a value or a q·k product past f16's range gives NaN (the f32 path the right value)`, async () => {
      const gpu = device.withPolicy({ attention: cfg });
      const s: AttnShape = { B: 1, Tq: 2, Tk: 2, q0: 0, Tmax: 2, NH: 1, D: 8 };
      const c: Case = { name: 'range', s, mask: [1, 1] };
      const at = (t: number, part: number, d: number) => (t * 3 + part) * 8 + d;
      const base = () => {
        const qkv = new Float32Array(2 * 3 * 8);
        for (let d = 0; d < 8; d++) [qkv[at(0, 2, d)], qkv[at(1, 2, d)]] = [1, -1]; // v0 = 1, v1 = −1
        return qkv;
      };
      const product = base();
      [280, 200, 200].forEach((q, d) => (product[at(1, 0, d)] = q * Math.sqrt(8))); // query row 1
      [-250, 200, 200].forEach((k, d) => (product[at(0, 1, d)] = k)); // key 0; key 1 is zeros
      const big = base();
      big[at(0, 2, 3)] = 1e5; // v0 past f16's range
      for (const [what, qkv] of [
        ['q·k product', product],
        ['v element', big],
      ] as const) {
        const h = await runWith(gpu, c, qkv, true);
        const row1 = Array.from(h.slice(8, 16));
        assert.ok(
          row1.every((x) => Number.isNaN(x)),
          `${what}: f16 row 1 = ${row1} (NaN expected)`,
        );
        const f = await runWith(gpu, c, qkv, false);
        const { info, slopes } = inputs(c);
        const want = reference(qkv, info, slopes, s).ctx;
        for (let i = 8; i < 16; i++)
          assert.ok(
            Math.abs(f[i] - want[i]) <= 1e-5 * (1 + Math.abs(want[i])),
            `${what}: f32 ctx[${i}] = ${f[i]}, want ${want[i]}`,
          );
        if (what === 'q·k product') assert.ok(Math.abs(want[8] - 1) < 1e-6, 'the key dominates row 1');
      }
    });

  it('training with probs in the workgroup (GPU) kernels, f16 off or attention.f16 false keep f32 kernels', async () => {
    const c = CASES[0];
    const { qkv, dctx } = trainInputs(c);
    const gpuFamily = device.withPolicy({ attention: { rowwise: false } });
    const probs = await runTrain(gpuFamily, c, true, false, qkv, dctx);
    assert.ok(!probs.seen.some(([, f]) => f), `probs kept (training), workgroup kernels: ${probs.seen}`);
    assert.ok((await run(gpuFamily, c, true, true)).seen.every(Boolean), 'with lse (training): the flash kernel');
    assert.ok(!(await run(device.withPolicy({ f16: 'off' }), c, true)).seen.some(Boolean), 'f16 off');
    const noAttn = device.withPolicy({ attention: { f16: false } });
    assert.ok(!(await run(noAttn, c, true)).seen.some(Boolean), 'attention.f16 false');
    assert.equal(attentionF16Applies(device.policy, 64), true, 'this adapter: f16 attention for f16 models');
  });
});

// Training (--fp16 on a shader-f16 device, ROWWISE kernels): the forward keeps probs or lse and the backward
// (attention_backward_scores/_kv, or attention_flash_backward_q/_kv) takes f16 products too: dP = dctx·v̂,
// dq = scale·Σ f16(dS)·k̂, dk = Σ f16(dS)·q̂ (q̂ = f16(q·scale), what the forward's score used), dv = Σ f16(p)·dctx;
// sums, softmax statistics, delta and the stored probs/lse stay f32, and the flash backward recomputes each score
// exactly as the forward did (same products, same order). Bound against float64 of the f32 inputs (derived; U, E_i
// and the subnormal terms as in the file's header; A⊙B = Σ_d|a_d·b_d|): each probability is off by a factor
// within e^(±2·E_i), ρ_i = e^(2·E_i) − 1; dP_ij by η_ij = 3.1·U·(g_i⊙v_j) + D·2⁻²³·(1 + max|g| + max|v|); delta_i
// by Δ_i = Σ_j P_ij·(ρ_i·|dP_ij| + (1 + ρ_i)·η_ij) (probs path: Σ P̃·dP̃), or |g_i|·(the forward's ctx bound) (flash:
// dctx·ctx̃); so dS_ij by σ_ij = P_ij·(ρ_i·|dP_ij − δ_i| + (1 + ρ_i)·(η_ij + Δ_i)). Then each gradient is a sum of
// products of two f16-rounded factors (3.1·U relative each, plus the subnormal term) summed in f32:
// |dq_i − ref| ≤ scale·Σ_j |k_j|·(σ_ij + 3.1·U·(|dS_ij| + σ_ij)) (dk alike with q_i), |dv_j − ref| ≤ Σ_i |g_i|·P_ij·
// (ρ_i + 3.1·U·(1 + ρ_i)), each + Tk·2⁻²³·(1 + the factors' max) + 1e-5·(1 + |ref| + Σ|terms|) (f32 sums).
const TRAIN_CASES: Case[] = [
  CASES[0],
  {
    name: 'B=1 T=12 D=16',
    s: { B: 1, Tq: 12, Tk: 12, q0: 0, Tmax: 12, NH: 2, D: 16 },
    mask: new Array(12).fill(1),
  },
];

/** float64 dq, dk, dv (laid out as dqkv) from qkv and dctx, and each element's bound (above) */
function referenceBackward(qkv: Float32Array, dctx: Float32Array, c: Case, flash: boolean) {
  const { s } = c;
  const { B, Tk: T, NH, D } = s,
    scale = 1 / Math.sqrt(D);
  const { info, slopes } = inputs(c);
  const fwd = reference(qkv, info, slopes, s);
  const out = new Float64Array(qkv.length),
    bound = new Float64Array(qkv.length);
  const ix = (b: number, t: number, n: number, part: number, d: number) =>
    ((b * T + t) * 3 * NH + n * 3 + part) * D + d;
  const gx = (b: number, t: number, n: number, d: number) => ((b * T + t) * NH + n) * D + d;
  const sub = 2 ** -23;
  for (let b = 0; b < B; b++)
    for (let n = 0; n < NH; n++) {
      const P: number[][] = [],
        dP: number[][] = [],
        dS: number[][] = [],
        sig: number[][] = [],
        rho: number[] = [];
      let gmax = 0,
        vmax = 0,
        qmax = 0,
        kmax = 0;
      for (let t = 0; t < T; t++)
        for (let d = 0; d < D; d++) {
          gmax = Math.max(gmax, Math.abs(dctx[gx(b, t, n, d)]));
          qmax = Math.max(qmax, Math.abs(qkv[ix(b, t, n, 0, d)] * scale));
          kmax = Math.max(kmax, Math.abs(qkv[ix(b, t, n, 1, d)]));
          vmax = Math.max(vmax, Math.abs(qkv[ix(b, t, n, 2, d)]));
        }
      for (let i = 0; i < T; i++) {
        const sc: number[] = [];
        let E = 0;
        for (let j = 0; j < T; j++) {
          const valid = j <= i && info[2 * (b * T + j)] > 0.5;
          let dot = 0,
            mag = 0;
          for (let d = 0; d < D; d++) {
            const q = qkv[ix(b, i, n, 0, d)],
              k = qkv[ix(b, j, n, 1, d)];
            dot += q * k;
            mag += Math.abs(q * k);
          }
          sc.push(valid ? dot * scale + slopes[n] * info[2 * (b * T + j) + 1] : -Infinity);
          if (valid) E = Math.max(E, 3.1 * U * scale * mag + D * sub * (1 + kmax));
        }
        const mx = Math.max(...sc),
          ex = sc.map((x) => (x === -Infinity ? 0 : Math.exp(x - mx))),
          sum = ex.reduce((x, y) => x + y, 0);
        P.push(ex.map((e) => (sum ? e / sum : 0)));
        rho.push(Math.exp(2 * E) - 1);
        const dp: number[] = [],
          eta: number[] = [];
        for (let j = 0; j < T; j++) {
          let acc = 0,
            mag = 0;
          for (let d = 0; d < D; d++) {
            const x = dctx[gx(b, i, n, d)] * qkv[ix(b, j, n, 2, d)];
            acc += x;
            mag += Math.abs(x);
          }
          dp.push(acc);
          eta.push(3.1 * U * mag + D * sub * (1 + gmax + vmax));
        }
        dP.push(dp);
        const r = rho[i],
          p = P[i];
        const delta = p.reduce((a, x, j) => a + x * dp[j], 0);
        let Dl = 0;
        if (flash) for (let d = 0; d < D; d++) Dl += Math.abs(dctx[gx(b, i, n, d)]) * fwd.bound[gx(b, i, n, d)];
        else for (let j = 0; j < T; j++) Dl += p[j] * (r * Math.abs(dp[j]) + (1 + r) * eta[j]);
        dS.push(p.map((x, j) => x * (dp[j] - delta)));
        sig.push(p.map((x, j) => x * (r * Math.abs(dp[j] - delta) + (1 + r) * (eta[j] + Dl))));
      }
      for (let t = 0; t < T; t++)
        for (let d = 0; d < D; d++) {
          // dq_t (row t over keys j), dk_t and dv_t (key t over rows i)
          let q = 0,
            qb = 0,
            qm = 0,
            k = 0,
            kb = 0,
            km = 0,
            v = 0,
            vb = 0,
            vm = 0; // prettier-ignore
          for (let j = 0; j < T; j++) {
            const kj = qkv[ix(b, j, n, 1, d)],
              x = dS[t][j];
            q += scale * x * kj;
            qm += scale * Math.abs(x * kj);
            qb += scale * Math.abs(kj) * (sig[t][j] + 3.1 * U * (Math.abs(x) + sig[t][j]));
          }
          for (let i = 0; i < T; i++) {
            const qi = qkv[ix(b, i, n, 0, d)] * scale,
              gi = dctx[gx(b, i, n, d)],
              x = dS[i][t],
              p = P[i][t];
            k += x * qi;
            km += Math.abs(x * qi);
            kb += Math.abs(qi) * (sig[i][t] + 3.1 * U * (Math.abs(x) + sig[i][t]));
            v += p * gi;
            vm += Math.abs(p * gi);
            vb += Math.abs(gi) * p * (rho[i] + 3.1 * U * (1 + rho[i]));
          }
          const f32 = (ref: number, mag: number) => 1e-5 * (1 + Math.abs(ref) + mag);
          const sn = (m: number) => T * sub * (1 + m);
          [out[ix(b, t, n, 0, d)], bound[ix(b, t, n, 0, d)]] = [q, qb + sn(kmax) + f32(q, qm)];
          [out[ix(b, t, n, 1, d)], bound[ix(b, t, n, 1, d)]] = [k, kb + sn(qmax) + f32(k, km)];
          [out[ix(b, t, n, 2, d)], bound[ix(b, t, n, 2, d)]] = [v, vb + sn(gmax) + f32(v, vm)];
        }
    }
  return { dqkv: out, bound, ctx: fwd.ctx, ctxBound: fwd.bound };
}

/** ctx and dqkv of a training forward (probs kept, or lse: flash) and its backward, and the F16 define of each dispatch */
async function runTrain(device: Gpu, c: Case, f16: boolean, flash: boolean, qkv: Float32Array, dctx: Float32Array) {
  const { s } = c;
  const { info, slopes } = inputs(c);
  const seen: [string, boolean][] = [];
  const gpu = device.withPolicy({});
  const orig = gpu.run.bind(gpu);
  gpu.run = (shader, entry, bind, params, wg, defines = {}) => {
    if (shader === 'attention') seen.push([entry, !!defines.F16]);
    orig(shader, entry, bind, params, wg, defines);
  };
  const tq = gpu.fromF32(qkv, 'test:qkv'),
    ti = gpu.fromF32(info, 'test:keyinfo'),
    ts = gpu.fromF32(slopes, 'test:slopes'),
    tg = gpu.fromF32(dctx, 'test:dctx'),
    ctx = gpu.tensor(dctx.length, 'f32', 'test:ctx'),
    dqkv = gpu.tensor(qkv.length, 'f32', 'test:dqkv'),
    ds = gpu.tensor(attentionBackwardScratch(s, flash), 'f32', 'test:ds'),
    probs = flash ? null : gpu.tensor(s.B * s.NH * s.Tq * s.Tk, 'f32', 'test:probs'),
    lse = flash ? gpu.tensor(s.B * s.NH * s.Tq, 'f32', 'test:lse') : undefined;
  attentionForward(gpu, tq, ti, ts, probs, ctx, s, lse, { f16 });
  const saved = lse ? { lse, ctx, keyinfo: ti, slopes: ts } : undefined;
  attentionBackward(gpu, tq, probs, tg, dqkv, ds, s, saved, { f16 });
  const got = { ctx: await gpu.readF32(ctx), dqkv: await gpu.readF32(dqkv) };
  [tq, ti, ts, tg, ctx, dqkv, ds, probs, lse].forEach((t) => t?.destroy());
  return { ...got, seen };
}

function trainInputs(c: Case) {
  const { s } = c,
    r = rng(s.Tk * 53 + s.D);
  return { qkv: inputs(c).qkv, dctx: Float32Array.from({ length: s.B * s.Tq * s.NH * s.D }, () => r() * 2) };
}

describe('training attention with f16 arithmetic (shader-f16): forward with probs or lse, and backward', () => {
  let device: Gpu;
  before(async function () {
    device = await gpuWithF16(this);
  });

  const MODES = [
    ['probs kept', false],
    ['flash (lse)', true],
  ] as const;
  // the GPU family trains in f16 only with the flash kernels (its probs kernels have no F16 variant)
  const TRAIN_KINDS = [
    ...FAMILIES.slice(0, 2).flatMap(([label, cfg]) => MODES.map(([mode, flash]) => [label, cfg, mode, flash] as const)),
    [FAMILIES[2][0], FAMILIES[2][1], MODES[1][0], MODES[1][1]] as const,
  ];
  for (const [label, cfg, mode, flash] of TRAIN_KINDS)
    it(`${label}, ${mode}: ctx, dq, dk, dv within the f16 bound of float64 (f32 path within 1e-5)`, async () => {
      const gpu = device.withPolicy({ attention: cfg });
      const lines: string[] = [];
      // the workgroup flash kernels also at T = 130 (3 blocks of 64 rows or keys, f16 tiles of 64 at D = 32)
      for (const c of cfg.rowwise ? TRAIN_CASES : [...TRAIN_CASES, CASES[3]]) {
        const { qkv, dctx } = trainInputs(c);
        const ref = referenceBackward(qkv, dctx, c, flash);
        const h = await runTrain(gpu, c, true, flash, qkv, dctx);
        assert.ok(h.seen.length >= 3 && h.seen.every(([, f]) => f), `${c.name}: F16 kernels ran (${h.seen})`);
        const wc = worst(h.ctx, ref.ctx, ref.ctxBound);
        assert.equal(wc.bad, 0, `${c.name} ctx: ${wc.first}`);
        const w = worst(h.dqkv, ref.dqkv, ref.bound);
        assert.equal(w.bad, 0, `${c.name} dqkv: ${w.first}`);
        const f = await runTrain(gpu, c, false, flash, qkv, dctx);
        assert.ok(!f.seen.some(([, x]) => x), `${c.name}: f32 weights keep the f32 kernels`);
        const w32 = worst(
          f.dqkv,
          ref.dqkv,
          ref.dqkv.map((x) => 1e-5 + 1e-5 * Math.abs(x)),
        );
        assert.equal(w32.bad, 0, `${c.name} (f32): ${w32.first}`);
        lines.push(`T=${c.s.Tk} D=${c.s.D}: f32 ${w32.maxErr.toExponential(1)}, f16 ${w.maxErr.toExponential(1)}`);
        lines.push(`(${(w.ratio * 100).toFixed(0)} % of its bound)`);
      }
      console.log(`      max |dqkv err| vs float64: ${lines.join(' ')}`);
    });

  // f16 range in the backward: a dctx element past 65504, or dctx·v products past it from in-range halves (300·300),
  // make the gradients NaN (dynamic loss scaling then skips the step), never a finite wrong value; f32 stays finite
  for (const [label, cfg, mode, flash] of TRAIN_KINDS.filter((k) => k[1].rows4 === false))
    it(`${label}, ${mode}: a dctx value or a dctx·v product past f16's range gives NaN gradients`, async () => {
      const gpu = device.withPolicy({ attention: cfg });
      const c = TRAIN_CASES[1];
      const { D, NH } = c.s;
      const { qkv, dctx } = trainInputs(c);
      const big = dctx.slice();
      big[(5 * NH + 0) * D + 2] = 1e5; // row 5, head 0
      const prod = dctx.slice(),
        qkv2 = qkv.slice();
      for (let d = 0; d < D; d++) {
        prod[(5 * NH + 0) * D + d] = 300;
        qkv2[(3 * 3 * NH + 2) * D + d] = 300; // v of key 3, head 0
      }
      for (const [what, x, g] of [
        ['dctx value', qkv, big],
        ['dctx·v product', qkv2, prod],
      ] as const) {
        const h = await runTrain(gpu, c, true, flash, x, g);
        const dq5 = Array.from(h.dqkv.slice(5 * 3 * NH * D, 5 * 3 * NH * D + D));
        assert.ok(
          dq5.every((v) => Number.isNaN(v)),
          `${what}: dq of row 5 = ${dq5}`,
        );
        const f = await runTrain(gpu, c, false, flash, x, g);
        assert.ok(f.dqkv.every(Number.isFinite), `${what}: the f32 path stays finite`);
      }
    });
});

describe('KernelPolicy attention.f16', () => {
  it('f16 attention only where the device has shader-f16 and f16 arithmetic is on (SwiftShader keeps f32)', () => {
    const p = (features: string[], o = {}) => resolvePolicy({ swiftshader: false, features: new Set(features) }, o);
    assert.equal(attentionF16Applies(p(['shader-f16']), 64), true);
    assert.equal(attentionF16Applies(p(['shader-f16'], { f16: 'f16acc' }), 64), true);
    assert.equal(attentionF16Applies(p(['shader-f16'], { f16: 'off' }), 64), false);
    assert.equal(attentionF16Applies(p(['shader-f16'], { attention: { f16: false } }), 64), false);
    assert.equal(attentionF16Applies(p(['shader-f16']), 6), false, 'D = 6: no vec4 kernel');
    assert.equal(attentionF16Applies(p([]), 64), false, 'no shader-f16');
    const sw = resolvePolicy({ swiftshader: true, features: new Set(['subgroups']) });
    assert.equal(attentionF16Applies(sw, 64), false, 'SwiftShader');
    assert.throws(() => p(['shader-f16'], { attention: { f16: 'yes' } }), /attention\.f16 "yes": use true or false/);
  });
});

describe('--dtype f16 models with f16 attention (shader-f16)', () => {
  // Both families: the mean log-probs of a few texts with f16 attention against f32 attention, every other kernel the
  // same (f16 matmuls, norms, GELU), bound 5e-3 nats per token (what matmul_f16.test.ts allows the whole f16 path
  // against f32 math); the F16 attention pipelines were built (and none with attention.f16 off); a short greedy
  // generation runs the KV-cache step in f16 too (the one-row kernel where the policy is rowwise). Measured printed.
  for (const family of ['nano-bloomz', 'tiny Qwen3'] as const)
    it(`${family}: mean log-probs within 5e-3 of f32 attention; generation's KV step in f16`, async function () {
      await gpuWithF16(this, 'it');
      const texts = ['Sentiment: positive. The food was good.', 'Kalimat ini sangat bagus sekali', 'It is cold.'];
      const dir = family === 'nano-bloomz' ? join(REPO, 'models/nano-bloomz') : await makeTinyQwen3();
      const scores: number[][] = [];
      const f16Built: Record<string, boolean | number>[][] = [];
      try {
        for (const f16 of [false, true]) {
          const rt = await Runtime.create({ log: () => {}, policy: { attention: { f16 } } });
          try {
            await rt.loadModel({ path: dir, dtype: 'f16' });
            scores.push(await rt.scoreTexts(texts));
            if (f16) {
              const gen = await rt.generate('It is', { maxNewTokens: 3, stopAtEos: false });
              assert.equal(gen.ids.length, 3);
            }
            const built = rt.gpu.pipelines.built().filter((p) => p.shader === 'attention' && p.defines.F16);
            f16Built.push(built.map((p) => p.defines));
            if (f16 && rt.gpu.policy.attention.rowwise)
              assert.ok(
                built.some((p) => !p.defines.ROWS4),
                'the one-row F16 kernel (the KV-cache step) ran',
              );
          } finally {
            rt.dispose();
          }
        }
      } finally {
        if (family !== 'nano-bloomz') rmSync(dir, { recursive: true, force: true });
      }
      assert.equal(f16Built[0].length, 0, 'attention.f16 false: no F16 attention kernel');
      assert.ok(f16Built[1].length > 0, 'the F16 attention kernels ran');
      const diffs = texts.map((_, i) => Math.abs(scores[0][i] - scores[1][i]));
      console.log(`      |Δ mean log-prob| f16 vs f32 attention: ${diffs.map((d) => d.toExponential(1)).join(', ')}`);
      for (let i = 0; i < texts.length; i++)
        assert.ok(diffs[i] <= 5e-3, `${texts[i]}: f32 attention ${scores[0][i]}, f16 attention ${scores[1][i]}`);
    });
});
