// The page's saved alignment in the browser's origin-private file system (OPFS), so a reload can resume: the tuned
// checkpoint's files (config.json, tokenizer.json, model.safetensors: the files tunedCheckpoint() zips) and
// saved.json (model name, steps, settings, the base model's evaluation). Each save goes into a folder of its own,
// instructalign/saves/<id>/, written piece by piece (the worker streams the weights from the GPU through a sync
// access handle), and saved.json — the "complete" marker, with every file's size — is written last. Only then are
// the older saves removed: a reload, a closed tab or a full disk mid-save leaves the previous complete save in place,
// and a torn one is never offered (nor kept: the next save clears it). The worker writes; the page reads and discards.
import { toOpfsFile, type StreamedFile } from './stream-sinks.ts';

/** saved.json: what the page shows about a saved alignment and what it needs to carry on */
export interface SavedAlignment {
  version: 1;
  /** the base model's name, and the tuned one's (the folder name the loaded model gets) */
  model: string;
  name: string;
  /** ISO time of the save */
  savedAt: string;
  /** optimizer steps made */
  steps: number;
  /** steps asked for, when a cancel stopped the alignment before them (then `cancelled` is true) */
  total?: number;
  cancelled?: boolean;
  /** the model's name as the page shows it ("nano-bloomz + 3 of 10 steps, cancelled") */
  label?: string;
  /** the alignment's settings (the AlignRequest without the data's text) */
  settings?: Record<string, unknown>;
  /** the base model's results.json (the before-evaluation), when the flow made one */
  before?: unknown;
  /** file name → size in bytes, checked before the files are offered */
  files: Record<string, number>;
}

const ROOT = 'instructalign';
const SAVES = 'saves';
/** where saves lived before they got a folder each (read, and removed by the next save) */
const LEGACY = 'aligned';
const MARKER = 'saved.json';

/** whether this context has OPFS (navigator.storage.getDirectory); false on http:// other than localhost, etc. */
export function opfsAvailable(): boolean {
  return typeof (globalThis.navigator as any)?.storage?.getDirectory === 'function';
}

async function sub(d: FileSystemDirectoryHandle, names: string[], create: boolean) {
  try {
    for (const n of names) d = await d.getDirectoryHandle(n, { create });
    return d;
  } catch (e) {
    if ((e as DOMException).name === 'NotFoundError' || (e as DOMException).name === 'TypeMismatchError') return null;
    throw e;
  }
}

async function root(create: boolean): Promise<FileSystemDirectoryHandle | null> {
  if (!opfsAvailable()) return null;
  return sub(await navigator.storage.getDirectory(), [ROOT], create);
}

const bytesOf = (text: string): StreamedFile => {
  const b = new TextEncoder().encode(text);
  return {
    name: MARKER,
    size: b.length,
    async *chunks() {
      yield b;
    },
  };
};

const gib = (n: number) => `${(n / 2 ** 30).toFixed(2)} GiB`;

/**
 * Writes the tuned checkpoint's files into a new save folder, then saved.json (the marker), then removes every
 * older save. A failure removes the new folder and keeps the older save.
 */
export async function saveAlignment(
  files: StreamedFile[],
  meta: Omit<SavedAlignment, 'version' | 'files'>,
): Promise<SavedAlignment> {
  const top = await root(true);
  if (!top) throw new Error('this browser has no origin-private file system (navigator.storage.getDirectory)');
  const saves = (await sub(top, [SAVES], true))!;
  const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const dir = await saves.getDirectoryHandle(id, { create: true });
  const saved: SavedAlignment = {
    version: 1,
    ...meta,
    files: Object.fromEntries(files.map((f) => [f.name, f.size])),
  };
  try {
    for (const f of files) {
      const n = await toOpfsFile(f.chunks(), await dir.getFileHandle(f.name, { create: true }));
      if (n !== f.size) throw new Error(`${f.name}: wrote ${n} bytes, expected ${f.size}`);
    }
    const marker = bytesOf(JSON.stringify(saved));
    await toOpfsFile(marker.chunks(), await dir.getFileHandle(MARKER, { create: true }));
  } catch (e) {
    await saves.removeEntry(id, { recursive: true }).catch(() => undefined);
    const total = files.reduce((n, f) => n + f.size, 0);
    if ((e as DOMException).name === 'QuotaExceededError') {
      throw new Error(
        `not enough room in this browser's storage to save the model (${gib(total)}); ` +
          'the previous save, if any, is kept. Free space (or download the model instead) and try again',
      );
    }
    throw new Error(`saving the model in this browser failed: ${(e as Error).message}; the previous save is kept`);
  }
  // complete: the older saves (and any torn ones a closed tab left) go now
  for await (const [name] of (saves as any).entries() as AsyncIterable<[string, FileSystemHandle]>) {
    if (name !== id) await saves.removeEntry(name, { recursive: true }).catch(() => undefined);
  }
  await top.removeEntry(LEGACY, { recursive: true }).catch(() => undefined);
  return saved;
}

/** The save in `dir` if it is complete (saved.json readable, every file there with its size), else null. */
async function complete(
  dir: FileSystemDirectoryHandle,
): Promise<{ meta: SavedAlignment; files: Map<string, Blob> } | null> {
  try {
    const meta = JSON.parse(await (await (await dir.getFileHandle(MARKER)).getFile()).text()) as SavedAlignment;
    if (meta.version !== 1 || !meta.files) return null;
    const files = new Map<string, Blob>();
    for (const [n, size] of Object.entries(meta.files)) {
      const f = await (await dir.getFileHandle(n)).getFile();
      if (f.size !== size) return null; // torn: not what saved.json describes
      files.set(`${meta.name}/${n}`, f);
    }
    return { meta, files };
  } catch {
    return null; // no marker, a missing file or unreadable JSON: nothing complete here
  }
}

/** The newest complete saved alignment with its files (Blobs backed by OPFS, keyed `<name>/<file>`), or null. */
export async function savedAlignment(): Promise<{ meta: SavedAlignment; files: Map<string, Blob> } | null> {
  const top = await root(false);
  if (!top) return null;
  const saves = await sub(top, [SAVES], false);
  let best: { meta: SavedAlignment; files: Map<string, Blob> } | null = null;
  if (saves) {
    for await (const [, h] of (saves as any).entries() as AsyncIterable<[string, FileSystemHandle]>) {
      if (h.kind !== 'directory') continue;
      const c = await complete(h as FileSystemDirectoryHandle);
      if (c && (!best || c.meta.savedAt > best.meta.savedAt)) best = c;
    }
  }
  if (best) return best;
  const legacy = await sub(top, [LEGACY], false);
  return legacy ? complete(legacy) : null;
}

/** Deletes every saved alignment (all their files); true if there was one. */
export async function discardSavedAlignment(): Promise<boolean> {
  const had = (await savedAlignment()) !== null;
  const top = await root(false);
  if (!top) return false;
  for (const n of [SAVES, LEGACY]) await top.removeEntry(n, { recursive: true }).catch(() => undefined);
  return had;
}
