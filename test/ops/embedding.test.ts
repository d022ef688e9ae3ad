// embedding.wgsl (src/ops/embedding.ts): the gather over vocabulary shards (f32 and packed f16 tables, ids in
// every shard, a negative id left untouched) and the scatter-add gradient grouped by id (a repeated id sums its
// rows; ids of other shards and −1 add nothing; the gradient accumulates onto what dW held), against a float64
// reference written from the definitions: out[t] = W[id_t]; dW[v] += Σ_{t: id_t = v} dY[t]. Tolerance: exact for
// f32 gathers and f16 tables (the f16 values are compared as stored), 1e-6 + 1e-6·|ref| for the sums.
import assert from 'node:assert/strict';
import { compare, getGpu } from '../helpers/gpu.ts';
import { rng } from '../helpers/rng.ts';
import { embeddingBackward, embeddingForward } from '../../src/ops/embedding.ts';
import { f16ArrayToF32, f32ArrayToF16 } from '../../src/model/dtype.ts';

const V = 11,
  H = 70, // not a multiple of the 64-wide workgroup
  ids = Int32Array.from([3, 0, 10, 3, -1, 7, 5, 3, 10]),
  T = ids.length,
  cuts = [0, 4, 8, V]; // three shards: [0,4) [4,8) [8,11)

describe('embedding: gather over vocabulary shards and the grouped scatter-add gradient', () => {
  for (const f16 of [false, true]) {
    it(`forward gathers each token's row from its shard (${f16 ? 'f16-packed' : 'f32'} table)`, async () => {
      const gpu = await getGpu();
      const r = rng(5);
      let W = Float32Array.from({ length: V * H }, r);
      if (f16) W = f16ArrayToF32(f32ArrayToF16(W)); // what the packed table holds
      const shards = cuts.slice(0, -1).map((lo, i) => {
        const hi = cuts[i + 1],
          part = W.subarray(lo * H, hi * H);
        const w = f16 ? gpu.tensor(part.length, 'f16p', 'test:w16') : gpu.fromF32(part, 'test:w');
        if (f16) gpu.upload(w, f32ArrayToF16(part));
        return { w, lo, hi };
      });
      const sentinel = 12345;
      const out = gpu.fromF32(new Float32Array(T * H).fill(sentinel), 'test:out');
      const tid = gpu.fromI32(ids, 'test:ids');
      embeddingForward(gpu, tid, shards, out, T, H);
      const got = await gpu.readF32(out);
      const want = new Float32Array(T * H);
      ids.forEach((id, t) => {
        if (id < 0) want.fill(sentinel, t * H, t * H + H);
        else want.set(W.subarray(id * H, id * H + H), t * H);
      });
      assert.deepEqual(got, want);
      [out, tid, ...shards.map((s) => s.w)].forEach((t) => t.destroy());
    });
  }

  it('backward adds Σ dY of each id into its shard row, onto what dW held (float64 reference)', async () => {
    const gpu = await getGpu();
    const r = rng(9);
    const dY = Float32Array.from({ length: T * H }, r);
    const dW0 = Float32Array.from({ length: V * H }, r);
    const want = Array.from(dW0, Number);
    ids.forEach((id, t) => {
      if (id >= 0) for (let i = 0; i < H; i++) want[id * H + i] += dY[t * H + i];
    });
    const dy = gpu.fromF32(dY, 'test:dy');
    const shards = cuts.slice(0, -1).map((lo, i) => ({
      dw: gpu.fromF32(dW0.slice(lo * H, cuts[i + 1] * H), 'test:dw'),
      lo,
      hi: cuts[i + 1],
    }));
    embeddingBackward(gpu, ids, dy, shards, H);
    const got = new Float32Array(V * H);
    for (const s of shards) got.set(await gpu.readF32(s.dw), s.lo * H);
    const c = compare(got, want, 1e-6, 1e-6);
    assert.ok(c.ok, `dW[${c.bad}] ${c.got} vs ${c.want} (max abs ${c.maxAbs})`);
    // a row no token holds is exactly what it was
    for (const v of [1, 2, 4, 6, 8, 9])
      assert.deepEqual(got.subarray(v * H, v * H + H), dW0.subarray(v * H, v * H + H));
    [dy, ...shards.map((s) => s.dw)].forEach((t) => t.destroy());
  });
});
