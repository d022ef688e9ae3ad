// Wall time of whole nano-bloomz training steps (forward, loss, backward, AdamW with clipping; B=8 T=64 by
// default), median of N after two warm-ups: for comparing trees run one after the other (the host-side scheduling
// of a step, its syncs and submits, shows here and not in per-kernel profiles). A benchmark, not a test.
//   node --import tsx bench/train-step.ts [B] [T] [N]
import { describeAdapter } from '../src/gpu/device.ts';
import { Gpu } from '../src/gpu/runtime.ts';
import { trainStep } from '../src/train/step.ts';
import { nanoTraining } from './nano-training.ts';

const [B, T, N] = [Number(process.argv[2] ?? 8), Number(process.argv[3] ?? 64), Number(process.argv[4] ?? 5)];
const gpu = await Gpu.open({ log: () => {} });
const { cfg, model, opt } = nanoTraining(gpu);
const ids = new Int32Array(B * T).map((_, i) => 5 + ((i * 7919) % (cfg.vocabSize - 5)));
const batch = { ids, mask: new Int32Array(B * T).fill(1), B, T };
const times: number[] = [];
for (let i = 0; i < N + 2; i++) {
  const t0 = performance.now();
  await trainStep({ model, opt }, [{ batch, labels: ids }], 1e-5);
  if (i >= 2) times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
console.log(
  `${describeAdapter(gpu.handle)}: nano-bloomz B=${B} T=${T} training step median ${times[times.length >> 1].toFixed(0)} ms [${times[0].toFixed(0)}–${times[times.length - 1].toFixed(0)}] over ${N}`,
);
process.exit(0);
