// adamw.wgsl host side: per-tensor partial sums of squares (for the global grad norm) and the AdamW update.
import type { Gpu, Tensor } from '../gpu/runtime.ts';
import { grid, subgroupDefines } from './grid.ts';

/** Elements per sumsq workgroup: CHUNK in adamw.wgsl. */
export const SUMSQ_CHUNK = 4096;

export function sumsqSlots(n: number): number {
  return Math.ceil(n / SUMSQ_CHUNK);
}

/** partials[off .. off + sumsqSlots(n)) = per-chunk Σ (gscale·g)². */
export function sumSquares(gpu: Gpu, g: Tensor, partials: Tensor, off: number, gscale: number): void {
  gpu.run(
    'adamw',
    'sumsq',
    { g, partials },
    { n: g.numel, off, gscale },
    grid(sumsqSlots(g.numel)),
    subgroupDefines(gpu),
  );
}

export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  wd: number;
  gscale: number;
  step: number;
}

/**
 * clip = (global grad norm over `n` partials, HF's clip coefficient min(1, maxNorm/(norm + 1e-6)) or 1 without
 * clipping, 1 if the norm is finite, 0 if infinite, −1 if NaN), computed on the GPU for adamwStep's `clip`.
 */
export function clipCoefficient(gpu: Gpu, partials: Tensor, n: number, clip: Tensor, maxNorm: number): void {
  gpu.run(
    'adamw',
    'clip_coef',
    { partials, clip },
    { n, maxnorm: maxNorm > 0 && Number.isFinite(maxNorm) ? maxNorm : 0 },
    [1],
  );
}

/**
 * One torch AdamW update of p (f32) with moments m, v from gradient g·gscale; `step` is t ≥ 1. With `clip`
 * (clipCoefficient's output) the gradient is also multiplied by the clip coefficient, and a non-finite norm
 * leaves p, m and v untouched.
 */
export function adamwStep(gpu: Gpu, p: Tensor, g: Tensor, m: Tensor, v: Tensor, h: AdamWHyper, clip?: Tensor): void {
  if (p.dtype !== 'f32')
    throw new Error(`adamw: ${p.label} is ${p.dtype}; AdamW updates f32 master weights only (load with dtype 'f32')`);
  const n = p.numel;
  if (g.numel !== n || m.numel !== n || v.numel !== n)
    throw new Error(`adamw: ${p.label} has ${n} elements, grad/m/v ${g.numel}/${m.numel}/${v.numel}`);
  gpu.run(
    'adamw',
    'adamw_step',
    { g, p, m, v, clip },
    {
      n,
      lr: h.lr,
      beta1: h.beta1,
      beta2: h.beta2,
      eps: h.eps,
      wd: h.wd,
      gscale: h.gscale,
      bc1: 1 - h.beta1 ** h.step,
      bc2s: Math.sqrt(1 - h.beta2 ** h.step),
    },
    grid(Math.ceil(n / 256)),
    { CLIP: !!clip },
  );
}
