// Forward attention kernels (shaders/attention.wgsl) against a float64 CPU reference: the workgroup-per-row kernels
// (real GPUs), ROWWISE one row per invocation, and ROWWISE four rows per invocation (SwiftShader's default for
// Tq ≥ 4). Shapes: a row count that is not a multiple of 4, left padding (a fully masked query row gets zeros), and
// a KV-cache chunk (queries at q0 > 0 of a longer context). Tolerance |got − ref| ≤ 1e-5 + 1e-5·|ref|.
import assert from 'node:assert/strict';
import { compare, getGpu } from '../helpers/gpu.ts';
import type { Gpu } from '../../src/gpu/runtime.ts';
import { alibiSlopes, attentionConfig, attentionForward, keyInfo, type AttnShape } from '../../src/ops/attention.ts';

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296 - 0.5; };
}

/** probs [B, NH, Tq, Tk] and ctx [B, Tq, NH·D] in float64, as the kernels define them */
function reference(qkv: Float32Array, info: Float32Array, slopes: Float32Array, s: AttnShape) {
  const { B, Tq, Tk, q0, Tmax, NH, D } = s;
  const probs = new Float64Array(B * NH * Tq * Tk), ctx = new Float64Array(B * Tq * NH * D);
  const at = (b: number, t: number, n: number, c: number, d: number) => qkv[((b * Tmax + t) * 3 * NH + n * 3 + c) * D + d];
  for (let b = 0; b < B; b++) for (let n = 0; n < NH; n++) for (let i = 0; i < Tq; i++) {
    const qi = q0 + i, sc: number[] = [];
    for (let j = 0; j < Tk; j++) {
      const valid = j <= qi && info[2 * (b * Tk + j)] > 0.5;
      let dot = 0;
      for (let d = 0; d < D; d++) dot += at(b, qi, n, 0, d) * at(b, j, n, 1, d);
      sc.push(valid ? dot / Math.sqrt(D) + slopes[n] * info[2 * (b * Tk + j) + 1] : -Infinity);
    }
    const mx = Math.max(...sc), ex = sc.map((x) => (x === -Infinity ? 0 : Math.exp(x - mx))), sum = ex.reduce((x, y) => x + y, 0);
    const row = ((b * NH + n) * Tq + i) * Tk;
    for (let j = 0; j < Tk; j++) probs[row + j] = sum ? ex[j] / sum : 0;
    for (let d = 0; d < D; d++) {
      let acc = 0;
      for (let j = 0; j < Tk; j++) acc += probs[row + j] * at(b, j, n, 2, d);
      ctx[((b * Tq + i) * NH + n) * D + d] = acc;
    }
  }
  return { probs, ctx };
}

const CASES: { name: string; s: AttnShape; mask: number[] }[] = [
  { name: 'B=2 T=7, left padding (3 masked positions)', s: { B: 2, Tq: 7, Tk: 7, q0: 0, Tmax: 7, NH: 3, D: 8 }, mask: [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1] },
  { name: 'KV-cache chunk: 5 queries at q0 = 7 of 12 keys (buffer of 16 rows)', s: { B: 1, Tq: 5, Tk: 12, q0: 7, Tmax: 16, NH: 2, D: 16 }, mask: new Array(12).fill(1) },
  { name: 'B=1 T=9, D=32, no padding', s: { B: 1, Tq: 9, Tk: 9, q0: 0, Tmax: 9, NH: 2, D: 32 }, mask: new Array(9).fill(1) },
];

describe('attention forward kernels vs a float64 CPU reference', () => {
  let gpu: Gpu;
  before(async () => { gpu = await getGpu(); });
  const saved = { ...attentionConfig };
  afterEach(() => Object.assign(attentionConfig, saved));
  for (const [label, cfg] of [['workgroup-per-row (GPU)', { rowwise: 'never', rows4: false }], ['ROWWISE, 1 row', { rowwise: 'always', rows4: false }], ['ROWWISE, 4 rows (ROWS4)', { rowwise: 'always', rows4: true }]] as const) {
    it(`${label}: probs and ctx`, async () => {
      Object.assign(attentionConfig, cfg);
      for (const c of CASES) {
        const { s } = c, r = rng(s.Tq * 31 + s.Tk);
        const qkv = Float32Array.from({ length: s.B * s.Tmax * 3 * s.NH * s.D }, () => r() * 2);
        const info = keyInfo(c.mask, s.B, s.Tk), slopes = alibiSlopes(s.NH);
        const ref = reference(qkv, info, slopes, s);
        const tq = gpu.fromF32(qkv, 'test:qkv'), ti = gpu.fromF32(info, 'test:keyinfo'), ts = gpu.fromF32(slopes, 'test:slopes');
        const probs = gpu.tensor(ref.probs.length, 'f32', 'test:probs'), ctx = gpu.tensor(ref.ctx.length, 'f32', 'test:ctx');
        attentionForward(gpu, tq, ti, ts, probs, ctx, s);
        const [gp, gc] = [await gpu.readF32(probs), await gpu.readF32(ctx)];
        [tq, ti, ts, probs, ctx].forEach((t) => t.destroy());
        const p = compare(gp, ref.probs, 1e-5, 1e-5), x = compare(gc, ref.ctx, 1e-5, 1e-5);
        assert.ok(p.ok, `${c.name}: probs[${p.bad}] = ${p.got}, want ${p.want}`);
        assert.ok(x.ok, `${c.name}: ctx[${x.bad}] = ${x.got}, want ${x.want}`);
      }
    });
  }
});
