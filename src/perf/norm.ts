// LayerNorm/RMSNorm/GELU benchmark: the f16-arithmetic kernels of f16 models against the f32 ones, same run
// (adapters with shader-f16).
import type { Gpu } from '../gpu/runtime.ts';
import { type Scope, withScope } from '../gpu/scope.ts';
import { layernormBackward, layernormForward } from '../ops/layernorm.ts';
import { rmsnormForward } from '../ops/rmsnorm.ts';
import { geluBackward, geluForward } from '../ops/elementwise.ts';
import { spread, timeMany } from './timing.ts';

/**
 * On bloomz-560m's hidden size (R = 512 rows of C = 1024, GELU over the MLP's 4·C): LayerNorm forward and backward
 * (dx and dγ/dβ), RMSNorm forward, GELU forward and backward, each with f32 arithmetic and with the f16 kernels (the
 * `f16` argument an f16 model passes), with this adapter's family's kernels and with the other family's (rowwise /
 * workgroup LayerNorm); ratios against f32, interleaved runs. Empty where the policy has no f16 norm kernels.
 */
export async function f16NormBench(gpu: Gpu, runs: number, say: (m: string) => void) {
  if (!gpu.policy.layernorm.f16 || !gpu.policy.gelu.f16) return [];
  return withScope(gpu, (s) => benchF16(s, runs, say));
}

async function benchF16(sc: Scope, runs: number, say: (m: string) => void) {
  const gpu = sc.gpu;
  const R = 512,
    C = 1024;
  const wave = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.618 + k) * 2);
  const x = sc.fromF32(wave(R * C, 0), 'bench:x'),
    dy = sc.fromF32(wave(R * C, 1), 'bench:dy'),
    gamma = sc.fromF32(wave(C, 2), 'bench:gamma'),
    beta = sc.fromF32(wave(C, 3), 'bench:beta'),
    y = sc.tensor(R * C, 'f32', 'bench:y'),
    dx = sc.tensor(R * C, 'f32', 'bench:dx'),
    st = sc.tensor(R * 2, 'f32', 'bench:stats'),
    dg = sc.tensor(C, 'f32', 'bench:dgamma'),
    db = sc.tensor(C, 'f32', 'bench:dbeta'),
    h = sc.fromF32(wave(R * 4 * C, 4), 'bench:h4'),
    hy = sc.tensor(R * 4 * C, 'f32', 'bench:g'),
    hd = sc.fromF32(wave(R * 4 * C, 5), 'bench:dg');
  const fns: Record<string, () => Promise<void>> = {};
  const rowwise = gpu.policy.layernorm.rowwise;
  for (const f16 of [false, true]) {
    const m = f16 ? 'f16' : 'f32';
    for (const rw of [rowwise, !rowwise]) {
      const g = gpu.withPolicy({ layernorm: { rowwise: rw } });
      const k = rw ? 'rowwise' : 'workgroup';
      fns[`LayerNorm fwd|${k}|${m}`] = async () => {
        layernormForward(g, x, gamma, beta, y, st, R, C, 1e-5, f16);
        await gpu.sync();
      };
      fns[`LayerNorm bwd|${k}|${m}`] = async () => {
        layernormBackward(g, x, gamma, st, dy, dx, dg, db, R, C, false, f16);
        await gpu.sync();
      };
    }
    fns[`RMSNorm fwd|workgroup|${m}`] = async () => {
      rmsnormForward(gpu, x, gamma, y, st, R, C, 1e-6, f16);
      await gpu.sync();
    };
    fns[`GELU fwd|elementwise|${m}`] = async () => {
      geluForward(gpu, h, hy, R * 4 * C, f16);
      await gpu.sync();
    };
    fns[`GELU bwd|elementwise|${m}`] = async () => {
      geluBackward(gpu, h, hd, hy, R * 4 * C, false, f16);
      await gpu.sync();
    };
  }
  // the statistics the backward reads
  layernormForward(gpu, x, gamma, beta, y, st, R, C, 1e-5);
  const t = await timeMany(fns, runs);
  const rows = Object.keys(fns).map((k) => {
    const [op, kernel, math] = k.split('|');
    const base = t[`${op}|${kernel}|f32`].median;
    return { shape: `${R}×${C}`, op, kernel, math, ms: t[k].median * 1000, time: t[k], vsF32: base / t[k].median };
  });
  // f32 first within each op and kernel
  rows.sort((a, b) => (a.op + a.kernel).localeCompare(b.op + b.kernel) || b.math.localeCompare(a.math));
  for (const r of rows)
    say(
      `norm f16 ${r.shape} ${r.op.padEnd(13)} ${r.kernel.padEnd(11)} ${r.math} math ${r.ms.toFixed(2).padStart(8)} ms ${spread(r.time)}  ×${r.vsF32.toFixed(2)} vs f32 math`,
    );
  return rows;
}
