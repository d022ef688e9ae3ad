// Creating an output folder with an error that says what is wrong. Node's recursive mkdir reports ENOENT when the
// real cause is a read-only file system (EROFS) or a folder without write permission (EACCES); this finds the first
// missing component and creates it alone, so the error that surfaces is the true one, naming the flag and the path.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const WHY: Record<string, string> = {
  EROFS: 'is on a read-only file system',
  EACCES: 'is not writable (permission denied)',
  EPERM: 'is not writable (operation not permitted)',
  ENOTDIR: 'is not a folder',
  EEXIST: 'exists and is not a folder',
  ENOSPC: 'is on a full disk',
};

/** mkdir -p `dir`; a failure throws `cannot create <flag> <dir>: <folder> <reason> (<CODE>)`. */
export function makeDir(dir: string, flag: string, mkdir: typeof mkdirSync = mkdirSync): void {
  const target = resolve(dir);
  try {
    mkdir(target, { recursive: true });
    return;
  } catch (e) {
    // walk up to the nearest folder that exists and create the next component alone: its error is the real one
    let child = target;
    while (dirname(child) !== child && !existsSync(dirname(child))) child = dirname(child);
    let err = e as NodeJS.ErrnoException;
    if (!existsSync(child)) {
      try {
        mkdir(child);
      } catch (e2) {
        err = e2 as NodeJS.ErrnoException;
      }
    }
    const code = err.code ?? 'error';
    const where = code === 'EEXIST' ? child : dirname(child);
    const why = WHY[code] ?? `cannot be written (${err.message})`;
    throw new Error(`cannot create ${flag} ${target}: ${where} ${why} (${code}); choose another ${flag}`);
  }
}
