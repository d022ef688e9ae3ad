// Host side of the sampler (assembly/sampler.ts): HF generate's repetition penalty, temperature, top-k and
// top-p, drawn with a seeded xoshiro128** whose 4-word state can be saved and restored, so runs replay.
import { wasmSync } from './load.ts';

export interface SampleOptions {
  temperature?: number; // 0 = greedy; unset = greedy unless topK/topP are set (then 1)
  topK?: number; // keep the k largest logits (ties with the k-th kept, as HF); 0/unset = off
  topP?: number; // nucleus: smallest top set with mass >= topP (HF TopPLogitsWarper); 1/unset = off
  repetitionPenalty?: number; // HF: an earlier id's logit > 0 is divided by it, else multiplied; 1/unset = off
  seed?: number; // integer 0 .. 2^53-1, default 0: a run is reproducible unless seeded otherwise
}

/**
 * One sampler per generation stream. Needs the wasm module loaded (`await loadWasm()` from load.ts, which
 * Tokenizer.fromJSON also does). Each non-greedy sample() consumes exactly two u32 from the PRNG.
 */
export class Sampler {
  private readonly temperature: number;
  private readonly topK: number;
  private readonly topP: number;
  private readonly penalty: number;
  private readonly state = new Uint32Array(4);

  constructor(opts: SampleOptions = {}) {
    const { temperature, topK = 0, topP = 1, repetitionPenalty = 1, seed = 0 } = opts;
    if (temperature !== undefined && !(temperature >= 0 && Number.isFinite(temperature)))
      throw new RangeError(`temperature must be >= 0, got ${temperature}`);
    if (!Number.isInteger(topK) || topK < 0) throw new RangeError(`topK must be an integer >= 0, got ${topK}`);
    if (!(topP > 0 && topP <= 1)) throw new RangeError(`topP must be in (0, 1], got ${topP}`);
    if (!(repetitionPenalty > 0 && Number.isFinite(repetitionPenalty)))
      throw new RangeError(`repetitionPenalty must be > 0, got ${repetitionPenalty}`);
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw new RangeError(`seed must be an integer in [0, 2^53), got ${seed}`);
    const greedy = temperature === 0 || (temperature === undefined && topK === 0 && topP === 1);
    this.temperature = greedy ? 0 : (temperature ?? 1);
    this.topK = topK;
    this.topP = topP;
    this.penalty = repetitionPenalty;
    const w = wasmSync(),
      io = w.samplerIO(0, 0);
    w.samplerSeed(io, seed % 2 ** 32, Math.floor(seed / 2 ** 32));
    this.state.set(new Uint32Array(w.memory.buffer, io, 4));
  }

  /** Next id given the step's logits (not modified) and the ids so far (for the repetition penalty). */
  sample(logits: Float32Array, previousIds: number[]): number {
    const w = wasmSync(),
      n = logits.length,
      m = this.penalty === 1 ? 0 : previousIds.length;
    if (n === 0) throw new RangeError('sample: empty logits');
    const io = w.samplerIO(n, m);
    const mem = w.memory.buffer;
    new Uint32Array(mem, io, 4).set(this.state);
    new Float32Array(mem, io + 16, n).set(logits);
    if (m) new Int32Array(mem, io + 16 + 4 * n, m).set(previousIds);
    const id = w.sample(io, io + 16, n, io + 16 + 4 * n, m, this.temperature, this.topK, this.topP, this.penalty);
    this.state.set(new Uint32Array(w.memory.buffer, io, 4));
    return id;
  }

  /** The PRNG state (4 unsigned 32-bit words); setState() of it replays the same draws. */
  getState(): number[] {
    return Array.from(this.state);
  }

  setState(s: number[]): void {
    if (s.length !== 4 || !s.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32) || s.every((x) => x === 0)) {
      throw new RangeError('setState needs the 4 u32 words of getState() (not all zero)');
    }
    this.state.set(s);
  }
}
