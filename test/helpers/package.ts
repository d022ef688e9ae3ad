// The package tests' shared, costly setup, done once per test process: `node build.mjs` (dist/cli.js, dist/index.js,
// dist/web, dist/types: ~12 s of CPU with the declarations' tsc) and `npm pack` of the result. Before, the pack test
// built everything, the web-consumer test built it again through npm pack's prepack script, and the declarations
// test built dist/types a third time.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './gpu.ts';

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let built = false;
/** `node build.mjs` (everything), once per process. */
export function buildPackage(): void {
  if (built) return;
  execFileSync(process.execPath, [join(REPO, 'build.mjs')], { cwd: REPO, stdio: 'ignore' });
  built = true;
}

/** What `npm pack --json` says of the tarball, and where it is. */
export interface Packed {
  /** the tarball's full path (in a folder removed when the process exits) */
  tgz: string;
  filename: string;
  /** the tarball's size in bytes */
  size: number;
  files: { path: string; size: number }[];
}

let packed: Packed | undefined;
/** The package built (buildPackage) and packed with `npm pack` once per process; callers copy, never modify it. */
export function packPackage(): Packed {
  if (packed) return packed;
  buildPackage();
  const dir = mkdtempSync(join(tmpdir(), 'ia-packed-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  // --ignore-scripts: prepack would build again
  const info = JSON.parse(
    execFileSync(NPM, ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], {
      cwd: REPO,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      shell: process.platform === 'win32',
    }),
  )[0];
  packed = { tgz: join(dir, info.filename), filename: info.filename, size: info.size, files: info.files };
  return packed;
}
