// Matmul benchmark: GFLOP/s of the three training layouts with the kernel this adapter runs, and of the other kernels
// on X·Wᵀ in the same run (scalar = the first kernel, the baseline of every ratio).
import type { Gpu } from '../gpu/runtime.ts';
import { isCpuAdapter } from '../gpu/policy.ts';
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

export async function matmulBench(gpu: Gpu, n: number, runs: number, say: (m: string) => void) {
  const rnd = (len: number) => Float32Array.from({ length: len }, (_, i) => Math.sin(i * 0.618) * 0.5);
  const a = gpu.fromF32(rnd(n * n), 'bench:a'),
    b = gpu.fromF32(rnd(n * n), 'bench:b'),
    c = gpu.tensor(n * n, 'f32', 'bench:c');
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
  [a, b, c].forEach((x) => x.destroy());
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
