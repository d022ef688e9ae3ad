// The one thing evaluation needs from a model: a mean log-prob per text. The runtime is wrapped to this shape,
// and tests use a fake, so the whole evaluation pipeline runs without a GPU.

export interface ScorerInfo {
  model: string;
  adapter: string;
  dtype: string;
  int8: boolean;
  int8Threshold?: number; // the outlier threshold the int8 weights were loaded with (absent without int8)
  firstPad?: boolean; // the official batched scorer's quirk: the first pad's log-prob counted (--count-first-pad)
  /** content hashes of the model's files as loaded (Runtime.info().files); absent: fingerprint.ts reads the folder */
  files?: Record<string, string>;
}

/** What Runtime.info() says about the loaded model (structural: this module never imports the GPU code). */
export interface LoadedModelLike {
  name: string;
  int8: { threshold: number } | null;
  files: Record<string, string>;
}

/**
 * The ScorerInfo of a runtime's loaded model, the same for every door (CLI, Node API, browser worker): its name,
 * the files and int8 threshold it was loaded with (not what the folder holds now), and the door's dtype label.
 */
export function loadedScorerInfo(
  m: LoadedModelLike,
  o: { adapter: string; dtype: string; firstPad?: boolean },
): ScorerInfo {
  return {
    model: m.name,
    adapter: o.adapter,
    dtype: o.dtype,
    int8: !!m.int8,
    ...(m.int8 ? { int8Threshold: m.int8.threshold } : {}),
    ...(o.firstPad ? { firstPad: true } : {}),
    files: { ...m.files },
  };
}

/** One scored text, token by token (the forward pass label scoring reads, src/eval/scoring.ts). */
export interface TextScore {
  /** the paper's rule: mean token log-prob of the whole text (as scoreTexts) */
  mean: number;
  /** logprobs[t] = log p(token t+1 | tokens ..t) */
  logprobs: number[];
  /** UTF-8 byte offset where token t starts in the text (after left truncation); undefined: not known */
  offsets?: number[];
  /** the text's UTF-8 length (where the last token ends) */
  bytes: number;
}

export interface Scorer {
  /** mean token log-prob of each full text (prompt filled with a label), = Σ_{t} log p(ids[t+1]|ids[..t]) / (n-1) over non-pad positions; texts longer than maxLength tokens are truncated from the LEFT. groupSize: consecutive texts come in groups of that size sharing a prompt (a scorer may compute the shared part once) */
  scoreTexts(texts: string[], opts?: { maxLength?: number; groupSize?: number }): Promise<number[]>;
  /** the same pass, token by token (label scoring); a scorer without it can score with the paper's rule only */
  scoreTokens?(texts: string[], opts?: { maxLength?: number; groupSize?: number }): Promise<TextScore[]>;
  describe(): ScorerInfo;
}

/** The part of host/runtime.ts's Runtime that scoring uses (kept structural so this module never imports the GPU code). */
export interface RuntimeLike {
  score(
    texts: string[],
    opts?: { maxLength?: number; batchSize?: number; groupSize?: number; firstPad?: boolean },
  ): Promise<{ mean_logprob: number; token_logprobs?: number[]; offsets?: number[] }[]>;
}

/**
 * Wrap a loaded runtime as a Scorer. `batchSize` is the GPU micro-batch; the caller decides how many texts to send.
 * `prefixSharing: false` never tells the runtime that texts come in groups (full-text scoring).
 */
export function scorerFromRuntime(rt: RuntimeLike, info: ScorerInfo, batchSize?: number, prefixSharing = true): Scorer {
  const run = async (texts: string[], opts?: { maxLength?: number; groupSize?: number }) => {
    const out = await rt.score(texts, {
      maxLength: opts?.maxLength,
      batchSize,
      groupSize: prefixSharing ? opts?.groupSize : undefined,
      firstPad: info.firstPad,
    });
    if (out.length !== texts.length)
      throw new Error(`runtime.score returned ${out.length} results for ${texts.length} texts`);
    return out;
  };
  const enc = new TextEncoder();
  return {
    async scoreTexts(texts, opts) {
      return (await run(texts, opts)).map((r) => r.mean_logprob);
    },
    async scoreTokens(texts, opts) {
      return (await run(texts, opts)).map((r, i) => ({
        mean: r.mean_logprob,
        logprobs: r.token_logprobs ?? [],
        offsets: r.token_logprobs ? r.offsets : undefined,
        bytes: enc.encode(texts[i]).length,
      }));
    },
    describe: () => info,
  };
}
