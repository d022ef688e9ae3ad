// Where the worker's models come from: Files, a directory handle, a Map of Blobs, or a URL folder (fetched as
// transformers would: a single model.safetensors or the shard index and its shards), and the check that a model
// fits this adapter's buffer limits before anything is uploaded.
import type { LoadOptions, Runtime } from './runtime.ts';
import { familyOf, parseModelConfig } from '../model/families.ts';

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

/** A model file's download so far (a model given by URL): bytes received of `total` (null: the server did not say). */
export interface DownloadProgress {
  url: string;
  file: string;
  loaded: number;
  total: number | null;
  /** bytes that came from this browser's storage: a finished earlier download, or the part of an interrupted one */
  cached: number;
}

export interface FetchOptions {
  onDownload?: (p: DownloadProgress) => void;
  /** keep large files in this browser's storage (OPFS) and resume an interrupted download (default: true) */
  cache?: boolean;
}

export async function filesOf(src: ModelSource, opts: FetchOptions = {}): Promise<Map<string, Blob>> {
  if (src instanceof Map) return src;
  if (typeof src === 'string') return fetchFolder(src, opts);
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

/**
 * The folder URL of a model: a HuggingFace Hub repository page (https://huggingface.co/ORG/NAME, …/tree/REV) becomes
 * its file URL folder (…/resolve/REV/); a URL of one of the model's files (…/model.safetensors) becomes its folder.
 */
export function modelFolderUrl(base: string, page: string): URL {
  const u = new URL(base, page);
  const hf = u.pathname.match(/^\/([^/]+)\/([^/]+?)(?:\/(?:tree|blob)\/([^/]+))?\/?$/);
  if (u.hostname === 'huggingface.co' && hf) u.pathname = `/${hf[1]}/${hf[2]}/resolve/${hf[3] ?? 'main'}/`;
  if (/\.(safetensors|json)$/.test(u.pathname)) u.pathname = u.pathname.replace(/[^/]*$/, '');
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return u;
}

/** An error of fetch() itself (no HTTP answer at all): name the URL and the likely cause. */
function networkError(url: URL, e: unknown): Error {
  const origin = (globalThis as any).location?.origin;
  const cross = origin && url.origin !== origin;
  return new Error(
    `cannot fetch ${url.href}: ${(e as Error)?.message ?? e}` +
      (cross
        ? ` — the server at ${url.origin} is unreachable, or it does not allow this page's origin (${origin}): a ` +
          `model on another origin needs CORS (the server must send Access-Control-Allow-Origin: ${origin} or *), ` +
          "and the page's Content-Security-Policy, if any, must list that origin in connect-src"
        : ' — the server is unreachable'),
  );
}

/** Reads a response body piece by piece into a Blob made of parts, reporting bytes as they come. */
async function bodyToBlob(res: Response, report: (n: number) => void): Promise<Blob> {
  if (!res.body) return res.blob();
  const parts: BlobPart[] = [];
  const reader = res.body.getReader();
  let n = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value as Uint8Array<ArrayBuffer>);
      n += value.length;
      report(n);
    }
  } catch (e) {
    throw new Error(`cannot fetch ${res.url}: the download stopped after ${n} bytes (${(e as Error).message})`);
  }
  return new Blob(parts);
}

/** Weight files (*.safetensors) are kept in OPFS when it can (a worker with sync access handles) and resumed there;
 *  the folder of a model URL gets its own directory, named by a hash of the URL. */
const hashOf = (s: string) => {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
};

async function cacheDir(url: URL): Promise<FileSystemDirectoryHandle | null> {
  const storage = (globalThis.navigator as any)?.storage;
  if (typeof storage?.getDirectory !== 'function') return null;
  if (typeof (globalThis as any).FileSystemFileHandle?.prototype?.createSyncAccessHandle !== 'function') return null;
  try {
    let d: FileSystemDirectoryHandle = await storage.getDirectory();
    for (const n of ['instructalign', 'downloads', hashOf(url.href.replace(/[^/]*$/, ''))])
      d = await d.getDirectoryHandle(n, { create: true });
    return d;
  } catch {
    return null; // no OPFS here (e.g. a private window): download into memory
  }
}

/**
 * One file of a model folder. Weights go to OPFS (instructalign/downloads/<hash of the folder URL>/) as they come,
 * with the server's ETag/Last-Modified and size: the next load of the same unchanged file reads it from there, and an
 * interrupted download goes on from where it stopped (an HTTP Range request) instead of starting again.
 */
async function fetchFile(root: URL, f: string, opts: FetchOptions, optional = false): Promise<Blob | null> {
  const url = new URL(f, root);
  const report = (loaded: number, total: number | null, cached = 0) =>
    opts.onDownload?.({ url: url.href, file: f, loaded, total, cached });
  const fail = (res: Response) => {
    if (optional && res.status === 404) return null;
    throw new Error(
      `cannot fetch ${url.href}: HTTP ${res.status}${res.status === 401 || res.status === 403 ? ' (a gated or private model needs access; this page sends no token)' : ''} ` +
        '(the model URL must serve config.json, tokenizer.json and model.safetensors, or model.safetensors.index.json and its shards)',
    );
  };
  const get = async (headers?: Record<string, string>) => {
    try {
      return await fetch(url, headers ? { headers } : undefined);
    } catch (e) {
      throw networkError(url, e);
    }
  };
  const dir = opts.cache === false || !/\.safetensors$/.test(f) ? null : await cacheDir(url);
  if (!dir) {
    const res = await get();
    if (!res.ok) return fail(res);
    const total = Number(res.headers.get('content-length')) || null;
    return bodyToBlob(res, (n) => report(n, total));
  }
  // what the server has now (a HEAD answer: no body, no CORS preflight), against what was stored
  let head: Response;
  try {
    head = await fetch(url, { method: 'HEAD' });
  } catch (e) {
    throw networkError(url, e);
  }
  if (!head.ok) return fail(head);
  const version = head.headers.get('etag') ?? head.headers.get('last-modified') ?? '';
  const size = Number(head.headers.get('content-length')) || null;
  const name = f.replace(/[^A-Za-z0-9._-]/g, '_');
  const metaFile = await dir.getFileHandle(`${name}.json`, { create: true });
  let meta: { version: string; size: number | null; done: boolean } | null = null;
  try {
    meta = JSON.parse(await (await metaFile.getFile()).text());
  } catch {
    meta = null;
  }
  const same = !!meta && !!version && meta.version === version && meta.size === size;
  const dataFile = await dir.getFileHandle(name, { create: true });
  const have = same ? (await dataFile.getFile()).size : 0;
  if (same && meta!.done && size !== null && have === size) {
    report(have, size, have);
    return dataFile.getFile();
  }
  const writeMeta = async (done: boolean) => {
    const h = await (metaFile as any).createSyncAccessHandle();
    try {
      const b = new TextEncoder().encode(JSON.stringify({ version, size, done }));
      h.truncate(0);
      h.write(b, { at: 0 });
      h.flush();
    } finally {
      h.close();
    }
  };
  const resume = have > 0 && size !== null && have < size;
  const res = await get(resume ? { Range: `bytes=${have}-` } : undefined);
  if (!res.ok) return fail(res);
  const from = resume && res.status === 206 ? have : 0; // a server without ranges sends it all again
  await writeMeta(false);
  const h = await (dataFile as any).createSyncAccessHandle();
  let at = from;
  try {
    h.truncate(from);
    report(at, size, from);
    const reader = res.body!.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        let off = 0;
        while (off < value.length) off += h.write(value.subarray(off), { at: at + off });
        at += value.length;
        report(at, size, from);
      }
    } catch (e) {
      h.flush(); // what came is kept: the next load goes on from here
      throw new Error(
        `cannot fetch ${url.href}: the download stopped at ${at.toLocaleString('en')} of ` +
          `${size?.toLocaleString('en') ?? '?'} bytes (${(e as Error).message}); load again to resume`,
      );
    }
    h.flush();
  } finally {
    h.close();
  }
  if (size !== null && at !== size)
    throw new Error(`cannot fetch ${url.href}: the download stopped at ${at} of ${size} bytes (load again to resume)`);
  await writeMeta(true);
  return dataFile.getFile();
}

/** A model folder served over HTTP; a missing model.safetensors falls back to the shard index, as transformers does. */
async function fetchFolder(base: string, opts: FetchOptions): Promise<Map<string, Blob>> {
  const root = modelFolderUrl(base, self.location.href);
  const parts = root.pathname.replace(/\/$/, '').split('/');
  // a Hub folder (ORG/NAME/resolve/REV/) is named NAME, as the repository
  const label = (parts.at(-2) === 'resolve' ? parts.at(-3) : parts.at(-1)) || root.host;
  const out = new Map<string, Blob>();
  for (const f of ['config.json', 'tokenizer.json']) out.set(`${label}/${f}`, (await fetchFile(root, f, opts))!);
  const single = await fetchFile(root, 'model.safetensors', opts, true);
  if (single) out.set(`${label}/model.safetensors`, single);
  else {
    const index = (await fetchFile(root, 'model.safetensors.index.json', opts))!;
    out.set(`${label}/model.safetensors.index.json`, index);
    const shards = new Set(Object.values(JSON.parse(await index.text()).weight_map ?? {}) as string[]);
    for (const f of shards) out.set(`${label}/${f}`, (await fetchFile(root, f, opts))!);
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
  const cfg = parseModelConfig(json, cfgName);
  const lim = r.adapter.limits;
  const cap = Math.min(lim.maxStorageBufferBindingSize, lim.maxBufferSize);
  let total = 0,
    big = { name: '', bytes: 0 };
  for (const p of familyOf(cfg).parameters(cfg)) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    const bytes = n * (dtype === 'f16' && (p.role === 'matrix' || p.role === 'embedding') ? 2 : 4);
    total += bytes;
    // vocabulary tables (role embedding) are split into shards that fit; every other tensor must fit one binding
    if (p.role !== 'embedding' && bytes > big.bytes) big = { name: `${p.name} ${p.shape.join('×')}`, bytes };
  }
  if (big.bytes > cap) {
    throw new Error(
      `this model does not fit this GPU adapter: ${big.name} needs ${big.bytes.toLocaleString('en')} bytes in one buffer, ` +
        `but maxStorageBufferBindingSize is ${lim.maxStorageBufferBindingSize.toLocaleString('en')} and maxBufferSize ${lim.maxBufferSize.toLocaleString('en')} ` +
        `(the weights need ${(total / 2 ** 20).toFixed(0)} MiB in all)${dtype === 'f16' ? '' : '; try dtype f16'}`,
    );
  }
}

/** What a model needs on the GPU, from its config.json alone (nothing else is read or downloaded). */
export interface ModelPlan {
  name: string;
  parameters: number;
  /** the weights' bytes on the GPU: f32, and f16 (matrices and embedding packed, LayerNorms and biases f32) */
  weightsBytes: { f32: number; f16: number };
  /** an alignment keeps f32 weights, their gradients and AdamW's two moments: 4× the f32 weights, plus activations */
  alignBytesAtLeast: number;
  /** the largest single buffer this adapter allows */
  maxBufferBytes: number;
}

export async function planModel(src: ModelSource, limits: Record<string, number>): Promise<ModelPlan> {
  let cfgBlob: Blob | undefined;
  let name = 'model';
  if (typeof src === 'string') {
    const root = modelFolderUrl(src, self.location.href);
    const url = new URL('config.json', root);
    let res: Response;
    try {
      res = await fetch(url);
    } catch (e) {
      throw networkError(url, e);
    }
    if (!res.ok) throw new Error(`cannot fetch ${url.href}: HTTP ${res.status}`);
    cfgBlob = await res.blob();
    const parts = root.pathname.replace(/\/$/, '').split('/');
    name = (parts.at(-2) === 'resolve' ? parts.at(-3) : parts.at(-1)) || root.host;
  } else {
    const files = await filesOf(src);
    const hit = [...files].find(([k]) => k.split('/').pop() === 'config.json');
    if (!hit) throw new Error('no config.json among the model files');
    cfgBlob = hit[1];
    name = hit[0].split('/').slice(-2, -1)[0] || 'model';
  }
  let json: unknown;
  try {
    json = JSON.parse(await cfgBlob.text());
  } catch (e) {
    throw new Error(`config.json: not valid JSON (${(e as Error).message})`);
  }
  const cfg = parseModelConfig(json, 'config.json');
  let parameters = 0,
    f32 = 0,
    f16 = 0;
  for (const p of familyOf(cfg).parameters(cfg)) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    parameters += n;
    f32 += 4 * n;
    // packed two per 4-byte word, as the weights store matrices and vocabulary tables under dtype f16
    f16 += p.shape.length === 2 ? 4 * Math.ceil(n / 2) : 4 * n;
  }
  return {
    name,
    parameters,
    weightsBytes: { f32, f16 },
    alignBytesAtLeast: 4 * f32,
    maxBufferBytes: Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize),
  };
}
