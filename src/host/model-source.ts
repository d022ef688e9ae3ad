// Where the worker's models come from: Files, a directory handle, a Map of Blobs, or a URL folder (fetched as
// transformers would: a single model.safetensors or the shard index and its shards), and the check that a model
// fits this adapter's buffer limits before anything is uploaded.
import type { LoadOptions, Runtime } from './runtime.ts';
import { bloomParameters, parseBloomConfig } from '../model/bloom/config.ts';

/**
 * Where a model comes from: its files by name (a Map or an object), the File list of an <input webkitdirectory>,
 * a FileSystemDirectoryHandle (showDirectoryPicker), or the URL of a folder that serves config.json, tokenizer.json
 * and model.safetensors (or model.safetensors.index.json + shards). Files are Blobs: the worker reads them in
 * pieces as it uploads, nothing is copied whole through the page.
 */
export type ModelSource =
  | Map<string, Blob>
  | Record<string, Blob>
  | ArrayLike<File>
  | FileSystemDirectoryHandle
  | string;

export async function filesOf(src: ModelSource): Promise<Map<string, Blob>> {
  if (src instanceof Map) return src;
  if (typeof src === 'string') return fetchFolder(src);
  if (
    typeof (src as FileSystemDirectoryHandle).kind === 'string' &&
    (src as FileSystemDirectoryHandle).kind === 'directory'
  ) {
    const dir = src as FileSystemDirectoryHandle,
      out = new Map<string, Blob>();
    for await (const h of (dir as any).values() as AsyncIterable<FileSystemHandle>) {
      if (h.kind === 'file') out.set(`${dir.name}/${h.name}`, await (h as FileSystemFileHandle).getFile());
    }
    return out;
  }
  if (typeof (src as ArrayLike<File>).length === 'number') {
    return new Map(Array.from(src as ArrayLike<File>, (f) => [f.webkitRelativePath || f.name, f]));
  }
  return new Map(Object.entries(src as Record<string, Blob>));
}

/** A model folder served over HTTP; a missing model.safetensors falls back to the shard index, as transformers does. */
async function fetchFolder(base: string): Promise<Map<string, Blob>> {
  const root = new URL(base.endsWith('/') ? base : base + '/', self.location.href);
  const get = async (f: string, optional = false): Promise<Blob | null> => {
    const res = await fetch(new URL(f, root));
    if (res.ok) return res.blob();
    if (optional && res.status === 404) return null;
    throw new Error(
      `cannot fetch ${new URL(f, root)}: HTTP ${res.status} (the model URL must serve config.json, tokenizer.json and model.safetensors)`,
    );
  };
  const label = root.pathname.replace(/\/$/, '').split('/').pop() || root.host;
  const out = new Map<string, Blob>();
  for (const f of ['config.json', 'tokenizer.json']) out.set(`${label}/${f}`, (await get(f))!);
  const single = await get('model.safetensors', true);
  if (single) out.set(`${label}/model.safetensors`, single);
  else {
    const index = (await get('model.safetensors.index.json'))!;
    out.set(`${label}/model.safetensors.index.json`, index);
    const shards = new Set(Object.values(JSON.parse(await index.text()).weight_map ?? {}) as string[]);
    for (const f of shards) out.set(`${label}/${f}`, (await get(f))!);
  }
  return out;
}

/** Refuses, with the numbers, a model whose largest unsharded tensor exceeds this adapter's buffer limits. */
export async function checkFits(r: Runtime, files: Map<string, Blob>, dtype: LoadOptions['dtype']): Promise<void> {
  const cfgBlob = [...files].find(([k]) => k.split('/').pop() === 'config.json')?.[1];
  if (!cfgBlob) return; // openCheckpoint names the missing file
  const cfgName = [...files].find(([, b]) => b === cfgBlob)?.[0] ?? 'config.json';
  let json: unknown;
  try {
    json = JSON.parse(await cfgBlob.text());
  } catch (e) {
    throw new Error(`${cfgName}: not valid JSON (${(e as Error).message})`);
  }
  const cfg = parseBloomConfig(json, cfgName);
  const lim = r.adapter.limits;
  const cap = Math.min(lim.maxStorageBufferBindingSize, lim.maxBufferSize);
  let total = 0,
    big = { name: '', bytes: 0 };
  for (const p of bloomParameters(cfg)) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    const bytes = n * (dtype === 'f16' && p.shape.length === 2 ? 2 : 4);
    total += bytes;
    // the embedding is split into vocabulary shards that fit; every other tensor must fit one binding
    if (p.name !== 'word_embeddings.weight' && bytes > big.bytes)
      big = { name: `${p.name} ${p.shape.join('×')}`, bytes };
  }
  if (big.bytes > cap) {
    throw new Error(
      `this model does not fit this GPU adapter: ${big.name} needs ${big.bytes.toLocaleString('en')} bytes in one buffer, ` +
        `but maxStorageBufferBindingSize is ${lim.maxStorageBufferBindingSize.toLocaleString('en')} and maxBufferSize ${lim.maxBufferSize.toLocaleString('en')} ` +
        `(the weights need ${(total / 2 ** 20).toFixed(0)} MiB in all)${dtype === 'f16' ? '' : '; try dtype f16'}`,
    );
  }
}
