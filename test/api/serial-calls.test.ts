// One runtime, calls made at once (audit A49): they run one at a time in the order they were made, so a score made
// while another model loads waits and scores that model, and each result equals the sequential run's. Before the
// queue (src/util/serial.ts), the score that met the load rejected with "weight … is not loaded", and dispose()
// destroyed the device under a score still running.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createRuntime, RequestError } from '../../src/index.ts';
import { FIXTURES } from '../helpers/gpu.ts';

const A = join(FIXTURES, 'bloom-tiny');
const B = join(FIXTURES, 'bloom-tiny-h6-f16');
const TEXTS = ['Hello world, this is a test.', 'a bear in the woods.'];

describe('public API: calls on one runtime run one at a time, in call order (A49)', () => {
  it('score, loadModel(another model), score, generate at once = the sequential results; dispose waits', async () => {
    const rt = await createRuntime({ log: () => {} });
    try {
      // the sequential references
      await rt.loadModel(B);
      const refB = await rt.score(TEXTS);
      const genB = await rt.generate('Hello', { maxNewTokens: 3 });
      await rt.loadModel(A);
      const refA = await rt.score(TEXTS);
      assert.notDeepEqual(
        refA.map((r) => r.mean_logprob),
        refB.map((r) => r.mean_logprob),
        'the two fixtures must score differently for this test to tell them apart',
      );

      // all at once, from A loaded: the first score is A's, everything after the load is B's
      const [sA, infoB, sB, gB, idsB] = await Promise.all([
        rt.score(TEXTS),
        rt.loadModel(B),
        rt.score(TEXTS),
        rt.generate('Hello', { maxNewTokens: 3 }),
        rt.tokenize(TEXTS),
      ]);
      assert.deepEqual(sA, refA);
      assert.equal(infoB.name, B);
      assert.deepEqual(sB, refB);
      assert.deepEqual(gB, genB);
      assert.deepEqual(
        idsB,
        refB.map((r) => r.ids),
      );

      // a bad argument is refused at once, not after the calls before it (nothing waits for a load to say so)
      const load = rt.loadModel(A);
      let loaded = false;
      void load.then(() => (loaded = true));
      await assert.rejects(rt.score(TEXTS, { batchSize: 0 }), (e: Error) => RequestError.is(e));
      assert.equal(loaded, false, 'the bad call was answered only after the load');
      await load;

      // dispose() lets the calls already made end, then frees the GPU; later calls are refused
      const last = rt.score(TEXTS);
      const disposed = rt.dispose();
      await assert.rejects(rt.score(TEXTS), /score: this runtime was disposed/);
      assert.deepEqual(await last, refA);
      await disposed;
    } finally {
      await rt.dispose();
    }
  });
});
