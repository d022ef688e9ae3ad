// Attention benchmark: inference attention in f16 arithmetic against f32, same run (adapters with shader-f16).
import type { Gpu } from '../gpu/runtime.ts';
import { type Scope, withScope } from '../gpu/scope.ts';
import { alibiSlopes, attentionF16Applies, attentionForward, keyInfo, type AttnShape } from '../ops/attention.ts';
import { spread, timeMany } from './timing.ts';

/**
 * Forward attention of an f16 model without probs (what scoring and generation run) on nano-bloomz's shape (B=8,
 * T=64, 8 heads of 32) and bloomz-560m's heads (B=1, T=256, 16 heads of 64), as a prefill and as one KV-cache step
 * (one query row over all keys): f32 arithmetic vs f16 (define F16), each with the kernels of this adapter's family
 * and with the other family's (rowwise / workgroup flash); ratios against f32, interleaved runs.
 */
export async function f16AttentionBench(gpu: Gpu, runs: number, say: (m: string) => void) {
  if (!attentionF16Applies(gpu.policy, 64)) return [];
  return withScope(gpu, (s) => benchF16(s, runs, say));
}

async function benchF16(sc: Scope, runs: number, say: (m: string) => void) {
  const gpu = sc.gpu;
  const rows = [];
  for (const [B, T, NH, D] of [
    [8, 64, 8, 32],
    [1, 256, 16, 64],
  ]) {
    const qkv = sc.fromF32(
      Float32Array.from({ length: B * T * 3 * NH * D }, (_, i) => Math.sin(i * 0.618) * 0.5),
      'bench:qkv',
    );
    const ki = sc.fromF32(keyInfo(new Int32Array(B * T).fill(1), B, T), 'bench:keyinfo'),
      sl = sc.fromF32(alibiSlopes(NH), 'bench:slopes'),
      ctx = sc.tensor(B * T * NH * D, 'f32', 'bench:ctx');
    const fns: Record<string, () => Promise<void>> = {};
    const kinds: [string, AttnShape][] = [
      ['prefill', { B, Tq: T, Tk: T, q0: 0, Tmax: T, NH, D }],
      ['KV step', { B, Tq: 1, Tk: T, q0: T - 1, Tmax: T, NH, D }],
    ];
    for (const rowwise of [gpu.policy.attention.rowwise, !gpu.policy.attention.rowwise]) {
      const g = gpu.withPolicy({ attention: { rowwise } });
      for (const [kind, s] of kinds)
        for (const f16 of [false, true])
          fns[`${rowwise ? 'rowwise' : 'flash'}|${kind}|${f16 ? 'f16' : 'f32'}`] = async () => {
            attentionForward(g, qkv, ki, sl, null, ctx, s, undefined, { f16 });
            await gpu.sync();
          };
    }
    const t = await timeMany(fns, runs);
    for (const k of Object.keys(fns)) {
      const [kernel, kind, math] = k.split('|');
      const base = t[`${kernel}|${kind}|f32`].median;
      rows.push({
        shape: `B=${B} T=${T} heads=${NH}×${D}`,
        kernel,
        kind,
        math,
        ms: t[k].median * 1000,
        time: t[k],
        vsF32: base / t[k].median,
      });
    }
  }
  for (const r of rows)
    say(
      `attention f16 ${r.shape.padEnd(22)} ${r.kind.padEnd(7)} ${r.kernel.padEnd(7)} ${r.math} math ${r.ms.toFixed(2).padStart(8)} ms ${spread(r.time)}  ×${r.vsF32.toFixed(2)} vs f32 math`,
    );
  return rows;
}
