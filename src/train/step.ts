// One training step, written once: forward, loss and backward over each micro-batch (gradients accumulate), then
// the optimizer step, the loss scaler's update and the f16 compute copy's refresh. The InstructAlign loop
// (train/loop.ts: trainer and page), selftest, the benchmarks and the tests run this; docs/architecture.md walks
// through it.
import { shiftLabels, type Batch, type Gradients, type Trainable } from '../model/causal-lm.ts';
import type { AdamW } from './optimizer.ts';
import type { LossScaler } from './loss-scale.ts';

/** What a step runs on: the model set up for training (CausalLM.training), its optimizer and the loss scaler. */
export interface TrainParts {
  model: Trainable;
  opt: AdamW;
  scaler?: LossScaler;
}

/** One micro-batch: inputs and HF-style labels (−100 = no target; shifted inside the loss). */
export interface MicroBatch {
  batch: Batch;
  labels: Int32Array;
}

export interface StepResult {
  /** mean loss over the targets of all micro-batches (HF ≥ 4.46 under gradient accumulation) */
  loss: number;
  /** targets counted in that mean */
  nTokens: number;
  /** global gradient norm before clipping (unscaled) */
  gradNorm: number;
  /** true when the norm was not finite: weights and optimizer state were left untouched */
  skipped: boolean;
  /** the loss scale the backward used (1 without a scaler) */
  lossScale: number;
}

/**
 * Runs one optimizer step at learning rate `lr` over `micro` (one entry = no accumulation). Gradients must be zero
 * on entry and are zero again on return. `afterBackward` sees the accumulated (still loss-scaled) gradients before
 * the optimizer uses them.
 */
export async function trainStep(
  p: TrainParts,
  micro: readonly MicroBatch[],
  lr: number,
  afterBackward?: (grads: Gradients) => void | Promise<void>,
): Promise<StepResult> {
  if (!micro.length) throw new Error('trainStep: no micro-batch');
  // HF (≥ 4.46) divides the summed loss by the targets of the whole accumulated batch
  const numItems = micro.reduce(
    (n, m) => n + shiftLabels(m.labels, m.batch.B, m.batch.T).filter((t) => t >= 0).length,
    0,
  );
  const lossScale = p.scaler?.scale ?? 1;
  let loss = 0,
    nTokens = 0;
  for (const m of micro) {
    const r = await p.model.lossAndBackward(m.batch, m.labels, { numItems, lossScale });
    loss += r.loss; // each micro-batch's summed loss is already divided by numItems
    nTokens += r.nTokens;
  }
  const grads = p.model.grads;
  await afterBackward?.(grads);
  const { gradNorm, skipped } = await p.opt.step(grads, lr, 1 / lossScale);
  // like HF, a skipped (overflowed) step backs the scale off; the caller decides what it means for the schedule
  p.scaler?.update(skipped);
  if (!skipped) p.model.synced();
  grads.zero();
  return { loss, nTokens, gradNorm, skipped, lossScale };
}
