// matmul.wgsl host side: C = alpha·A·B (+bias)(GELU) with strided A/B; the three training shapes as helpers.
import type { Gpu, Tensor } from '../gpu/runtime.ts';
import { grid } from './grid.ts';

export interface MatmulArgs {
  a: Tensor; b: Tensor; c: Tensor; bias?: Tensor;
  M: number; N: number; K: number;
  aSm: number; aSk: number; bSk: number; bSn: number; cSm?: number;
  aOff?: number; bOff?: number; cOff?: number;
  accumulate?: boolean; gelu?: boolean; alpha?: number;
}

export function matmul(gpu: Gpu, x: MatmulArgs): void {
  const flags = (x.bias ? 1 : 0) | (x.accumulate ? 2 : 0) | (x.gelu ? 4 : 0);
  gpu.run('matmul', 'matmul', { a: x.a, b: x.b, bias: x.bias, c: x.c }, {
    M: x.M, N: x.N, K: x.K, a_sm: x.aSm, a_sk: x.aSk, b_sk: x.bSk, b_sn: x.bSn, c_sm: x.cSm ?? x.N,
    a_off: x.aOff ?? 0, b_off: x.bOff ?? 0, c_off: x.cOff ?? 0, flags, alpha: x.alpha ?? 1,
  }, [Math.ceil(x.N / 32), Math.ceil(x.M / 32)], { B_F16: x.b.dtype === 'f16p' });
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
    gpu.run('matmul', 'bias_grad', { a: dY, c: db }, {
      M, N, K: 0, a_sm: N, a_sk: 0, b_sk: 0, b_sn: 0, c_sm: 0, a_off: 0, b_off: 0, c_off: 0, flags: accumulate ? 2 : 0, alpha: 1,
    }, grid(Math.ceil(N / 64)));
  }
}
