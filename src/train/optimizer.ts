// AdamW over BLOOM's f32 master weights as HF Trainer runs it: global grad-norm clipping, torch AdamW with
// decoupled weight decay (biases and LayerNorm weights excluded unless decayAll), a linear schedule with warmup,
// and overflow detection (a non-finite gradient norm skips the step) for dynamic loss scaling.
import type { Gpu, Tensor } from '../gpu/runtime.ts';
import type { BloomWeights } from '../model/bloom/weights.ts';
import { type BloomGrads, readSharded } from '../model/bloom/backward.ts';
import { adamwStep, clipCoefficient, sumSquares, sumsqSlots } from '../ops/adamw.ts';
import { fill } from '../ops/elementwise.ts';
import { parameterRole } from '../model/bloom/config.ts';

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

/** HF's default exclusion from weight decay: biases and LayerNorm parameters (their roles in the parameter table). */
export function decays(name: string): boolean {
  const role = parameterRole(name);
  return role === 'matrix' || role === 'embedding';
}

interface Slot {
  name: string;
  p: Tensor;
  m: Tensor;
  v: Tensor;
  decay: boolean;
  grad: (g: BloomGrads) => Tensor;
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

  constructor(
    readonly gpu: Gpu,
    readonly weights: BloomWeights,
    readonly opts: AdamWOptions,
  ) {
    let off = 0;
    const add = (name: string, p: Tensor, decayName: string, grad: (g: BloomGrads) => Tensor) => {
      if (p.dtype !== 'f32')
        throw new Error(
          `AdamW: weight ${name} is ${p.dtype}; training needs f32 master weights (BloomWeights dtype 'f32')`,
        );
      const m = gpu.tensor(p.numel, 'f32', `adam:m:${name}`),
        v = gpu.tensor(p.numel, 'f32', `adam:v:${name}`);
      fill(gpu, m, 0);
      fill(gpu, v, 0);
      this.slots.push({ name, p, m, v, decay: opts.decayAll || decays(decayName), grad, off });
      off += sumsqSlots(p.numel);
    };
    for (const [name, p] of weights.params) add(name, p, name, (g) => g.get(name));
    weights.emb.forEach((s, i) =>
      add(`word_embeddings[${s.lo}:${s.hi}]`, s.w, 'word_embeddings.weight', (g) => g.emb[i].dw),
    );
    this.partials = gpu.tensor(off, 'f32', 'adam:sumsq');
    this.clip = gpu.tensor(4, 'f32', 'adam:clip');
  }

  get stepCount(): number {
    return this.t;
  }

  lrAt(step: number): number {
    return linearLr(step, this.opts);
  }

  /** The global norm of every gradient times gradScale (1/lossScale), computed on the GPU (Infinity/NaN on overflow). */
  async gradNorm(grads: BloomGrads, gradScale = 1): Promise<number> {
    this.recordNorm(grads, gradScale);
    return (await this.readNorm()).norm;
  }

  /** Records per-chunk Σ (gradScale·g)² and clip_coef (norm, clip coefficient, finiteness into this.clip). */
  private recordNorm(grads: BloomGrads, gradScale: number): void {
    for (const s of this.slots) sumSquares(this.gpu, s.grad(grads), this.partials, s.off, gradScale);
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
  async step(grads: BloomGrads, lr: number, gradScale = 1): Promise<{ gradNorm: number; skipped: boolean }> {
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
        s.p,
        s.grad(grads),
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

  /** Moments by canonical parameter name (the embedding reassembled) and the step count, for checkpoints. */
  async getState(): Promise<AdamWState> {
    const pick = (k: 'm' | 'v') => {
      const params = new Map<string, Tensor>();
      const emb: { t: Tensor; lo: number; hi: number }[] = [];
      this.slots.forEach((s) => {
        if (!s.name.startsWith('word_embeddings[')) params.set(s.name, s[k]);
      });
      this.weights.emb.forEach((sh, i) =>
        emb.push({ t: this.slots[this.weights.params.size + i][k], lo: sh.lo, hi: sh.hi }),
      );
      return readSharded(this.gpu, this.weights, params, emb);
    };
    return { step: this.t, m: await pick('m'), v: await pick('v') };
  }

  setState(st: AdamWState): void {
    const H = this.weights.cfg.hiddenSize;
    const nParams = this.weights.params.size;
    this.slots.forEach((s, i) => {
      const shard = i >= nParams ? this.weights.emb[i - nParams] : null;
      const name = shard ? 'word_embeddings.weight' : s.name;
      for (const k of ['m', 'v'] as const) {
        const a = st[k].get(name);
        if (!a) throw new Error(`AdamW.setState: no ${k} for ${name}`);
        const part = shard ? a.subarray(shard.lo * H, shard.hi * H) : a;
        if (part.length !== s[k].numel)
          throw new Error(`AdamW.setState: ${k} of ${s.name} has ${part.length} elements, expected ${s[k].numel}`);
        this.gpu.upload(s[k], part);
      }
    });
    this.t = st.step;
  }

  destroy(): void {
    for (const s of this.slots) {
      s.m.destroy();
      s.v.destroy();
    }
    this.partials.destroy();
    this.clip.destroy();
    this.slots = [];
  }
}
