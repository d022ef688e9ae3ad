// matmul.wgsl host side: C = alpha·A·B (+bias)(GELU) with strided A/B; the three training shapes as helpers.
import type { Gpu, Tensor } from '../gpu/runtime.ts';
import { grid } from './grid.ts';

export interface MatmulArgs {
  a: Tensor; b: Tensor; c: Tensor; bias?: Tensor;
  M: number; N: number; K: number;
  aSm: number; aSk: number; bSk: number; bSn: number; cSm?: number;
  aOff?: number; bOff?: number; cOff?: number;
  accumulate?: boolean; gelu?: boolean; alpha?: number;
  /** force the scalar kernel (benchmark baseline) */
  naive?: boolean;
}

/**
 * Kernel choice. naive: always the scalar kernel (the benchmarks' same-run baseline). vec4 'auto' uses the VEC4
 * kernel on SwiftShader only, where it was measured (×3 there); real GPUs keep the shared-memory tiled kernel until
 * the VEC4 one is measured on them (docs/performance.md).
 */
export const matmulConfig: { naive: boolean; vec4: 'auto' | 'always' | 'never' } = { naive: false, vec4: 'auto' };

export function matmul(gpu: Gpu, x: MatmulArgs): void {
  const flags = (x.bias ? 1 : 0) | (x.accumulate ? 2 : 0) | (x.gelu ? 4 : 0);
  const p = {
    M: x.M, N: x.N, K: x.K, a_sm: x.aSm, a_sk: x.aSk, b_sk: x.bSk, b_sn: x.bSn, c_sm: x.cSm ?? x.N,
    a_off: x.aOff ?? 0, b_off: x.bOff ?? 0, c_off: x.cOff ?? 0, flags, alpha: x.alpha ?? 1,
  };
  const c = matmulConfig, vec4 = c.vec4 === 'always' || (c.vec4 === 'auto' && gpu.handle.adapter.swiftshader);
  const defines = { B_F16: x.b.dtype === 'f16p', ...(x.naive || c.naive || !vec4 ? null : vec4Layout(x, p)) };
  gpu.run('matmul', 'matmul', { a: x.a, b: x.b, bias: x.bias, c: x.c }, p, [Math.ceil(x.N / 32), Math.ceil(x.M / 32)], defines);
}

/** The VEC4 kernel's defines when every operand can move as aligned vec4 (else null: the scalar kernel). */
function vec4Layout(x: MatmulArgs, p: { K: number; N: number; a_sm: number; a_sk: number; b_sk: number; b_sn: number; c_sm: number; a_off: number; b_off: number; c_off: number }) {
  const q = (...v: number[]) => v.every((n) => n % 4 === 0);
  const aM4 = p.a_sm === 1 && p.a_sk !== 1;
  const bN4 = p.b_sn === 1 && p.b_sk !== 1;
  const aOk = aM4 ? q(p.a_sk) : p.a_sk === 1 && q(p.a_sm);
  const bOk = bN4 ? q(p.b_sk) : p.b_sk === 1 && q(p.b_sn);
  // array<vec4f> bindings need whole vec4s (16 bytes) in every bound tensor
  const whole = [x.a, x.b, x.c, x.bias].every((t) => !t || t.byteLength % 16 === 0);
  if (!(aOk && bOk && whole && q(p.K, p.N, p.c_sm, p.a_off, p.b_off, p.c_off))) return null;
  return { VEC4: true, A_M4: aM4, B_N4: bN4 };
}

/** Y[M,N] = X[M,K]·W[N,K]ᵀ + bias (a Linear's forward; W as HF stores it, [out, in]). */
export function linearForward(gpu: Gpu, X: Tensor, W: Tensor, bias: Tensor | undefined, Y: Tensor, M: number, N: number, K: number, gelu = false): void {
  matmul(gpu, { a: X, b: W, c: Y, bias, M, N, K, aSm: K, aSk: 1, bSk: 1, bSn: K, gelu });
}

/** dX[M,K] (+)= dY[M,N]·W[N,K]. */
export function linearBackwardInput(gpu: Gpu, dY: Tensor, W: Tensor, dX: Tensor, M: number, N: number, K: number, accumulate = false): void {
  matmul(gpu, { a: dY, b: W, c: dX, M, N: K, K: N, aSm: N, aSk: 1, bSk: K, bSn: 1, accumulate });
}

/** dW[N,K] (+)= dY[M,N]ᵀ·X[M,K]; db[N] (+)= Σ_m dY[m,N]. */
export function linearBackwardWeight(gpu: Gpu, dY: Tensor, X: Tensor, dW: Tensor, db: Tensor | undefined, M: number, N: number, K: number, accumulate = true): void {
  matmul(gpu, { a: dY, b: X, c: dW, M: N, N: K, K: M, aSm: 1, aSk: N, bSk: K, bSn: 1, accumulate });
  if (db) {
    const p = { M, N, K: 0, a_sm: N, a_sk: 0, b_sk: 0, b_sn: 0, c_sm: 0, a_off: 0, b_off: 0, c_off: 0, flags: accumulate ? 2 : 0, alpha: 1 };
    const c = matmulConfig, vec4 = c.vec4 === 'always' || (c.vec4 === 'auto' && gpu.handle.adapter.swiftshader);
    // VEC4: one invocation per four columns, workgroups of 16 (see matmul.wgsl)
    if (vec4 && !c.naive && N % 4 === 0 && dY.byteLength % 16 === 0 && db.byteLength % 16 === 0) {
      gpu.run('matmul', 'bias_grad', { a: dY, c: db }, p, grid(Math.ceil(N / 64)), { VEC4: true });
    } else {
      gpu.run('matmul', 'bias_grad', { a: dY, c: db }, p, grid(Math.ceil(N / 64)));
    }
  }
}
