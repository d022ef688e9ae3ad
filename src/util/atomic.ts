// Atomic file writes for Node: write a temp file in the destination folder, fsync, then rename over the target,
// so a crash or a thrown error never leaves a half-written checkpoint under the real name.
// Node-only, but node:fs is imported dynamically so that browser bundles that merely reference this module load.

/** Sink handed to the writer callback: sequential appends to the temp file. */
export interface ByteSink {
  write(bytes: Uint8Array): Promise<void>;
}

/** Run `writer` against a temp file next to `path`; on success fsync + rename onto `path`, on failure remove it. */
export async function atomicWrite(path: string, writer: (sink: ByteSink) => Promise<void>): Promise<void> {
  const fs = await import('node:fs/promises'); // Node path only
  const { dirname, basename, join } = await import('node:path');
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  const fh = await fs.open(tmp, 'wx');
  try {
    await writer({
      async write(bytes: Uint8Array) {
        // One write may be partial (large buffers); loop until everything is out.
        for (let off = 0; off < bytes.byteLength; ) {
          const { bytesWritten } = await fh.write(bytes, off, Math.min(bytes.byteLength - off, 1 << 30));
          off += bytesWritten;
        }
      },
    });
    await fh.sync();
    await fh.close();
    await fs.rename(tmp, path);
  } catch (e) {
    await fh.close().catch(() => {});
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw e;
  }
  await syncDir(dir);
}

/** Whole-content convenience over atomicWrite. */
export async function atomicWriteFile(path: string, data: Uint8Array | string): Promise<void> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  await atomicWrite(path, (sink) => sink.write(bytes));
}

// Persist the rename itself; some platforms (Windows) cannot open a directory, which is harmless to skip.
async function syncDir(dir: string): Promise<void> {
  const fs = await import('node:fs/promises');
  try {
    const dh = await fs.open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch {
    /* best effort */
  }
}
