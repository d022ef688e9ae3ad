// attention.wgsl host side: ALiBi slopes and key info (mask, positions) are prepared here on the CPU.
import type { Gpu, Tensor } from '../gpu/runtime.ts';

/** BLOOM's ALiBi slopes for any head count (build_alibi_tensor): powers of 2^(−8/p), plus odd powers of 2^(−4/p). */
export function alibiSlopes(nHead: number): Float32Array {
  const p = 2 ** Math.floor(Math.log2(nHead));
  const base = 2 ** (-(2 ** -(Math.log2(p) - 3)));
  const out: number[] = [];
  for (let i = 1; i <= p; i++) out.push(base ** i);
  if (p !== nHead) {
    const extra = 2 ** (-(2 ** -(Math.log2(2 * p) - 3)));
    for (let i = 0; i < Math.min(p, nHead - p); i++) out.push(extra ** (2 * i + 1));
  }
  return new Float32Array(out);
}

/** keyinfo[b, j] = (mask, (cumsum(mask) − 1)·mask) over the whole context, as HF builds ALiBi positions. */
export function keyInfo(mask: Int32Array | number[], B: number, T: number): Float32Array {
  const out = new Float32Array(B * T * 2);
  for (let b = 0; b < B; b++) {
    let c = 0;
    for (let j = 0; j < T; j++) {
      const m = mask[b * T + j] ? 1 : 0;
      c += m;
      out[2 * (b * T + j)] = m;
      out[2 * (b * T + j) + 1] = (c - 1) * m;
    }
  }
  return out;
}

export interface AttnShape { B: number; Tq: number; Tk: number; q0: number; Tmax: number; NH: number; D: number }

function params(s: AttnShape) {
  return { B: s.B, Tq: s.Tq, Tk: s.Tk, q0: s.q0, Tmax: s.Tmax, NH: s.NH, D: s.D, scale: 1 / Math.sqrt(s.D) };
}

/** Kernel choice: 'auto' uses the ROWWISE kernels (one invocation per row, vec4, no barriers) on SwiftShader only. */
export const attentionConfig: { rowwise: 'auto' | 'always' | 'never'; rows4: boolean } = { rowwise: 'auto', rows4: true };

/** ROWWISE defines when the head dim allows vec4 rows held in registers (else null: the workgroup-per-row kernels). */
function rowwise(gpu: Gpu, s: AttnShape, tensors: Tensor[]): { ROWWISE: true; D4: number } | null {
  const c = attentionConfig.rowwise;
  if (c === 'never' || (c === 'auto' && !gpu.handle.adapter.swiftshader)) return null;
  // array<vec4f> bindings need whole vec4s (16 bytes) in every bound tensor
  if (s.D % 4 !== 0 || s.D > 128 || !tensors.every((t) => t.byteLength % 16 === 0)) return null;
  return { ROWWISE: true, D4: s.D / 4 };
}

export function attentionForward(gpu: Gpu, qkv: Tensor, keyinfo: Tensor, slopes: Tensor, probs: Tensor, ctx: Tensor, s: AttnShape): void {
  const rw = rowwise(gpu, s, [qkv, ctx]);
  if (rw) {  // attention_probs also writes ctx; ROWS4: four query rows per invocation (not for one-row decoding)
    if (s.Tq >= 4 && attentionConfig.rows4) {
      gpu.run('attention', 'attention_probs4', { qkv, keyinfo, slopes, probs, ctx }, params(s), [Math.ceil(s.Tq / 64), s.NH, s.B], { ...rw, ROWS4: true });
    } else {
      gpu.run('attention', 'attention_probs', { qkv, keyinfo, slopes, probs, ctx }, params(s), [Math.ceil(s.Tq / 64), s.NH, s.B], rw);
    }
    return;
  }
  const wg: [number, number, number] = [s.Tq, s.NH, s.B];
  gpu.run('attention', 'attention_probs', { qkv, keyinfo, slopes, probs }, params(s), wg);
  gpu.run('attention', 'attention_context', { qkv, probs, ctx }, params(s), wg);
}

/** dqkv (fully overwritten) from dctx; needs the forward's probs; `ds` is scratch of the probs' size. */
export function attentionBackward(gpu: Gpu, qkv: Tensor, probs: Tensor, dctx: Tensor, dqkv: Tensor, ds: Tensor, s: AttnShape): void {
  const rw = rowwise(gpu, s, [qkv, dctx, dqkv]);
  if (rw) {  // attention_backward_scores also writes dq
    gpu.run('attention', 'attention_backward_scores', { qkv, probs, dctx, ds, dqkv }, params(s), [Math.ceil(s.Tq / 64), s.NH, s.B], rw);
    gpu.run('attention', 'attention_backward_kv', { qkv, ds, probs, dctx, dqkv }, params(s), [Math.ceil(s.Tk / 64), s.NH, s.B], rw);
    return;
  }
  const wg: [number, number, number] = [s.Tq, s.NH, s.B];
  gpu.run('attention', 'attention_backward_scores', { qkv, probs, dctx, ds }, params(s), wg);
  gpu.run('attention', 'attention_backward_q', { qkv, ds, dqkv }, params(s), wg);
  gpu.run('attention', 'attention_backward_kv', { qkv, ds, probs, dctx, dqkv }, params(s), wg);
}
