// The model seam: what every layer above src/model (train, eval, host, perf) sees of a decoder-only language model,
// whatever its architecture. A family (src/model/bloom/, src/model/llama/ …) implements `CausalLM` and registers a
// `ModelFamily` in src/model/families.ts under its config.json `model_type`s; nothing above src/model names a
// family's tensors or classes. docs/architecture.md ("The model seam") says what a new family adds.
import type { Gpu, Tensor } from '../gpu/runtime.ts';
import type { PolicyOverrides } from '../gpu/policy.ts';
import { xorshift32 } from '../util/random.ts';

/**
 * What a parameter is, which decides how it is stored and trained (declared with the parameter, never read from its
 * name): `matrix` — a Linear's weight (16-bit storage, weight decay, LLM.int8()); `embedding` — a token embedding or
 * LM head (16-bit, weight decay, never int8, split into vocabulary shards); `norm` — a LayerNorm/RMSNorm γ or β and
 * `bias` — a Linear's bias (both kept f32, no weight decay, as HF's Trainer excludes them).
 */
export type ParamRole = 'matrix' | 'embedding' | 'norm' | 'bias';

/** One parameter of a family's table: canonical (checkpoint) name, shape, role, and its random initialisation. */
export interface ParamSpec {
  name: string;
  shape: number[];
  role: ParamRole;
  /** random-weight models: normal(0, std) (the default for matrix/embedding), ones (a norm's γ), zeros (β, biases) */
  init?: 'normal' | 'ones' | 'zeros';
}

/** Weight storage on the GPU: f32, or f16 packed two per u32 (f32 math). */
export type StorageDType = 'f32' | 'f16';

/** LLM.int8() storage (docs/int8.md): threshold is the activation outlier threshold (bitsandbytes: 6; 0 = int8 only). */
export interface Int8Options {
  threshold: number;
}

/**
 * One GPU tensor of a model's parameters (or of their gradients, or of optimizer moments laid out like them), its
 * role travelling with it. A parameter too large for one storage binding (a vocabulary table) is several tensors,
 * each a row range of it (`rows`).
 */
export interface ParamTensor {
  /** unique within the model: the parameter's name, or `name[lo:hi]` for a row shard */
  readonly key: string;
  /** the canonical parameter (checkpoint) name */
  readonly name: string;
  readonly role: ParamRole;
  readonly tensor: Tensor;
  /** a row shard: rows [lo, hi) of a [total, width] parameter */
  readonly rows?: { lo: number; hi: number; total: number; width: number };
}

/** The architecture-neutral facts of a loaded model that callers above src/model may read. */
export interface ModelConfig {
  /** the family that parsed config.json (its key in src/model/families.ts) */
  family: string;
  vocabSize: number; // embedding rows (may exceed the tokenizer's ids)
  hiddenSize: number;
  nLayer: number;
  nHead: number; // query heads
  headDim: number;
  bosTokenId: number;
  eosTokenId: number;
  padTokenId: number; // the id batches are padded with
  unkTokenId: number;
  torchDtype?: string; // the dtype the weights were saved in (informational)
  raw: Record<string, unknown>; // the parsed config.json, so keys a family does not model survive a save
}

/** A padded batch: ids and attention mask [B, T] row-major. */
export interface Batch {
  ids: Int32Array;
  mask: Int32Array;
  B: number;
  T: number;
}

export interface ForwardOptions {
  /** the target id of each row [B·T] (−100: none); default: the next real token */
  targets?: Int32Array;
  /** also return the full logits [B·T, V] (refused beyond 1 GiB) */
  logits?: boolean;
  /** also return HF's hidden_states (embedding output, every block's output but the last, the final norm) */
  hidden?: boolean;
}

export interface ForwardResult {
  /** log p(target) per row (0 where the target is −100) */
  logprobs: Float32Array;
  logits?: Float32Array;
  hidden?: Float32Array[];
}

/** A KV cache of B sequences of up to Tmax positions; its tensors belong to the model's family. */
export interface KVCache {
  readonly B: number;
  readonly Tmax: number;
  /** positions filled so far */
  len: number;
}

/** One example's label texts for scoreGroups: the shared prompt tokens and each label's own tokens. */
export interface PrefixGroup {
  prefix: number[];
  suffixes: number[][];
}

export interface BackwardOptions {
  /** multiplies every gradient (dynamic loss scaling); the returned loss is unscaled */
  lossScale?: number;
  /** divide the summed loss by this instead of this batch's count of targets (gradient accumulation) */
  numItems?: number;
}

/** f32 gradients laid out as the trained parameters (same keys, same order, same row shards). */
export interface Gradients {
  readonly tensors: readonly ParamTensor[];
  /** every gradient ← 0 */
  zero(): void;
  /** host copies by canonical parameter name, row shards reassembled */
  read(): Promise<Map<string, Float32Array>>;
}

export interface TrainingOptions {
  /** mixed precision: forward and backward read an f16 copy of the matrices, refreshed by synced() */
  fp16?: boolean;
  /** activation recomputation: keep each block's input only, recompute the block just before its backward */
  recompute?: boolean;
}

/**
 * A model set up for training: its f32 master parameters (which the optimizer updates in place), gradients laid out
 * like them, and the loss with its backward. Made by CausalLM.training(); destroy() frees what it made (gradients,
 * the f16 copy), never the model's weights.
 */
export interface Trainable {
  readonly params: readonly ParamTensor[];
  readonly grads: Gradients;
  /**
   * Forward (saving activations), the mean next-token cross-entropy over `labels` (HF's shift applied; −100 = no
   * target) and the backward, accumulated into `grads`. Loss = Σ −log p(target) / (numItems ?? targets counted).
   */
  lossAndBackward(batch: Batch, labels: Int32Array, opts?: BackwardOptions): Promise<{ loss: number; nTokens: number }>;
  /** call after an optimizer step changed `params` (refreshes the f16 compute copy under fp16) */
  synced(): void;
  destroy(): void;
}

/**
 * A loaded decoder-only language model on one device. It owns every tensor it makes: its weights, the scratch of
 * each call (freed before the call returns), and its KV caches and training set-ups until they are freed;
 * destroy() frees all of them.
 */
export interface CausalLM {
  readonly gpu: Gpu;
  /** the family's parsed config.json (its own fields beyond ModelConfig stay the family's business) */
  readonly config: ModelConfig;
  readonly dtype: StorageDType;
  readonly int8: Int8Options | null;
  /** every parameter tensor on the GPU with its role (a quantized matrix is not listed: it cannot be trained) */
  parameters(): readonly ParamTensor[];
  /** parameters counted (a quantized matrix counts its N·K weights) */
  parameterCount(): number;
  /** GPU bytes of the weights */
  bytes(): number;

  /** one batch through the whole model: log-probs of the targets, optionally full logits and hidden states */
  forward(batch: Batch, opts?: ForwardOptions): Promise<ForwardResult>;
  /** a KV cache for B sequences of up to Tmax positions (free it with freeCache, or it goes with destroy()) */
  newCache(Tmax: number, B?: number): KVCache;
  /** bytes of one position of one layer's cache (must fit a storage binding times Tmax·B) */
  readonly cacheRowBytes: number;
  /** appends ids to a B = 1 cache; returns the logits of the last new position [V] */
  step(cache: KVCache, ids: number[]): Promise<Float32Array>;
  /** appends Tq tokens to each of the cache's B sequences; log p(targets) per new position [B·Tq] */
  stepLogprobs(
    cache: KVCache,
    ids: Int32Array,
    mask: Int32Array,
    targets: Int32Array,
    Tq: number,
  ): Promise<Float32Array>;
  /** token log-probs of prefix+suffix for every suffix of every group, each prefix computed once */
  scoreGroups(groups: PrefixGroup[], padId?: number): Promise<Float32Array[][]>;
  freeCache(cache: KVCache): void;

  /** sets the model up for training (f32 weights only; int8 refused) */
  training(opts?: TrainingOptions): Trainable;
  /** host copies of every parameter by canonical name in checkpoint order (row shards reassembled) */
  readParameters(): Promise<Map<string, Float32Array>>;
  /** a view of this model whose ops run with other kernel choices (same weights; destroying it frees only its own) */
  withPolicy(overrides: PolicyOverrides): CausalLM;
  /** frees the weights and everything the model made that is still alive */
  destroy(): void;
}

/** Where a family's loader reads a parameter from (a checkpoint, or host arrays), in f32. */
export type ParameterSource = (name: string) => Promise<Float32Array>;

export interface LoadModelOptions {
  dtype?: StorageDType;
  int8?: Int8Options;
  onProgress?: (done: number, total: number) => void;
}

/**
 * One architecture: parses its config.json, lists its parameters, names its checkpoint tensors and builds its
 * CausalLM. Registered in src/model/families.ts under each `model_type` it reads.
 */
export interface ModelFamily<C extends ModelConfig = ModelConfig> {
  /** the family's name (ModelConfig.family) */
  readonly name: string;
  /** config.json `model_type` values this family loads */
  readonly modelTypes: readonly string[];
  /** validates a parsed config.json; `source` names the file in errors */
  parseConfig(json: unknown, source: string): C;
  /** config.json text HF transformers loads for this config */
  configJSON(cfg: C): string;
  /** the parameters in checkpoint order with shapes and roles (a tied LM head is not listed) */
  parameters(cfg: C): ParamSpec[];
  /** a checkpoint's tensor name → the canonical name (e.g. BLOOM drops `transformer.`) */
  canonicalName(name: string): string;
  /** the block index a canonical name belongs to (to refuse weights with more layers than the config), else undefined */
  layerOf(name: string): number | undefined;
  /** the config of a model size known by name ('bloomz-560m'), else undefined (benchmarks, random models) */
  namedConfig?(name: string): C | undefined;
  /** builds the model, reading every parameter of `parameters(cfg)` from `source` */
  load(gpu: Gpu, cfg: C, source: ParameterSource, opts?: LoadModelOptions): Promise<CausalLM>;
}

/**
 * Reads a list of parameter-shaped tensors to the host by canonical name, row shards reassembled, in the order of
 * `order` (a family's parameter table). Every name in `order` must have its tensors in `list`.
 */
export async function readParamTensors(
  gpu: Gpu,
  list: readonly ParamTensor[],
  order: readonly ParamSpec[],
): Promise<Map<string, Float32Array>> {
  const byName = new Map<string, ParamTensor[]>();
  for (const p of list) byName.set(p.name, [...(byName.get(p.name) ?? []), p]);
  const out = new Map<string, Float32Array>();
  for (const { name, shape } of order) {
    const parts = byName.get(name);
    if (!parts) throw new Error(`readParamTensors: no tensor for parameter ${name}`);
    if (parts.length === 1 && !parts[0].rows) {
      out.set(name, await gpu.readF32(parts[0].tensor));
      continue;
    }
    const a = new Float32Array(shape.reduce((x, y) => x * y, 1));
    for (const p of parts) a.set(await gpu.readF32(p.tensor), p.rows!.lo * p.rows!.width);
    out.set(name, a);
  }
  return out;
}

/** Next-token targets of a batch: ids[t+1] where both t and t+1 are real tokens, else −100. */
export function nextTokenTargets(b: Batch): Int32Array {
  const out = new Int32Array(b.B * b.T).fill(-100);
  for (let r = 0; r < b.B; r++) {
    for (let t = 0; t + 1 < b.T; t++) {
      const i = r * b.T + t;
      if (b.mask[i] && b.mask[i + 1]) out[i] = b.ids[i + 1];
    }
  }
  return out;
}

/**
 * Whether a backward runs under --fp16: its forward reads the f16 compute copy (training refuses f16 masters, so f16
 * weights under a backward are that copy). Its weight gradients' products then take f16 arithmetic too where the
 * device's policy has it (src/ops/matmul.ts f16Applies; the input gradients get it from the f16 weights). For any
 * forward (inference with --dtype f16 too), f16 weights select the f16 LayerNorm/RMSNorm/GELU kernels where the policy
 * has them (src/ops/layernorm.ts f16NormDefines).
 */
export function fp16(fwd: { readonly w: { readonly dtype: string } }): boolean {
  return fwd.w.dtype === 'f16';
}

/** HF's shift: the target of position t is labels[t+1]; the last position of each row is ignored. */
export function shiftLabels(labels: Int32Array, B: number, T: number): Int32Array {
  const out = new Int32Array(B * T).fill(-100);
  for (let b = 0; b < B; b++) for (let t = 0; t + 1 < T; t++) out[b * T + t] = labels[b * T + t + 1];
  return out;
}

/** The part of a full parameter array that a (possibly row-sharded) tensor holds. */
export function paramSlice(p: ParamTensor, full: Float32Array): Float32Array {
  return p.rows ? full.subarray(p.rows.lo * p.rows.width, p.rows.hi * p.rows.width) : full;
}

/**
 * Random parameters of a table (for shape benchmarks and tests): normal(0, std) matrices and embeddings (Box-Muller
 * over one xorshift32 stream, drawn in table order), norms by their `init` (γ 1, β 0), zero biases.
 */
export function randomArrays(specs: readonly ParamSpec[], seed = 1, std = 0.02): Map<string, Float32Array> {
  const rnd = xorshift32(seed);
  const out = new Map<string, Float32Array>();
  for (const { name, shape, role, init } of specs) {
    const a = new Float32Array(shape.reduce((x, y) => x * y, 1));
    const how = init ?? (role === 'matrix' || role === 'embedding' ? 'normal' : 'zeros');
    if (how === 'ones') a.fill(1);
    else if (how === 'normal') {
      for (let i = 0; i < a.length; i += 2) {
        const u = Math.max(rnd(), 1e-12),
          v = rnd();
        const r = Math.sqrt(-2 * Math.log(u)) * std;
        a[i] = r * Math.cos(2 * Math.PI * v);
        if (i + 1 < a.length) a[i + 1] = r * Math.sin(2 * Math.PI * v);
      }
    }
    out.set(name, a);
  }
  return out;
}
