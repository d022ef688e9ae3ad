// layernorm.wgsl host side: forward saves (mean, rstd) per row for the backward. `f16` (an f16 model: f16 weights)
// selects the F16 kernels (f32 statistics, f16 affine) where the policy has layernorm.f16 (shader-f16 devices).
import type { Gpu, Tensor } from '../gpu/runtime.ts';
import { grid, subgroupDefines } from './grid.ts';
import { COLUMN_SUM_ROWS, columnSumChunks, columnSums } from './matmul.ts';

/** ROWWISE define when rows move as vec4 (C a multiple of 4, whole vec4s in every bound tensor). */
function rowwise(gpu: Gpu, C: number, tensors: Tensor[]): boolean {
  // the ROWWISE kernels (one invocation per row, vec4, no barriers): SwiftShader's family by default
  if (!gpu.policy.layernorm.rowwise) return false;
  return C % 4 === 0 && tensors.every((t) => t.byteLength % 16 === 0);
}

export function layernormForward(
  gpu: Gpu,
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  y: Tensor,
  stats: Tensor,
  R: number,
  C: number,
  eps: number,
  f16 = false,
): void {
  const F16 = f16NormDefines(gpu, f16);
  if (rowwise(gpu, C, [x, gamma, beta, y])) {
    gpu.run(
      'layernorm',
      'layernorm_forward',
      { x, gamma, beta, y, stats },
      { R, C, eps, flags: 0 },
      grid(Math.ceil(R / 16)),
      { ROWWISE: true, ...F16 },
    );
    return;
  }
  gpu.run('layernorm', 'layernorm_forward', { x, gamma, beta, y, stats }, { R, C, eps, flags: 0 }, grid(R), {
    ...subgroupDefines(gpu),
    ...F16,
  });
}

/**
 * The F16 define for the norms of a model with f16 weights (`f16`) where the policy has layernorm.f16; absent
 * otherwise (so the f32 variants keep their pipeline-cache keys).
 */
export function f16NormDefines(gpu: Gpu, f16: boolean): { F16?: true } {
  return f16 && gpu.policy.layernorm.f16 ? { F16: true } : {};
}

/**
 * dx (= or +=) LN backward; dgamma/dbeta are accumulated (gradient accumulation across micro-batches). With `f16`
 * (and the policy's layernorm.f16) dx is f16 arithmetic on f32 row sums; dγ/dβ stay f32 sums.
 */
export function layernormBackward(
  gpu: Gpu,
  x: Tensor,
  gamma: Tensor,
  stats: Tensor,
  dy: Tensor,
  dx: Tensor,
  dgamma: Tensor,
  dbeta: Tensor,
  R: number,
  C: number,
  accumulateDx: boolean,
  f16 = false,
): void {
  const F16 = f16NormDefines(gpu, f16);
  const dxFlags = { R, C, eps: 0, flags: accumulateDx ? 4 : 0 },
    pFlags = { R, C, eps: 0, flags: 2 };
  if (rowwise(gpu, C, [x, gamma, dy, dx, dgamma, dbeta])) {
    const d = { ROWWISE: true };
    gpu.run('layernorm', 'layernorm_backward', { x, gamma, stats, dy, dx }, dxFlags, grid(Math.ceil(R / 16)), {
      ...d,
      ...F16,
    });
    gpu.run(
      'layernorm',
      'layernorm_param_grad',
      { x, stats, dy, dgamma, dbeta },
      pFlags,
      grid(Math.ceil(C / 4 / 16)),
      d,
    );
    return;
  }
  gpu.run('layernorm', 'layernorm_backward', { x, gamma, stats, dy, dx }, dxFlags, grid(R), {
    ...subgroupDefines(gpu),
    ...F16,
  });
  const chunks = columnSumChunks(gpu, R, C);
  if (chunks) {
    // two stages (one thread per column over every row leaves a GPU nearly idle): partial sums of 32 rows, then
    // those in order (columnSums), accumulated into dgamma/dbeta
    const pg = gpu.tensor(chunks * C, 'f32', 'layernorm:dgamma-partial'),
      pb = gpu.tensor(chunks * C, 'f32', 'layernorm:dbeta-partial');
    gpu.run(
      'layernorm',
      'layernorm_param_grad',
      { x, stats, dy, dgamma: pg, dbeta: pb },
      { ...pFlags, flags: 0, rows: COLUMN_SUM_ROWS },
      [Math.ceil(C / 64), chunks],
    );
    columnSums(gpu, pg, dgamma, chunks, C, true);
    columnSums(gpu, pb, dbeta, chunks, C, true);
    pg.destroy();
    pb.destroy();
    return;
  }
  gpu.run('layernorm', 'layernorm_param_grad', { x, stats, dy, dgamma, dbeta }, pFlags, grid(Math.ceil(C / 64)));
}
