// CPU time spent recording dispatches (Gpu.run: pipeline lookup, params, bind group, pass calls) during nano-bloomz
// training steps (B=2 T=16): what the host costs per dispatch, the budget a fast GPU leaves it. A benchmark, not a
// test; on SwiftShader the figure includes contention with the driver's own threads.
//   node --import tsx bench/dispatch-cpu.ts
import { Gpu } from '../src/gpu/runtime.ts';
import { trainStep } from '../src/train/step.ts';
import { nanoTraining } from './nano-training.ts';
const gpu = await Gpu.open({ log: () => {} });
let inRun = 0;
const orig = gpu.run.bind(gpu);
(gpu as any).run = (...a: any[]) => {
  const t = performance.now();
  (orig as any)(...a);
  inRun += performance.now() - t;
};
const { cfg, model, opt } = nanoTraining(gpu);
const B = 2,
  T = 16;
const ids = new Int32Array(B * T).map((_, i) => 5 + ((i * 7) % (cfg.vocabSize - 5)));
for (let i = 0; i < 4; i++) {
  inRun = 0;
  const d0 = gpu.dispatchCount;
  await trainStep({ model, opt }, [{ batch: { ids, mask: new Int32Array(B * T).fill(1), B, T }, labels: ids }], 1e-5);
  await gpu.sync();
  const n = gpu.dispatchCount - d0;
  console.log(`dispatches ${n}, CPU in run() ${inRun.toFixed(1)} ms = ${((1000 * inRun) / n).toFixed(1)} µs/dispatch`);
}
process.exit(0);
