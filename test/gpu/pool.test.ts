// The buffer pool (src/gpu/runtime.ts): released tensors' buffers are reused by exact size, so a repeated training
// step creates no GPU buffer; live + pooled bytes never exceed the largest live total; and a reused buffer's old
// contents (poisoned with NaN bits here) never reach a result: a poisoned pooled step equals an unpooled one exactly.
// Bind groups are cached by the buffers they bind, so the repeated step creates none either.
import assert from 'node:assert/strict';
import { getGpu, loadFixture, type Fixture } from '../helpers/gpu.ts';
import type { Gpu } from '../../src/gpu/runtime.ts';
import { BloomForward } from '../../src/model/bloom/forward.ts';
import { lossAndBackward } from '../../src/model/bloom/backward.ts';
import { Grads } from '../../src/model/common/backward.ts';
import type { BloomWeights } from '../../src/model/bloom/weights.ts';
import { fixtureBatch, loadF32Weights } from '../model/backward.test.ts';

describe('GPU buffer pool', () => {
  let gpu: Gpu;
  const saved: { pooling?: boolean; poison?: boolean; headroom?: number } = {};
  before(async () => {
    gpu = await getGpu();
    Object.assign(saved, { pooling: gpu.pooling, poison: gpu.poison, headroom: gpu.poolHeadroom });
  });
  afterEach(() => {
    gpu.pooling = saved.pooling!;
    gpu.poison = saved.poison!;
    gpu.poolHeadroom = saved.headroom!;
  });

  it('reuses a released buffer of the same size and creates a new one for another size', () => {
    gpu.pooling = true;
    gpu.trimPool(); // a buffer pooled by an earlier test file could serve the 1001-element request
    const a = gpu.tensor(1000, 'f32', 'pool:a');
    const buf = a.buffer;
    a.destroy();
    const created = gpu.buffersCreated;
    const b = gpu.tensor(1000, 'f32', 'pool:b');
    assert.equal(b.buffer, buf, 'same size: the released buffer comes back');
    assert.equal(gpu.buffersCreated, created);
    const c = gpu.tensor(1001, 'f32', 'pool:c');
    assert.notEqual(c.buffer, buf);
    assert.equal(gpu.buffersCreated, created + 1);
    b.destroy();
    c.destroy();
  });

  it('serves a smaller request from a pooled buffer up to (1 + poolFit)× its size, smallest first, counted whole', () => {
    gpu.pooling = true;
    gpu.trimPool();
    const big = gpu.tensor(4096, 'f32', 'pool:big'),
      mid = gpu.tensor(3000, 'f32', 'pool:mid');
    const bigBuf = big.buffer,
      midBuf = mid.buffer;
    big.destroy();
    mid.destroy();
    const live = gpu.bytesAllocated;
    const t = gpu.tensor(2500, 'f32', 'pool:small'); // 10,000 bytes: the 12,000-byte buffer fits best
    assert.equal(t.buffer, midBuf);
    assert.equal(gpu.bytesAllocated - live, midBuf.size, 'the whole buffer counts as live');
    assert.equal(t.byteLength, 10000, 'the tensor (and its bindings) keep their own size');
    const tiny = gpu.tensor(1000, 'f32', 'pool:tiny'); // 4,000 bytes: the 16,384-byte buffer is over 2×
    assert.notEqual(tiny.buffer, bigBuf);
    t.destroy();
    tiny.destroy();
    gpu.trimPool();
  });

  it('keeps live + pooled bytes within the largest live total (old buffers make room)', () => {
    gpu.pooling = true;
    gpu.poolHeadroom = 0; // the bound is (1 + headroom) × the high-water mark; 0 makes it the high-water mark
    gpu.trimPool();
    const big = Array.from({ length: 4 }, (_, i) => gpu.tensor(1 << 18, 'f32', `pool:big${i}`));
    const high = gpu.bytesAllocated;
    for (const t of big) t.destroy();
    assert.ok(gpu.pooledBytes >= 4 << 20, 'released buffers are pooled');
    // another size: no pooled buffer fits, so pooled ones are dropped to stay within the high-water mark
    const other = Array.from({ length: 4 }, (_, i) => gpu.tensor((1 << 18) + 4, 'f32', `pool:other${i}`));
    assert.ok(
      gpu.bytesAllocated + gpu.pooledBytes <= Math.max(high, gpu.bytesAllocated),
      `live ${gpu.bytesAllocated} + pooled ${gpu.pooledBytes} over the high-water mark ${high}`,
    );
    assert.ok(gpu.pooledBytes < 4 << 20, 'pooled buffers were dropped');
    for (const t of other) t.destroy();
    gpu.trimPool();
    assert.equal(gpu.pooledBytes, 0);
  });

  describe('a training step on bloom-tiny', () => {
    let fx: Fixture;
    let w: BloomWeights;
    let fwd: BloomForward;
    let grads: Grads;
    before(async () => {
      fx = await loadFixture('bloom-tiny');
      w = await loadF32Weights(gpu, fx);
      fwd = new BloomForward(gpu, w);
      grads = new Grads(gpu, w);
    });
    after(async () => {
      grads?.destroy();
      w?.destroy();
      fwd?.destroy();
      await fx?.ref.close();
    });

    async function step(): Promise<{ loss: number; g: Map<string, Float32Array> }> {
      const { batch, labels } = await fixtureBatch(fx);
      grads.zero();
      const { loss } = await lossAndBackward(fwd, batch, labels, grads);
      return { loss, g: await grads.read() };
    }

    it('a repeated step creates no buffer, and poisoned reused buffers change nothing (bit-exact)', async () => {
      gpu.pooling = false;
      const plain = await step();
      gpu.pooling = true;
      // this toy's tensors come in many small sizes: let the pool keep them all (real shapes fit the default
      // headroom; test/bench/memory-plan.test.ts checks nano-bloomz)
      gpu.poolHeadroom = Infinity;
      await step(); // fills the pool
      await step(); // the pool's buffers now go to the same tensors every step (and their bind groups are cached)
      const created = gpu.buffersCreated,
        groups = gpu.bindGroupsCreated;
      gpu.poison = true; // every reused buffer starts as 0xFF bytes (NaN floats, −1 ints)
      const pooled = await step();
      assert.equal(gpu.buffersCreated, created, `the pooled step created ${gpu.buffersCreated - created} buffers`);
      assert.equal(
        gpu.bindGroupsCreated,
        groups,
        `the pooled step created ${gpu.bindGroupsCreated - groups} bind groups (all cached)`,
      );
      assert.equal(pooled.loss, plain.loss);
      for (const [n, a] of plain.g) assert.deepEqual(pooled.g.get(n), a, `gradient ${n} differs with pooled buffers`);
    });
  });
});
