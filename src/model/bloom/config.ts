// BLOOM configuration: config.json parsing (HF key aliases included), the size table, and the ordered canonical
// parameter list, which is the one source of truth for tensor names and shapes (docs/bloom.md).

import type { ModelConfig, ParamRole, ParamSpec } from '../causal-lm.ts';

export type { ParamRole, ParamSpec } from '../causal-lm.ts';

export interface BloomConfig extends ModelConfig {
  family: 'bloom';
  vocabSize: number; // embedding rows V (250880 on the hub models; the tokenizer uses fewer)
  hiddenSize: number; // model width H
  nLayer: number; // number of blocks h.0 … h.{L-1}
  nHead: number; // attention heads N
  headDim: number; // D = H / N, derived
  layerNormEpsilon: number; // eps inside every LayerNorm
  applyResidualConnectionPostLayernorm: boolean; // residual taken from the LayerNorm output, not its input (false on every hub BLOOM)
  bosTokenId: number; // <s>
  eosTokenId: number; // </s>
  padTokenId: number; // <pad> (left padding)
  unkTokenId: number; // <unk>
  torchDtype?: string; // dtype the weights were saved in ('float16', 'bfloat16', 'float32'); informational
  raw: Record<string, unknown>; // the parsed config.json, so keys we do not model survive a save
}

/** Sizes of the models we know by name. vocabSize is the embedding row count. */
export interface BloomSize {
  hiddenSize: number;
  nLayer: number;
  nHead: number;
  vocabSize: number;
}
const B560M: BloomSize = { hiddenSize: 1024, nLayer: 24, nHead: 16, vocabSize: 250880 };
const B1B1: BloomSize = { hiddenSize: 1536, nLayer: 24, nHead: 16, vocabSize: 250880 };
export const BLOOM_SIZES: Readonly<Record<string, BloomSize>> = {
  'bloom-560m': B560M,
  'bloomz-560m': B560M,
  'bloom-1b1': B1B1,
  'bloomz-1b1': B1B1,
  'nano-bloomz': { hiddenSize: 256, nLayer: 4, nHead: 8, vocabSize: 4096 },
};

type Json = Record<string, unknown>;

/** First present (non-null) key among aliases; aliases that disagree are an error, not a silent pick. */
function pick(j: Json, keys: string[], src: string): unknown {
  const present = keys.filter((k) => j[k] !== undefined && j[k] !== null);
  const vals = new Set(present.map((k) => JSON.stringify(j[k])));
  if (vals.size > 1)
    throw new Error(
      `${src}: ${present.map((k) => `"${k}": ${JSON.stringify(j[k])}`).join(' and ')} disagree — keep one`,
    );
  return present.length ? j[present[0]] : undefined;
}

function posInt(j: Json, keys: string[], src: string, dflt?: number, min = 1): number {
  let v = pick(j, keys, src);
  if (Array.isArray(v)) v = v[0]; // eos_token_id may be a list in newer configs; BLOOM has one
  if (v === undefined) {
    if (dflt !== undefined) return dflt;
    const alias =
      keys.length > 1
        ? ` (or ${keys
            .slice(1)
            .map((k) => `"${k}"`)
            .join(', ')})`
        : '';
    throw new Error(
      `${src}: missing "${keys[0]}"${alias} — a BLOOM config.json needs vocab_size, hidden_size, n_layer and n_head`,
    );
  }
  if (!Number.isSafeInteger(v) || (v as number) < min)
    throw new Error(`${src}: "${keys[0]}" must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return v as number;
}

/** Validate a parsed config.json and map it to BloomConfig. `source` names the file in errors. */
export function parseBloomConfig(json: unknown, source = 'config.json'): BloomConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new Error(`${source}: expected a JSON object, got ${JSON.stringify(json)?.slice(0, 80)}`);
  const j = json as Json;
  if (j.model_type !== undefined && j.model_type !== 'bloom') {
    throw new Error(
      `${source}: model_type is ${JSON.stringify(j.model_type)}, not "bloom" — this runtime implements BLOOM/BLOOMZ only`,
    );
  }
  const hiddenSize = posInt(j, ['hidden_size', 'n_embed'], source);
  const nHead = posInt(j, ['n_head', 'num_attention_heads'], source);
  if (hiddenSize % nHead !== 0)
    throw new Error(
      `${source}: hidden_size ${hiddenSize} is not divisible by n_head ${nHead} (head_dim = hidden_size / n_head must be an integer)`,
    );
  const eps = j.layer_norm_epsilon ?? 1e-5;
  if (typeof eps !== 'number' || !(eps > 0))
    throw new Error(`${source}: layer_norm_epsilon must be a positive number, got ${JSON.stringify(eps)}`);
  const post = j.apply_residual_connection_post_layernorm ?? false;
  if (typeof post !== 'boolean') {
    throw new Error(
      `${source}: apply_residual_connection_post_layernorm must be true or false, got ${JSON.stringify(post)} ` +
        '(true takes each residual from the LayerNorm output instead of its input; every hub BLOOM uses false)',
    );
  }
  const dt = [j.dtype, j.torch_dtype].find((x) => typeof x === 'string') as string | undefined;
  const cfg: BloomConfig = {
    family: 'bloom',
    vocabSize: posInt(j, ['vocab_size'], source),
    hiddenSize,
    nLayer: posInt(j, ['n_layer', 'num_hidden_layers'], source),
    nHead,
    headDim: hiddenSize / nHead,
    layerNormEpsilon: eps,
    applyResidualConnectionPostLayernorm: post,
    bosTokenId: posInt(j, ['bos_token_id'], source, 1, 0),
    eosTokenId: posInt(j, ['eos_token_id'], source, 2, 0),
    padTokenId: posInt(j, ['pad_token_id'], source, 3, 0),
    unkTokenId: posInt(j, ['unk_token_id'], source, 0, 0),
    torchDtype: dt,
    raw: { ...j },
  };
  for (const [k, v] of [
    ['bos', cfg.bosTokenId],
    ['eos', cfg.eosTokenId],
    ['pad', cfg.padTokenId],
    ['unk', cfg.unkTokenId],
  ] as const) {
    if (v >= cfg.vocabSize)
      throw new Error(`${source}: ${k}_token_id ${v} is outside the vocabulary (vocab_size ${cfg.vocabSize})`);
  }
  return cfg;
}

/** config.json text that HF transformers loads as a BloomConfig: canonical keys win, unknown raw keys are kept,
 *  alias keys dropped (they would shadow the canonical ones), keys sorted as `save_pretrained` writes them. */
export function toHFConfigJSON(cfg: BloomConfig): string {
  const out: Json = { ...cfg.raw };
  for (const k of ['num_hidden_layers', 'num_attention_heads', 'n_embed']) delete out[k];
  Object.assign(out, {
    architectures: out.architectures ?? ['BloomForCausalLM'],
    model_type: 'bloom',
    vocab_size: cfg.vocabSize,
    hidden_size: cfg.hiddenSize,
    n_layer: cfg.nLayer,
    n_head: cfg.nHead,
    layer_norm_epsilon: cfg.layerNormEpsilon,
    apply_residual_connection_post_layernorm: cfg.applyResidualConnectionPostLayernorm,
    bos_token_id: cfg.bosTokenId,
    eos_token_id: cfg.eosTokenId,
    pad_token_id: cfg.padTokenId,
  });
  if ('unk_token_id' in out || cfg.unkTokenId !== 0) out.unk_token_id = cfg.unkTokenId;
  if (cfg.torchDtype) {
    out.torch_dtype = cfg.torchDtype; // transformers < 5 reads torch_dtype; 5.x reads dtype and still accepts torch_dtype
    if ('dtype' in out) out.dtype = cfg.torchDtype;
  }
  const sorted: Json = {};
  for (const k of Object.keys(out).sort()) sorted[k] = out[k];
  return JSON.stringify(sorted, null, 2) + '\n';
}

/** Full config of a named size ('bloomz-560m', 'bigscience/bloom-1b1', 'nano-bloomz'), with BLOOM's common values. */
export function bloomConfigFor(name: string): BloomConfig {
  const key = name.replace(/^bigscience\//, '');
  const s = BLOOM_SIZES[key];
  if (!s) throw new Error(`unknown model size '${name}' — known: ${Object.keys(BLOOM_SIZES).join(', ')}`);
  return parseBloomConfig(
    {
      architectures: ['BloomForCausalLM'],
      model_type: 'bloom',
      vocab_size: s.vocabSize,
      hidden_size: s.hiddenSize,
      n_layer: s.nLayer,
      n_head: s.nHead,
      layer_norm_epsilon: 1e-5,
      apply_residual_connection_post_layernorm: false,
      attention_dropout: 0.0,
      hidden_dropout: 0.0,
      pretraining_tp: 1,
      slow_but_exact: false,
      bos_token_id: 1,
      eos_token_id: 2,
      pad_token_id: 3,
      unk_token_id: 0,
      initializer_range: 0.02,
      tie_word_embeddings: true,
      use_cache: true,
      torch_dtype: 'float16',
    },
    key,
  );
}

/** Canonical parameters in BloomModel order, without the `transformer.` prefix; lm_head is tied and not listed. */
export function bloomParameters(cfg: BloomConfig): ParamSpec[] {
  const H = cfg.hiddenSize;
  const ps: ParamSpec[] = [
    { name: 'word_embeddings.weight', shape: [cfg.vocabSize, H], role: 'embedding' },
    { name: 'word_embeddings_layernorm.weight', shape: [H], role: 'norm', init: 'ones' },
    { name: 'word_embeddings_layernorm.bias', shape: [H], role: 'norm', init: 'zeros' },
  ];
  const block: [string, number[], ParamRole, ParamSpec['init']?][] = [
    ['input_layernorm.weight', [H], 'norm', 'ones'],
    ['input_layernorm.bias', [H], 'norm', 'zeros'],
    ['self_attention.query_key_value.weight', [3 * H, H], 'matrix'],
    ['self_attention.query_key_value.bias', [3 * H], 'bias'],
    ['self_attention.dense.weight', [H, H], 'matrix'],
    ['self_attention.dense.bias', [H], 'bias'],
    ['post_attention_layernorm.weight', [H], 'norm', 'ones'],
    ['post_attention_layernorm.bias', [H], 'norm', 'zeros'],
    ['mlp.dense_h_to_4h.weight', [4 * H, H], 'matrix'],
    ['mlp.dense_h_to_4h.bias', [4 * H], 'bias'],
    ['mlp.dense_4h_to_h.weight', [H, 4 * H], 'matrix'],
    ['mlp.dense_4h_to_h.bias', [H], 'bias'],
  ];
  for (let i = 0; i < cfg.nLayer; i++)
    for (const [n, shape, role, init] of block)
      ps.push({ name: `h.${i}.${n}`, shape: [...shape], role, ...(init ? { init } : {}) });
  ps.push(
    { name: 'ln_f.weight', shape: [H], role: 'norm', init: 'ones' },
    { name: 'ln_f.bias', shape: [H], role: 'norm', init: 'zeros' },
  );
  return ps;
}

// roles by name, from the table above (one block stands for all: names are looked up with block index 0)
const ROLES = new Map<string, ParamRole>(
  bloomParameters({ hiddenSize: 1, vocabSize: 1, nLayer: 1 } as BloomConfig).map((p) => [p.name, p.role]),
);
// an untied LM head (a checkpoint with tie_word_embeddings false) is the output embedding: treated as the input one
ROLES.set('lm_head.weight', 'embedding');

/** The role of a canonical parameter name (`h.7.mlp.dense_h_to_4h.bias` → `bias`); unknown names are an error. */
export function parameterRole(name: string): ParamRole {
  const r = ROLES.get(name.replace(/^h\.\d+\./, 'h.0.'));
  if (!r) throw new Error(`"${name}" is not a BLOOM parameter name (see bloomParameters in src/model/bloom/config.ts)`);
  return r;
}

/** Parameter count with the LM head tied (VH + L(12H²+13H) + 4H). */
export function countParameters(cfg: BloomConfig): number {
  return bloomParameters(cfg).reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
}
