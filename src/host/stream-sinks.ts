// Where streamed bytes go in the browser, piece by piece (no piece is ever joined into one big buffer): a Blob made
// of parts, a FileSystemWritableFileStream (a file picked with showSaveFilePicker) or an OPFS file through a sync
// access handle. Kept free of heavy imports: the page's bundle (web.ts → opfs-store.ts) uses it too.

/** One file of an exported folder: its exact size (known before any data is read) and its bytes, in pieces. */
export interface StreamedFile {
  name: string;
  size: number;
  chunks(): AsyncIterable<Uint8Array>;
}

/** Collects pieces as a Blob without holding them all: every few pieces are folded into the Blob built so far
 *  (the browser keeps Blob data in its own store, on disk when large). */
export async function toBlob(chunks: AsyncIterable<Uint8Array>, type = 'application/octet-stream'): Promise<Blob> {
  let blob = new Blob([], { type });
  let parts: BlobPart[] = [];
  let held = 0;
  for await (const c of chunks) {
    parts.push(c as Uint8Array<ArrayBuffer>);
    held += c.length;
    if (held >= 256 * 2 ** 20) {
      blob = new Blob([blob, ...parts], { type });
      parts = [];
      held = 0;
    }
  }
  return new Blob([blob, ...parts], { type });
}

/** Writes pieces through a FileSystemWritableFileStream (a file the user picked with showSaveFilePicker). */
export async function toWritable(chunks: AsyncIterable<Uint8Array>, handle: FileSystemFileHandle): Promise<number> {
  const w = await (handle as any).createWritable();
  let n = 0;
  try {
    for await (const c of chunks) {
      await w.write(c);
      n += c.length;
    }
    await w.close(); // the file takes the new contents here, all at once
  } catch (e) {
    await w.abort?.().catch(() => undefined);
    throw e;
  }
  return n;
}

/** Writes pieces into an OPFS file through a synchronous access handle (dedicated workers only), then flushes. */
export async function toOpfsFile(chunks: AsyncIterable<Uint8Array>, handle: FileSystemFileHandle): Promise<number> {
  if (typeof (handle as any).createSyncAccessHandle !== 'function') {
    return toWritable(chunks, handle); // a page (no sync handles): the writable stream, still piece by piece
  }
  const h = await (handle as any).createSyncAccessHandle();
  let at = 0;
  try {
    h.truncate(0);
    for await (const c of chunks) {
      let off = 0;
      while (off < c.length) off += h.write(c.subarray(off), { at: at + off });
      at += c.length;
    }
    h.flush();
  } finally {
    h.close();
  }
  return at;
}
