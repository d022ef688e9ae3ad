// Test helpers: one shared GPU for the whole mocha run, fixture loading and tolerance checks.
import { Gpu } from '../../src/gpu/runtime.ts';
import { bufferSource, SafetensorsFile } from '../../src/model/safetensors.ts';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

let shared: Promise<Gpu> | null = null;
export function getGpu(): Promise<Gpu> {
  shared ??= Gpu.open({ log: () => {} });
  return shared;
}

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
export const FIXTURE_NAMES = ['bloom-tiny', 'bloom-tiny-h6-f16'];
export const REPO = fileURLToPath(new URL('../../', import.meta.url));

export interface Fixture {
  dir: string;
  json: any;
  ref: SafetensorsFile;
}
export async function loadFixture(name: string): Promise<Fixture> {
  const dir = join(FIXTURES, name);
  // the references are small: read into memory, so no file handle is left for the garbage collector to close
  const refPath = join(dir, 'reference.safetensors');
  return {
    dir,
    json: JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')),
    ref: await SafetensorsFile.open(bufferSource(readFileSync(refPath), refPath)),
  };
}

/** max |a−b| and whether every element meets |a−b| ≤ atol + rtol·|b| (only where `use(i)`). */
export function compare(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  atol: number,
  rtol: number,
  use: (i: number) => boolean = () => true,
) {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let maxAbs = 0,
    maxRel = 0,
    bad = -1,
    n = 0;
  for (let i = 0; i < a.length; i++) {
    if (!use(i)) continue;
    n++;
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= atol + rtol * Math.abs(b[i])) && bad < 0) bad = i;
    maxAbs = Math.max(maxAbs, d);
    maxRel = Math.max(maxRel, d / Math.max(Math.abs(b[i]), 1e-12));
  }
  return { ok: bad < 0 && n > 0, maxAbs, maxRel, bad, got: bad >= 0 ? a[bad] : 0, want: bad >= 0 ? b[bad] : 0, n };
}

/** The shared device where it has shader-f16 (Mesa lavapipe here); elsewhere the test or suite is skipped, saying so. */
export async function gpuWithF16(ctx: Mocha.Context, what: 'it' | 'them' = 'them'): Promise<Gpu> {
  const gpu = await getGpu();
  if (!gpu.handle.features.has('shader-f16')) {
    console.log(`      (skipped: the adapter has no shader-f16; INSTRUCTALIGN_VULKAN=lavapipe runs ${what})`);
    ctx.skip();
  }
  return gpu;
}
