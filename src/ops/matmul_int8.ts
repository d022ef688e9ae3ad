// matmul_int8.wgsl host side: LLM.int8() Linear forward (docs/int8.md): outlier columns, row quantization, int8 matmul.
import type { Gpu, Tensor } from '../gpu/runtime.ts';
import { grid } from './grid.ts';

/** A Linear's weight quantized per output row: CB [N, ceil(K/4)] int8 packed four per u32, SCB [N] f32 absmax. */
export interface Int8Weight {
  cb: Tensor;
  scb: Tensor;
  N: number;
  K: number;
}

/** Which int32 dot product the matmul uses: WGSL's dot4I8Packed, or sign-extending the bytes by hand. */
export type Dot4Mode = 'auto' | 'builtin' | 'manual';

export interface Int8LinearArgs {
  X: Tensor;
  w: Int8Weight;
  bias?: Tensor;
  Y: Tensor;
  M: number;
  /** |x| ≥ threshold marks an outlier column (bitsandbytes default 6); 0 = int8 only */
  threshold: number;
  xOff?: number;
  yOff?: number;
  dot4?: Dot4Mode;
  /** keep the quantized activations (layout in the shader) instead of freeing them (tests) */
  act?: Tensor;
  /** also write the int32 accumulators [M, N] (tests) */
  rawAcc?: Tensor;
}

const FEATURE = 'packed_4x8_integer_dot_product';

/** Whether the adapter's WGSL has dot4I8Packed: the device handle's language features, else navigator.gpu's. */
export function hasDot4(gpu: Gpu): boolean {
  const fromHandle = (gpu.handle as { wgslFeatures?: ReadonlySet<string> }).wgslFeatures;
  const nav = (globalThis as { navigator?: { gpu?: { wgslLanguageFeatures?: ReadonlySet<string> } } }).navigator;
  return !!(fromHandle ?? nav?.gpu?.wgslLanguageFeatures)?.has(FEATURE);
}

/** u32 words of the quantized-activation buffer for M rows of K features. */
export function actWords(M: number, K: number): number {
  return 1 + 2 * K + M + M * Math.ceil(K / 4);
}

/** Y[M,N] (from yOff) = LLM.int8(X[M,K] (from xOff), W) + bias. */
export function int8Linear(gpu: Gpu, a: Int8LinearArgs): void {
  const { X, w, Y, M } = a,
    { N, K } = w,
    KW = Math.ceil(K / 4);
  const xOff = a.xOff ?? 0,
    yOff = a.yOff ?? 0;
  if (!(a.threshold >= 0) || !Number.isFinite(a.threshold))
    throw new Error(
      `int8Linear ${w.cb.label}: threshold must be a finite number ≥ 0 (--int8-threshold), got ${a.threshold}`,
    );
  if (X.dtype !== 'f32' || Y.dtype !== 'f32')
    throw new Error(
      `int8Linear ${w.cb.label}: X and Y must be f32, got ${X.dtype} (${X.label}) and ${Y.dtype} (${Y.label})`,
    );
  if (xOff + M * K > X.numel)
    throw new Error(`int8Linear ${w.cb.label}: X ${X.label} has ${X.numel} elements, needs ${xOff}+${M}×${K}`);
  if (yOff + M * N > Y.numel)
    throw new Error(`int8Linear ${w.cb.label}: Y ${Y.label} has ${Y.numel} elements, needs ${yOff}+${M}×${N}`);
  if (w.cb.numel !== N * KW || w.scb.numel !== N)
    throw new Error(
      `int8Linear ${w.cb.label}: CB has ${w.cb.numel} words and SCB ${w.scb.numel} scales; [${N}, ${K}] needs ${N * KW} and ${N}`,
    );
  if (a.bias && a.bias.numel !== N)
    throw new Error(`int8Linear ${w.cb.label}: bias ${a.bias.label} has ${a.bias.numel} elements, not N=${N}`);
  if (M === 0) return;
  const act = a.act ?? gpu.tensor(actWords(M, K), 'u32', `int8:act[${M}x${K}]`);
  if (act.numel < actWords(M, K))
    throw new Error(`int8Linear: act ${act.label} has ${act.numel} words, needs ${actWords(M, K)}`);
  const params = { M, N, K, KW, x_off: xOff, y_off: yOff, flags: a.bias ? 1 : 0, threshold: a.threshold };
  const useDot4 = a.dot4 === 'builtin' || ((a.dot4 ?? 'auto') === 'auto' && hasDot4(gpu));
  gpu.run('matmul_int8', 'int8_outliers', { x: X, act }, params, [1]);
  gpu.run('matmul_int8', 'int8_quant', { x: X, act }, params, grid(M));
  gpu.run(
    'matmul_int8',
    'int8_matmul',
    { x: X, cb: w.cb, scb: w.scb, bias: a.bias, act, y: Y, acc_out: a.rawAcc },
    params,
    [Math.ceil(N / 32), Math.ceil(M / 32)],
    { DOT4: useDot4, RAW_ACC: !!a.rawAcc },
  );
  if (!a.act) act.destroy();
}

/** Reads back the quantized activations of the last int8Linear that wrote `act` (tests, diagnostics). */
export async function readAct(
  gpu: Gpu,
  act: Tensor,
  M: number,
  K: number,
): Promise<{ cols: number[]; flags: Uint32Array; sca: Float32Array; ca: Uint32Array }> {
  const u = await gpu.readU32(act);
  const n = u[0];
  return {
    cols: Array.from(u.subarray(1, 1 + n)),
    flags: u.slice(1 + K, 1 + 2 * K),
    sca: new Float32Array(u.slice(1 + 2 * K, 1 + 2 * K + M).buffer),
    ca: u.slice(1 + 2 * K + M, actWords(M, K)),
  };
}
