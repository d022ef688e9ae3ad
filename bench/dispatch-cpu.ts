// CPU time spent recording dispatches (Gpu.run: pipeline lookup, params, bind group, pass calls) during nano-bloomz
// training steps (B=2 T=16): what the host costs per dispatch, the budget a fast GPU leaves it. A benchmark, not a
// test; on SwiftShader the figure includes contention with the driver's own threads.
//   node --import tsx bench/dispatch-cpu.ts
import { Gpu } from '../src/gpu/runtime.ts';
import { bloomConfigFor } from '../src/model/bloom/config.ts';
import { BloomWeights, randomBloomArrays } from '../src/model/bloom/weights.ts';
import { BloomModel } from '../src/model/bloom/model.ts';
import { Scope } from '../src/gpu/scope.ts';
import { AdamW } from '../src/train/optimizer.ts';
import { trainStep } from '../src/train/step.ts';
const gpu = await Gpu.open({ log: () => {} });
let inRun = 0;
const orig = gpu.run.bind(gpu);
(gpu as any).run = (...a: any[]) => {
  const t = performance.now();
  (orig as any)(...a);
  inRun += performance.now() - t;
};
const cfg = bloomConfigFor('nano-bloomz');
const w = BloomWeights.fromArrays(gpu, cfg, randomBloomArrays(cfg), 'f32');
const lm = new BloomModel(gpu, w);
const model = lm.training();
const opt = new AdamW(new Scope(gpu), model.params, {
  lr: 1e-5,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weightDecay: 0,
  maxGradNorm: 1,
});
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
