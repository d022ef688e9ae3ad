// Per-kernel profile of one nano-bloomz forward (B=8, T=64 by default) plus the LM head, or with `train` of the
// forward, loss and backward: every dispatch is recorded, then replayed alone (flushed and awaited) to time it.
// A profiler, not a test.
//   node --import tsx bench/profile.ts [B] [T] [reps] [baseline] [train] [rows1]
// `baseline` forces the workgroup-per-row attention and LayerNorm kernels and the scalar bias_grad (the real-GPU
// path), for same-run ratios.
import { describeAdapter } from '../src/gpu/device.ts';
import { Gpu, type Bindings, type Params } from '../src/gpu/runtime.ts';
import { bloomConfigFor } from '../src/model/bloom/config.ts';
import { BloomWeights, randomBloomArrays } from '../src/model/bloom/weights.ts';
import { BloomForward } from '../src/model/bloom/forward.ts';
import { lossAndBackward } from '../src/model/bloom/backward.ts';
import { Grads } from '../src/model/common/backward.ts';

const B = Number(process.argv[2] ?? 8),
  T = Number(process.argv[3] ?? 64),
  REPS = Number(process.argv[4] ?? 3);
const flags = process.argv.slice(5);
const gpu = await Gpu.open({
  log: () => {},
  policy: {
    ...(flags.includes('baseline') ? { layernorm: { rowwise: false } } : {}),
    attention: {
      ...(flags.includes('baseline') ? { rowwise: false } : {}),
      ...(flags.includes('rows1') ? { rows4: false } : {}), // one query row per invocation in the forward attention
    },
  },
});
console.log(`adapter: ${describeAdapter(gpu.handle)}`);
const cfg = bloomConfigFor('nano-bloomz');
const w = BloomWeights.fromArrays(gpu, cfg, randomBloomArrays(cfg), 'f32');
const fwd = new BloomForward(gpu, w);
const ids = new Int32Array(B * T).map((_, i) => (i * 7919) % cfg.vocabSize),
  mask = new Int32Array(B * T).fill(1);
(gpu as any).release = () => {}; // keep every buffer alive for the replay

type Call = [string, string, Bindings, Params, [number, number?, number?], Record<string, boolean | number>?];
const calls: Call[] = [];
const orig = gpu.run.bind(gpu);
gpu.run = (...a: Call) => {
  calls.push(a);
  orig(...a);
};
if (flags.includes('train')) {
  await lossAndBackward(fwd, { ids, mask, B, T }, ids, new Grads(gpu, w));
} else {
  const acts = await fwd.run({ ids, mask, B, T }, false);
  const R = B * T,
    targets = gpu.fromI32(new Int32Array(R), 't'),
    stats = gpu.tensor(R * 3, 'f32', 's'),
    lp = gpu.tensor(R, 'f32', 'lp');
  fwd.head.logprobs(acts.lnf, targets, R, stats, lp);
}
await gpu.sync();
gpu.run = orig;
if (flags.includes('baseline')) for (const c of calls) if (c[1] === 'bias_grad') c[5] = {};

async function time(fn: () => void, reps: number): Promise<number> {
  fn();
  await gpu.sync();
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) fn();
  await gpu.sync();
  return (performance.now() - t0) / reps;
}
const empty = await time(() => {}, 20);
const total = await time(() => {
  for (const c of calls) orig(...c);
}, REPS);
const by = new Map<string, { ms: number; n: number; flops: number }>();
for (const c of calls) {
  const ms = await time(() => orig(...c), REPS);
  const p = c[3];
  const isMM = c[0] === 'matmul' && c[1] !== 'bias_grad';
  const key = isMM ? `matmul ${p.M}x${p.N}x${p.K}` : `${c[0]}:${c[1]}`;
  const e = by.get(key) ?? { ms: 0, n: 0, flops: 0 };
  e.ms += ms;
  e.n++;
  e.flops += isMM ? 2 * p.M * p.N * p.K : 0;
  by.set(key, e);
}
const sum = [...by.values()].reduce((s, e) => s + e.ms, 0);
console.log(
  `B=${B} T=${T}: ${calls.length} dispatches; all in one submit ${total.toFixed(1)} ms; sum of singles ${sum.toFixed(1)} ms (empty submit ${empty.toFixed(2)} ms)`,
);
const flops = [...by.values()].reduce((s, e) => s + e.flops, 0);
console.log(
  `matmul GFLOP ${(flops / 1e9).toFixed(2)} → forward ${(flops / total / 1e6).toFixed(2)} GFLOP/s (matmul flops / whole forward time)`,
);
for (const [k, e] of [...by].sort((a, b) => b[1].ms - a[1].ms)) {
  console.log(
    `${k.padEnd(36)} n=${String(e.n).padStart(3)} ${e.ms.toFixed(1).padStart(8)} ms ${((100 * e.ms) / sum).toFixed(1).padStart(5)}%` +
      (e.flops ? `  ${(e.flops / e.ms / 1e6).toFixed(2)} GFLOP/s` : ''),
  );
}
gpu.destroy();
process.exit(0);
