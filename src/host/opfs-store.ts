// The page's saved alignment in the browser's origin-private file system (OPFS), so a reload can resume: the tuned
// checkpoint's files (config.json, tokenizer.json, model.safetensors: the bytes tunedCheckpoint() zips) and
// saved.json (model name, steps, settings, the base model's evaluation). saved.json is the "complete" marker: it is
// removed before the files are written and written last, with every file's size, so a torn write (a reload or a
// full disk mid-save) is never offered or loaded. The worker writes (saveAlignment); the page reads and discards.

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
  /** the alignment's settings (the AlignRequest without the data's text) */
  settings?: Record<string, unknown>;
  /** the base model's results.json (the before-evaluation), when the flow made one */
  before?: unknown;
  /** file name → size in bytes, checked before the files are offered */
  files: Record<string, number>;
}

const DIR = ['instructalign', 'aligned'];
const MARKER = 'saved.json';

/** whether this context has OPFS (navigator.storage.getDirectory); false on http:// other than localhost, etc. */
export function opfsAvailable(): boolean {
  return typeof (globalThis.navigator as any)?.storage?.getDirectory === 'function';
}

async function folder(create: boolean): Promise<FileSystemDirectoryHandle | null> {
  if (!opfsAvailable()) return null;
  let d: FileSystemDirectoryHandle = await navigator.storage.getDirectory();
  try {
    for (const n of DIR) d = await d.getDirectoryHandle(n, { create });
  } catch (e) {
    if ((e as DOMException).name === 'NotFoundError') return null;
    throw e;
  }
  return d;
}

async function writeFile(dir: FileSystemDirectoryHandle, name: string, bytes: Uint8Array): Promise<void> {
  const f = await dir.getFileHandle(name, { create: true });
  if (typeof (f as any).createWritable === 'function') {
    const w = await (f as any).createWritable();
    await w.write(bytes);
    await w.close(); // the data becomes visible here, all at once
    return;
  }
  // workers of browsers without createWritable (older Safari) have only the synchronous handle
  const h = await (f as any).createSyncAccessHandle();
  try {
    h.truncate(0);
    let at = 0;
    while (at < bytes.length) at += h.write(bytes.subarray(at), { at });
    h.flush();
  } finally {
    h.close();
  }
}

/** Writes the tuned checkpoint's files and then saved.json (the marker); replaces any earlier save. */
export async function saveAlignment(
  files: Record<string, Uint8Array>,
  meta: Omit<SavedAlignment, 'version' | 'files'>,
): Promise<SavedAlignment> {
  const dir = await folder(true);
  if (!dir) throw new Error('this browser has no origin-private file system (navigator.storage.getDirectory)');
  await dir.removeEntry(MARKER).catch(() => undefined); // from here until the end, nothing is offered
  for (const [n, bytes] of Object.entries(files)) await writeFile(dir, n, bytes);
  const saved: SavedAlignment = {
    version: 1,
    ...meta,
    files: Object.fromEntries(Object.entries(files).map(([n, b]) => [n, b.length])),
  };
  await writeFile(dir, MARKER, new TextEncoder().encode(JSON.stringify(saved)));
  return saved;
}

/** The complete saved alignment with its files (Blobs backed by OPFS, keyed `<name>/<file>`), or null. */
export async function savedAlignment(): Promise<{ meta: SavedAlignment; files: Map<string, Blob> } | null> {
  const dir = await folder(false);
  if (!dir) return null;
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
    return null; // no marker, a missing file or unreadable JSON: nothing complete is saved
  }
}

/** Deletes the saved alignment (all its files); true if there was one. */
export async function discardSavedAlignment(): Promise<boolean> {
  if (!opfsAvailable()) return false;
  try {
    const root = await (await navigator.storage.getDirectory()).getDirectoryHandle(DIR[0]);
    await root.removeEntry(DIR[1], { recursive: true });
    return true;
  } catch (e) {
    if ((e as DOMException).name === 'NotFoundError') return false;
    throw e;
  }
}
