// The one thing evaluation needs from a model: a mean log-prob per text. The runtime is wrapped to this shape,
// and tests use a fake, so the whole evaluation pipeline runs without a GPU.

export interface ScorerInfo {
  model: string;
  adapter: string;
  dtype: string;
  int8: boolean;
  firstPad?: boolean; // the official batched scorer's quirk: the first pad's log-prob counted (--count-first-pad)
}

export interface Scorer {
  /** mean token log-prob of each full text (prompt filled with a label), = Σ_{t} log p(ids[t+1]|ids[..t]) / (n-1) over non-pad positions; texts longer than maxLength tokens are truncated from the LEFT. groupSize: consecutive texts come in groups of that size sharing a prompt (a scorer may compute the shared part once) */
  scoreTexts(texts: string[], opts?: { maxLength?: number; groupSize?: number }): Promise<number[]>;
  describe(): ScorerInfo;
}

/** The part of host/runtime.ts's Runtime that scoring uses (kept structural so this module never imports the GPU code). */
export interface RuntimeLike {
  score(
    texts: string[],
    opts?: { maxLength?: number; batchSize?: number; groupSize?: number; firstPad?: boolean },
  ): Promise<{ mean_logprob: number }[]>;
}

/**
 * Wrap a loaded runtime as a Scorer. `batchSize` is the GPU micro-batch; the caller decides how many texts to send.
 * `prefixSharing: false` never tells the runtime that texts come in groups (full-text scoring).
 */
export function scorerFromRuntime(rt: RuntimeLike, info: ScorerInfo, batchSize?: number, prefixSharing = true): Scorer {
  return {
    async scoreTexts(texts, opts) {
      const out = await rt.score(texts, {
        maxLength: opts?.maxLength,
        batchSize,
        groupSize: prefixSharing ? opts?.groupSize : undefined,
        firstPad: info.firstPad,
      });
      if (out.length !== texts.length)
        throw new Error(`runtime.score returned ${out.length} results for ${texts.length} texts`);
      return out.map((r) => r.mean_logprob);
    },
    describe: () => info,
  };
}
