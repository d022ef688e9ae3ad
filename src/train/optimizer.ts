// AdamW over a model's f32 master weights (the seam's ParamTensors, src/model/causal-lm.ts) as HF Trainer runs it: global grad-norm clipping, torch AdamW with
// decoupled weight decay (biases and LayerNorm weights excluded unless decayAll), a linear schedule with warmup,
// and overflow detection (a non-finite gradient norm skips the step) for dynamic loss scaling.
import type { Gpu, Tensor } from '../gpu/runtime.ts';
import type { Scope } from '../gpu/scope.ts';
import {
  paramSlice,
  readParamTensors,
  type Gradients,
  type ParamRole,
  type ParamSpec,
  type ParamTensor,
} from '../model/causal-lm.ts';
import { adamwStep, clipCoefficient, sumSquares, sumsqSlots } from '../ops/adamw.ts';
import { fill } from '../ops/elementwise.ts';

export interface AdamWOptions {
  lr: number; // peak learning rate
  betas: [number, number]; // moment decays (0.9, 0.999)
  eps: number; // added to sqrt(v̂)
  weightDecay: number; // decoupled decay per step: p *= 1 − lr·wd
  maxGradNorm: number; // global L2 clip (0 or Infinity = off)
  decayAll?: boolean; // decay biases and LayerNorm weights too (HF excludes them by default)
  totalSteps?: number; // linear decay to 0 at this step (undefined = constant after warmup)
  warmupSteps?: number; // linear warmup from 0 over these steps
}

/** HF get_linear_schedule_with_warmup: lr·s/warmup during warmup, then lr·(total − s)/(total − warmup), ≥ 0. */
export function linearLr(step: number, o: { lr: number; totalSteps?: number; warmupSteps?: number }): number {
  const warm = o.warmupSteps ?? 0;
  if (step < warm) return (o.lr * step) / Math.max(1, warm);
  if (o.totalSteps === undefined) return o.lr;
  return o.lr * Math.max(0, (o.totalSteps - step) / Math.max(1, o.totalSteps - warm));
}

/** HF's default exclusion from weight decay: biases and norm parameters (by the role each tensor carries). */
export function decays(role: ParamRole): boolean {
  return role === 'matrix' || role === 'embedding';
}

interface Slot {
  param: ParamTensor;
  m: Tensor;
  v: Tensor;
  decay: boolean;
  /** the gradient's index in Gradients.tensors (laid out as the parameters) */
  index: number;
  off: number;
}

export interface AdamWState {
  step: number;
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
}

export class AdamW {
  private slots: Slot[] = [];
  private partials: Tensor;
  private clip: Tensor; // clip_coef output: (norm, coefficient, finite)
  private t = 0;

  /**
   * `params`: the f32 master tensors the steps update in place (Trainable.params), with their roles. The moments and
   * scratch are made in `mem` and freed with it; the kernels run on `gpu` (default: the scope's device).
   */
  constructor(
    mem: Scope,
    readonly params: readonly ParamTensor[],
    readonly opts: AdamWOptions,
    readonly gpu: Gpu = mem.gpu,
  ) {
    let off = 0;
    params.forEach((param, index) => {
      const p = param.tensor;
      if (p.dtype !== 'f32')
        throw new Error(`AdamW: weight ${param.key} is ${p.dtype}; training needs f32 master weights`);
      const m = mem.tensor(p.numel, 'f32', `adam:m:${param.key}`),
        v = mem.tensor(p.numel, 'f32', `adam:v:${param.key}`);
      fill(this.gpu, m, 0);
      fill(this.gpu, v, 0);
      this.slots.push({ param, m, v, decay: opts.decayAll || decays(param.role), index, off });
      off += sumsqSlots(p.numel);
    });
    this.partials = mem.tensor(off, 'f32', 'adam:sumsq');
    this.clip = mem.tensor(4, 'f32', 'adam:clip');
  }

  private grad(grads: Gradients, s: Slot): Tensor {
    const g = grads.tensors[s.index];
    if (g?.key !== s.param.key)
      throw new Error(`AdamW: gradient ${s.index} is ${g?.key}, not ${s.param.key}: grads are not laid out as params`);
    return g.tensor;
  }

  get stepCount(): number {
    return this.t;
  }

  lrAt(step: number): number {
    return linearLr(step, this.opts);
  }

  /** The global norm of every gradient times gradScale (1/lossScale), computed on the GPU (Infinity/NaN on overflow). */
  async gradNorm(grads: Gradients, gradScale = 1): Promise<number> {
    this.recordNorm(grads, gradScale);
    return (await this.readNorm()).norm;
  }

  /** Records per-chunk Σ (gradScale·g)² and clip_coef (norm, clip coefficient, finiteness into this.clip). */
  private recordNorm(grads: Gradients, gradScale: number): void {
    for (const s of this.slots) sumSquares(this.gpu, this.grad(grads, s), this.partials, s.off, gradScale);
    clipCoefficient(this.gpu, this.partials, this.partials.numel, this.clip, this.opts.maxGradNorm);
  }

  private async readNorm(): Promise<{ norm: number; finite: boolean }> {
    const [norm, , ok] = await this.gpu.readF32(this.clip);
    return ok === 1 ? { norm, finite: true } : { norm: ok < 0 ? NaN : Infinity, finite: false };
  }

  /**
   * One step with gradients multiplied by `gradScale` (1/lossScale), clipped to maxGradNorm. A non-finite norm
   * (overflow) leaves weights, moments and the step count untouched and reports skipped. Grads are not zeroed.
   */
  async step(grads: Gradients, lr: number, gradScale = 1): Promise<{ gradNorm: number; skipped: boolean }> {
    // f32 flushes subnormals: a multiplier under 2^-126 would silently zero every gradient
    if (!(gradScale >= 1.1754944e-38 && gradScale <= 3.4e38))
      throw new Error(
        `AdamW.step: gradScale ${gradScale} is outside the f32 normal range; keep the loss scale within [2^-126, 2^126]`,
      );
    // The norm, the clip coefficient and the overflow check stay on the GPU (clip_coef), so the update is recorded
    // right behind the backward with no round trip; the norm is read back afterwards for the log. The update is
    // recorded for step t + 1 and the kernels leave everything untouched if the norm is not finite, in which case t
    // does not advance (as HF skips optimizer.step on overflow).
    this.recordNorm(grads, gradScale);
    const [beta1, beta2] = this.opts.betas;
    for (const s of this.slots) {
      adamwStep(
        this.gpu,
        s.param.tensor,
        this.grad(grads, s),
        s.m,
        s.v,
        {
          lr,
          beta1,
          beta2,
          eps: this.opts.eps,
          wd: s.decay ? this.opts.weightDecay : 0,
          gscale: gradScale,
          step: this.t + 1,
        },
        this.clip,
      );
    }
    const { norm, finite } = await this.readNorm();
    if (!finite) return { gradNorm: norm, skipped: true };
    this.t++;
    return { gradNorm: norm, skipped: false };
  }

  /** Moments by canonical parameter name (row shards reassembled) and the step count, for checkpoints. */
  async getState(): Promise<AdamWState> {
    const order = tableOf(this.params);
    const pick = (k: 'm' | 'v') =>
      readParamTensors(
        this.gpu,
        this.slots.map((s) => ({ ...s.param, tensor: s[k] })),
        order,
      );
    return { step: this.t, m: await pick('m'), v: await pick('v') };
  }

  setState(st: AdamWState): void {
    for (const s of this.slots) {
      for (const k of ['m', 'v'] as const) {
        const a = st[k].get(s.param.name);
        if (!a) throw new Error(`AdamW.setState: no ${k} for ${s.param.name}`);
        const part = paramSlice(s.param, a);
        if (part.length !== s[k].numel || (s.param.rows && a.length !== s.param.rows.total * s.param.rows.width))
          throw new Error(`AdamW.setState: ${k} of ${s.param.key} has ${part.length} elements, expected ${s[k].numel}`);
        this.gpu.upload(s[k], part);
      }
    }
    this.t = st.step;
  }
}

/** The parameters a tensor list covers, in first-appearance order, with their whole shapes. */
function tableOf(list: readonly ParamTensor[]): ParamSpec[] {
  const out = new Map<string, ParamSpec>();
  for (const p of list)
    if (!out.has(p.name))
      out.set(p.name, { name: p.name, role: p.role, shape: p.rows ? [p.rows.total, p.rows.width] : [p.tensor.numel] });
  return [...out.values()];
}
