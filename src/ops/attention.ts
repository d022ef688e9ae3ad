// attention.wgsl host side: ALiBi slopes and key info (mask, positions) are prepared here on the CPU.
import type { KernelPolicy } from '../gpu/policy.ts';
import type { Gpu, Tensor } from '../gpu/runtime.ts';
import { subgroupDefines } from './grid.ts';

/** BLOOM's ALiBi slopes for any head count (build_alibi_tensor): powers of 2^(−8/p), plus odd powers of 2^(−4/p). */
export function alibiSlopes(nHead: number): Float32Array {
  const p = 2 ** Math.floor(Math.log2(nHead));
  const base = 2 ** -(2 ** -(Math.log2(p) - 3));
  const out: number[] = [];
  for (let i = 1; i <= p; i++) out.push(base ** i);
  if (p !== nHead) {
    const extra = 2 ** -(2 ** -(Math.log2(2 * p) - 3));
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

export interface AttnShape {
  B: number;
  Tq: number;
  Tk: number;
  q0: number;
  Tmax: number;
  NH: number;
  D: number;
}

function params(s: AttnShape) {
  return { B: s.B, Tq: s.Tq, Tk: s.Tk, q0: s.q0, Tmax: s.Tmax, NH: s.NH, D: s.D, scale: 1 / Math.sqrt(s.D) };
}

/** ROWWISE defines when the head dim allows vec4 rows held in registers (else null: the workgroup-per-row kernels). */
function rowwise(gpu: Gpu, s: AttnShape, tensors: Tensor[]): { ROWWISE: true; D4: number } | null {
  // one invocation per row, vec4, no barriers (policy.attention.rowwise: SwiftShader's family by default)
  if (!gpu.policy.attention.rowwise) return null;
  // array<vec4f> bindings need whole vec4s (16 bytes) in every bound tensor
  if (s.D % 4 !== 0 || s.D > 128 || !tensors.every((t) => t.byteLength % 16 === 0)) return null;
  return { ROWWISE: true, D4: s.D / 4 };
}

/**
 * Defines of the workgroup flash kernels (attention_flash*): D4, and BK, the rows per tile of K and V (or Q and dctx)
 * that fit workgroup storage, BK·(2·D·4 + 8) bytes. Null where the head vectors cannot be unrolled vec4 registers
 * (D not a multiple of 4, or over 256: too many registers); every BLOOM size has D = 64..128.
 */
function flashDefines(gpu: Gpu, s: AttnShape, f16 = false): { FLASH: true; D4: number; BK: number } | null {
  if (s.D % 4 !== 0 || s.D > 256) return null;
  // at most 16 KiB (WebGPU's default limit) even where more is allowed: more workgroups stay resident per SM, and
  // registers (about 2·D floats per thread forward, 4·D in _kv) already bound the occupancy of these kernels;
  // F16 tiles take 2 bytes an element: BK·(2·D·2 + 8) bytes
  const limit = Math.min(16384, gpu.handle.limits.maxComputeWorkgroupStorageSize || 16384);
  const BK = Math.min(64, Math.floor(limit / ((f16 ? 4 : 8) * s.D + 8)));
  return BK >= 1 ? { FLASH: true, D4: s.D / 4, BK } : null;
}

/**
 * Whether training at this shape materializes the probabilities (its backward reads them); else the forward saves
 * lse [B, NH, Tq] and the backward recomputes the scores. Inference never needs probs (pass null).
 */
export function attentionNeedsProbs(gpu: Gpu, s: AttnShape): boolean {
  // policy.attention.flash: 'auto' keeps the probs (the backward then reads instead of recomputing the scores)
  // unless one layer's probs would not fit one binding or Tk ≥ 1024
  const f = gpu.policy.attention.flash;
  if (f === 'never' || !flashDefines(gpu, s)) return true;
  if (f === 'always') return false;
  const long = s.B * s.NH * s.Tq * s.Tk * 4 > gpu.maxBinding || s.Tk >= 1024;
  return !long;
}

/** Elements of the backward's scratch: the score gradients [B, NH, T, T] (probs), or delta [B, NH, T] (flash). */
export function attentionBackwardScratch(s: AttnShape, flash: boolean): number {
  return flash ? s.B * s.NH * s.Tq : s.B * s.NH * s.Tq * s.Tk;
}

/**
 * Whether an attention of a model whose matrices are f16 runs in f16 arithmetic: policy.attention.f16 (the device has
 * shader-f16 and f16 arithmetic is on, policy.f16 not 'off'), and a vec4 kernel (ROWWISE or flash: D a multiple of
 * 4) serves the shape; else the f32 kernels. Training (probs or lse kept, and the backward) needs the ROWWISE or
 * the flash kernels besides (trainF16): the GPU family's probs kernels train in f32 arithmetic.
 */
export function attentionF16Applies(policy: KernelPolicy, D: number): boolean {
  return policy.attention.f16 && D % 4 === 0 && D <= 256;
}

/**
 * Whether training attention (forward with probs or lse, and its backward) runs in f16 arithmetic: the model's
 * matrices are f16, attentionF16Applies, and the ROWWISE kernels serve the shape (`rw`) or the flash kernels do
 * (`flash`: lse, no probs; the GPU family's probs kernels have no F16 variant); the forward and the backward decide
 * alike (their tensors have the same sizes), so the backward differentiates the scores the forward computed.
 */
function trainF16(gpu: Gpu, s: AttnShape, f16: boolean | undefined, rw: object | null, flash: boolean): boolean {
  return !!f16 && (!!rw || flash) && attentionF16Applies(gpu.policy, s.D);
}

/**
 * ctx [B, Tq, NH·D] from qkv. With `probs`, the probabilities are written there too (training, for the backward);
 * with probs null nothing of size Tq·Tk is stored, and `lse` [B, NH, Tq], when given, receives each row's
 * log-sum-exp (training without probs: the flash backward's input). `opts.f16` (the model's matrices are f16):
 * f16 arithmetic (shaders/attention.wgsl F16) where attentionF16Applies; training (probs or lse) in the ROWWISE
 * kernels and the flash ones (trainF16; attentionBackward must then get the same opts).
 */
export function attentionForward(
  gpu: Gpu,
  qkv: Tensor,
  keyinfo: Tensor,
  slopes: Tensor,
  probs: Tensor | null,
  ctx: Tensor,
  s: AttnShape,
  lse?: Tensor,
  opts: { f16?: boolean } = {},
): void {
  const rows = [Math.ceil(s.Tq / 64), s.NH, s.B] as [number, number, number];
  // f16 arithmetic: inference wherever a vec4 kernel serves it; training in the ROWWISE kernels and the flash ones
  // (trainF16; docs/drivers.md)
  const train = !!probs || !!lse;
  const F16 = train
    ? trainF16(gpu, s, opts.f16, rowwise(gpu, s, [qkv, ctx]), !probs)
    : !!opts.f16 && attentionF16Applies(gpu.policy, s.D);
  const fd = probs ? null : flashDefines(gpu, s, F16);
  if (probs && lse) throw new Error('attention: lse is written only without probs');
  if (!probs) {
    if (lse && !fd)
      throw new Error(`attention: no flash kernel for head dim ${s.D} (a multiple of 4 up to 256): materialize probs`);
    if (!fd || (!lse && gpu.policy.attention.flash === 'never')) {
      // no kernel without probs for this head dim, or asked not to use one: a scratch probs tensor
      const tmp = gpu.tensor(s.B * s.NH * s.Tq * s.Tk, 'f32', 'attention:probs');
      attentionForward(gpu, qkv, keyinfo, slopes, tmp, ctx, s);
      tmp.destroy();
      return;
    }
  }
  const out = probs ? { probs } : lse ? { lse } : {};
  const rw = rowwise(gpu, s, [qkv, ctx]);
  if (rw) {
    // attention_probs also writes ctx; ROWS4: four query rows per invocation (not for one-row decoding); NOPROBS:
    // nothing of size Tq·Tk is written (LSE: each row's log-sum-exp instead)
    const four = s.Tq >= 4 && gpu.policy.attention.rows4;
    gpu.run(
      'attention',
      four ? 'attention_probs4' : 'attention_probs',
      { qkv, keyinfo, slopes, ctx, ...out },
      params(s),
      rows,
      { ...rw, ROWS4: four, NOPROBS: !probs, LSE: !!lse, F16 },
    );
    return;
  }
  if (fd) {
    gpu.run('attention', 'attention_flash', { qkv, keyinfo, slopes, ctx, ...out }, params(s), rows, {
      ...fd,
      LSE: !!lse,
      F16,
    });
    return;
  }
  const wg: [number, number, number] = [s.Tq, s.NH, s.B];
  gpu.run('attention', 'attention_probs', { qkv, keyinfo, slopes, probs: probs! }, params(s), wg, subgroupDefines(gpu));
  gpu.run('attention', 'attention_context', { qkv, probs: probs!, ctx }, params(s), wg);
}

/** What the flash backward needs instead of probs: the forward's lse and ctx, and the key info and slopes again. */
export interface FlashSaved {
  lse: Tensor;
  ctx: Tensor;
  keyinfo: Tensor;
  slopes: Tensor;
}

/**
 * dqkv (fully overwritten) from dctx; needs the forward's probs, or with probs null the forward's `flash` tensors
 * (training, q0 = 0, Tq = Tk). `ds` is scratch of attentionBackwardScratch(s, probs === null) elements. `opts`: the
 * forward's (f16: the F16 backward where the forward ran F16, trainF16).
 */
export function attentionBackward(
  gpu: Gpu,
  qkv: Tensor,
  probs: Tensor | null,
  dctx: Tensor,
  dqkv: Tensor,
  ds: Tensor,
  s: AttnShape,
  flash?: FlashSaved,
  opts: { f16?: boolean } = {},
): void {
  const rows = [Math.ceil(s.Tq / 64), s.NH, s.B] as [number, number, number];
  if (!probs) {
    if (!flash) throw new Error("attentionBackward: without probs it needs the forward's lse and ctx");
    const rw = rowwise(gpu, s, [qkv, dctx, dqkv, flash.ctx]);
    const F16 = trainF16(gpu, s, opts.f16, rw, true);
    const fd = flashDefines(gpu, s, F16);
    if (!fd) throw new Error(`attention: no flash kernel for head dim ${s.D}`);
    const b = {
      qkv,
      keyinfo: flash.keyinfo,
      slopes: flash.slopes,
      lse: flash.lse,
      ctx: flash.ctx,
      dctx,
      dqkv,
      delta: ds,
    };
    // _q writes dq and delta (read by _kv), _kv writes dk and dv
    const d = { ...(rw ?? fd), F16 };
    gpu.run('attention', 'attention_flash_backward_q', b, params(s), rows, d);
    gpu.run('attention', 'attention_flash_backward_kv', b, params(s), rows, d);
    return;
  }
  const rw = rowwise(gpu, s, [qkv, dctx, dqkv]);
  if (rw) {
    // attention_backward_scores also writes dq
    const d = { ...rw, F16: trainF16(gpu, s, opts.f16, rw, false) };
    gpu.run('attention', 'attention_backward_scores', { qkv, probs, dctx, ds, dqkv }, params(s), rows, d);
    gpu.run(
      'attention',
      'attention_backward_kv',
      { qkv, ds, probs, dctx, dqkv },
      params(s),
      [Math.ceil(s.Tk / 64), s.NH, s.B],
      d,
    );
    return;
  }
  const wg: [number, number, number] = [s.Tq, s.NH, s.B];
  gpu.run('attention', 'attention_backward_scores', { qkv, probs, dctx, ds }, params(s), wg, subgroupDefines(gpu));
  gpu.run('attention', 'attention_backward_q', { qkv, ds, dqkv }, params(s), wg);
  gpu.run('attention', 'attention_backward_kv', { qkv, ds, probs, dctx, dqkv }, params(s), wg);
}
