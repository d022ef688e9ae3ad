// safetensors reader/writer and the 16-bit float conversions, checked against files and values others produced:
// HF-written fixtures (byte-identical re-encode), the safetensors crate's own serialization test bytes, numpy's f16.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile, chmod, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  bf16ArrayToF32,
  f16ArrayToF32,
  f16BitsToF32Bits,
  f32ArrayToBf16,
  f32ArrayToF16,
  f32BitsToBf16Bits,
  f32BitsToF16Bits,
} from '../../src/model/dtype.ts';
import {
  blobSource,
  bufferSource,
  encodeSafetensors,
  fileSource,
  SafetensorsFile,
  writeSafetensors,
  type ByteSource,
  type TensorToWrite,
} from '../../src/model/safetensors.ts';

const fixture = (p: string) => fileURLToPath(new URL(`../fixtures/${p}`, import.meta.url));
const HF_FILES = [
  fixture('bloom-tiny/model.safetensors'),
  fixture('bloom-tiny-h6-f16/model.safetensors'),
  fileURLToPath(new URL('../../models/nano-bloomz/model.safetensors', import.meta.url)),
];

// [f32 bits, numpy float16 bits] — numpy 2.4 `astype(np.float16)` (round-to-nearest-even, as torch `.half()`).
const NUMPY_F16: [number, number][] = [
  [0x3f800000, 0x3c00],
  [0xc0000000, 0xc000],
  [0x3dcccccd, 0x2e66],
  [0x3eaaaaab, 0x3555],
  [0x477fe000, 0x7bff],
  [0x477feffd, 0x7bff],
  [0x477ff000, 0x7c00],
  [0x47c35000, 0x7c00],
  [0x38800000, 0x0400],
  [0x33800000, 0x0001],
  [0x33000000, 0x0000],
  [0x33400000, 0x0001],
  [0x33000001, 0x0001],
  [0x322bcc77, 0x0000],
  [0x3f801000, 0x3c00],
  [0x3f803000, 0x3c02],
  [0x387fc000, 0x03ff],
  [0x80000000, 0x8000],
  [0x7f800000, 0x7c00],
  [0xff800000, 0xfc00],
  [0x40490fdb, 0x4248],
  [0xc49a522b, 0xe4d3],
  [0x33c00000, 0x0002],
  [0x3900f990, 0x0808],
  [0x37e47114, 0x01c9],
  [0x43196dde, 0x58cb],
  [0x373adf6c, 0x00bb],
  [0xbbb09b89, 0x9d85],
  [0x34121ac5, 0x0002],
  [0x39c1062d, 0x0e08],
  [0xb547b4a5, 0x800c],
  [0x36b1aa7c, 0x0059],
  [0x41a11be5, 0x4d09],
  [0x36a0755b, 0x0050],
  [0x39a9eb5f, 0x0d4f],
  [0x473ba68d, 0x79dd],
];

describe('dtype conversions', () => {
  it('f32 -> f16 matches numpy (ties to even, subnormals, overflow to inf, -0, inf)', () => {
    for (const [f, h] of NUMPY_F16) assert.equal(f32BitsToF16Bits(f), h, `f32 0x${f.toString(16)}`);
    const arr = f32ArrayToF16(new Float32Array(new Uint32Array(NUMPY_F16.map(([f]) => f)).buffer));
    assert.deepEqual(
      [...arr],
      NUMPY_F16.map(([, h]) => h),
    );
  });

  it('f32 NaN -> f16 is sign|0x7E00 (torch .half()); f16 -> f32 keeps NaN payloads bit-exactly', () => {
    assert.equal(f32BitsToF16Bits(0x7fc00000), 0x7e00);
    assert.equal(f32BitsToF16Bits(0xffc00001), 0xfe00);
    assert.equal(f32BitsToF16Bits(0x7f800001), 0x7e00);
    const nans = new Uint16Array([0x7c01, 0xfe00, 0x7dff, 0x8000]);
    const bits = new Uint32Array(f16ArrayToF32(nans).buffer);
    assert.deepEqual([...bits], [0x7f802000, 0xffc00000, 0x7fbfe000, 0x80000000]);
  });

  it('every non-NaN half survives f16 -> f32 -> f16, and the table agrees with the scalar path', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const f = new Uint32Array(f16ArrayToF32(all).buffer);
    for (let h = 0; h < 65536; h++) {
      assert.equal(f[h], f16BitsToF32Bits(h));
      const nan = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (!nan) assert.equal(f32BitsToF16Bits(f[h]), h, `half 0x${h.toString(16)}`);
    }
    assert.equal(f16ArrayToF32(new Uint16Array([0x0001]))[0], 2 ** -24);
    assert.equal(f16ArrayToF32(new Uint16Array([0x7bff]))[0], 65504);
  });

  it('bf16: upper 16 bits, f32 -> bf16 rounds to nearest even, NaN -> 0x7FC0 (torch .bfloat16())', () => {
    const cases: [number, number][] = [
      [0x3f800000, 0x3f80],
      [0x40490fdb, 0x4049],
      [0x3f808000, 0x3f80] /* tie, even stays */,
      [0x3f818000, 0x3f82] /* tie, odd rounds up */,
      [0x3f808001, 0x3f81],
      [0x7f7fffff, 0x7f80] /* max float overflows to inf */,
      [0x80000000, 0x8000],
      [0xff800000, 0xff80],
      [0x7fc00000, 0x7fc0],
      [0xffc00001, 0x7fc0],
      [0x00000001, 0x0000],
      [0x007fffff, 0x0080],
    ];
    for (const [f, b] of cases) assert.equal(f32BitsToBf16Bits(f), b, `f32 0x${f.toString(16)}`);
    const back = new Uint32Array(bf16ArrayToF32(new Uint16Array([0x3f80, 0x7fc1, 0x8000])).buffer);
    assert.deepEqual([...back], [0x3f800000, 0x7fc10000, 0x80000000]);
    assert.deepEqual([...f32ArrayToBf16(new Float32Array([1, -2.5, 3.140625]))], [0x3f80, 0xc020, 0x4049]);
  });
});

/** Hand-built file: u64 header length, header text, `data` bytes (for corrupt-file tests). */
function rawFile(header: string | object, dataLen: number, lenOverride?: number): Uint8Array {
  const h = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + dataLen);
  new DataView(out.buffer).setBigUint64(0, BigInt(lenOverride ?? h.length), true);
  out.set(h, 8);
  return out;
}
const open = (b: Uint8Array, name = 'bad.safetensors') => SafetensorsFile.open(bufferSource(b, name));
const E = (dtype: string, shape: number[], a: number, b: number) => ({ dtype, shape, data_offsets: [a, b] });

describe('safetensors format', () => {
  it('encodes exactly the bytes the safetensors crate does (its own serialization tests)', () => {
    const data = new Float32Array([0, 1, 2, 3, 4, 5]);
    const one = encodeSafetensors([{ name: 'attn.0', dtype: 'F32', shape: [1, 2, 3], data }]);
    assert.deepEqual([...one.subarray(0, 16)], [64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48]);
    assert.equal(one.length, 8 + 64 + 24);
    assert.deepEqual([...one.subarray(72)], [...new Uint8Array(data.buffer)]);
    const aligned = encodeSafetensors([{ name: 'attn0', dtype: 'F32', shape: [1, 1, 2, 3], data }]);
    assert.equal(
      new TextDecoder().decode(aligned.subarray(8, 80)),
      '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       ',
    );
    assert.deepEqual([...encodeSafetensors([])], [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    const meta = encodeSafetensors([], { framework: 'pt' });
    assert.equal(meta[0], 40);
    assert.equal(new TextDecoder().decode(meta.subarray(8)), '{"__metadata__":{"framework":"pt"}}     ');
  });

  it('re-encoding the HF-written fixture files reproduces them byte for byte', async () => {
    for (const path of HF_FILES) {
      const orig = new Uint8Array(await readFile(path));
      const f = await SafetensorsFile.open(await fileSource(path));
      const ts: TensorToWrite[] = [];
      for (const t of f.tensors.values())
        ts.push({ name: t.name, dtype: t.dtype, shape: t.shape, data: await f.raw(t.name) });
      await f.close();
      assert.ok(Buffer.from(encodeSafetensors(ts, f.metadata)).equals(orig), path);
    }
  });

  it('orders tensors by dtype alignment (descending), then name', async () => {
    const b = encodeSafetensors([
      { name: 'b', dtype: 'U8', shape: [1], data: new Uint8Array([1]) },
      { name: 'a', dtype: 'U8', shape: [1], data: new Uint8Array([2]) },
      { name: 'z', dtype: 'F32', shape: [1], data: new Float32Array([3]) },
      { name: 'h', dtype: 'F16', shape: [1], data: new Uint16Array([4]) },
    ]);
    const f = await open(b);
    assert.deepEqual(
      [...f.tensors.values()].sort((x, y) => x.begin - y.begin).map((t) => t.name),
      ['z', 'h', 'a', 'b'],
    );
  });

  it('round-trips every dtype bit-exactly (NaN payloads and -0 in F16/BF16) through buffer, Blob and file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'st-'));
    const ts: TensorToWrite[] = [
      {
        name: 'f16',
        dtype: 'F16',
        shape: [2, 3],
        data: new Uint16Array([0x7c01, 0xfe00, 0x8000, 0x7d55, 0x0001, 0x3c00]),
      },
      { name: 'bf16', dtype: 'BF16', shape: [4], data: new Uint16Array([0x7f81, 0xffc1, 0x8000, 0x3f80]) },
      {
        name: 'f32',
        dtype: 'F32',
        shape: [3],
        data: new Float32Array(new Uint32Array([0x7fa00001, 0x80000000, 0x3f800000]).buffer),
      },
      { name: 'i8', dtype: 'I8', shape: [3], data: new Int8Array([-128, 0, 127]) },
      { name: 'i32', dtype: 'I32', shape: [2], data: new Int32Array([-2147483648, 123456]) },
      { name: 'u8', dtype: 'U8', shape: [2], data: new Uint8Array([0, 255]) },
      { name: 'f64', dtype: 'F64', shape: [1], data: new Uint8Array(new Float64Array([Math.PI]).buffer) },
      { name: 'scalar', dtype: 'F32', shape: [], data: new Float32Array([7]) },
      { name: 'empty', dtype: 'F16', shape: [0, 5], data: new Uint16Array(0) },
    ];
    const bytes = encodeSafetensors(ts, { format: 'pt', note: 'héllo' });
    await writeSafetensors(join(dir, 'x.safetensors'), ts, { format: 'pt', note: 'héllo' });
    assert.ok(
      Buffer.from(await readFile(join(dir, 'x.safetensors'))).equals(bytes),
      'streamed write == in-memory encode',
    );
    // a Node Buffer from the shared pool too: its slice() is a view, reads must still own their bytes
    const pooled = Buffer.from(await readFile(join(dir, 'x.safetensors')));
    const sources: ByteSource[] = [
      bufferSource(bytes),
      bufferSource(pooled, 'node Buffer'),
      blobSource(new Blob([bytes]), 'blob'),
      await fileSource(join(dir, 'x.safetensors')),
    ];
    const part = await bufferSource(pooled).read(8, 12);
    assert.equal(part.buffer.byteLength, 4, 'a read is a copy with its own ArrayBuffer');
    for (const src of sources) {
      const f = await SafetensorsFile.open(src);
      assert.deepEqual(f.metadata, { format: 'pt', note: 'héllo' });
      for (const t of ts) {
        const d = t.data;
        assert.deepEqual(
          [...(await f.raw(t.name))],
          [...new Uint8Array(d.buffer, d.byteOffset, d.byteLength)],
          `${src.name}: ${t.name}`,
        );
        assert.deepEqual(f.tensors.get(t.name)!.shape, t.shape);
      }
      await f.close();
    }
    await rm(dir, { recursive: true });
  });

  it('f32() converts F32/F16/BF16/I8/I32/U8 and refuses the others with a pointer to raw()', async () => {
    const f = await open(
      encodeSafetensors([
        { name: 'h', dtype: 'F16', shape: [3], data: new Uint16Array([0x3c00, 0xc000, 0x3555]) },
        { name: 'b', dtype: 'BF16', shape: [2], data: new Uint16Array([0x3f80, 0xc020]) },
        { name: 'w', dtype: 'F32', shape: [2], data: new Float32Array([0.5, -3]) },
        { name: 'i', dtype: 'I8', shape: [2], data: new Int8Array([-5, 7]) },
        { name: 'j', dtype: 'I32', shape: [2], data: new Int32Array([-100, 70000]) },
        { name: 'u', dtype: 'U8', shape: [2], data: new Uint8Array([200, 3]) },
        { name: 'd', dtype: 'F64', shape: [1], data: new Uint8Array(8) },
      ]),
      'conv.safetensors',
    );
    assert.deepEqual([...(await f.f32('h'))], [1, -2, 0.333251953125]);
    assert.deepEqual([...(await f.f32('b'))], [1, -2.5]);
    assert.deepEqual([...(await f.f32('w'))], [0.5, -3]);
    assert.deepEqual([...(await f.f32('i'))], [-5, 7]);
    assert.deepEqual([...(await f.f32('j'))], [-100, 70000]);
    assert.deepEqual([...(await f.f32('u'))], [200, 3]);
    await assert.rejects(f.f32('d'), /conv\.safetensors: tensor 'd'.*F64.*raw\(\)/);
    await assert.rejects(f.f32('nope'), /conv\.safetensors: no tensor 'nope'/);
  });

  it('reads lazily: opening a 1.1 GB file touches only the header, a tensor read only its bytes', async () => {
    const big = 275_000_000; // F32 elements: 1.1 GB of data that never exists in memory
    const header = rawFile(
      { __metadata__: { format: 'pt' }, small: E('F32', [2], 0, 8), big: E('F32', [big], 8, 8 + 4 * big) },
      0,
    );
    const size = header.length + 8 + 4 * big;
    let read = 0;
    const src: ByteSource = {
      name: 'huge.safetensors',
      size,
      async read(b, e) {
        read += e - b;
        assert.ok(e - b < 1 << 20, `read of ${e - b} bytes`);
        const out = new Uint8Array(e - b);
        if (b < header.length) out.set(header.subarray(b, Math.min(e, header.length)));
        else out.set(new Uint8Array(new Float32Array([1.5, -2]).buffer).subarray(0, e - b));
        return out;
      },
    };
    const f = await SafetensorsFile.open(src);
    assert.ok(read <= header.length, `open read ${read} bytes`);
    assert.deepEqual([...(await f.f32('small'))], [1.5, -2]);
    assert.equal(read, header.length + 8);
  });
});

describe('safetensors errors name the file, the tensor, the offset and the fix', () => {
  it('file shorter than 8 bytes', async () => {
    await assert.rejects(
      open(new Uint8Array(5), 'tiny.st'),
      /tiny\.st: file is 5 bytes, shorter than the 8-byte header.*re-download or re-save/,
    );
  });

  it('header length over 100 MB (e.g. a git-lfs pointer) or beyond the end of the file', async () => {
    const lfs = new TextEncoder().encode('version https://git-lfs.github.com/spec/v1\n');
    await assert.rejects(
      open(lfs, 'lfs.st'),
      /lfs\.st: header length at byte 0 says \d+ bytes, over the 100 MB limit.*git-lfs/,
    );
    await assert.rejects(
      open(rawFile('{}', 0, 500)),
      /bad\.safetensors: file truncated: header needs bytes 8\.\.508 but the file has 10 bytes/,
    );
  });

  it('header that is not UTF-8, not JSON, or not an object', async () => {
    const bad = rawFile('{"a":1}', 0);
    bad[10] = 0xff;
    await assert.rejects(open(bad), /bad\.safetensors: header \(bytes 8\.\.15\) is not valid UTF-8/);
    await assert.rejects(
      open(rawFile('{"a":{"dtype":"F32",', 0)),
      /bad\.safetensors: header \(bytes 8\.\.28\) is not valid JSON/,
    );
    await assert.rejects(open(rawFile('[1,2]', 0)), /is not a JSON object/);
  });

  it('entries without dtype / shape / data_offsets, unknown dtype, bad offsets, bad metadata', async () => {
    await assert.rejects(
      open(rawFile({ w: { shape: [1], data_offsets: [0, 4] } }, 4)),
      /bad\.safetensors: tensor 'w' \(header\): missing "dtype"/,
    );
    await assert.rejects(
      open(rawFile({ w: { dtype: 'F32', data_offsets: [0, 4] } }, 4)),
      /tensor 'w' \(header\): missing "shape"/,
    );
    await assert.rejects(
      open(rawFile({ w: { dtype: 'F32', shape: [1] } }, 4)),
      /tensor 'w' \(header\): missing "data_offsets"/,
    );
    await assert.rejects(open(rawFile({ w: E('Q4', [1], 0, 4) }, 4)), /tensor 'w' \(header\): unknown dtype "Q4"/);
    await assert.rejects(open(rawFile({ w: E('F32', [1], 4, 0) }, 4)), /tensor 'w' \(header\): data_offsets \[4,0\]/);
    await assert.rejects(open(rawFile({ w: E('F32', [-1], 0, 4) }, 4)), /tensor 'w' \(header\): shape \[-1\]/);
    await assert.rejects(
      open(rawFile({ __metadata__: { a: 1 }, w: E('F32', [1], 0, 4) }, 4)),
      /"__metadata__" must map strings to strings/,
    );
  });

  it('numel × dtype size different from the byte range', async () => {
    await assert.rejects(
      open(rawFile({ w: E('F16', [2, 3], 0, 8) }, 8)),
      /bad\.safetensors: tensor 'w' at bytes \d+\.\.\d+: shape \[2,3\] × F16 \(2 B\) needs 12 bytes but data_offsets span 8/,
    );
  });

  it('truncated file: expected vs found bytes of data', async () => {
    const full = new Uint8Array(await readFile(HF_FILES[1]));
    const cut = full.subarray(0, full.length - 1000);
    const err = await open(cut, 'model.safetensors').catch((e: Error) => e);
    assert.match(
      String(err),
      /model\.safetensors: file truncated: expected 180672 bytes of data, found 179672 \(tensor '[\w.]+' ends at byte 183352, file has 182352\) — re-download or re-save the checkpoint/,
    );
  });

  it('overlapping ranges, gaps, and bytes left over after the last tensor', async () => {
    await assert.rejects(
      open(rawFile({ a: E('F32', [2], 0, 8), b: E('F32', [1], 4, 8) }, 8)),
      /tensors 'a' \(bytes \d+\.\.\d+\) and 'b' \(bytes \d+\.\.\d+\) overlap/,
    );
    await assert.rejects(
      open(rawFile({ a: E('F32', [1], 0, 4), b: E('F32', [1], 8, 12) }, 12)),
      /gap of 4 bytes at byte \d+ after tensor 'a', before tensor 'b' — data ranges must be contiguous/,
    );
    await assert.rejects(
      open(rawFile({ a: E('F32', [1], 4, 8) }, 8)),
      /gap of 4 bytes at byte \d+ at the start of the data, before tensor 'a'/,
    );
    await assert.rejects(
      open(rawFile({ a: E('F32', [1], 0, 4) }, 6)),
      /2 bytes at \d+\.\.\d+ after the last tensor 'a' are not described by the header/,
    );
  });

  it('duplicate keys (JSON.parse would silently keep the last)', async () => {
    const text =
      '{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}';
    await assert.rejects(
      open(rawFile(text, 1)),
      /bad\.safetensors: duplicate key 'a' in the header at byte 61 — corrupted header/,
    );
    // The same name nested inside an entry, or as a string value, is not a duplicate.
    await open(rawFile('{"__metadata__":{"a":"a"},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', 1));
  });

  it('writer refuses data whose size does not match shape × dtype', () => {
    assert.throws(
      () => encodeSafetensors([{ name: 'w', dtype: 'F32', shape: [3], data: new Float32Array(2) }]),
      /tensor 'w': shape \[3\] × F32 needs 12 bytes, data has 8/,
    );
  });
});

describe('writeSafetensors is atomic', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'st-atomic-'));
  });
  afterEach(async () => {
    await chmod(dir, 0o755).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });

  const good = (): TensorToWrite => ({ name: 'a', dtype: 'F32', shape: [1024], data: new Float32Array(1024).fill(1) });
  const exploding = (): TensorToWrite => ({
    name: 'b',
    dtype: 'F32',
    shape: [4],
    get data(): Float32Array {
      throw new Error('GPU readback failed');
    },
  });

  it('a throw mid-write leaves no file and no temp file behind', async () => {
    const dest = join(dir, 'model.safetensors');
    await assert.rejects(writeSafetensors(dest, [good(), exploding()]), /GPU readback failed/);
    assert.deepEqual(await readdir(dir), []);
  });

  it('a failed overwrite keeps the previous file intact', async () => {
    const dest = join(dir, 'model.safetensors');
    await writeFile(dest, 'previous checkpoint');
    await assert.rejects(writeSafetensors(dest, [good(), exploding()]), /GPU readback failed/);
    assert.equal(await readFile(dest, 'utf8'), 'previous checkpoint');
    assert.deepEqual(await readdir(dir), ['model.safetensors']);
  });

  it('a destination whose folder is a file fails cleanly', async () => {
    await writeFile(join(dir, 'notadir'), 'x');
    await assert.rejects(writeSafetensors(join(dir, 'notadir', 'model.safetensors'), [good()]), /ENOTDIR/);
    assert.deepEqual(await readdir(dir), ['notadir']);
  });

  it('an unwritable destination fails before creating anything', async function () {
    const ro = join(dir, 'ro');
    await mkdir(ro);
    await chmod(ro, 0o555);
    if (process.getuid?.() === 0) {
      console.log('      skipped: running as root, which ignores directory permissions (passes as an ordinary user)');
      this.skip();
    }
    await assert.rejects(writeSafetensors(join(ro, 'model.safetensors'), [good()]), /EACCES|EPERM/);
    assert.deepEqual(await readdir(ro), []);
  });
});
