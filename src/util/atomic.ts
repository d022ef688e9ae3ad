// Atomic writes for Node, the one place for them: a file is written to a temp name in its folder, fsynced and
// renamed over the target; a folder (a checkpoint) is written whole under a temp name and swapped in (replaceDir).
// A crash or a thrown error never leaves a half-written file or folder under the real name.
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

/** Where replaceDir keeps the previous copy of `dst` while it swaps: `.<name>-old` beside it. */
async function oldCopy(dst: string): Promise<string> {
  const { dirname, basename, join } = await import('node:path');
  return join(dirname(dst), `.${basename(dst)}-old`);
}

/**
 * Puts the complete folder `tmp` in place of folder `dst` (same parent): dst → .<name>-old, tmp → dst, then the
 * old copy is deleted. A crash at any point leaves a complete folder at dst or at the old name (completeDir finds
 * it): the old copy is deleted only once no other complete copy exists besides dst, also when it is itself the
 * leftover of an earlier crash (then dst is absent and the old copy must survive until tmp is renamed in).
 */
export async function replaceDir(tmp: string, dst: string): Promise<void> {
  const fs = await import('node:fs'); // Node path only
  const { dirname } = await import('node:path');
  const old = await oldCopy(dst);
  if (fs.existsSync(dst)) {
    fs.rmSync(old, { recursive: true, force: true }); // dst is complete: an older leftover is not needed
    fs.renameSync(dst, old);
  }
  fs.renameSync(tmp, dst);
  fs.rmSync(old, { recursive: true, force: true });
  await syncDir(dirname(dst));
}

/** `dst` if it holds `marker` (a file written last), else replaceDir's old copy if a crash left one, else null. */
export async function completeDir(dst: string, marker: string): Promise<string | null> {
  const fs = await import('node:fs');
  const { join } = await import('node:path');
  for (const d of [dst, await oldCopy(dst)]) if (fs.existsSync(join(d, marker))) return d;
  return null;
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
