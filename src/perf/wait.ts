// The GPU wait under Node: the same work with the quiet wait (src/gpu/wait.ts, the default) and with dawn.node's
// own busy polling, interleaved in one run; a ratio > 1 means the quiet wait is faster.
import type { Gpu } from '../gpu/runtime.ts';
import { matmul } from '../ops/matmul.ts';
import { withScope } from '../gpu/scope.ts';
import { buildModel, randomParameters, namedConfig } from '../model/families.ts';
import { spread, timeMany, type Timing } from './timing.ts';

export interface WaitFigure {
  quiet: Timing;
  busy: Timing;
  /** busy / quiet median time: > 1 when waiting without spinning is faster */
  quietSpeedup: number;
}

/** A matmul n³ (then sync) and a nano-bloomz forward B×T (log-probs read back), each with both waits, interleaved. */
export function waitBench(gpu: Gpu, n: number, B: number, T: number, runs: number, say: (m: string) => void) {
  return withScope(gpu, async (mem) => {
    const rnd = (len: number) => Float32Array.from({ length: len }, (_, i) => Math.sin(i * 0.618) * 0.5);
    const a = mem.fromF32(rnd(n * n), 'wait:a'),
      b = mem.fromF32(rnd(n * n), 'wait:b'),
      c = mem.tensor(n * n, 'f32', 'wait:c');
    const cfg = namedConfig('nano-bloomz');
    const lm = mem.own(await buildModel(gpu, cfg, randomParameters(cfg), { dtype: 'f32' }));
    const ids = new Int32Array(B * T).map((_, i) => 5 + ((i * 7919) % (cfg.vocabSize - 5)));
    const batch = { ids, mask: new Int32Array(B * T).fill(1), B, T };
    const work = {
      matmul: async () => {
        matmul(gpu, { a, b, c, M: n, N: n, K: n, aSm: n, aSk: 1, bSk: 1, bSn: n });
        await gpu.sync();
      },
      forward: async () => {
        await lm.forward(batch);
      },
    };
    const saved = gpu.queue.quiet;
    const withWait = (quiet: boolean, fn: () => Promise<void>) => async () => {
      gpu.queue.quiet = quiet;
      try {
        await fn();
      } finally {
        gpu.queue.quiet = saved;
      }
    };
    try {
      const t = await timeMany(
        {
          'matmul quiet': withWait(true, work.matmul),
          'matmul busy': withWait(false, work.matmul),
          'forward quiet': withWait(true, work.forward),
          'forward busy': withWait(false, work.forward),
        },
        runs,
      );
      const fig = (k: 'matmul' | 'forward'): WaitFigure => {
        const quiet = t[`${k} quiet`],
          busy = t[`${k} busy`];
        return { quiet, busy, quietSpeedup: busy.median / quiet.median };
      };
      const out = { matmul: { n, ...fig('matmul') }, forward: { B, T, ...fig('forward') } };
      say(
        `GPU wait: matmul ${n}³ quiet ${spread(out.matmul.quiet)} vs busy polling ${spread(out.matmul.busy)} → ` +
          `quiet ×${out.matmul.quietSpeedup.toFixed(2)}; nano-bloomz forward B=${B} T=${T} ` +
          `→ quiet ×${out.forward.quietSpeedup.toFixed(2)}`,
      );
      return out;
    } finally {
      await gpu.sync();
    }
  });
}
