// The one public runtime API, identical in Node and in a browser worker (worker.ts exposes it through Comlink):
// open the GPU, load a checkpoint of any registered family (src/model/families.ts, by config.json's model_type),
// tokenize, score texts (the method's label-scoring rule), generate. The model is seen through the seam only
// (src/model/causal-lm.ts).
import { RequestError } from '../api/requests/core.ts';
import { checkTokenIds } from '../api/requests/tokenize.ts';
import { describeAdapter, type AdapterSummary } from '../gpu/device.ts';
import { Gpu } from '../gpu/runtime.ts';
import type { KernelPolicy, PolicyOverrides } from '../gpu/policy.ts';
import { checkpointSource, checkTokenizerFits, openCheckpoint } from '../model/checkpoint.ts';
import type { CausalLM, Int8Options, ModelConfig, StorageDType } from '../model/causal-lm.ts';
import { buildModel, randomParameters } from '../model/families.ts';
import { Tokenizer } from '../wasm/tokenizer.ts';
import { Sampler, type SampleOptions } from '../wasm/sampler.ts';

export interface RuntimeOptions {
  log?: (msg: string) => void;
  /**
   * Kernel choices over the adapter's defaults and the environment's (src/gpu/policy.ts), e.g.
   * `{ family: 'gpu' }`, `{ attention: { flash: 'always' } }`, `{ matmul: { tune: 'off' } }`, `{ subgroups: false }`.
   * Each runtime keeps its own: two runtimes in one process do not share them.
   */
  policy?: PolicyOverrides;
}

export interface LoadOptions {
  /** a checkpoint folder (Node) */
  path?: string;
  /** the folder's files by name (browser: <input webkitdirectory>, a directory handle, or fetched URLs) */
  files?: Map<string, Blob>;
  /** weight storage on the GPU: f32, or f16 packed two per u32 (f32 math) */
  dtype?: StorageDType;
  /** LLM.int8() (docs/int8.md): the block Linears stored as int8 with f32 row scales, quantized at load time */
  int8?: boolean;
  /** activation outlier threshold for int8 (default 6, as bitsandbytes; 0 = int8 only, no outlier columns) */
  int8Threshold?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface ModelInfo {
  name: string;
  /** the architecture-neutral config (`family` names the architecture; `raw` is the parsed config.json) */
  config: ModelConfig;
  dtype: StorageDType;
  int8: Int8Options | null;
  parameters: number;
  gpuBytes: number;
  /**
   * Content hashes of the model's files as they were loaded (config.json, tokenizer.json, weights): evaluation
   * fingerprints take them from here, so a folder changed after loading cannot pass for the model on the GPU.
   * A random model: its seed.
   */
  files: Record<string, string>;
}

export interface ScoreResult {
  ids: number[];
  /** token_logprobs[t] = log p(ids[t+1] | ids[..t]) */
  token_logprobs: number[];
  /** mean of token_logprobs (the label-scoring rule); NaN for a text of fewer than two tokens */
  mean_logprob: number;
  /** from score(): UTF-8 byte offset in the text where ids[t] starts (left-truncated tokens are gone, so the first
   *  offset may be > 0; an appended first pad starts at the text's end); absent when the tokens do not add up to the
   *  text's bytes. Label scoring (src/eval/scoring.ts) reads it. */
  offsets?: number[];
}

export interface GenerateOptions extends SampleOptions {
  maxNewTokens?: number;
  /** stop at </s> (default true) */
  stopAtEos?: boolean;
}

function int8Options(o: { int8?: boolean; int8Threshold?: number }): Int8Options | undefined {
  if (!o.int8) return undefined;
  const threshold = o.int8Threshold ?? 6;
  if (!(threshold >= 0) || !Number.isFinite(threshold))
    throw new Error(
      `--int8-threshold must be a finite number ≥ 0 (6 as bitsandbytes; 0 = int8 only), got ${o.int8Threshold}`,
    );
  return { threshold };
}

export class Runtime {
  private model: CausalLM | null = null;
  private tok: Tokenizer | null = null;
  private tokJSON = '';
  private modelName = '';
  private modelFiles: Record<string, string> = {};
  private constructor(
    readonly gpu: Gpu,
    private log: (m: string) => void,
  ) {}

  /** A runtime on a device the caller already holds (benchmarks): free its model with unload(), not dispose(). */
  static onGpu(gpu: Gpu, log: (m: string) => void = () => {}): Runtime {
    return new Runtime(gpu, log);
  }

  static async create(opts: RuntimeOptions = {}): Promise<Runtime> {
    const log = opts.log ?? ((m: string) => console.error(`[instructalign] ${m}`));
    return new Runtime(await Gpu.open({ log, policy: opts.policy }), log);
  }

  /** The kernel choices this runtime's ops run with. */
  get policy(): KernelPolicy {
    return this.gpu.policy;
  }

  get adapter(): AdapterSummary & { text: string; limits: Record<string, number>; features: string[] } {
    const h = this.gpu.handle;
    return { ...h.adapter, text: describeAdapter(h), limits: h.limits, features: [...h.features] };
  }
  /** short adapter description (used in reports) */
  get adapterInfo(): string {
    return describeAdapter(this.gpu.handle);
  }

  async loadModel(opts: LoadOptions): Promise<ModelInfo> {
    const int8 = int8Options(opts);
    const src = opts.path ?? opts.files;
    if (!src) throw new Error('loadModel needs a folder path or its files');
    const ck = await openCheckpoint(src);
    try {
      for (const w of ck.warnings) this.log(w);
      this.unload();
      this.tok = await Tokenizer.fromJSON(ck.tokenizerJSON, `${ck.dir}/tokenizer.json`);
      this.tokJSON = ck.tokenizerJSON;
      checkTokenizerFits(this.tok.vocabSize, ck.config, ck.dir);
      this.model = await buildModel(this.gpu, ck.config, checkpointSource(ck), {
        dtype: opts.dtype ?? 'f32',
        onProgress: opts.onProgress,
        int8,
      });
      this.modelName = ck.dir;
      this.modelFiles = { ...ck.contentHashes };
      await this.gpu.sync();
      return this.info();
    } finally {
      await ck.close();
    }
  }

  /** A model of the given shape with random weights (benchmarks, limit checks); tokenizer optional. */
  async loadRandomModel(
    cfg: ModelConfig,
    opts: {
      seed?: number;
      dtype?: StorageDType;
      int8?: boolean;
      int8Threshold?: number;
      tokenizerJSON?: string;
      name?: string;
    } = {},
  ): Promise<ModelInfo> {
    const int8 = int8Options(opts);
    this.unload();
    this.model = await buildModel(this.gpu, cfg, randomParameters(cfg, opts.seed ?? 1), {
      dtype: opts.dtype ?? 'f32',
      int8,
    });
    if (opts.tokenizerJSON) {
      this.tok = await Tokenizer.fromJSON(opts.tokenizerJSON);
      this.tokJSON = opts.tokenizerJSON;
      checkTokenizerFits(this.tok.vocabSize, cfg, opts.name ?? 'random model');
    }
    this.modelName = opts.name ?? 'random';
    this.modelFiles = { weights: `random, seed ${opts.seed ?? 1}` };
    await this.gpu.sync();
    return this.info();
  }

  info(): ModelInfo {
    const m = this.need();
    return {
      name: this.modelName,
      config: m.config,
      dtype: m.dtype,
      int8: m.int8,
      parameters: m.parameterCount(),
      gpuBytes: m.bytes(),
      files: { ...this.modelFiles },
    };
  }

  /** The loaded weights are being changed in place (training in a worker): info().files says so from now on. */
  weightsChanged(how: string): void {
    this.modelFiles = { ...this.modelFiles, changed: how };
  }

  /** the loaded model (the seam: src/model/causal-lm.ts) */
  get loaded(): CausalLM {
    return this.need();
  }
  get tokenizer(): Tokenizer {
    if (!this.tok) throw new Error('no tokenizer loaded: call loadModel first');
    return this.tok;
  }
  /** the loaded tokenizer's tokenizer.json text (a tuned checkpoint is saved with it) */
  get tokenizerJSON(): string {
    if (!this.tok) throw new Error('no tokenizer loaded: call loadModel first');
    return this.tokJSON;
  }

  private need(): CausalLM {
    if (!this.model) throw new Error('no model loaded: call loadModel first');
    return this.model;
  }

  tokenize(texts: string[]): number[][] {
    return texts.map((t) => this.tokenizer.encode(t));
  }
  decode(ids: number[]): string {
    return this.tokenizer.decode(checkTokenIds('decode', 'ids', ids, this.tokenizer.vocabSize));
  }

  /**
   * Scores texts: each is tokenized (no BOS/EOS), truncated from the LEFT to maxLength tokens, batched with
   * right padding; returns per-token log-probabilities and their mean over the scored (non-pad) targets.
   * groupSize: consecutive texts come in groups of this size that share a prompt (one example's label texts): a
   * group's common prefix goes through the KV cache once, batched, then all its texts' own tokens in one more
   * batched step (same numbers within f32 rounding; eval ×2.3 on SwiftShader). Without it every text is scored whole.
   * firstPad (off by default): reproduce the official *batched* scorer's quirk for a row shorter than its batch: the
   * pad id is appended, so the log-prob of the first pad after the last token is counted and the mean is over n
   * targets instead of n − 1 (the pad does not change the earlier log-probs: attention is causal). A text already
   * at maxLength gets no pad (it would be the longest row of its batch). The unbatched scorer, which is what
   * produced the paper's tables, has no pad: that is the default here (docs/paper-recipe.md).
   */
  async score(
    texts: string[],
    opts: { maxLength?: number; batchSize?: number; groupSize?: number; firstPad?: boolean } = {},
  ): Promise<ScoreResult[]> {
    const maxLength = opts.maxLength ?? 1024;
    const offsets: (number[] | undefined)[] = [];
    const ids = this.tokenize(texts).map((t, i) => {
      const cut = t.slice(Math.max(0, t.length - maxLength));
      offsets.push(byteOffsets(this.tokenizer.tokenBytes(t), utf8Length(texts[i]), t.length - cut.length));
      return opts.firstPad && cut.length < maxLength ? [...cut, this.need().config.padTokenId] : cut;
    });
    const out = await this.scoreTokenized(ids, opts);
    out.forEach((r, i) => {
      const o = offsets[i];
      if (o) r.offsets = r.ids.length > o.length ? [...o, utf8Length(texts[i])] : o;
    });
    return out;
  }

  private async scoreTokenized(
    ids: number[][],
    opts: { batchSize?: number; groupSize?: number } = {},
  ): Promise<ScoreResult[]> {
    const g = opts.groupSize ?? 1;
    if (g < 2 || ids.length % g !== 0) return this.scoreIds(ids, opts.batchSize ?? 8);
    const m = this.need();
    const out: ScoreResult[] = new Array(ids.length);
    const rest: number[] = [];
    const shared: { start: number; P: number }[] = [];
    for (let s = 0; s < ids.length; s += g) {
      const P = sharedPrefix(ids.slice(s, s + g));
      if (P === 0) for (let j = 0; j < g; j++) rest.push(s + j);
      else shared.push({ start: s, P });
    }
    // about batchSize texts per batched cached step, as the full-text path, and each layer's label cache (one copy
    // of the prefix per text) within one storage binding (and 256 MiB)
    const per = Math.max(1, Math.floor((opts.batchSize ?? 8) / g));
    const cap = Math.min(this.gpu.maxBinding, 256 * 2 ** 20),
      rowBytes = m.cacheRowBytes;
    const chunks: { groups: typeof shared; Tmax: number }[] = [];
    for (const grp of shared) {
      const Tmax = Math.max(...ids.slice(grp.start, grp.start + g).map((t) => t.length)) + 1;
      if (g * Tmax * rowBytes > this.gpu.maxBinding) {
        for (let j = 0; j < g; j++) rest.push(grp.start + j);
        continue;
      }
      const last = chunks[chunks.length - 1];
      const T = Math.max(Tmax, last?.Tmax ?? 0);
      if (last && last.groups.length < per && (last.groups.length + 1) * g * T * rowBytes <= cap) {
        last.groups.push(grp);
        last.Tmax = T;
      } else chunks.push({ groups: [grp], Tmax });
    }
    for (const { groups: chunk } of chunks) {
      const lps = await m.scoreGroups(
        chunk.map(({ start, P }) => ({
          prefix: ids[start].slice(0, P),
          suffixes: ids.slice(start, start + g).map((t) => t.slice(P)),
        })),
        m.config.padTokenId,
      );
      chunk.forEach(({ start }, k) =>
        lps[k].forEach((lp, j) => {
          const tl = Array.from(lp);
          out[start + j] = {
            ids: ids[start + j],
            token_logprobs: tl,
            mean_logprob: tl.reduce((x, y) => x + y, 0) / tl.length,
          };
        }),
      );
    }
    if (rest.length) {
      const r = await this.scoreIds(
        rest.map((i) => ids[i]),
        opts.batchSize ?? 8,
      );
      rest.forEach((i, k) => (out[i] = r[k]));
    }
    return out;
  }

  async scoreIds(all: number[][], batchSize = 8): Promise<ScoreResult[]> {
    // the batch loop advances by batchSize: 0, a negative or a fraction would never end
    if (!(Number.isInteger(batchSize) && batchSize >= 1))
      throw new Error(`batch size must be a positive integer, got ${batchSize}`);
    const m = this.need();
    const out: ScoreResult[] = new Array(all.length);
    // batch texts of similar length together (less padding), results go back to input order
    const order = all.map((_, i) => i).sort((a, b) => all[a].length - all[b].length);
    for (let s = 0; s < order.length; s += batchSize) {
      const idx = order.slice(s, s + batchSize);
      const B = idx.length,
        T = Math.max(1, ...idx.map((i) => all[i].length));
      const ids = new Int32Array(B * T).fill(m.config.padTokenId),
        mask = new Int32Array(B * T);
      idx.forEach((i, b) => {
        ids.set(all[i], b * T);
        mask.fill(1, b * T, b * T + all[i].length);
      });
      const { logprobs } = await m.forward({ ids, mask, B, T });
      idx.forEach((i, b) => {
        const n = all[i].length;
        const lp = Array.from(logprobs.subarray(b * T, b * T + Math.max(0, n - 1)));
        out[i] = {
          ids: all[i],
          token_logprobs: lp,
          mean_logprob: lp.length ? lp.reduce((x, y) => x + y, 0) / lp.length : NaN,
        };
      });
    }
    return out;
  }

  /** Mean token log-prob of each text (the Scorer interface of src/eval). */
  async scoreTexts(texts: string[], opts: { maxLength?: number; batchSize?: number } = {}): Promise<number[]> {
    return (await this.score(texts, opts)).map((r) => r.mean_logprob);
  }

  /** KV-cached generation; sampling (greedy by default) by the AssemblyScript sampler. */
  async generate(
    prompt: string | number[],
    opts: GenerateOptions = {},
  ): Promise<{ promptIds: number[]; ids: number[]; text: string }> {
    const m = this.need();
    // ids past the embedding would be read out of bounds (garbage text): refused, naming the element (all doors)
    const promptIds =
      typeof prompt === 'string'
        ? this.tokenizer.encode(prompt)
        : checkTokenIds('generate', 'prompt', prompt, m.config.vocabSize);
    if (!promptIds.length) throw new Error('generate needs a non-empty prompt');
    const maxNew = opts.maxNewTokens ?? 32;
    const sampler = new Sampler(opts);
    const cache = this.newGenerateCache(m, promptIds.length, maxNew);
    const ids: number[] = [];
    try {
      let logits = await m.step(cache, promptIds);
      for (let i = 0; i < maxNew; i++) {
        // NaN logits would sample id 0 (<unk>) and print it as text: an error instead
        for (let v = 0; v < logits.length; v++)
          if (logits[v] - logits[v] !== 0)
            throw new Error(
              `generate: the model gave a non-finite logit (${logits[v]}) for new token ${i + 1}: an overflow in the ` +
                'forward pass (with --dtype f16, try f32)',
            );
        const next = sampler.sample(logits, [...promptIds, ...ids]);
        ids.push(next);
        if ((opts.stopAtEos ?? true) && next === m.config.eosTokenId) break;
        if (i + 1 < maxNew) logits = await m.step(cache, [next]);
      }
    } finally {
      m.freeCache(cache);
    }
    return { promptIds, ids, text: this.tok ? this.tok.decode(ids) : '' };
  }

  /** The KV cache for prompt + maxNew tokens; one over the adapter's buffer limit names maxNewTokens (audit A17). */
  private newGenerateCache(m: CausalLM, promptLen: number, maxNew: number) {
    try {
      return m.newCache(promptLen + maxNew);
    } catch (e) {
      if (!/maxBufferSize|maxStorageBufferBindingSize/.test(String(e))) throw e;
      throw new RequestError(
        'generate',
        'maxNewTokens',
        `${maxNew} (+ ${promptLen} prompt tokens) needs a KV cache larger than this adapter allows ` +
          `(${(e as Error).message.split('\n')[0]}): ask for fewer new tokens`,
        '--max-new-tokens',
      );
    }
  }

  unload(): void {
    this.model?.destroy();
    this.model = null;
    this.gpu.trimPool(); // the model's activation buffers go with it
    this.tok?.free();
    this.tok = null;
    this.tokJSON = '';
  }

  dispose(): void {
    this.unload();
    this.gpu.destroy();
  }
}

const utf8Length = (s: string) => new TextEncoder().encode(s).length;

/** Start byte of each token kept after dropping the first `cut`; undefined when the tokens do not cover the text. */
function byteOffsets(bytes: number[], total: number, cut: number): number[] | undefined {
  const starts: number[] = [];
  let at = 0;
  for (const b of bytes) {
    starts.push(at);
    at += b;
  }
  return at === total ? starts.slice(cut) : undefined;
}

/**
 * Tokens of a group's common prefix worth computing once: every text keeps at least one token of its own, and the
 * prefix must be at least 8 tokens and half the shortest text (else 0: the group is scored as full texts).
 */
export function sharedPrefix(group: number[][]): number {
  const minLen = Math.min(...group.map((t) => t.length));
  let L = 0;
  while (L < minLen && group.every((t) => t[L] === group[0][L])) L++;
  const P = Math.min(L, minLen - 1);
  return P >= 8 && P * 2 >= minLen ? P : 0;
}
