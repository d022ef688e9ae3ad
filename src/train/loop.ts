// One InstructAlign optimizer step, shared by `instructalign train` (trainer.ts, which adds files: log.jsonl,
// checkpoints, resume) and the browser worker's align(): texts from the TrainingStream → token batches →
// trainStep (src/train/step.ts: forward/backward → AdamW). Browser-safe: no file access here, so both hosts run the very same steps.
import type { Scope } from '../gpu/scope.ts';
import { shiftLabels, type Batch, type CausalLM, type Gradients, type Trainable } from '../model/causal-lm.ts';
import { AdamW } from './optimizer.ts';
import { describeTuning, tuneMatmuls } from '../ops/matmul-tune.ts';
import { lossScalerFor, type LossScaler, type LossScalerOptions } from './loss-scale.ts';
import type { Tokenizer } from '../wasm/tokenizer.ts';
import { TrainingStream, type TrainingStreamOptions } from './data/stream.ts';
import type { ParallelPair } from './data/parallel.ts';
import type { ReplayRow } from './data/replay.ts';
import { collate, encodeText } from './data/sequences.ts';
import { trainStep } from './step.ts';

/** The settings a step needs (a subset of TrainOptions, whose comments say what each is). */
export interface LoopOptions {
  l1: string[];
  l2: string[];
  objectives: string;
  replaySize?: number;
  steps: number;
  lr: number;
  warmupSteps: number;
  batchSize: number;
  gradAccum: number;
  maxLength: number;
  weightDecay: number;
  maxGradNorm: number;
  decayAll: boolean;
  seed: number;
  langNames?: TrainingStreamOptions['langNames'];
  officialTlmLangSwap?: boolean;
  fp16?: boolean;
  recompute?: boolean;
  lossScale?: 'dynamic' | 'none' | number;
  lossScaler?: LossScalerOptions;
}

/** The defaults of `instructalign train` (the CLI adds saveSteps); the page's align form starts from them too.
 *  Frozen, the language lists too: copy before changing. */
export const LOOP_DEFAULTS = Object.freeze({
  l1: Object.freeze(['eng', 'ind']) as string[],
  l2: Object.freeze(['ace', 'ban', 'bjn', 'bug', 'jav', 'min', 'sun']) as string[],
  objectives: 'tlm,xss',
  steps: 100,
  lr: 1e-5,
  warmupSteps: 0,
  batchSize: 32,
  gradAccum: 1,
  maxLength: 128,
  weightDecay: 0,
  maxGradNorm: 1,
  decayAll: false,
  seed: 42,
} satisfies LoopOptions);

export interface StepLog {
  step: number;
  loss: number;
  lr: number;
  grad_norm: number;
  loss_scale: number;
  tokens: number;
  tokens_per_s: number;
  skipped: boolean;
  /** validation loss (mean cross-entropy per token of the held-out texts), on steps that evaluate */
  eval_loss?: number;
  /** exp(eval_loss) */
  eval_perplexity?: number;
}

/** The deterministic text stream of a run: the directional pairs, replay mixed in with the seed. */
export function trainingStream(o: LoopOptions, pairs: ParallelPair[], replay?: ReplayRow[]): TrainingStream {
  return new TrainingStream({
    pairs,
    objectives: o.objectives,
    seed: o.seed,
    langNames: o.langNames,
    replay,
    replaySize: o.replaySize,
    officialTlmLangSwap: o.officialTlmLangSwap,
  });
}

/**
 * A run's training state over a loaded model (f32): the model set up for training (with its f16 compute copy under
 * fp16), the optimizer and the loss scaler, made in `mem` and freed with it; the model's weights stay (with the steps
 * made).
 */
export class TrainLoop {
  readonly model: Trainable;
  readonly opt: AdamW;
  readonly scaler: LossScaler;
  constructor(
    mem: Scope,
    private readonly lm: CausalLM,
    private readonly tok: Tokenizer,
    readonly stream: TrainingStream,
    private readonly o: LoopOptions,
  ) {
    if (o.batchSize % o.gradAccum)
      throw new Error(`--batch-size ${o.batchSize} must be a multiple of --grad-accum ${o.gradAccum}`);
    this.scaler = lossScalerFor(o.lossScale ?? (o.fp16 ? 'dynamic' : 'none'), o.lossScaler);
    this.model = mem.own(lm.training({ fp16: o.fp16, recompute: o.recompute }));
    this.opt = new AdamW(mem, this.model.params, {
      lr: o.lr,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: o.weightDecay,
      maxGradNorm: o.maxGradNorm,
      decayAll: o.decayAll,
      totalSteps: o.steps,
      warmupSteps: o.warmupSteps,
    });
  }

  /**
   * Optimizer step number `step` (1-based): the next batchSize texts, in gradAccum micro-batches. `afterBackward`
   * runs before the optimizer (tests force an overflow there); `log` gets the matmul tuner's line.
   */
  async step(
    step: number,
    hooks: { afterBackward?: (grads: Gradients, step: number) => void; log?: (m: string) => void } = {},
  ): Promise<StepLog> {
    const { o, tok, stream, opt, scaler } = this;
    const t0 = Date.now();
    const micro = Array.from({ length: o.gradAccum }, () =>
      collate(
        Array.from({ length: o.batchSize / o.gradAccum }, () => encodeText(tok, stream.next().text, o.maxLength)),
        tok.padId,
        'left',
      ),
    );
    const tokens = micro.reduce((n, b) => n + b.attentionMask.reduce((x, y) => x + y, 0), 0);
    // the schedule follows the optimizer steps actually taken (docs/paper-recipe.md, "fp16 and the schedule")
    const lr = opt.lrAt(opt.stepCount);
    // like HF, a skipped (overflowed) step counts towards --steps and backs the scale off, but does not advance
    // the LR schedule: HF Trainer steps its scheduler only when the optimizer ran (`optimizer_was_run` up to
    // ~4.3x; since then accelerate's AcceleratedScheduler.step returns early when `step_was_skipped`)
    const { loss, gradNorm, skipped, lossScale } = await trainStep(
      { model: this.model, opt, scaler },
      micro.map((b) => ({ batch: { ids: b.inputIds, mask: b.attentionMask, B: b.B, T: b.T }, labels: b.labels })),
      lr,
      (g) => hooks.afterBackward?.(g, step),
    );
    // the first steps meet the run's matmul shapes: on a GPU, time the tiled kernels for them once
    const tuned = await tuneMatmuls(this.lm.gpu);
    if (tuned.length) hooks.log?.(describeTuning(tuned));
    return {
      step,
      loss,
      lr,
      grad_norm: gradNorm,
      loss_scale: lossScale,
      tokens,
      tokens_per_s: tokens / ((Date.now() - t0) / 1000),
      skipped,
    };
  }

  /**
   * The validation loss: the mean cross-entropy per target token over `texts` (the training loss's definition:
   * the whole text is the target, right-truncated to maxLength), forward only, in micro-batches of the step's
   * size. Weights are not touched.
   */
  async evalLoss(texts: readonly string[]): Promise<{ loss: number; tokens: number }> {
    const { o, tok } = this;
    const per = Math.max(1, o.batchSize / o.gradAccum);
    let sum = 0,
      tokens = 0;
    for (let i = 0; i < texts.length; i += per) {
      const b = collate(
        texts.slice(i, i + per).map((t) => encodeText(tok, t, o.maxLength)),
        tok.padId,
        'left',
      );
      const r = await forwardLoss(this.lm, { ids: b.inputIds, mask: b.attentionMask, B: b.B, T: b.T }, b.labels);
      sum += r.sum;
      tokens += r.tokens;
    }
    return { loss: tokens ? sum / tokens : NaN, tokens };
  }
}

/** Σ −log p(target) over the targets of one batch (labels as lossAndBackward's), with no backward. */
export async function forwardLoss(
  model: CausalLM,
  batch: Batch,
  labels: Int32Array,
): Promise<{ sum: number; tokens: number }> {
  const targets = shiftLabels(labels, batch.B, batch.T);
  const { logprobs } = await model.forward(batch, { targets });
  let sum = 0,
    tokens = 0;
  for (let r = 0; r < targets.length; r++)
    if (targets[r] >= 0) {
      sum -= logprobs[r];
      tokens++;
    }
  return { sum, tokens };
}

/**
 * What the progress line shows of a run: the loss smoothed (an exponential moving average with bias correction,
 * β = 0.9, non-finite losses left out), the learning rate, tokens per second since the start, the last eval loss.
 */
export class TrainMeter {
  private ema = 0;
  private n = 0;
  private tokens = 0;
  private readonly t0: number;
  evalLoss?: number;
  constructor(
    private readonly now: () => number = Date.now,
    private readonly beta = 0.9,
  ) {
    this.t0 = now();
  }

  add(s: StepLog): void {
    this.tokens += s.tokens;
    if (!Number.isFinite(s.loss)) return;
    this.ema = this.beta * this.ema + (1 - this.beta) * s.loss;
    this.n++;
  }

  /** The smoothed loss (NaN before a finite one). */
  get loss(): number {
    return this.n ? this.ema / (1 - this.beta ** this.n) : NaN;
  }

  get tokensPerSecond(): number {
    const s = (this.now() - this.t0) / 1000;
    return s > 0 ? this.tokens / s : NaN;
  }

  /** `loss 6.62 lr 2.0e-4 1.2k tok/s eval 5.91` */
  line(lr: number): string {
    const tps = this.tokensPerSecond;
    const rate = !Number.isFinite(tps) ? '?' : tps >= 1000 ? `${(tps / 1000).toFixed(1)}k` : tps.toFixed(0);
    const ev = this.evalLoss !== undefined ? ` eval_loss ${this.evalLoss.toFixed(4)}` : '';
    return `loss ${Number.isFinite(this.loss) ? this.loss.toFixed(4) : '?'} lr ${lr.toExponential(1)} ${rate} tok/s${ev}`;
  }
}
