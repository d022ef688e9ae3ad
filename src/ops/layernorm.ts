// layernorm.wgsl host side: forward saves (mean, rstd) per row for the backward.
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
): void {
  if (rowwise(gpu, C, [x, gamma, beta, y])) {
    gpu.run(
      'layernorm',
      'layernorm_forward',
      { x, gamma, beta, y, stats },
      { R, C, eps, flags: 0 },
      grid(Math.ceil(R / 16)),
      { ROWWISE: true },
    );
    return;
  }
  gpu.run(
    'layernorm',
    'layernorm_forward',
    { x, gamma, beta, y, stats },
    { R, C, eps, flags: 0 },
    grid(R),
    subgroupDefines(gpu),
  );
}

/** dx (= or +=) LN backward; dgamma/dbeta are accumulated (gradient accumulation across micro-batches). */
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
): void {
  const dxFlags = { R, C, eps: 0, flags: accumulateDx ? 4 : 0 },
    pFlags = { R, C, eps: 0, flags: 2 };
  if (rowwise(gpu, C, [x, gamma, dy, dx, dgamma, dbeta])) {
    const d = { ROWWISE: true };
    gpu.run('layernorm', 'layernorm_backward', { x, gamma, stats, dy, dx }, dxFlags, grid(Math.ceil(R / 16)), d);
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
  gpu.run('layernorm', 'layernorm_backward', { x, gamma, stats, dy, dx }, dxFlags, grid(R), subgroupDefines(gpu));
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
