// Forward attention kernels (shaders/attention.wgsl) against a float64 CPU reference: the workgroup-per-row kernels
// (real GPUs), ROWWISE one row per invocation, and ROWWISE four rows per invocation (SwiftShader's default for
// Tq ≥ 4). Shapes: a row count that is not a multiple of 4, left padding (a fully masked query row gets zeros), and
// a KV-cache chunk (queries at q0 > 0 of a longer context). Tolerance |got − ref| ≤ 1e-5 + 1e-5·|ref|.
// The flash path (no probs; policy attention.flash, passed through gpu.withPolicy): ctx and the log-sum-exp of both families, and the backward from
// lse against a float64 dqkv (and the materialized backward against the same), at T spanning several key tiles.
import assert from 'node:assert/strict';
import { compare, getGpu } from '../helpers/gpu.ts';
import type { Gpu } from '../../src/gpu/runtime.ts';
import {
  alibiSlopes,
  attentionBackward,
  attentionBackwardScratch,
  attentionForward,
  attentionNeedsProbs,
  keyInfo,
  type AttnShape,
} from '../../src/ops/attention.ts';
import { rng } from '../helpers/rng.ts';

/** probs [B, NH, Tq, Tk], ctx [B, Tq, NH·D] and lse [B, NH, Tq] (−3e38 for a fully masked row) in float64 */
function reference(qkv: Float32Array, info: Float32Array, slopes: Float32Array, s: AttnShape) {
  const { B, Tq, Tk, q0, Tmax, NH, D } = s;
  const probs = new Float64Array(B * NH * Tq * Tk),
    ctx = new Float64Array(B * Tq * NH * D),
    lse = new Float64Array(B * NH * Tq);
  const at = (b: number, t: number, n: number, c: number, d: number) =>
    qkv[((b * Tmax + t) * 3 * NH + n * 3 + c) * D + d];
  for (let b = 0; b < B; b++)
    for (let n = 0; n < NH; n++)
      for (let i = 0; i < Tq; i++) {
        const qi = q0 + i,
          sc: number[] = [];
        for (let j = 0; j < Tk; j++) {
          const valid = j <= qi && info[2 * (b * Tk + j)] > 0.5;
          let dot = 0;
          for (let d = 0; d < D; d++) dot += at(b, qi, n, 0, d) * at(b, j, n, 1, d);
          sc.push(valid ? dot / Math.sqrt(D) + slopes[n] * info[2 * (b * Tk + j) + 1] : -Infinity);
        }
        const mx = Math.max(...sc),
          ex = sc.map((x) => (x === -Infinity ? 0 : Math.exp(x - mx))),
          sum = ex.reduce((x, y) => x + y, 0);
        const row = ((b * NH + n) * Tq + i) * Tk;
        lse[(b * NH + n) * Tq + i] = sum ? mx + Math.log(sum) : -3e38;
        for (let j = 0; j < Tk; j++) probs[row + j] = sum ? ex[j] / sum : 0;
        for (let d = 0; d < D; d++) {
          let acc = 0;
          for (let j = 0; j < Tk; j++) acc += probs[row + j] * at(b, j, n, 2, d);
          ctx[((b * Tq + i) * NH + n) * D + d] = acc;
        }
      }
  return { probs, ctx, lse };
}

/** dqkv [B, T, 3·NH·D] in float64 from dctx (training: q0 = 0, Tq = Tk = T) */
function referenceBackward(qkv: Float32Array, probs: Float64Array, dctx: Float32Array, s: AttnShape) {
  const { B, Tq: T, NH, D } = s,
    scale = 1 / Math.sqrt(D);
  const dqkv = new Float64Array(B * T * 3 * NH * D);
  const at = (b: number, t: number, n: number, c: number, d: number) => ((b * T + t) * 3 * NH + n * 3 + c) * D + d;
  for (let b = 0; b < B; b++)
    for (let n = 0; n < NH; n++)
      for (let i = 0; i < T; i++) {
        const row = ((b * NH + n) * T + i) * T,
          g = ((b * T + i) * NH + n) * D;
        const dp = new Float64Array(T);
        let di = 0;
        for (let j = 0; j < T; j++) {
          for (let d = 0; d < D; d++) dp[j] += dctx[g + d] * qkv[at(b, j, n, 2, d)];
          di += probs[row + j] * dp[j];
        }
        for (let j = 0; j < T; j++) {
          const p = probs[row + j],
            x = p * (dp[j] - di);
          for (let d = 0; d < D; d++) {
            dqkv[at(b, i, n, 0, d)] += scale * x * qkv[at(b, j, n, 1, d)];
            dqkv[at(b, j, n, 1, d)] += scale * x * qkv[at(b, i, n, 0, d)];
            dqkv[at(b, j, n, 2, d)] += p * dctx[g + d];
          }
        }
      }
  return dqkv;
}

const CASES: { name: string; s: AttnShape; mask: number[] }[] = [
  {
    name: 'B=2 T=7, left padding (3 masked positions)',
    s: { B: 2, Tq: 7, Tk: 7, q0: 0, Tmax: 7, NH: 3, D: 8 },
    mask: [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
  },
  {
    name: 'KV-cache chunk: 5 queries at q0 = 7 of 12 keys (buffer of 16 rows)',
    s: { B: 1, Tq: 5, Tk: 12, q0: 7, Tmax: 16, NH: 2, D: 16 },
    mask: new Array(12).fill(1),
  },
  {
    name: 'B=1 T=9, D=32, no padding',
    s: { B: 1, Tq: 9, Tk: 9, q0: 0, Tmax: 9, NH: 2, D: 32 },
    mask: new Array(9).fill(1),
  },
];
// the workgroup flash kernels stage 62 keys per tile at D = 32 (16 KiB of workgroup storage; 31 at D = 64) and take
// 64 rows per block: T = 130 spans three key tiles and three row blocks (D = 32 compiles faster on SwiftShader)
const LONG: { name: string; s: AttnShape; mask: number[] }[] = [
  {
    name: 'B=2 T=130 D=32, left padding (5 and 0 masked positions)',
    s: { B: 2, Tq: 130, Tk: 130, q0: 0, Tmax: 130, NH: 2, D: 32 },
    mask: [...new Array(5).fill(0), ...new Array(255).fill(1)],
  },
];
const FAMILIES = [
  ['workgroup (GPU)', { rowwise: false, rows4: false }],
  ['ROWWISE, 1 row', { rowwise: true, rows4: false }],
  ['ROWWISE, 4 rows (ROWS4)', { rowwise: true, rows4: true }],
] as const;

function inputs(c: { s: AttnShape; mask: number[] }) {
  const { s } = c,
    r = rng(s.Tq * 31 + s.Tk);
  const qkv = Float32Array.from({ length: s.B * s.Tmax * 3 * s.NH * s.D }, () => r() * 2);
  return {
    qkv,
    info: keyInfo(c.mask, s.B, s.Tk),
    slopes: alibiSlopes(s.NH),
    dctx: Float32Array.from({ length: s.B * s.Tq * s.NH * s.D }, () => r()),
  };
}

describe('attention forward kernels vs a float64 CPU reference', () => {
  let device: Gpu;
  before(async () => {
    device = await getGpu();
  });
  for (const [label, cfg] of FAMILIES) {
    it(`${label}: probs and ctx`, async () => {
      const gpu = device.withPolicy({ attention: cfg });
      for (const c of CASES) {
        const { s } = c,
          { qkv, info, slopes } = inputs(c);
        const ref = reference(qkv, info, slopes, s);
        const tq = gpu.fromF32(qkv, 'test:qkv'),
          ti = gpu.fromF32(info, 'test:keyinfo'),
          ts = gpu.fromF32(slopes, 'test:slopes');
        const probs = gpu.tensor(ref.probs.length, 'f32', 'test:probs'),
          ctx = gpu.tensor(ref.ctx.length, 'f32', 'test:ctx');
        attentionForward(gpu, tq, ti, ts, probs, ctx, s);
        const [gp, gc] = [await gpu.readF32(probs), await gpu.readF32(ctx)];
        [tq, ti, ts, probs, ctx].forEach((t) => t.destroy());
        const p = compare(gp, ref.probs, 1e-5, 1e-5),
          x = compare(gc, ref.ctx, 1e-5, 1e-5);
        assert.ok(p.ok, `${c.name}: probs[${p.bad}] = ${p.got}, want ${p.want}`);
        assert.ok(x.ok, `${c.name}: ctx[${x.bad}] = ${x.got}, want ${x.want}`);
      }
    });
  }
});

describe('attention without probs (flash) vs a float64 CPU reference', () => {
  let device: Gpu;
  before(async () => {
    device = await getGpu();
  });
  for (const [label, cfg] of FAMILIES) {
    it(`${label}: ctx without probs, and ctx + lse`, async () => {
      const gpu = device.withPolicy({ attention: cfg });
      for (const c of [...CASES, ...LONG]) {
        const { s } = c,
          { qkv, info, slopes } = inputs(c);
        const ref = reference(qkv, info, slopes, s);
        const tq = gpu.fromF32(qkv, 'test:qkv'),
          ti = gpu.fromF32(info, 'test:keyinfo'),
          ts = gpu.fromF32(slopes, 'test:slopes');
        const ctx = gpu.tensor(ref.ctx.length, 'f32', 'test:ctx'),
          ctx2 = gpu.tensor(ref.ctx.length, 'f32', 'test:ctx2'),
          lse = gpu.tensor(ref.lse.length, 'f32', 'test:lse');
        const before = gpu.bytesAllocated;
        attentionForward(gpu, tq, ti, ts, null, ctx, s);
        assert.equal(gpu.bytesAllocated, before, 'no scratch probs');
        attentionForward(gpu, tq, ti, ts, null, ctx2, s, lse);
        const [gc, gc2, gl] = [await gpu.readF32(ctx), await gpu.readF32(ctx2), await gpu.readF32(lse)];
        [tq, ti, ts, ctx, ctx2, lse].forEach((t) => t.destroy());
        for (const [what, got, want] of [
          ['ctx', gc, ref.ctx],
          ['ctx (with lse)', gc2, ref.ctx],
          ['lse', gl, ref.lse],
        ] as const) {
          const x = compare(got, want, 1e-5, 1e-5);
          assert.ok(x.ok, `${c.name}: ${what}[${x.bad}] = ${x.got}, want ${x.want}`);
        }
      }
    });
  }
  for (const [label, cfg] of FAMILIES.slice(0, 2)) {
    it(`${label}: backward from lse (flash) and from probs vs float64 dqkv`, async () => {
      const gpu = device.withPolicy({ attention: cfg });
      for (const c of [CASES[0], CASES[2], ...LONG]) {
        const { s } = c,
          { qkv, info, slopes, dctx } = inputs(c);
        const ref = reference(qkv, info, slopes, s),
          want = referenceBackward(qkv, ref.probs, dctx, s);
        const tq = gpu.fromF32(qkv, 'test:qkv'),
          ti = gpu.fromF32(info, 'test:keyinfo'),
          ts = gpu.fromF32(slopes, 'test:slopes');
        const tg = gpu.fromF32(dctx, 'test:dctx'),
          ctx = gpu.tensor(ref.ctx.length, 'f32', 'test:ctx'),
          lse = gpu.tensor(ref.lse.length, 'f32', 'test:lse');
        const probs = gpu.tensor(ref.probs.length, 'f32', 'test:probs'),
          ctxp = gpu.tensor(ref.ctx.length, 'f32', 'test:ctxp');
        // dqkv starts as garbage: both backwards must overwrite all of it
        const d1 = gpu.fromF32(new Float32Array(qkv.length).fill(7), 'test:dqkv1'),
          d2 = gpu.fromF32(new Float32Array(qkv.length).fill(7), 'test:dqkv2');
        const sc1 = gpu.tensor(attentionBackwardScratch(s, true), 'f32', 'test:delta'),
          sc2 = gpu.tensor(attentionBackwardScratch(s, false), 'f32', 'test:ds');
        attentionForward(gpu, tq, ti, ts, null, ctx, s, lse);
        attentionBackward(gpu, tq, null, tg, d1, sc1, s, { lse, ctx, keyinfo: ti, slopes: ts });
        attentionForward(gpu, tq, ti, ts, probs, ctxp, s);
        attentionBackward(gpu, tq, probs, tg, d2, sc2, s);
        const [g1, g2] = [await gpu.readF32(d1), await gpu.readF32(d2)];
        [tq, ti, ts, tg, ctx, lse, probs, ctxp, d1, d2, sc1, sc2].forEach((t) => t.destroy());
        for (const [what, got] of [
          ['flash', g1],
          ['materialized', g2],
        ] as const) {
          const x = compare(got, want, 1e-5, 1e-4);
          assert.ok(x.ok, `${c.name}: ${what} dqkv[${x.bad}] = ${x.got}, want ${x.want} (max abs ${x.maxAbs})`);
        }
      }
    });
  }
});

describe('attention: when training keeps the probabilities (attentionNeedsProbs)', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await getGpu();
  });
  const shape = (T: number, B = 4, NH = 16, D = 64): AttnShape => ({ B, Tq: T, Tk: T, q0: 0, Tmax: T, NH, D });
  it("'auto': short sequences keep probs; Tk ≥ 1024 or one layer's probs over a binding go flash", () => {
    const auto = gpu.withPolicy({ attention: { flash: 'auto' } });
    assert.equal(attentionNeedsProbs(auto, shape(256)), true, '560M at T=256');
    assert.equal(attentionNeedsProbs(auto, shape(1024, 1, 1)), false, 'Tk = 1024');
    const Tq = Math.ceil(gpu.maxBinding / (4 * 64 * 1000)) + 1; // B·NH = 64: probs [64, Tq, 1000] over one binding
    assert.equal(attentionNeedsProbs(auto, { ...shape(1000), Tq }), false, 'probs over maxStorageBufferBindingSize');
  });
  it("'never' always keeps probs, 'always' never (unless no flash kernel fits the head dim)", () => {
    assert.equal(attentionNeedsProbs(gpu.withPolicy({ attention: { flash: 'never' } }), shape(4096)), true);
    const always = gpu.withPolicy({ attention: { flash: 'always' } });
    assert.equal(attentionNeedsProbs(always, shape(16)), false);
    assert.equal(attentionNeedsProbs(always, shape(16, 1, 2, 6)), true, 'D = 6: no vec4 flash kernel');
  });
});

// ALiBi slopes against values written out here from HF's build_alibi_tensor (docs/bloom.md), not against a formula
// in this project: the exponents e of 2^e for each head count, the first p = 2^floor(log2 N) from 2^(−8/p), the rest
// the odd powers of 2^(−4/p). Exact: each slope is a power of two or a square root of one, rounded to f32 once.
describe('attention: ALiBi slopes are the published values', () => {
  const EXPONENTS: Record<number, number[]> = {
    1: [-8],
    2: [-4, -8],
    3: [-4, -8, -2],
    4: [-2, -4, -6, -8],
    6: [-2, -4, -6, -8, -1, -3],
    8: [-1, -2, -3, -4, -5, -6, -7, -8],
    12: [-1, -2, -3, -4, -5, -6, -7, -8, -0.5, -1.5, -2.5, -3.5],
    16: [-0.5, -1, -1.5, -2, -2.5, -3, -3.5, -4, -4.5, -5, -5.5, -6, -6.5, -7, -7.5, -8],
  };
  for (const [n, exps] of Object.entries(EXPONENTS)) {
    it(`${n} heads`, () => {
      const want = Float32Array.from(exps, (e) => 2 ** e);
      const got = alibiSlopes(Number(n));
      assert.deepEqual(Array.from(got), Array.from(want));
    });
  }
});
