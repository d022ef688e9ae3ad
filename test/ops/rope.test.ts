// RoPE fused with the qkv packing (rope.wgsl) against the float64 reference of test/helpers/llama-ref.ts (HF's
// apply_rotary_pos_emb with rotate_half; inv_freq = 1/theta^(2d/D)), with grouped-query heads (NH = 4 query heads
// over NKV = 2 key/value heads), positions from a left-padded mask, and rows written at q0 > 0 of a longer qkv
// buffer (KV-cached decoding; the rows outside stay untouched). The backward (rope_unpack: the rotation's transpose,
// key/value gradients summed over each group) against central finite differences of Σ dqkv·pack(q, k, v) in
// float64. Then the existing attention op on the packed buffer (ALiBi slopes 0) against the float64 causal GQA
// reference: the Llama family reuses attention.wgsl unchanged. Tolerances 1e-5 + 1e-5·|v| (forward), 1e-4 + 1e-4·|v|.
import assert from 'node:assert/strict';
import { compare, getGpu } from '../helpers/gpu.ts';
import { defaultInvFreq, fdGrad, gqa, rotate } from '../helpers/llama-ref.ts';
import { rng } from '../helpers/rng.ts';
import { ropePack, ropePositions, ropeTable, ropeUnpack, type RopeShape } from '../../src/ops/rope.ts';
import { attentionForward, keyInfo } from '../../src/ops/attention.ts';

/** The packed qkv [B, Tmax, NH, 3, D] in float64; rows outside [q0, q0 + Tq) hold `fillValue`. */
function packRef(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  pos: Uint32Array,
  inv: Float64Array,
  s: RopeShape,
  fillValue: number,
): Float64Array {
  const { B, Tq, q0, Tmax, NH, NKV, D } = s;
  const out = new Float64Array(B * Tmax * NH * 3 * D).fill(fillValue);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < Tq; t++)
      for (let h = 0; h < NH; h++) {
        const bt = b * Tq + t,
          j = Math.floor(h / (NH / NKV));
        const o = ((b * Tmax + q0 + t) * NH + h) * 3 * D;
        const head = (a: ArrayLike<number>, n: number, heads: number) =>
          Array.from({ length: D }, (_, d) => a[(bt * heads + n) * D + d]);
        out.set(rotate(head(q, h, NH), pos[bt], inv), o);
        out.set(rotate(head(k, j, NKV), pos[bt], inv), o + D);
        out.set(head(v, j, NKV), o + 2 * D);
      }
  return out;
}

describe('rope: rotation fused with GQA packing, and attention on the packed heads', () => {
  const s: RopeShape = { B: 2, Tq: 3, q0: 2, Tmax: 6, NH: 4, NKV: 2, D: 8 };
  const theta = 10000,
    inv = defaultInvFreq(theta, s.D);
  // left padding in batch element 1: positions 0 at the pads, then counting
  const mask = [1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1];
  const pos = ropePositions(mask, s.B, s.Tmax, s.q0, s.Tq);

  it('positions: cumsum(mask) − 1, 0 on padding', () => {
    assert.deepEqual([...ropePositions(mask, 2, 6)], [0, 1, 2, 3, 4, 5, 0, 0, 0, 0, 1, 2]);
    assert.deepEqual([...pos], [2, 3, 4, 0, 0, 1]);
  });

  it('rope_pack forward and rope_unpack backward (finite differences)', async () => {
    const gpu = await getGpu();
    const r = rng(3);
    const nq = s.B * s.Tq * s.NH * s.D,
      nk = s.B * s.Tq * s.NKV * s.D,
      nqkv = s.B * s.Tmax * s.NH * 3 * s.D;
    const q = Float64Array.from({ length: nq }, () => 2 * r()),
      k = Float64Array.from({ length: nk }, () => 2 * r()),
      v = Float64Array.from({ length: nk }, () => 2 * r()),
      dqkv = Float32Array.from({ length: nqkv }, () => r());
    const cs = gpu.fromF32(ropeTable(Float32Array.from(inv), 8), 'test:cs'),
      tpos = gpu.fromU32(pos, 'test:pos');
    const tq = gpu.fromF32(Float32Array.from(q), 'test:q'),
      tk = gpu.fromF32(Float32Array.from(k), 'test:k'),
      tv = gpu.fromF32(Float32Array.from(v), 'test:v'),
      tqkv = gpu.fromF32(new Float32Array(nqkv).fill(7), 'test:qkv');
    ropePack(gpu, tq, tk, tv, cs, tpos, tqkv, s);
    const want = packRef(q, k, v, pos, inv, s, 7);
    const c = compare(await gpu.readF32(tqkv), want, 1e-5, 1e-5);
    assert.ok(c.ok, `qkv[${c.bad}]: ${c.got} vs ${c.want}`);

    const tdqkv = gpu.fromF32(dqkv, 'test:dqkv'),
      tdq = gpu.tensor(nq, 'f32', 'test:dq'),
      tdk = gpu.tensor(nk, 'f32', 'test:dk'),
      tdv = gpu.tensor(nk, 'f32', 'test:dv');
    ropeUnpack(gpu, tdqkv, cs, tpos, tdq, tdk, tdv, s);
    const L = () => packRef(q, k, v, pos, inv, s, 0).reduce((a, x, i) => a + x * dqkv[i], 0);
    for (const [name, x, t] of [
      ['dq', q, tdq],
      ['dk', k, tdk],
      ['dv', v, tdv],
    ] as const) {
      const fd = fdGrad(L, x, x.keys());
      const g = compare(await gpu.readF32(t), [...fd.values()], 1e-4, 1e-4);
      assert.ok(g.ok, `${name}[${g.bad}]: ${g.got} vs ${g.want}`);
    }
    [cs, tpos, tq, tk, tv, tqkv, tdqkv, tdq, tdk, tdv].forEach((t) => t.destroy());
  });

  it('ropeTable: cos and sin of f32(inv_freq)·p', () => {
    const t = ropeTable(Float32Array.from(inv), 50);
    const half = s.D / 2;
    for (const p of [0, 1, 7, 49])
      for (let d = 0; d < half; d++) {
        assert.ok(Math.abs(t[2 * (p * half + d)] - Math.cos(p * inv[d])) < 1e-5, `cos p=${p} d=${d}`);
        assert.ok(Math.abs(t[2 * (p * half + d) + 1] - Math.sin(p * inv[d])) < 1e-5, `sin p=${p} d=${d}`);
      }
  });

  it('packed heads through attention.wgsl (slopes 0) = causal grouped-query attention', async () => {
    const gpu = await getGpu();
    const r = rng(9);
    const T = 6,
      B = 2,
      f: RopeShape = { ...s, Tq: T, q0: 0, Tmax: T };
    const nq = B * T * s.NH * s.D,
      nk = B * T * s.NKV * s.D;
    const q = Float64Array.from({ length: nq }, () => 2 * r()),
      k = Float64Array.from({ length: nk }, () => 2 * r()),
      v = Float64Array.from({ length: nk }, () => 2 * r());
    const p = ropePositions(mask, B, T);
    const cs = gpu.fromF32(ropeTable(Float32Array.from(inv), T), 'test:cs'),
      tpos = gpu.fromU32(p, 'test:pos'),
      tq = gpu.fromF32(Float32Array.from(q), 'test:q'),
      tk = gpu.fromF32(Float32Array.from(k), 'test:k'),
      tv = gpu.fromF32(Float32Array.from(v), 'test:v'),
      tqkv = gpu.tensor(B * T * s.NH * 3 * s.D, 'f32', 'test:qkv'),
      info = gpu.fromF32(keyInfo(mask, B, T), 'test:keyinfo'),
      slopes = gpu.fromF32(new Float32Array(s.NH), 'test:slopes'),
      ctx = gpu.tensor(B * T * s.NH * s.D, 'f32', 'test:ctx');
    ropePack(gpu, tq, tk, tv, cs, tpos, tqkv, f);
    attentionForward(gpu, tqkv, info, slopes, null, ctx, { B, Tq: T, Tk: T, q0: 0, Tmax: T, NH: s.NH, D: s.D });
    const want = new Float64Array(nq);
    for (let b = 0; b < B; b++) {
      const rot = (a: Float64Array, heads: number) => {
        const o = new Float64Array(T * heads * s.D);
        for (let t = 0; t < T; t++)
          for (let h = 0; h < heads; h++) {
            const i = ((b * T + t) * heads + h) * s.D;
            o.set(rotate(a.subarray(i, i + s.D), p[b * T + t], inv), (t * heads + h) * s.D);
          }
        return o;
      };
      const vb = v.subarray(b * T * s.NKV * s.D, (b + 1) * T * s.NKV * s.D);
      want.set(
        gqa(rot(q, s.NH), rot(k, s.NKV), vb, mask.slice(b * T, (b + 1) * T), T, s.NH, s.NKV, s.D),
        b * T * s.NH * s.D,
      );
    }
    const c = compare(await gpu.readF32(ctx), want, 1e-5, 1e-5);
    assert.ok(c.ok, `ctx[${c.bad}]: ${c.got} vs ${c.want}`);
    [cs, tpos, tq, tk, tv, tqkv, info, slopes, ctx].forEach((t) => t.destroy());
  });
});
