// Matmul benchmark: GFLOP/s of the three training layouts with the kernel this adapter runs, and of the other kernels
// on X·Wᵀ in the same run (scalar = the first kernel, the baseline of every ratio).
import type { Gpu } from '../gpu/runtime.ts';
import { type Scope, withScope } from '../gpu/scope.ts';
import { isCpuAdapter, type F16Mode } from '../gpu/policy.ts';
import { f32ToF16 } from '../model/dtype.ts';
import {
  chooseMatmulKernel,
  matmul,
  matmulFamily,
  tuneCandidates,
  tuneShape,
  tuneState,
  tuningApplies,
  type MatmulKernel,
} from '../ops/matmul.ts';
import { tuneMatmuls } from '../ops/matmul-tune.ts';
import { spread, timeMany } from './timing.ts';

const LAYOUTS = {
  X·Wᵀ: (n: number) => ({ aSm: n, aSk: 1, bSk: 1, bSn: n }),
  dY·W: (n: number) => ({ aSm: n, aSk: 1, bSk: n, bSn: 1 }),
  dYᵀ·X: (n: number) => ({ aSm: 1, aSk: n, bSk: n, bSn: 1 }),
} as const;

export function matmulBench(gpu: Gpu, n: number, runs: number, say: (m: string) => void) {
  return withScope(gpu, (s) => benchMatmul(s, n, runs, say));
}

async function benchMatmul(s: Scope, n: number, runs: number, say: (m: string) => void) {
  const gpu = s.gpu;
  const rnd = (len: number) => Float32Array.from({ length: len }, (_, i) => Math.sin(i * 0.618) * 0.5);
  const a = s.fromF32(rnd(n * n), 'bench:a'),
    b = s.fromF32(rnd(n * n), 'bench:b'),
    c = s.tensor(n * n, 'f32', 'bench:c');
  // the kernel the runtime runs for each layout: on a GPU the tuner's choice for the class (timed on a proxy of at
  // most 1024×2048×2048), elsewhere the fixed choice
  const autoFor: Record<string, MatmulKernel> = {};
  for (const l of Object.keys(LAYOUTS) as (keyof typeof LAYOUTS)[]) {
    autoFor[l] = chooseMatmulKernel(gpu, n, n);
    if (tuningApplies(gpu)) {
      matmul(gpu, { a, b, c, M: n, N: n, K: n, ...LAYOUTS[l](n) }); // queues the class
      await tuneMatmuls(gpu);
      const s = tuneState(gpu).table.get(tuneShape(n, n, n, l === 'dYᵀ·X', l !== 'X·Wᵀ', false).key);
      if (s) autoFor[l] = s.kernel;
    }
  }
  const auto = autoFor['X·Wᵀ'];
  const swift = isCpuAdapter(gpu.handle.adapter);
  // the other kernels of this adapter's family, and the scalar first kernel (the baseline); the slow scalar kernel
  // is skipped at sizes where it would take minutes on SwiftShader
  const others: MatmulKernel[] = (
    matmulFamily(gpu) === 'swiftshader'
      ? ['vec4x16sg', 'vec4x16', 'vec4', 'scalar']
      : ([...tuneCandidates(gpu), 'scalar'] as MatmulKernel[])
  ).filter((k) => k !== auto && !(swift && k === 'scalar' && n > 1024)) as MatmulKernel[];
  // each kernel through a view of the device whose policy forces it
  const call = (kernel: MatmulKernel, layout: keyof typeof LAYOUTS) => {
    const g = gpu.withPolicy({ matmul: { kernel } });
    return async () => {
      matmul(g, { a, b, c, M: n, N: n, K: n, ...LAYOUTS[layout](n) });
      await gpu.sync();
    };
  };
  const fns: Record<string, () => Promise<void>> = {};
  for (const l of Object.keys(LAYOUTS) as (keyof typeof LAYOUTS)[]) fns[`${autoFor[l]} ${l}`] = call(autoFor[l], l);
  for (const k of others) fns[`${k} X·Wᵀ`] = call(k, 'X·Wᵀ');
  const t = await timeMany(fns, runs);
  const gf = (k: string) => (2 * n ** 3) / t[k].median / 1e9;
  const base = t['scalar X·Wᵀ'] ? gf('scalar X·Wᵀ') : undefined;
  const rows = Object.keys(fns).map((k) => {
    const [kernel, layout] = k.split(' ');
    return {
      shape: `${n}x${n}x${n}`,
      kernel,
      layout,
      auto: kernel === autoFor[layout],
      gflops: gf(k),
      time: t[k],
      ...(base ? { vsScalar: gf(k) / base } : {}),
    };
  });
  for (const r of rows)
    say(
      `matmul ${r.shape} ${r.layout.padEnd(5)} ${r.kernel.padEnd(8)}${r.auto ? '*' : ' '} ${r.gflops.toFixed(2).padStart(9)} GFLOP/s ${spread(r.time)}` +
        (r.vsScalar && r.kernel !== 'scalar' ? `  ×${r.vsScalar.toFixed(2)} scalar` : ''),
    );
  return rows;
}

/**
 * f16 arithmetic vs the f32 path, same run (only where the device has shader-f16): X·Wᵀ n×n×n with f16 weights
 * through the f32 kernels (policy f16 'off': weights unpacked to f32), f16 products summed in f32 ('f32acc', the
 * default there) and summed in f16 ('f16acc'), and with f32 weights; ratios against 'off'. And --fp16 training's
 * weight gradient dYᵀ·X (f32 operands) in f32 and in f16 arithmetic, its ratio against the f32 one.
 */
export async function f16MatmulBench(gpu: Gpu, n: number, runs: number, say: (m: string) => void) {
  if (!gpu.handle.features.has('shader-f16')) return [];
  return withScope(gpu, (s) => benchF16(s, n, runs, say));
}

async function benchF16(s: Scope, n: number, runs: number, say: (m: string) => void) {
  const gpu = s.gpu;
  const rnd = (len: number) => Float32Array.from({ length: len }, (_, i) => Math.sin(i * 0.618) * 0.5);
  const a = s.fromF32(rnd(n * n), 'bench:a'),
    b32 = s.fromF32(rnd(n * n), 'bench:b32'),
    b16 = s.tensor(n * n, 'f16p', 'bench:b16'),
    c = s.tensor(n * n, 'f32', 'bench:c');
  gpu.upload(
    b16,
    Uint16Array.from(rnd(n * n), (v) => f32ToF16(v)),
  );
  const call = (mode: F16Mode, b: typeof b16) => {
    const g = gpu.withPolicy({ f16: mode });
    return async () => {
      matmul(g, { a, b, c, M: n, N: n, K: n, aSm: n, aSk: 1, bSk: 1, bSn: n });
      await gpu.sync();
    };
  };
  // --fp16 training's weight gradient dW += dYᵀ·X (both operands f32, m- and n-contiguous), f32 or f16 arithmetic
  const dW = (mode: F16Mode) => {
    const g = gpu.withPolicy({ f16: mode });
    return async () => {
      matmul(g, { a, b: b32, c, M: n, N: n, K: n, aSm: 1, aSk: n, bSk: n, bSn: 1, accumulate: true, f16: true });
      await gpu.sync();
    };
  };
  const fns = {
    'f16 weights, f32 math (off)': call('off', b16),
    'f16 math, f32 sums (f32acc)': call('f32acc', b16),
    'f16 math, f16 sums (f16acc)': call('f16acc', b16),
    'f32 weights, f32 math': call('off', b32),
    'dYᵀ·X f32 math (off)': dW('off'),
    'dYᵀ·X f16 math, f32 sums': dW('f32acc'),
  };
  const t = await timeMany(fns, runs);
  // X·Wᵀ rows against X·Wᵀ with f16 weights in f32 math, dYᵀ·X rows against dYᵀ·X in f32 math
  const baseOf = (k: string) =>
    t[k.startsWith('dYᵀ·X') ? 'dYᵀ·X f32 math (off)' : 'f16 weights, f32 math (off)'].median;
  const rows = (Object.keys(fns) as (keyof typeof fns)[]).map((k) => ({
    shape: `${n}x${n}x${n}`,
    variant: k,
    gflops: (2 * n ** 3) / t[k].median / 1e9,
    time: t[k],
    vsF32: baseOf(k) / t[k].median,
  }));
  for (const r of rows)
    say(
      `matmul f16 ${r.shape} ${`${r.variant.startsWith('dY') ? '' : 'X·Wᵀ '}${r.variant}`.padEnd(33)} ${r.gflops.toFixed(2).padStart(9)} GFLOP/s ${spread(r.time)}  ×${r.vsF32.toFixed(2)} vs f32 math`,
    );
  return rows;
}
