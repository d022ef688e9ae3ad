// Two runtimes in one process do not interfere: each keeps its own kernel policy (src/gpu/policy.ts), and a
// runtime's scores are bit-identical before and after another runtime, with other kernels, ran beside it.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createRuntime } from '../../src/index.ts';
import { FIXTURES } from '../helpers/gpu.ts';

const TEXTS = ['Hello world, this is a test.', 'a bear in the woods.', 'Saya suka film ini.'];

describe('public API: two runtimes in one process', () => {
  it('own policies; B’s scores identical before, while and after A (scalar matmul) runs', async () => {
    const model = join(FIXTURES, 'bloom-tiny');
    const b = await createRuntime({ log: () => {} });
    let a: Awaited<ReturnType<typeof createRuntime>> | undefined;
    try {
      await b.loadModel(model);
      const before = await b.score(TEXTS);
      a = await createRuntime({ log: () => {}, policy: { matmul: { naive: true } } });
      await a.loadModel(model);
      assert.equal(a.policy.matmul.naive, true);
      assert.equal(b.policy.matmul.naive, false, "A's override did not reach B");
      const [sa, during] = await Promise.all([a.score(TEXTS), b.score(TEXTS)]);
      const after = await b.score(TEXTS);
      assert.deepEqual(during, before);
      assert.deepEqual(after, before);
      // A runs other kernels (its policy: the scalar matmul); its scores agree with B's within f32 summation order
      const diffs = sa.map((r, i) => Math.abs(r.mean_logprob - before[i].mean_logprob));
      assert.ok(
        diffs.every((d) => d < 1e-4),
        diffs.join(' '),
      );
    } finally {
      await a?.dispose();
      await b.dispose();
    }
  });
});
