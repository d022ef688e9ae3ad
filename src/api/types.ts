// The public API's shapes, in one place: the Node runtime (src/api/node.ts, `import 'instructalign'`) implements
// InstructAlignRuntime; the browser worker (src/host/worker.ts through `instructalign/web`) implements CoreRuntime,
// the part both share, and is checked against it at compile time (src/host/web.ts).
import type { ModelInfo, ScoreResult } from '../host/runtime.ts';
import type { StorageDType } from '../model/bloom/weights.ts';
import type { SampleOptions } from '../wasm/sampler.ts';
import type { ResultsJson } from '../eval/results.ts';
import type { RunProgress } from '../eval/score-loop.ts';
import type { StepLog, TrainOptions } from '../train/trainer.ts';
import type { KernelPolicy, PolicyOverrides } from '../gpu/policy.ts';

export type { ModelInfo, ScoreResult, ResultsJson, StepLog, TrainOptions, KernelPolicy, PolicyOverrides };

export interface LoadModelOptions {
  /** weight storage on the GPU: f32 (default), or f16 packed two per u32 (math stays f32) */
  dtype?: StorageDType;
  /** LLM.int8(): block Linears stored as int8 (quantized at load time), outlier columns in f32 */
  int8?: boolean;
  /** activation outlier threshold for int8 (default 6, as bitsandbytes; 0 = int8 only) */
  int8Threshold?: number;
  /** called as tensors reach the GPU */
  onProgress?: (done: number, total: number) => void;
}

export interface ScoreOptions {
  /** texts longer than this are truncated from the left (default 1024 tokens) */
  maxLength?: number;
  /** texts per forward pass (default 8) */
  batchSize?: number;
}

export interface GenerateOptions extends SampleOptions {
  /** tokens to generate (default 32) */
  maxNewTokens?: number;
  /** stop at </s> (default true) */
  stopAtEos?: boolean;
}

export interface GenerateResult {
  promptIds: number[];
  ids: number[];
  text: string;
}

/** What a Node runtime and the browser worker both offer. */
export interface CoreRuntime {
  /** loads a BLOOM checkpoint (a folder path in Node; a URL, files or a directory handle in a browser) */
  loadModel(source: never, opts?: LoadModelOptions): Promise<ModelInfo>;
  /** per-token log-probabilities of each text; mean_logprob is the label-scoring rule of the evaluation */
  score(texts: string[], opts?: ScoreOptions): Promise<ScoreResult[]>;
  /** KV-cached generation, greedy by default, sampled with a seed */
  generate(prompt: string, opts?: GenerateOptions): Promise<GenerateResult>;
  /** the loaded model */
  info(): Promise<ModelInfo>;
  /** frees the GPU */
  dispose(): Promise<void>;
}

/** `instructalign eval` as a call: the data, prompts and groups of an evaluation of the loaded model. */
export interface EvaluateRequest {
  /** 'nusax' (default: the bundled NusaX sentiment test splits) or a path: a folder of <lang>/test.csv, or one file */
  data?: string;
  /** sentiment (default) | emotion | topic */
  task?: string;
  /** label names in order (default: the task's) */
  labels?: string[];
  /** languages to evaluate (default: all found) */
  langs?: string[];
  /** built-in prompt ids (default 1,2,3) */
  prompts?: number[];
  /** your own templates ([INPUT], [OPTIONS], [LABELS_CHOICE]) instead of the built-in prompts */
  templates?: string[];
  /** language groups (default: the paper's L1/L2/L3) */
  groups?: Record<string, string[]>;
  /** first N examples per language */
  limit?: number;
  /** texts per scoring call (default 16) */
  batchSize?: number;
  /** tokens per text, truncated from the left (default 1024) */
  maxLength?: number;
  /** compute each example's prompt once for all its labels (default true; same scores within f32 rounding) */
  prefixSharing?: boolean;
  /** write [OPTIONS] as "negative", "neutral", or "positive" */
  quoteOptions?: boolean;
  /**
   * where predictions.jsonl, results.json, report.md and chart.svg go; an evaluation into the same folder resumes
   * (default: a temporary folder, removed afterwards)
   */
  out?: string;
}

export interface EvaluateProgress extends RunProgress {}

export interface TrainProgress {
  step: number;
  steps: number;
  loss: number;
  lr: number;
  /** seconds left at the pace so far */
  etaSeconds: number;
  log: StepLog;
}

/** `instructalign train` as a call: every option of TrainOptions may be left out (TRAIN_DEFAULTS apply). */
export type TrainRequest = Partial<TrainOptions> & {
  /** the run folder: log.jsonl, train_config.json, checkpoint/ */
  out: string;
  /** continue the run in `out` with its own saved options (options given must not change the run) */
  resume?: boolean;
};

export interface TrainResult {
  /** the steps run by this call */
  logs: StepLog[];
  /** the HF-loadable checkpoint folder */
  checkpoint: string;
  /** true if the signal stopped it (a checkpoint was saved: resume with { out, resume: true }) */
  stopped: boolean;
}

export interface CallOptions<P> {
  onProgress?: (p: P) => void;
  /** aborting stops after the current batch (evaluate rejects) or step (train saves a checkpoint and returns) */
  signal?: AbortSignal;
}

/** The Node runtime: `const rt = await createRuntime()`. */
export interface InstructAlignRuntime extends CoreRuntime {
  /** a checkpoint folder, or the name of a model bundled with the package ('nano-bloomz') */
  loadModel(path: string, opts?: LoadModelOptions): Promise<ModelInfo>;
  /** token ids of each text under the loaded model's tokenizer (no BOS/EOS added) */
  tokenize(texts: string[]): Promise<number[][]>;
  /** decodes token ids with the loaded model's tokenizer */
  decode(ids: number[]): Promise<string>;
  /** zero-shot evaluation of the loaded model; resolves to the results.json object `instructalign eval` writes */
  evaluate(req?: EvaluateRequest, opts?: CallOptions<EvaluateProgress>): Promise<ResultsJson>;
  /** the InstructAlign trainer (data building, replay, checkpoints, resume) on this runtime's GPU */
  train(req: TrainRequest, opts?: CallOptions<TrainProgress>): Promise<TrainResult>;
  /** the WebGPU adapter in use */
  readonly adapter: string;
  /** this runtime's kernel choices (its own: another runtime's overrides never change them) */
  readonly policy: KernelPolicy;
}
