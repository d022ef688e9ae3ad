// The buffer pool's effect (src/gpu/runtime.ts, `Gpu.pooling`): nano-bloomz training steps (forward, loss,
// backward, AdamW) and inference forwards at B=8 T=64, pool on vs off interleaved in one process, median of 6
// each, and the buffers each variant creates per step. A benchmark, not a test.
//   node --import tsx bench/pool.ts
// The pool's bound is lifted here (poolHeadroom = ∞) so that the "off" runs' allocations do not evict the
// "on" runs' pooled buffers: what is measured is the steady state of a loop that always pools.
import { describeAdapter } from '../src/gpu/device.ts';
import { Gpu } from '../src/gpu/runtime.ts';
import { trainStep } from '../src/train/step.ts';
import { nanoTraining } from './nano-training.ts';
const gpu = await Gpu.open({ log: () => {} });
gpu.poolHeadroom = Infinity;
console.log(describeAdapter(gpu.handle));
const { cfg, model, opt } = nanoTraining(gpu);
const fwd = model.fwd;
const B = 8,
  T = 64;
const ids = new Int32Array(B * T).map((_, i) => 5 + ((i * 7) % (cfg.vocabSize - 5)));
async function step() {
  await trainStep({ model, opt }, [{ batch: { ids, mask: new Int32Array(B * T).fill(1), B, T }, labels: ids }], 1e-5);
  await gpu.sync();
}
async function infer() {
  const a = await fwd.run({ ids, mask: new Int32Array(B * T).fill(1), B, T }, false);
  await gpu.sync();
  for (const t of [a.ids, a.keyinfo, a.emb, a.x0, a.embS, a.out, a.lnf, a.lnfS]) t.destroy();
}
for (const [name, f] of [
  ['train', step],
  ['forward', infer],
] as const) {
  const t: Record<string, number[]> = { on: [], off: [] };
  await f();
  gpu.pooling = false;
  await f();
  for (let i = 0; i < 6; i++)
    for (const m of ['on', 'off']) {
      gpu.pooling = m === 'on';
      const c = gpu.buffersCreated;
      const s = performance.now();
      await f();
      t[m].push(performance.now() - s);
      if (i === 5) console.log(name, m, 'buffers created', gpu.buffersCreated - c);
    }
  const med = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1];
  console.log(
    name,
    'pool on',
    med(t.on).toFixed(0),
    'ms, off',
    med(t.off).toFixed(0),
    'ms, ratio',
    (med(t.off) / med(t.on)).toFixed(3),
    JSON.stringify(t),
  );
}
process.exit(0);
