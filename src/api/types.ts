// The public API's shapes, in one place: the Node runtime (src/api/node.ts, `import 'instructalign'`) implements
// InstructAlignRuntime; the browser worker (src/host/worker.ts through `instructalign/web`) implements CoreRuntime,
// the part both share, and is checked against it at compile time (src/host/web.ts).
import type { TranslationResults } from '../eval/translation.ts';
import type { ModelInfo, ScoreResult } from '../host/runtime.ts';
import type { COMPARE, EVALUATE, GENERATE, LOAD_MODEL, RequestOf, SCORE } from './requests/index.ts';
import type { TrainRequest } from './requests/train.ts';
import type { ResultsJson } from '../eval/results.ts';
import type { RunProgress } from '../eval/score-loop.ts';
import type { StepLog, TrainOptions } from '../train/trainer.ts';
import type { KernelPolicy, PolicyOverrides } from '../gpu/policy.ts';

export type { ModelInfo, ScoreResult, ResultsJson, StepLog, TrainOptions, KernelPolicy, PolicyOverrides, TrainRequest };

// The option types of the calls come from the request definitions (src/api/requests/): the same tables give the
// CLI's flags, the checks every door applies and these types, so they cannot drift apart.
/** loadModel's options: dtype ('f32' default, or 'f16' packed), int8, int8Threshold (default 6), onProgress */
export type LoadModelOptions = RequestOf<typeof LOAD_MODEL.fields>;
/** score's options: maxLength (default 1024 tokens, left truncation), batchSize (default 8 texts per pass) */
export type ScoreOptions = RequestOf<typeof SCORE.fields>;
/** generate's options: maxNewTokens (default 32), temperature, topK, topP, repetitionPenalty, seed, stopAtEos */
export type GenerateOptions = RequestOf<typeof GENERATE.fields>;
/** compare's options: allowMismatch (compare runs scored in different ways) */
export type CompareRequest = RequestOf<typeof COMPARE.fields>;

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

/**
 * `instructalign eval` as a call: the data ('nusax' or a path), task, labels, langs, prompts or templates, groups,
 * limit, batchSize (16), maxLength (1024), prefixSharing (true), quoteOptions, scoring ('paper'), overwrite and out
 * (where the files go; an evaluation into the same folder resumes; default a temporary folder, removed afterwards).
 */
export type EvaluateRequest = RequestOf<typeof EVALUATE.fields>;

export interface EvaluateProgress extends RunProgress {}

export interface TrainProgress {
  step: number;
  steps: number;
  /** this step's loss */
  loss: number;
  /** the loss smoothed over the steps so far (moving average, as the CLI's progress line) */
  smoothedLoss: number;
  lr: number;
  /** training tokens per second since the call started */
  tokensPerSecond: number;
  /** the latest validation loss (with evalSplit; evaluated every evalSteps steps and at the end) */
  evalLoss?: number;
  /** seconds left at the pace so far */
  etaSeconds: number;
  log: StepLog;
}

export interface TrainResult {
  /** the steps run by this call */
  logs: StepLog[];
  /** the HF-loadable checkpoint folder */
  checkpoint: string;
  /** with saveBest: the HF folder of the weights with the lowest validation loss (its eval.json says which step) */
  best?: string;
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
  /** task 'translation': greedy translations both ways, chrF++ and BLEU (`eval --task translation`; data, l1, l2) */
  evaluate(
    req: EvaluateRequest & { task: 'translation' },
    opts?: CallOptions<EvaluateProgress>,
  ): Promise<TranslationResults>;
  evaluate(req?: EvaluateRequest, opts?: CallOptions<EvaluateProgress>): Promise<ResultsJson>;
  /** the InstructAlign trainer (data building, replay, checkpoints, resume) on this runtime's GPU */
  train(req: TrainRequest, opts?: CallOptions<TrainProgress>): Promise<TrainResult>;
  /** the WebGPU adapter in use */
  readonly adapter: string;
  /** this runtime's kernel choices (its own: another runtime's overrides never change them) */
  readonly policy: KernelPolicy;
}
