// Memory plans: the exact peak GPU memory of one training step, from a dry run (allocations counted, no kernel run).
import type { Gpu } from '../gpu/runtime.ts';
import { bloomConfigFor, bloomParameters } from '../model/bloom/config.ts';
import { BloomWeights } from '../model/bloom/weights.ts';
import { BloomForward } from '../model/bloom/forward.ts';
import { BloomGrads, lossAndBackward } from '../model/bloom/backward.ts';
import { AdamW } from '../train/optimizer.ts';
import { F16ComputeWeights } from '../model/bloom/mixed.ts';

function zeroArrays(name: string): Map<string, Float32Array> {
  // untouched zero pages: a dry run never uploads them, so even 1B1's 4 GiB of f32 costs no memory
  return new Map(
    bloomParameters(bloomConfigFor(name)).map((p) => [p.name, new Float32Array(p.shape.reduce((x, y) => x * y, 1))]),
  );
}

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
  const cfg = bloomConfigFor(name);
  const gpu = flash ? device.withPolicy({ attention: { flash } }) : device;
  const before = gpu.bytesAllocated;
  gpu.dryRun = true;
  try {
    const w = BloomWeights.fromArrays(gpu, cfg, zeroArrays(name), 'f32');
    const compute = fp16 ? new F16ComputeWeights(gpu, w) : null;
    const weights = gpu.bytesAllocated - before;
    const fwd = new BloomForward(gpu, compute ? compute.w : w);
    fwd.recompute = recompute;
    const grads = new BloomGrads(gpu, w);
    const opt = new AdamW(gpu, w, { lr: 1e-5, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maxGradNorm: 1 });
    const state = gpu.bytesAllocated - before;
    gpu.peakBytes = gpu.bytesAllocated;
    gpu.peakResident = gpu.bytesAllocated + gpu.pooledBytes;
    const ids = new Int32Array(B * T).map((_, i) => 5 + (i % (cfg.vocabSize - 5)));
    // two steps: the second shows the buffer pool's steady state (buffers created per step, bytes really held)
    let created = 0;
    for (let i = 0; i < 2; i++) {
      created = gpu.buffersCreated;
      grads.zero();
      await lossAndBackward(fwd, { ids, mask: new Int32Array(B * T).fill(1), B, T }, ids, grads);
      await opt.step(grads, 1e-5);
      await gpu.sync();
    }
    const peak = gpu.peakBytes - before;
    const resident = gpu.peakResident - before;
    const buffersPerStep = gpu.buffersCreated - created;
    grads.destroy();
    compute?.destroy();
    w.destroy();
    fwd.slopes.destroy();
    opt.destroy();
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
  } finally {
    gpu.dryRun = false;
  }
}
