// matmul.wgsl host side: C = alpha·A·B (+bias)(GELU) with strided A/B; the three training shapes as helpers.
import type { Gpu, Tensor } from '../gpu/runtime.ts';
import { grid } from './grid.ts';
import { isCpuAdapter, type MatmulKernel } from '../gpu/policy.ts';
import { addInPlace } from './elementwise.ts';

export interface MatmulArgs {
  a: Tensor;
  b: Tensor;
  c: Tensor;
  bias?: Tensor;
  M: number;
  N: number;
  K: number;
  aSm: number;
  aSk: number;
  bSk: number;
  bSn: number;
  cSm?: number;
  aOff?: number;
  bOff?: number;
  cOff?: number;
  accumulate?: boolean;
  gelu?: boolean;
  alpha?: number;
  /** added to the result in the epilogue (after bias and GELU), laid out as C: a fused residual connection */
  residual?: Tensor;
  /** force the scalar kernel (benchmark baseline) */
  naive?: boolean;
  /**
   * f16 arithmetic for f32 operands too (rounded to f16 as they are loaded) where the policy's f16 mode is on: the
   * weight gradient dYᵀ·X of --fp16 training. A product with f16 weights gets f16 arithmetic without it.
   */
  f16?: boolean;
}

export type { MatmulKernel } from '../gpu/policy.ts';
export { parseTuneMode } from '../gpu/policy.ts';

/**
 * The `sg` register-block kernels share A's rows across a subgroup: they need 4-wide subgroups and the subgroup_id
 * builtin (SwiftShader has both; elsewhere they run as the plain kernels).
 */
export function canShareA(gpu: Gpu): boolean {
  const h = gpu.handle;
  return (
    gpu.policy.subgroups &&
    h.wgslFeatures.has('subgroup_id') &&
    h.subgroupSizes?.[0] === 4 &&
    h.subgroupSizes?.[1] === 4
  );
}

// Kernel choice (gpu.policy.matmul, src/gpu/policy.ts). naive: always the scalar kernel (the benchmarks' same-run
// baseline). kernel 'auto' picks by the family: on SwiftShader the barrier-free register-block kernels (vec4x16 when
// M and N exceed 32, else vec4), measured there; on real GPUs the workgroup-memory tiled kernel (tiled128 when the
// matrix gives at least 128 such tiles, else tiled64), until the tuner has timed the shape's class. Another kernel
// forces that one. A kernel that cannot take the operands' layout (not vec4-aligned) falls back to the scalar one.
//
// Runtime tuning of the GPU family's kernel choice (src/ops/matmul-tune.ts): the tile that wins depends on the GPU
// and the shape, and the heuristic of chooseMatmulKernel was never measured on most GPUs, so on a real GPU every
// shape class a run meets is queued, `tuneMatmuls` (awaited by the model and the trainer between steps) times the
// tiled kernels on scratch operands of that class, and later matmuls of the class use the fastest. policy.matmul.tune
// 'auto': on real GPUs; 'on': also on SwiftShader when the GPU family is forced (tests); 'off': the heuristic only
// (INSTRUCTALIGN_MATMUL_TUNE=off|on|auto). Every tiled kernel sums k in the same order, so the choice changes no bits.

/** A shape class to tune: the operands' layout, B's storage and the proxy sizes the kernels are timed on. */
export interface TuneShape {
  key: string;
  M: number;
  N: number;
  K: number;
  aM4: boolean;
  bN4: boolean;
  f16: boolean;
}
export interface TuneEntry {
  kernel: MatmulKernel;
  ms: Partial<Record<MatmulKernel, number>>;
}
export interface TuneState {
  table: Map<string, TuneEntry>;
  pending: Map<string, TuneShape>;
}

/** This device's tuned choices and the shape classes waiting to be tuned (shared by every view of the device). */
export function tuneState(gpu: Gpu): TuneState {
  return gpu.opState<TuneState>('matmul-tune', () => ({ table: new Map(), pending: new Map() }));
}

/** The tiled kernels the tuner times on every adapter (each fits WebGPU's default 16 KiB of workgroup memory). */
export const TUNED_KERNELS: readonly MatmulKernel[] = ['tiled64', 'tiled128', 'tiled128k16'];

/** The tuner's candidates on this device: TUNED_KERNELS, and tiled128k32 where workgroup memory holds its 32 KiB. */
export function tuneCandidates(gpu: Gpu): MatmulKernel[] {
  return gpu.handle.limits.maxComputeWorkgroupStorageSize >= 32768
    ? [...TUNED_KERNELS, 'tiled128k32']
    : [...TUNED_KERNELS];
}

export function tuningApplies(gpu: Gpu): boolean {
  const c = gpu.policy.matmul,
    m = c.tune;
  return (
    m !== 'off' &&
    !gpu.dryRun &&
    !c.naive &&
    c.kernel === 'auto' &&
    matmulFamily(gpu) === 'gpu' &&
    (m === 'on' || !isCpuAdapter(gpu.handle.adapter))
  );
}

/**
 * The class of a matmul: layout and B's storage, M rounded up to a power of two (batches vary in length), and the
 * sizes capped (M ≤ 1024, N ≤ 2048, K ≤ 2048: ≤ 32 MB of scratch, and ≤ 8.6 GFLOP per timed run, ~40 ms on a slow
 * integrated GPU) since 128 tiles of 128×128 already fill a GPU and the kernels' ranking holds past that.
 */
export function tuneShape(M: number, N: number, K: number, aM4: boolean, bN4: boolean, f16: boolean): TuneShape {
  const Mp = Math.min(2 ** Math.ceil(Math.log2(Math.max(1, M))), 1024),
    Np = Math.min(N, 2048),
    Kp = Math.min(K, 2048);
  return {
    key: `${aM4 ? 'm' : 'k'}${bN4 ? 'n' : 'k'}${f16 ? 'h' : 'f'} ${Mp}x${Np}x${Kp}`,
    M: Mp,
    N: Np,
    K: Kp,
    aM4,
    bN4,
    f16,
  };
}

/** The kernel family matmul runs (the policy's: the adapter's own unless overridden). */
export function matmulFamily(gpu: Gpu): 'swiftshader' | 'gpu' {
  return gpu.policy.family;
}

/** What `doctor` reports: the kernel family, the matmul a model-sized product gets, and whether tuning runs. */
export function kernelSummary(gpu: Gpu): { family: 'swiftshader' | 'gpu'; matmul: string; tuning: string } {
  const f = matmulFamily(gpu),
    m = gpu.policy.matmul.tune;
  const tuning = tuningApplies(gpu)
    ? `on: each new shape class is timed on ${tuneCandidates(gpu).join(', ')} and runs on the fastest`
    : m === 'off'
      ? 'off (INSTRUCTALIGN_MATMUL_TUNE=off)'
      : f === 'swiftshader'
        ? 'off (SwiftShader kernels are fixed; it tunes GPU kernels)'
        : 'off (CPU adapter; INSTRUCTALIGN_MATMUL_TUNE=on to tune anyway)';
  return { family: f, matmul: chooseMatmulKernel(gpu, 512, 1024), tuning };
}

/** The kernel `matmul` runs for these sizes on this adapter, before the layout check. */
export function chooseMatmulKernel(gpu: Gpu, M: number, N: number): MatmulKernel {
  const c = gpu.policy.matmul;
  if (c.naive) return 'scalar';
  if (c.kernel !== 'auto') return c.kernel;
  // past 32 rows (or columns), 64-row tiles compute at most 4/3 of the rows of 32-row ones, at ×1.5 the speed
  if (matmulFamily(gpu) === 'swiftshader') {
    const sg = canShareA(gpu) ? 'sg' : '';
    return `${M > 32 && N > 32 ? 'vec4x16' : 'vec4'}${sg}` as MatmulKernel;
  }
  return Math.ceil(M / 128) * Math.ceil(N / 128) >= 128 ? 'tiled128' : 'tiled64';
}

export function matmul(gpu: Gpu, x: MatmulArgs): void {
  const flags = (x.bias ? 1 : 0) | (x.accumulate ? 2 : 0) | (x.gelu ? 4 : 0);
  const p = {
    M: x.M,
    N: x.N,
    K: x.K,
    a_sm: x.aSm,
    a_sk: x.aSk,
    b_sk: x.bSk,
    b_sn: x.bSn,
    c_sm: x.cSm ?? x.N,
    a_off: x.aOff ?? 0,
    b_off: x.bOff ?? 0,
    c_off: x.cOff ?? 0,
    flags,
    alpha: x.alpha ?? 1,
  };
  let kernel = x.naive ? 'scalar' : chooseMatmulKernel(gpu, x.M, x.N);
  const layout = kernel === 'scalar' ? null : vec4Layout(x, p);
  const B_F16 = x.b.dtype === 'f16p';
  if (layout && f16Applies(gpu, x, p)) {
    // f16 arithmetic (shader-f16): X·Wᵀ or dY·W with f16 weights, dYᵀ·X of --fp16 training (x.f16); a residual is
    // added after (contiguous C, f32, not accumulated)
    gpu.run(
      'matmul_f16',
      'matmul_f16',
      { a: x.a, b: x.b, bias: x.bias, c: x.c },
      p,
      [Math.ceil(x.N / 32), Math.ceil(x.M / 32)],
      {
        ACC16: gpu.policy.f16 === 'f16acc',
        ...(x.gelu && gpu.policy.gelu.f16 ? { GELU16: true } : {}),
        ...{ A_M4: layout.A_M4, B_N4: layout.B_N4, B_F32: !B_F16 },
      },
    );
    if (x.residual) addInPlace(gpu, x.c, x.residual, x.M * x.N);
    return;
  }
  if (layout && tuningApplies(gpu)) {
    const s = tuneState(gpu),
      shape = tuneShape(x.M, x.N, x.K, layout.A_M4, layout.B_N4, B_F16);
    const hit = s.table.get(shape.key);
    if (hit) kernel = hit.kernel;
    else s.pending.set(shape.key, shape);
  }
  // the residual is a define, not a flag: kernels without it compile exactly as before (a runtime branch and load in
  // every store slowed SwiftShader's unrolled 16×16 kernel). SwiftShader's register-block kernels add it in a
  // separate pass instead (when C is contiguous and not accumulated; the same two roundings in the same order): no
  // second compile of the big kernel (~1.4 s per process there), and fusing it measured no faster there
  const addAfter =
    !!x.residual && kernel.startsWith('vec4') && !!layout && p.c_sm === x.N && p.c_off === 0 && !x.accumulate;
  const RESIDUAL = !!x.residual && !addAfter;
  const bind = { a: x.a, b: x.b, bias: x.bias, c: x.c, res: RESIDUAL ? x.residual : undefined };
  if (!layout) {
    gpu.run('matmul', 'matmul', bind, p, [Math.ceil(x.N / 32), Math.ceil(x.M / 32)], { B_F16, RESIDUAL });
  } else if (kernel.startsWith('tiled')) {
    // tiled128k16 / k32: k-slices of 16 / 32 (2 / 4 vec4 loads per operand per thread per slice; k32 needs 32 KiB of
    // workgroup memory); the tuner (or `bench`) measures them against tiled128
    const ts = kernel === 'tiled64' ? 64 : 128,
      bk = kernel === 'tiled128k16' ? 16 : kernel === 'tiled128k32' ? 32 : 8;
    gpu.run('matmul', 'matmul_tiled', bind, p, [Math.ceil(x.N / ts), Math.ceil(x.M / ts)], {
      B_F16,
      RESIDUAL,
      ...layout,
      TILED: true,
      T128: ts === 128,
      BK: bk,
      NL: Math.max(1, (ts * bk) / 4 / 256),
    });
  } else {
    // vec4: 8×8 per invocation (BLK 2, 32×32 tiles); vec4x16: 16×16 (BLK 4, 64×64 tiles); vec4x16sg: the same with
    // A shared across each 4-wide subgroup
    const sg = kernel.endsWith('sg') && canShareA(gpu);
    const BLK = kernel.startsWith('vec4x16') ? 4 : 2,
      ts = 16 * BLK;
    gpu.run('matmul', 'matmul', bind, p, [Math.ceil(x.N / ts), Math.ceil(x.M / ts)], {
      B_F16,
      RESIDUAL,
      ...layout,
      BLK,
      SGA: sg,
      EPI_DEFINES: true,
      GELU: !!x.gelu,
      ACC: !!x.accumulate,
    });
  }
  if (addAfter) addInPlace(gpu, x.c, x.residual!, x.M * x.N);
}

/**
 * Whether `matmul` runs shaders/matmul_f16.wgsl: the policy's f16 mode is on (the device has shader-f16), the kernel
 * choice is automatic, and B holds f16 weights (a Linear's X·Wᵀ or dY·W) or the caller asks for f16 arithmetic on f32
 * operands (`x.f16`: --fp16 training's dYᵀ·X), with a residual only onto a contiguous, not accumulated C. Every size,
 * stride and offset must also be a multiple of 4 (the VEC4 layout, checked first).
 */
export function f16Applies(gpu: Gpu, x: MatmulArgs, p: { c_sm: number; c_off: number }): boolean {
  return (
    gpu.policy.f16 !== 'off' &&
    gpu.policy.matmul.kernel === 'auto' &&
    !gpu.policy.matmul.naive &&
    !x.naive &&
    (x.b.dtype === 'f16p' || (!!x.f16 && x.b.dtype === 'f32')) &&
    x.a.dtype === 'f32' &&
    (!x.residual || (p.c_sm === x.N && p.c_off === 0 && !x.accumulate))
  );
}

/** The VEC4 kernel's defines when every operand can move as aligned vec4 (else null: the scalar kernel). */
function vec4Layout(
  x: MatmulArgs,
  p: {
    K: number;
    N: number;
    a_sm: number;
    a_sk: number;
    b_sk: number;
    b_sn: number;
    c_sm: number;
    a_off: number;
    b_off: number;
    c_off: number;
  },
) {
  const q = (...v: number[]) => v.every((n) => n % 4 === 0);
  const aM4 = p.a_sm === 1 && p.a_sk !== 1;
  const bN4 = p.b_sn === 1 && p.b_sk !== 1;
  const aOk = aM4 ? q(p.a_sk) : p.a_sk === 1 && q(p.a_sm);
  const bOk = bN4 ? q(p.b_sk) : p.b_sk === 1 && q(p.b_sn);
  // array<vec4f> bindings need whole vec4s (16 bytes) in every bound tensor
  const whole = [x.a, x.b, x.c, x.bias, x.residual].every((t) => !t || t.byteLength % 16 === 0);
  if (!(aOk && bOk && whole && q(p.K, p.N, p.c_sm, p.a_off, p.b_off, p.c_off))) return null;
  return { VEC4: true, A_M4: aM4, B_N4: bN4 };
}

/** Y[M,N] = X[M,K]·W[N,K]ᵀ + bias (+ residual) (a Linear's forward; W as HF stores it, [out, in]). */
export function linearForward(
  gpu: Gpu,
  X: Tensor,
  W: Tensor,
  bias: Tensor | undefined,
  Y: Tensor,
  M: number,
  N: number,
  K: number,
  gelu = false,
  residual?: Tensor,
): void {
  matmul(gpu, { a: X, b: W, c: Y, bias, M, N, K, aSm: K, aSk: 1, bSk: 1, bSn: K, gelu, residual });
}

/** dX[M,K] (+)= dY[M,N]·W[N,K]. */
export function linearBackwardInput(
  gpu: Gpu,
  dY: Tensor,
  W: Tensor,
  dX: Tensor,
  M: number,
  N: number,
  K: number,
  accumulate = false,
): void {
  matmul(gpu, { a: dY, b: W, c: dX, M, N: K, K: N, aSm: N, aSk: 1, bSk: K, bSn: 1, accumulate });
}

/**
 * dW[N,K] (+)= dY[M,N]ᵀ·X[M,K]; db[N] (+)= Σ_m dY[m,N]. `f16`: the product in f16 arithmetic where the policy has
 * it (--fp16 training: dY and X rounded to f16, f32 sums; the bias sums stay f32).
 */
export function linearBackwardWeight(
  gpu: Gpu,
  dY: Tensor,
  X: Tensor,
  dW: Tensor,
  db: Tensor | undefined,
  M: number,
  N: number,
  K: number,
  accumulate = true,
  f16 = false,
): void {
  matmul(gpu, { a: dY, b: X, c: dW, M: N, N: K, K: M, aSm: 1, aSk: N, bSk: K, bSn: 1, accumulate, f16 });
  if (db) columnSums(gpu, dY, db, M, N, accumulate);
}

/** Rows per partial sum of columnSums' first stage (GPU family). */
export const COLUMN_SUM_ROWS = 32;

/**
 * The partial sums (of COLUMN_SUM_ROWS rows each) a two-stage column sum over M rows of N columns uses, or 0 for
 * one stage: under 4·COLUMN_SUM_ROWS rows, or a grid over the workgroup-count limit.
 */
export function columnSumChunks(gpu: Gpu, M: number, N: number): number {
  const chunks = Math.ceil(M / COLUMN_SUM_ROWS),
    max = gpu.handle.limits.maxComputeWorkgroupsPerDimension;
  return chunks >= 4 && chunks <= max && Math.ceil(N / 64) <= max ? chunks : 0;
}

/**
 * c[n] (+)= Σ_m a[m, n] over M rows of N (a bias gradient), rows summed in a fixed order (deterministic). SwiftShader:
 * one invocation per four columns. GPU family: from 4·COLUMN_SUM_ROWS rows on, two stages (partial sums of 32 rows
 * into a scratch [M/32, N], then those in order), since one thread per column leaves a GPU nearly idle (1,024
 * columns are 16 workgroups) while it walks every row.
 */
export function columnSums(gpu: Gpu, a: Tensor, c: Tensor, M: number, N: number, accumulate: boolean): void {
  const p = {
    M,
    N,
    K: 0,
    a_sm: N,
    a_sk: 0,
    b_sk: 0,
    b_sn: 0,
    c_sm: 0,
    a_off: 0,
    b_off: 0,
    c_off: 0,
    flags: accumulate ? 2 : 0,
    alpha: 1,
  };
  // SwiftShader: one invocation per four columns, workgroups of 16 (see matmul.wgsl)
  if (
    matmulFamily(gpu) === 'swiftshader' &&
    !gpu.policy.matmul.naive &&
    N % 4 === 0 &&
    a.byteLength % 16 === 0 &&
    c.byteLength % 16 === 0
  ) {
    gpu.run('matmul', 'bias_grad', { a, c }, p, grid(Math.ceil(N / 64)), { VEC4: true });
    return;
  }
  const chunks = matmulFamily(gpu) === 'gpu' ? columnSumChunks(gpu, M, N) : 0;
  if (chunks) {
    const part = gpu.tensor(chunks * N, 'f32', 'column-sums:partial');
    gpu.run('matmul', 'bias_grad', { a, c: part }, { ...p, K: COLUMN_SUM_ROWS, c_sm: N, flags: 0 }, [
      Math.ceil(N / 64),
      chunks,
    ]);
    gpu.run('matmul', 'bias_grad', { a: part, c }, { ...p, M: chunks }, grid(Math.ceil(N / 64)));
    part.destroy();
    return;
  }
  gpu.run('matmul', 'bias_grad', { a, c }, p, grid(Math.ceil(N / 64)));
}
