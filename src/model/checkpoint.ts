// Model checkpoint folders (HF layout): open from a Node path or a browser file map, read config.json with the family
// its model_type names (src/model/families.ts), canonicalize tensor names, check them against the family's parameter
// table; save HF-compatibly. node:fs/node:path are dynamic imports
// reached only from the Node paths (string folders, saveCheckpoint), so the module bundles for a browser worker.
import type { ModelConfig, ParameterSource, ParamSpec } from './causal-lm.ts';
import { familyOf, parseModelConfig } from './families.ts';
import { bf16ArrayToF32 } from './dtype.ts';
import {
  blobSource,
  fileSource,
  SafetensorsFile,
  writeSafetensors,
  type ByteSource,
  type DType,
  type TensorInfo,
  type TensorToWrite,
} from './safetensors.ts';
import { hashOf, hashSource } from '../util/content-hash.ts';

export interface Checkpoint {
  config: ModelConfig;
  tokenizerJSON: string;
  dir: string; // folder path, or a label for a file map
  tensors: Map<string, { info: TensorInfo; file: SafetensorsFile }>; // canonical name -> where its bytes are
  lmHeadUntied: boolean; // lm_head.weight present and tie_word_embeddings false: `tensors` then holds it
  f32(name: string): Promise<Float32Array<ArrayBuffer>>;
  raw(name: string): Promise<{ dtype: DType; shape: number[]; bytes: Uint8Array<ArrayBuffer> }>;
  close(): Promise<void>;
  warnings: string[];
  /**
   * Content hashes of the files as opened (config.json, tokenizer.json, each weight file, a shard index), taken
   * before any tensor is read: the identity of this model that fingerprints keep (src/eval/fingerprint.ts).
   */
  contentHashes: Record<string, string>;
}

const INDEX = 'model.safetensors.index.json';
const SHARD = /^model-\d+-of-\d+\.safetensors$/;
const WEIGHT_DTYPES = new Set<DType>(['F32', 'F16', 'BF16']);
export const TORCH_DTYPE: Record<'F32' | 'F16' | 'BF16', string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

/** A checkpoint tensor's canonical name in the family of `cfg` (BLOOM: `transformer.` dropped). */
export function canonicalName(name: string, cfg: ModelConfig): string {
  return familyOf(cfg).canonicalName(name);
}

/** What openCheckpoint needs from a folder, whether on disk or a browser file map. */
interface Folder {
  label: string;
  files: string[];
  text(f: string): Promise<string>;
  source(f: string): Promise<ByteSource>;
}

async function nodeFolder(dir: string): Promise<Folder> {
  const fs = await import('node:fs/promises'); // Node path only
  const { join } = await import('node:path');
  let files: string[];
  try {
    files = await fs.readdir(dir);
  } catch (e) {
    throw new Error(`checkpoint folder ${dir} cannot be read: ${(e as Error).message}`);
  }
  return { label: dir, files, text: (f) => fs.readFile(join(dir, f), 'utf8'), source: (f) => fileSource(join(dir, f)) };
}

/** Keys may carry a relative path (webkitRelativePath 'bloomz/config.json'); only the last segment counts. */
function mapFolder(m: Map<string, Blob>): Folder {
  const byName = new Map([...m].map(([k, b]) => [k.split('/').pop()!, b]));
  const first = [...m.keys()][0] ?? '';
  const label = first.includes('/') ? first.slice(0, first.lastIndexOf('/')) : '(selected files)';
  return {
    label,
    files: [...byName.keys()],
    text: (f) => byName.get(f)!.text(),
    source: async (f) => blobSource(byName.get(f)!, `${label}/${f}`),
  };
}

async function need(folder: Folder, f: string, what: string): Promise<string> {
  if (!folder.files.includes(f))
    throw new Error(
      `checkpoint folder ${folder.label} has no ${f} (${what}) — expected a HuggingFace model folder with config.json, tokenizer.json and model.safetensors`,
    );
  return folder.text(f);
}

/** Weight files to open, preferring model.safetensors over a shard index as transformers does. */
async function weightFiles(folder: Folder): Promise<string[]> {
  if (folder.files.includes('model.safetensors')) return ['model.safetensors'];
  if (folder.files.includes(INDEX)) {
    let map: unknown;
    try {
      map = (JSON.parse(await folder.text(INDEX)) as { weight_map?: unknown }).weight_map;
    } catch (e) {
      throw new Error(`${folder.label}/${INDEX}: not valid JSON (${(e as Error).message})`);
    }
    if (typeof map !== 'object' || map === null) throw new Error(`${folder.label}/${INDEX}: no "weight_map" object`);
    const shards = [...new Set(Object.values(map) as string[])].sort();
    const lost = shards.filter((s) => !folder.files.includes(s));
    if (lost.length)
      throw new Error(
        `${folder.label}/${INDEX} lists shard(s) ${lost.join(', ')} that are not in the folder — download every shard`,
      );
    return shards;
  }
  const shards = folder.files.filter((f) => SHARD.test(f)).sort();
  if (shards.length) return shards;
  const bin = folder.files.some((f) => f.endsWith('.bin'))
    ? ' (pytorch .bin weights are not supported: re-save with save_pretrained(dir, safe_serialization=True))'
    : '';
  throw new Error(
    `checkpoint folder ${folder.label} has no model.safetensors, ${INDEX} or model-0000x-of-0000y.safetensors${bin}`,
  );
}

type Entry = { info: TensorInfo; file: SafetensorsFile };

/** Merge every file's tensors under canonical names; decide what to do with lm_head.weight. */
function collect(
  cfg: ModelConfig,
  files: SafetensorsFile[],
  warnings: string[],
): { tensors: Map<string, Entry>; lmHeadUntied: boolean } {
  const tensors = new Map<string, Entry>();
  for (const file of files) {
    for (const info of file.tensors.values()) {
      const name = canonicalName(info.name, cfg);
      const prev = tensors.get(name);
      if (prev)
        throw new Error(
          `tensor '${name}' appears twice: '${prev.info.name}' in ${prev.file.name} and '${info.name}' in ${file.name} — remove one`,
        );
      tensors.set(name, { info, file });
    }
  }
  const lm = tensors.get('lm_head.weight');
  const tied = cfg.raw.tie_word_embeddings !== false;
  if (lm && tied) tensors.delete('lm_head.weight'); // a saved copy of the tied embedding
  if (!lm && !tied)
    warnings.push(
      'tie_word_embeddings is false but there is no lm_head.weight: using the input embedding as the LM head',
    );
  return { tensors, lmHeadUntied: !!lm && !tied };
}

/** The config.json key that gave a value, as the file spells it (BLOOM: n_layer; Llama/Qwen3: num_hidden_layers). */
function keyIn(cfg: ModelConfig, keys: string[]): string {
  return keys.find((k) => k in cfg.raw) ?? keys[0];
}

/** Every expected tensor present with the config's shape and a float dtype; extras dropped with a warning. */
function validate(
  cfg: ModelConfig,
  expected: ParamSpec[],
  tensors: Map<string, Entry>,
  files: SafetensorsFile[],
  warnings: string[],
): void {
  const problems: string[] = [];
  const where = files.map((f) => f.name).join(', ');
  for (const p of expected) {
    const t = tensors.get(p.name);
    if (!t)
      problems.push(
        `tensor '${p.name}' is missing: config.json expects shape [${p.shape}], found no such tensor in ${where}`,
      );
    else if (t.info.shape.join() !== p.shape.join())
      problems.push(
        `tensor '${p.name}' has the wrong shape: config.json expects [${p.shape}], ${t.file.name} has [${t.info.shape}]`,
      );
    else if (!WEIGHT_DTYPES.has(t.info.dtype))
      problems.push(`tensor '${p.name}' in ${t.file.name} has dtype ${t.info.dtype}; weights must be F32, F16 or BF16`);
  }
  const names = new Set(expected.map((p) => p.name));
  const layers = `${keyIn(cfg, ['n_layer', 'num_hidden_layers'])}=${cfg.nLayer}`;
  for (const [n, t] of tensors) {
    const layer = familyOf(cfg).layerOf(n);
    if (!names.has(n) && layer !== undefined && layer >= cfg.nLayer) {
      // ignoring them would silently score with a truncated model
      problems.push(
        `tensor '${t.info.name}' in ${t.file.name} belongs to layer ${layer}, but config.json has ${layers}: the weights have more layers than the config`,
      );
      tensors.delete(n);
    } else if (!names.has(n)) {
      warnings.push(`unexpected tensor '${t.info.name}' in ${t.file.name} (ignored)`);
      tensors.delete(n);
    }
  }
  if (problems.length) {
    const heads = `${keyIn(cfg, ['n_head', 'num_attention_heads'])}=${cfg.nHead}`;
    const sizes = `vocab_size=${cfg.vocabSize}, hidden_size=${cfg.hiddenSize}, ${layers}, ${heads}`;
    const more = problems.length > 20 ? `\n  … and ${problems.length - 20} more` : '';
    throw new Error(
      `checkpoint does not match its config.json (${sizes}) — use the config.json that belongs to these weights:\n  ${problems.slice(0, 20).join('\n  ')}${more}`,
    );
  }
}

/** Open a checkpoint folder: a Node path, or a browser `Map<fileName, Blob>`. Tensor bytes stay on disk until asked for. */
export async function openCheckpoint(dirOrFiles: string | Map<string, Blob>): Promise<Checkpoint> {
  const folder = typeof dirOrFiles === 'string' ? await nodeFolder(dirOrFiles) : mapFolder(dirOrFiles);
  const cfgText = await need(folder, 'config.json', 'the model configuration');
  let cfgJSON: unknown;
  try {
    cfgJSON = JSON.parse(cfgText);
  } catch (e) {
    throw new Error(`${folder.label}/config.json: not valid JSON (${(e as Error).message})`);
  }
  const config = parseModelConfig(cfgJSON, `${folder.label}/config.json`);
  const tokenizerJSON = await need(folder, 'tokenizer.json', 'the tokenizer');
  const files: SafetensorsFile[] = [];
  try {
    const names = await weightFiles(folder);
    for (const f of names) files.push(await SafetensorsFile.open(await folder.source(f)));
    const contentHashes: Record<string, string> = {
      'config.json': await hashOf(cfgText),
      'tokenizer.json': await hashOf(tokenizerJSON),
    };
    if (!folder.files.includes('model.safetensors') && folder.files.includes(INDEX))
      contentHashes[INDEX] = await hashOf(await folder.text(INDEX));
    // streamed in pieces: a multi-GB file is never held whole (docs/reliability.md: hashing cost)
    for (let k = 0; k < names.length; k++) contentHashes[names[k]] = await hashSource(files[k].source);
    const warnings: string[] = [];
    const { tensors, lmHeadUntied } = collect(config, files, warnings);
    const expected = familyOf(config).parameters(config);
    if (lmHeadUntied && !expected.some((p) => p.name === 'lm_head.weight'))
      expected.push({ name: 'lm_head.weight', shape: [config.vocabSize, config.hiddenSize], role: 'embedding' });
    validate(config, expected, tensors, files, warnings);
    return makeCheckpoint(config, tokenizerJSON, folder.label, tensors, lmHeadUntied, files, warnings, contentHashes);
  } catch (e) {
    await Promise.all(files.map((f) => f.close()));
    if (e instanceof Error && !e.message.includes(folder.label)) e.message = `${folder.label}: ${e.message}`;
    throw e;
  }
}

function makeCheckpoint(
  config: ModelConfig,
  tokenizerJSON: string,
  dir: string,
  tensors: Map<string, Entry>,
  lmHeadUntied: boolean,
  files: SafetensorsFile[],
  warnings: string[],
  contentHashes: Record<string, string>,
): Checkpoint {
  const entry = (name: string): Entry => {
    const t = tensors.get(canonicalName(name, config));
    if (!t)
      throw new Error(
        `${dir}: no tensor '${name}' in this checkpoint (names are canonical: ` +
          `${familyOf(config).parameters(config)[1]?.name ?? ''} …)`,
      );
    return t;
  };
  return {
    config,
    tokenizerJSON,
    dir,
    tensors,
    lmHeadUntied,
    warnings,
    contentHashes,
    f32: async (name) => {
      const t = entry(name);
      return t.file.f32(t.info.name);
    },
    raw: async (name) => {
      const t = entry(name);
      return { dtype: t.info.dtype, shape: t.info.shape, bytes: await t.file.raw(t.info.name) };
    },
    close: async () => {
      await Promise.all(files.map((f) => f.close()));
    },
  };
}

export interface SaveOptions {
  dtype?: 'F32' | 'F16' | 'BF16';
}

/** The tensors of model.safetensors in the checkpoint's order, checked against the config (`what` names the target). */
function checkpointTensors(
  what: string,
  cfg: ModelConfig,
  params: Map<string, Float32Array>,
  dtype: NonNullable<SaveOptions['dtype']>,
): TensorToWrite[] {
  const expected = familyOf(cfg).parameters(cfg);
  const untied = cfg.raw.tie_word_embeddings === false && params.has('lm_head.weight');
  if (untied && !expected.some((p) => p.name === 'lm_head.weight'))
    expected.push({ name: 'lm_head.weight', shape: [cfg.vocabSize, cfg.hiddenSize], role: 'embedding' });
  const known = new Set([...expected.map((p) => p.name), 'lm_head.weight']);
  const problems = [...params.keys()].filter((n) => !known.has(n)).map((n) => `unexpected parameter '${n}'`);
  const tensors: TensorToWrite[] = [];
  for (const p of expected) {
    const d = params.get(p.name);
    const n = p.shape.reduce((a, b) => a * b, 1);
    if (!d) problems.push(`parameter '${p.name}' is missing (shape [${p.shape}])`);
    else if (d.length !== n)
      problems.push(`parameter '${p.name}' has ${d.length} values, shape [${p.shape}] needs ${n}`);
    else tensors.push({ name: p.name, dtype, shape: p.shape, data: d }); // F16/BF16 converted per tensor while writing
  }
  if (problems.length)
    throw new Error(`saveCheckpoint(${what}): parameters do not match the config:\n  ${problems.join('\n  ')}`);
  return tensors;
}

/** Node only. Writes model.safetensors (no prefix, tied lm_head omitted, metadata {format:'pt'}), config.json
 *  (torch_dtype = the saved dtype) and tokenizer.json, each atomically. `params` holds canonical names. */
export async function saveCheckpoint(
  dir: string,
  cfg: ModelConfig,
  tokenizerJSON: string,
  params: Map<string, Float32Array>,
  opts: SaveOptions = {},
): Promise<void> {
  const dtype = opts.dtype ?? 'F32';
  const tensors = checkpointTensors(dir, cfg, params, dtype);
  const fs = await import('node:fs/promises'); // Node path only
  const { join } = await import('node:path');
  const { atomicWriteFile } = await import('../util/atomic.ts');
  await fs.mkdir(dir, { recursive: true });
  await writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  await atomicWriteFile(join(dir, 'tokenizer.json'), tokenizerJSON);
  await atomicWriteFile(join(dir, 'config.json'), familyOf(cfg).configJSON({ ...cfg, torchDtype: TORCH_DTYPE[dtype] }));
}

/**
 * The tokenizer's ids must index the embedding: ids at or past vocab_size would read rows that do not exist (out of
 * range on the GPU: garbage or zeros, scored without a word). (BLOOM's tokenizer has 250,680 ids for 250,880 rows.)
 */
export function checkTokenizerFits(tokenizerVocab: number, cfg: ModelConfig, dir: string): void {
  if (tokenizerVocab > cfg.vocabSize)
    throw new Error(
      `${dir}: tokenizer.json has ids up to ${tokenizerVocab - 1}, but config.json has vocab_size ${cfg.vocabSize} ` +
        '(embedding rows): the tokenizer belongs to another model — use the tokenizer.json saved with these weights',
    );
}

/** Reads a checkpoint's parameters as f32 (F16/BF16 converted), refusing non-finite weights: a model's loader source. */
export function checkpointSource(ck: Checkpoint): ParameterSource {
  return async (name) => {
    const raw = await ck.raw(name);
    let data: Float32Array;
    if (raw.dtype === 'F32') data = new Float32Array(raw.bytes.buffer, raw.bytes.byteOffset, raw.bytes.byteLength / 4);
    else if (raw.dtype === 'BF16')
      data = bf16ArrayToF32(new Uint16Array(raw.bytes.buffer, raw.bytes.byteOffset, raw.bytes.byteLength / 2));
    else data = await ck.f32(name);
    refuseNonFinite(data, name, ck.dir);
    return data;
  };
}

/**
 * A NaN or ±Inf weight makes every score NaN (printed as null) and every generated token <unk>, and int8
 * quantization would hide it in finite wrong numbers, so a checkpoint holding one is refused at load. The scan runs
 * on the host copy that is converted and uploaded anyway: one pass, a small fraction of the load time.
 */
export function refuseNonFinite(data: Float32Array, name: string, dir: string): void {
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (x - x !== 0)
      throw new Error(
        `${dir}: tensor '${name}' holds ${x} at element ${i}: these weights are not usable (a diverged training run ` +
          'or a corrupted file); use an earlier checkpoint or re-download the model',
      );
  }
}
