// Dynamic loss scaling with torch.cuda.amp.GradScaler's semantics (as HF Trainer uses it for --fp16): the loss is
// multiplied by `scale` before the backward; an overflowing step is skipped and backs the scale off; after
// `growthInterval` clean steps in a row the scale grows.

export interface LossScalerOptions {
  init?: number; // starting scale (GradScaler: 2^16)
  growthFactor?: number; // multiplies the scale after growthInterval clean steps (2)
  backoffFactor?: number; // multiplies the scale on an overflow (0.5)
  growthInterval?: number; // clean steps between growths (2000)
  dynamic?: boolean; // false: a fixed scale (still skipped on overflow by AdamW, never changed)
}

export interface LossScalerState {
  scale: number;
  growthTracker: number;
}

/** `--loss-scale dynamic|none|N` → a scaler (none = a fixed scale of 1). */
export function lossScalerFor(mode: 'dynamic' | 'none' | number, o: LossScalerOptions = {}): LossScaler {
  if (mode === 'dynamic') return new LossScaler(o);
  const s = mode === 'none' ? 1 : mode;
  if (!(typeof s === 'number' && s > 0 && Number.isFinite(s)))
    throw new Error(`--loss-scale must be dynamic, none or a positive number, got ${mode}`);
  return new LossScaler({ ...o, init: s, dynamic: false });
}

export class LossScaler {
  scale: number;
  private growthTracker = 0;
  readonly growthFactor: number;
  readonly backoffFactor: number;
  readonly growthInterval: number;
  readonly dynamic: boolean;

  constructor({
    init = 2 ** 16,
    growthFactor = 2,
    backoffFactor = 0.5,
    growthInterval = 2000,
    dynamic = true,
  }: LossScalerOptions = {}) {
    if (!(init > 0 && Number.isFinite(init)))
      throw new Error(`LossScaler: init scale must be a positive finite number, got ${init}`);
    if (!(growthFactor > 1 && backoffFactor > 0 && backoffFactor < 1))
      throw new Error(
        `LossScaler: need growthFactor > 1 and 0 < backoffFactor < 1 (got ${growthFactor}, ${backoffFactor})`,
      );
    if (!(Number.isInteger(growthInterval) && growthInterval > 0))
      throw new Error(`LossScaler: growthInterval must be a positive integer, got ${growthInterval}`);
    this.scale = init;
    this.growthFactor = growthFactor;
    this.backoffFactor = backoffFactor;
    this.growthInterval = growthInterval;
    this.dynamic = dynamic;
  }

  /** After each optimizer step: `skipped` = the scaled gradients overflowed (inf/NaN). GradScaler.update(). */
  update(skipped: boolean): void {
    if (!this.dynamic) return;
    if (skipped) {
      this.scale *= this.backoffFactor;
      this.growthTracker = 0;
    } else if (++this.growthTracker === this.growthInterval) {
      this.scale *= this.growthFactor;
      this.growthTracker = 0;
    }
  }

  getState(): LossScalerState {
    return { scale: this.scale, growthTracker: this.growthTracker };
  }

  setState(st: LossScalerState): void {
    if (!(st.scale > 0 && Number.isFinite(st.scale) && Number.isInteger(st.growthTracker)))
      throw new Error(`LossScaler.setState: bad state ${JSON.stringify(st)}`);
    this.scale = st.scale;
    this.growthTracker = st.growthTracker;
  }
}
