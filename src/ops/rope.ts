// rope.wgsl host side: the (cos, sin) table is prepared here on the CPU, rotation and packing run on the GPU.
import type { Gpu, Tensor } from '../gpu/runtime.ts';
import { grid } from './grid.ts';

/**
 * (cos, sin) pairs [P, D/2] for positions 0 … P−1 as HF computes them: the angle is the f32 product
 * f32(inv_freq[d])·p (HF multiplies float32 tensors), then cos and sin of it (rounded once to f32 here).
 */
export function ropeTable(invFreq: Float32Array, P: number): Float32Array {
  const half = invFreq.length,
    out = new Float32Array(P * half * 2);
  for (let p = 0; p < P; p++)
    for (let d = 0; d < half; d++) {
      const a = Math.fround(invFreq[d] * p);
      out[2 * (p * half + d)] = Math.cos(a);
      out[2 * (p * half + d) + 1] = Math.sin(a);
    }
  return out;
}

/** Positions of a padded batch [B, T]: cumsum(mask) − 1, 0 at padding (HF's position_ids for a left-padded batch). */
export function ropePositions(mask: ArrayLike<number>, B: number, T: number, q0 = 0, Tq = T - q0): Uint32Array {
  const out = new Uint32Array(B * Tq);
  for (let b = 0; b < B; b++) {
    let c = 0;
    for (let t = 0; t < q0 + Tq; t++) {
      if (mask[b * T + t]) c++;
      if (t >= q0) out[b * Tq + t - q0] = Math.max(0, c - 1);
    }
  }
  return out;
}

export interface RopeShape {
  B: number;
  Tq: number;
  q0: number;
  Tmax: number;
  NH: number;
  NKV: number;
  D: number;
}

/** The shader's Params from a shape (callers may pass a wider object, e.g. with Tk). */
function params(s: RopeShape) {
  if (s.D % 2 !== 0) throw new Error(`rope: head dim ${s.D} must be even`);
  if (s.NH % s.NKV !== 0) throw new Error(`rope: ${s.NH} query heads are not a multiple of ${s.NKV} key/value heads`);
  return { B: s.B, Tq: s.Tq, q0: s.q0, Tmax: s.Tmax, NH: s.NH, NKV: s.NKV, D: s.D, flags: 0 };
}

/**
 * qkv rows [q0, q0 + Tq) ← (rotate(q), rotate(k of the head's group), v) per query head. `cs` is a ropeTable on
 * the GPU, `pos` [B·Tq] u32 the position of each row.
 */
export function ropePack(
  gpu: Gpu,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  cs: Tensor,
  pos: Tensor,
  qkv: Tensor,
  s: RopeShape,
): void {
  const n = s.B * s.Tq * s.NH * (s.D / 2);
  gpu.run('rope', 'rope_pack', { q, k, v, cs, pos, qkv }, params(s), grid(Math.ceil(n / 64)));
}

/** dq, dk, dv (overwritten) from dqkv rows [q0, q0 + Tq): the rotation's transpose, k and v summed per group. */
export function ropeUnpack(
  gpu: Gpu,
  dqkv: Tensor,
  cs: Tensor,
  pos: Tensor,
  dq: Tensor,
  dk: Tensor,
  dv: Tensor,
  s: RopeShape,
): void {
  const n = s.B * s.Tq * s.NKV * (s.D / 2);
  gpu.run('rope', 'rope_unpack', { dqkv, cs, pos, dq, dk, dv }, params(s), grid(Math.ceil(n / 64)));
}
