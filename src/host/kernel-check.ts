// A two-kernel smoke test (elementwise add, one matmul) run the same way by the worker, the CLI and the tests, so
// a browser's results can be compared bit-for-bit with Node's and both with a float64 CPU reference.
import type { Gpu } from '../gpu/runtime.ts';
import { withScope } from '../gpu/scope.ts';
import { linearForward } from '../ops/matmul.ts';

/** inner size of the matmul: a and b are read as [n/K, K] matrices */
export const KERNEL_CHECK_K = 16;

/** Shapes the check uses for inputs of n elements: sum (n), product [M, M] with M = n / K. */
export function kernelCheckShape(n: number): { n: number; M: number; K: number } {
  const K = KERNEL_CHECK_K;
  if (n <= 0 || n % K) throw new Error(`kernelCheck: inputs need a positive multiple of ${K} elements, got ${n}`);
  return { n, M: n / K, K };
}

/** [a + b (n values), A·Bᵀ (M·M values)] with A = a as [M, K], B = b as [M, K], computed on the GPU. */
export async function kernelCheck(gpu: Gpu, a: Float32Array, b: Float32Array): Promise<Float32Array> {
  if (a.length !== b.length)
    throw new Error(`kernelCheck: a has ${a.length} elements, b has ${b.length}; pass equal lengths`);
  const { n, M, K } = kernelCheckShape(a.length);
  return withScope(gpu, async (s) => {
    const ta = s.fromF32(a, 'check:a'),
      tb = s.fromF32(b, 'check:b');
    const sum = s.tensor(n, 'f32', 'check:sum'),
      prod = s.tensor(M * M, 'f32', 'check:prod');
    gpu.run('elementwise', 'add', { a: ta, b: tb, out: sum }, { n, alpha: 0, flags: 0 }, [Math.ceil(n / 256)]);
    linearForward(gpu, ta, tb, undefined, prod, M, M, K);
    const out = new Float32Array(n + M * M);
    out.set(await gpu.readF32(sum), 0);
    out.set(await gpu.readF32(prod), n);
    return out;
  });
}

/** The same in float64 on the CPU (the reference the GPU results are held to). */
export function kernelCheckCpu(a: Float32Array, b: Float32Array): Float64Array {
  const { n, M, K } = kernelCheckShape(a.length);
  const out = new Float64Array(n + M * M);
  for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
  for (let m = 0; m < M; m++) {
    for (let j = 0; j < M; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[m * K + k] * b[j * K + k];
      out[n + m * M + j] = s;
    }
  }
  return out;
}
