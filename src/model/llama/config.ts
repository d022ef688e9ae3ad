// Llama / Qwen3 configuration: config.json parsing (HF LlamaConfig and Qwen3Config field names and defaults), the
// rotary frequencies with HF's rope_theta / rope_scaling conventions, and the ordered parameter table with roles.
import type { ModelConfig, ParamSpec } from '../causal-lm.ts';

export interface RopeScaling {
  /** 'default' (none), 'linear' (positions divided by factor), 'llama3' (Llama 3.1's frequency-band rescaling) */
  type: 'default' | 'linear' | 'llama3';
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositions: number;
}

export interface LlamaConfig extends ModelConfig {
  family: 'llama';
  modelType: 'llama' | 'qwen3';
  intermediateSize: number;
  nKVHead: number; // num_key_value_heads (grouped-query attention; = nHead without GQA)
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling;
  maxPositions: number; // max_position_embeddings
  tieWordEmbeddings: boolean;
  qkNorm: boolean; // Qwen3: RMSNorm over each head of q and k (q_norm, k_norm) before the rotation
}

type Json = Record<string, unknown>;

function int(j: Json, key: string, src: string, dflt?: number, min = 1): number {
  let v = j[key];
  if (Array.isArray(v)) v = v[0]; // eos_token_id is a list in Llama 3.1 / 3.2 instruct configs: the first one
  if (v === undefined || v === null) {
    if (dflt !== undefined) return dflt;
    throw new Error(`${src}: missing "${key}" (an integer ≥ ${min})`);
  }
  if (!Number.isSafeInteger(v) || (v as number) < min)
    throw new Error(`${src}: "${key}" must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return v as number;
}

function num(j: Json, key: string, src: string, dflt: number): number {
  const v = j[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
    throw new Error(`${src}: "${key}" must be a positive number, got ${JSON.stringify(v)}`);
  return v;
}

function refuse(j: Json, key: string, ok: (v: unknown) => boolean, src: string, why: string): void {
  if (j[key] !== undefined && j[key] !== null && !ok(j[key]))
    throw new Error(`${src}: "${key}": ${JSON.stringify(j[key])} is not supported (${why})`);
}

function ropeScaling(j: Json, src: string): RopeScaling {
  const none: RopeScaling = {
    type: 'default',
    factor: 1,
    lowFreqFactor: 1,
    highFreqFactor: 4,
    originalMaxPositions: 8192,
  };
  const r = j.rope_scaling;
  if (r === undefined || r === null) return none;
  if (typeof r !== 'object' || Array.isArray(r)) throw new Error(`${src}: "rope_scaling" must be an object or null`);
  const s = r as Json;
  const type = s.rope_type ?? s.type ?? 'default';
  const where = `${src}: rope_scaling`;
  if (type === 'default') return none;
  if (type === 'linear') return { ...none, type, factor: num(s, 'factor', where, 1) };
  if (type === 'llama3')
    return {
      type,
      factor: num(s, 'factor', where, 8),
      lowFreqFactor: num(s, 'low_freq_factor', where, 1),
      highFreqFactor: num(s, 'high_freq_factor', where, 4),
      originalMaxPositions: int(s, 'original_max_position_embeddings', where, 8192),
    };
  throw new Error(
    `${where}: rope_type ${JSON.stringify(type)} is not supported (default, linear and llama3 are; ` +
      'dynamic, yarn and longrope are not)',
  );
}

/** Validates a parsed config.json of a Llama or Qwen3 model. `source` names the file in errors. */
export function parseLlamaConfig(json: unknown, source = 'config.json'): LlamaConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new Error(`${source}: expected a JSON object, got ${JSON.stringify(json)?.slice(0, 80)}`);
  const j = json as Json;
  const modelType = j.model_type;
  if (modelType !== 'llama' && modelType !== 'qwen3')
    throw new Error(`${source}: model_type ${JSON.stringify(modelType)} is not "llama" or "qwen3"`);
  const hiddenSize = int(j, 'hidden_size', source);
  const nHead = int(j, 'num_attention_heads', source);
  const nKVHead = int(j, 'num_key_value_heads', source, nHead);
  if (nHead % nKVHead)
    throw new Error(`${source}: num_attention_heads ${nHead} is not a multiple of num_key_value_heads ${nKVHead}`);
  if (j.head_dim === undefined && hiddenSize % nHead)
    throw new Error(`${source}: hidden_size ${hiddenSize} is not a multiple of num_attention_heads ${nHead}`);
  const headDim = int(j, 'head_dim', source, Math.floor(hiddenSize / nHead));
  if (headDim % 2) throw new Error(`${source}: head_dim ${headDim} must be even (rotary pairs)`);
  refuse(j, 'hidden_act', (v) => v === 'silu', source, 'only "silu" (SwiGLU) is implemented');
  refuse(j, 'attention_bias', (v) => v === false, source, 'q/k/v/o biases are not implemented');
  refuse(j, 'mlp_bias', (v) => v === false, source, 'MLP biases are not implemented');
  refuse(j, 'use_sliding_window', (v) => v === false, source, 'sliding-window attention is not implemented');
  refuse(j, 'partial_rotary_factor', (v) => v === 1, source, 'RoPE over part of the head is not implemented');
  const vocabSize = int(j, 'vocab_size', source);
  const tok = (k: string, d: number) => (j[k] === null ? d : int(j, k, source, d, 0));
  const eos = tok('eos_token_id', 0);
  return {
    family: 'llama',
    modelType,
    vocabSize,
    hiddenSize,
    nLayer: int(j, 'num_hidden_layers', source),
    nHead,
    headDim,
    nKVHead,
    intermediateSize: int(j, 'intermediate_size', source),
    rmsNormEps: num(j, 'rms_norm_eps', source, 1e-6),
    ropeTheta: num(j, 'rope_theta', source, 10000),
    ropeScaling: ropeScaling(j, source),
    maxPositions: int(j, 'max_position_embeddings', source, 2048),
    // HF's LlamaConfig and Qwen3Config both default to an untied head
    tieWordEmbeddings: j.tie_word_embeddings === undefined ? false : j.tie_word_embeddings === true,
    qkNorm: modelType === 'qwen3',
    bosTokenId: tok('bos_token_id', 0),
    eosTokenId: eos,
    // no pad token in these configs: pad with eos (padding is masked; the id only has to exist)
    padTokenId: tok('pad_token_id', eos),
    unkTokenId: eos,
    torchDtype: typeof j.torch_dtype === 'string' ? j.torch_dtype : undefined,
    raw: { ...j },
  };
}

/** config.json for HF transformers: the parsed file with the modelled fields written back. */
export function toLlamaConfigJSON(cfg: LlamaConfig): string {
  const out: Json = {
    ...cfg.raw,
    architectures: cfg.raw.architectures ?? [cfg.modelType === 'qwen3' ? 'Qwen3ForCausalLM' : 'LlamaForCausalLM'],
    model_type: cfg.modelType,
    vocab_size: cfg.vocabSize,
    hidden_size: cfg.hiddenSize,
    intermediate_size: cfg.intermediateSize,
    num_hidden_layers: cfg.nLayer,
    num_attention_heads: cfg.nHead,
    num_key_value_heads: cfg.nKVHead,
    head_dim: cfg.headDim,
    rms_norm_eps: cfg.rmsNormEps,
    rope_theta: cfg.ropeTheta,
    tie_word_embeddings: cfg.tieWordEmbeddings,
  };
  if (cfg.torchDtype) out.torch_dtype = cfg.torchDtype;
  const sorted: Json = {};
  for (const k of Object.keys(out).sort()) sorted[k] = out[k];
  return `${JSON.stringify(sorted, null, 2)}\n`;
}

/**
 * inv_freq [head_dim/2] as HF's rope initialisers compute it (float32): 1/θ^(2d/D), then per rope_scaling: linear
 * divides by factor; llama3 divides wavelengths longer than original_max/low_freq_factor by factor, keeps those
 * shorter than original_max/high_freq_factor, and blends in between.
 */
export function ropeInvFreq(cfg: LlamaConfig): Float32Array {
  const D = cfg.headDim,
    s = cfg.ropeScaling;
  const inv = Float32Array.from({ length: D / 2 }, (_, d) => 1 / cfg.ropeTheta ** Math.fround((2 * d) / D));
  if (s.type === 'linear') return inv.map((f) => f / s.factor);
  if (s.type !== 'llama3') return inv;
  const lowWavelen = s.originalMaxPositions / s.lowFreqFactor,
    highWavelen = s.originalMaxPositions / s.highFreqFactor;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f;
    if (wavelen > lowWavelen) return f / s.factor;
    const smooth = (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
    return (1 - smooth) * (f / s.factor) + smooth * f;
  });
}

/** The parameters in checkpoint order (HF names) with shapes and roles; lm_head only when untied. */
export function llamaParameters(cfg: LlamaConfig): ParamSpec[] {
  const H = cfg.hiddenSize,
    I = cfg.intermediateSize,
    D = cfg.headDim;
  const out: ParamSpec[] = [{ name: 'model.embed_tokens.weight', shape: [cfg.vocabSize, H], role: 'embedding' }];
  const norm = (name: string, n: number): ParamSpec => ({ name, shape: [n], role: 'norm', init: 'ones' });
  const mat = (name: string, n: number, k: number): ParamSpec => ({ name, shape: [n, k], role: 'matrix' });
  for (let l = 0; l < cfg.nLayer; l++) {
    const p = `model.layers.${l}.`;
    out.push(
      norm(`${p}input_layernorm.weight`, H),
      mat(`${p}self_attn.q_proj.weight`, cfg.nHead * D, H),
      mat(`${p}self_attn.k_proj.weight`, cfg.nKVHead * D, H),
      mat(`${p}self_attn.v_proj.weight`, cfg.nKVHead * D, H),
      mat(`${p}self_attn.o_proj.weight`, H, cfg.nHead * D),
    );
    if (cfg.qkNorm) out.push(norm(`${p}self_attn.q_norm.weight`, D), norm(`${p}self_attn.k_norm.weight`, D));
    out.push(
      norm(`${p}post_attention_layernorm.weight`, H),
      mat(`${p}mlp.gate_proj.weight`, I, H),
      mat(`${p}mlp.up_proj.weight`, I, H),
      mat(`${p}mlp.down_proj.weight`, H, I),
    );
  }
  out.push(norm('model.norm.weight', H));
  if (!cfg.tieWordEmbeddings) out.push({ name: 'lm_head.weight', shape: [cfg.vocabSize, H], role: 'embedding' });
  return out;
}
