// Memory plans: the exact peak GPU memory of one training step, from a dry run (allocations counted, no kernel run).
import type { Gpu } from '../gpu/runtime.ts';
import { withScope } from '../gpu/scope.ts';
import { buildModel, namedConfig, zeroParameters } from '../model/families.ts';
import { AdamW } from '../train/optimizer.ts';

/** Peak bytes of one training step (forward, loss, backward, AdamW; f32, or --fp16's f16 compute copy), by a dry run. */
export async function memoryPlan(
  device: Gpu,
  name: string,
  B: number,
  T: number,
  recompute: boolean,
  fp16 = false,
  flash?: 'auto' | 'always' | 'never',
) {
  const cfg = namedConfig(name);
  const gpu = flash ? device.withPolicy({ attention: { flash } }) : device;
  const before = gpu.bytesAllocated;
  gpu.dryRun = true;
  try {
    return await withScope(gpu, async (mem) => {
      const lm = mem.own(await buildModel(gpu, cfg, zeroParameters(cfg), { dtype: 'f32' }));
      const model = mem.own(lm.training({ fp16, recompute }));
      // the weights and their f16 copy: all but the gradients (f32, each buffer a multiple of 16 bytes)
      const gradBytes = model.grads.tensors.reduce((n, g) => n + Math.ceil(g.tensor.byteLength / 16) * 16, 0);
      const weights = gpu.bytesAllocated - before - gradBytes;
      const opt = new AdamW(mem, model.params, {
        lr: 1e-5,
        betas: [0.9, 0.999],
        eps: 1e-8,
        weightDecay: 0,
        maxGradNorm: 1,
      });
      const state = gpu.bytesAllocated - before;
      gpu.peakBytes = gpu.bytesAllocated;
      gpu.peakResident = gpu.bytesAllocated + gpu.pooledBytes;
      const ids = new Int32Array(B * T).map((_, i) => 5 + (i % (cfg.vocabSize - 5)));
      // two steps: the second shows the buffer pool's steady state (buffers created per step, bytes really held)
      let created = 0;
      for (let i = 0; i < 2; i++) {
        created = gpu.buffersCreated;
        model.grads.zero();
        await model.lossAndBackward({ ids, mask: new Int32Array(B * T).fill(1), B, T }, ids);
        await opt.step(model.grads, 1e-5);
        await gpu.sync();
      }
      const peak = gpu.peakBytes - before;
      const resident = gpu.peakResident - before;
      const buffersPerStep = gpu.buffersCreated - created;
      return {
        model: name,
        B,
        T,
        recompute,
        fp16,
        weightsBytes: weights,
        stateBytes: state,
        peakBytes: peak,
        activationBytes: peak - state,
        residentBytes: resident,
        buffersPerStep,
        flash: gpu.policy.attention.flash,
      };
    });
  } finally {
    gpu.dryRun = false;
  }
}
