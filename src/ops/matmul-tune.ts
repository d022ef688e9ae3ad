// The GPU family's matmul tuner (see policy.matmul.tune in ./matmul.ts): times the tiled kernels on each queued shape
// class and records the fastest for the rest of the run.
import type { Gpu } from '../gpu/runtime.ts';
import { matmul, tuneCandidates, tuneState, type MatmulKernel, type TuneShape } from './matmul.ts';

export interface TuneResult {
  key: string;
  kernel: MatmulKernel;
  ms: Partial<Record<MatmulKernel, number>>;
}

/** Wall time per trial (ms) the repetitions aim at: GPU timings of one small dispatch are mostly launch noise. */
const TRIAL_MS = 2;
const TRIALS = 3;
const SLOW_MS = 20;

/**
 * Tunes every queued shape class (none: returns at once). Waits for the queued work first, then for each class runs
 * every kernel once (compiling it), then TRIALS rounds of the kernels interleaved (one where a run takes ≥ SLOW_MS),
 * each kernel repeated to about TRIAL_MS, and keeps the best time per kernel. The scratch operands are released at the
 * end of each class.
 */
export async function tuneMatmuls(gpu: Gpu, candidates?: readonly MatmulKernel[]): Promise<TuneResult[]> {
  const s = tuneState(gpu);
  if (!s.pending.size || gpu.dryRun) return []; // the usual case: called after every forward and step
  const kernels = candidates ?? tuneCandidates(gpu);
  await gpu.sync();
  const done: TuneResult[] = [];
  for (const [key, shape] of [...s.pending]) {
    s.pending.delete(key);
    const ms = await timeKernels(gpu, shape, kernels);
    const kernel = kernels.reduce((best, k) => (ms[k]! < ms[best]! ? k : best), kernels[0]);
    s.table.set(key, { kernel, ms });
    done.push({ key, kernel, ms });
  }
  return done;
}

async function timeKernels(
  gpu: Gpu,
  sh: TuneShape,
  kernels: readonly MatmulKernel[],
): Promise<Partial<Record<MatmulKernel, number>>> {
  const { M, N, K } = sh;
  const a = gpu.tensor(M * K, 'f32', 'tune:a'),
    b = gpu.tensor(N * K, sh.f16 ? 'f16p' : 'f32', 'tune:b'),
    c = gpu.tensor(M * N, 'f32', 'tune:c');
  // A is [M, K] (k contiguous) or [K, M] (m contiguous); B is [N, K] or [K, N]: as the model's three layouts
  const strides = { aSm: sh.aM4 ? 1 : K, aSk: sh.aM4 ? M : 1, bSk: sh.bN4 ? N : 1, bSn: sh.bN4 ? 1 : K };
  // each kernel through a view of the device whose policy forces it (same queue, so the timings stay in order)
  const views = new Map(kernels.map((k) => [k, gpu.withPolicy({ matmul: { kernel: k } })]));
  const run = (k: MatmulKernel, reps: number) => {
    const g = views.get(k)!;
    for (let r = 0; r < reps; r++) matmul(g, { a, b, c, M, N, K, ...strides });
  };
  const timed = async (k: MatmulKernel, reps: number) => {
    const t0 = performance.now();
    run(k, reps);
    await gpu.sync();
    return (performance.now() - t0) / reps;
  };
  try {
    const reps: Partial<Record<MatmulKernel, number>> = {},
      probe: Partial<Record<MatmulKernel, number>> = {};
    for (const k of kernels) {
      run(k, 1);
      await gpu.sync();
    } // compile and warm up
    for (const k of kernels) {
      probe[k] = await timed(k, 1);
      reps[k] = Math.max(1, Math.min(64, Math.ceil(TRIAL_MS / Math.max(1e-3, probe[k]!))));
    }
    // a slow device (one run ≥ SLOW_MS) gets one round: its runs are long enough to time alone
    const rounds = Math.min(...kernels.map((k) => probe[k]!)) >= SLOW_MS ? 1 : TRIALS;
    const best: Partial<Record<MatmulKernel, number>> = {};
    for (let t = 0; t < rounds; t++) {
      for (const k of kernels) best[k] = Math.min(best[k] ?? Infinity, await timed(k, reps[k]!));
    }
    return best;
  } finally {
    [a, b, c].forEach((t) => t.destroy());
  }
}

/** One line for logs: how many classes went to which kernel. */
export function describeTuning(results: TuneResult[]): string {
  const n = new Map<string, number>();
  for (const r of results) n.set(r.kernel, (n.get(r.kernel) ?? 0) + 1);
  return (
    `matmul tuned for ${results.length} shape class${results.length === 1 ? '' : 'es'}: ` +
    [...n].map(([k, c]) => `${k} ×${c}`).join(', ')
  );
}
