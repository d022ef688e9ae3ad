// LLM.int8() on the CPU (docs/int8.md, bitsandbytes): load-time weight quantization, and a plain reference of the whole
// mixed int8 matmul that the GPU kernels (shaders/matmul_int8.wgsl) are tested against. f32 steps use Math.fround.
import { f16ArrayToF32, f32ArrayToF16 } from './dtype.ts';

const f = Math.fround;
export const DEQUANT = f(6.200124e-5); // 1/127², bitsandbytes' MM_DEQUANT_CONST
export const INV127 = f(7.874015718698502e-3); // 1/127, bitsandbytes' int8_vectorwise_dequant

/** Round half to even (CUDA's __float2int_rn, WGSL's round()). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x); // half up
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** q = round(v·(127/absmax)) clamped to int8, 0 when absmax is 0 (as bitsandbytes' kInt8VectorQuant computes it). */
function q8(v: number, scale: number): number {
  return scale === 0 ? 0 : Math.max(-127, Math.min(127, roundHalfEven(f(v * scale))));
}
const scaleOf = (absmax: number) => (absmax > 0 ? f(127 / absmax) : 0);

/** int8 values [rows, K] → u32 words [rows, ceil(K/4)], element 4w+j in byte j of word w. */
export function packInt8(q: Int8Array, rows: number, K: number): Uint32Array {
  const KW = Math.ceil(K / 4),
    out = new Uint32Array(rows * KW);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < K; k++) out[r * KW + (k >> 2)] |= (q[r * K + k] & 0xff) << (8 * (k & 3));
  }
  return out;
}

export interface QuantizedWeight {
  cb: Int8Array;
  packed: Uint32Array;
  scb: Float32Array;
  N: number;
  K: number;
}

/**
 * Int8Params._quantize with has_fp16_weights=False: W [N, K] goes through fp16 (HF loads in fp16), then per output
 * row SCB[o] = max|W[o,:]| and CB = round(W·127/SCB[o]) (round half to even). No outlier handling for weights.
 */
export function quantizeWeight(W: Float32Array, N: number, K: number): QuantizedWeight {
  if (W.length !== N * K) throw new Error(`quantizeWeight: ${W.length} values is not [${N}, ${K}]`);
  const w16 = f16ArrayToF32(f32ArrayToF16(W));
  const cb = new Int8Array(N * K),
    scb = new Float32Array(N);
  for (let o = 0; o < N; o++) {
    let mx = 0;
    for (let k = 0; k < K; k++) mx = Math.max(mx, Math.abs(w16[o * K + k]));
    scb[o] = mx;
    const s = scaleOf(mx);
    for (let k = 0; k < K; k++) cb[o * K + k] = q8(w16[o * K + k], s);
  }
  return { cb, packed: packInt8(cb, N, K), scb, N, K };
}

export interface QuantizedActs {
  cols: number[];
  sca: Float32Array;
  ca: Int8Array;
}

/** int8_vectorwise_quant: outlier columns (any |x| ≥ threshold), row absmax over non-outlier elements, CA with outlier columns zeroed. */
export function quantizeActs(X: Float32Array, M: number, K: number, threshold: number): QuantizedActs {
  const out = (v: number) => threshold > 0 && Math.abs(v) >= threshold;
  const flag = new Uint8Array(K);
  for (let i = 0; i < M * K; i++) if (out(X[i])) flag[i % K] = 1;
  const cols: number[] = [];
  flag.forEach((v, k) => {
    if (v) cols.push(k);
  });
  const sca = new Float32Array(M),
    ca = new Int8Array(M * K);
  for (let r = 0; r < M; r++) {
    let mx = 0;
    for (let k = 0; k < K; k++) {
      const v = X[r * K + k];
      if (!out(v)) mx = Math.max(mx, Math.abs(v));
    }
    sca[r] = mx;
    const s = scaleOf(mx);
    for (let k = 0; k < K; k++) {
      const v = X[r * K + k];
      ca[r * K + k] = flag[k] || out(v) ? 0 : q8(v, s);
    }
  }
  return { cols, sca, ca };
}

/**
 * int8_mixed_scaled_mm: acc = CA·CBᵀ (int32); Y = acc·(SCA·SCB)/127² + bias; Y += X[:,cols]·(CB[:,cols]·SCB/127)ᵀ.
 * Returns Y [M, N], the accumulators and the quantized activations.
 */
export function int8LinearRef(
  X: Float32Array,
  w: QuantizedWeight,
  bias: Float32Array | undefined,
  M: number,
  threshold: number,
) {
  const { N, K, cb, scb } = w;
  const q = quantizeActs(X, M, K, threshold);
  const acc = new Int32Array(M * N),
    Y = new Float32Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += q.ca[m * K + k] * cb[n * K + k];
      acc[m * N + n] = s;
      let v = f(f(f(s) * f(q.sca[m] * scb[n])) * DEQUANT);
      if (bias) v = f(v + bias[n]);
      let o = 0;
      for (const k of q.cols) o = f(o + f(X[m * K + k] * f(f(cb[n * K + k] * scb[n]) * INV127)));
      Y[m * N + n] = f(v + o);
    }
  }
  return { Y, acc, q };
}
