// The kernels real GPUs run (workgroup-memory tiled matmul, workgroup-per-row attention and LayerNorm) are chosen only
// off
// SwiftShader; this forces them here so CI checks them too: the full selftest (forward, KV-cached generation,
// every gradient, two AdamW steps) against HuggingFace on both fixtures, with the workgroup reductions on subgroups
// (SwiftShader offers the feature, with 4-wide subgroups) and on barrier trees. With subgroups on, the matmul tuner
// runs too (as on a real GPU), so the selftest also goes through the kernels it picks.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FIXTURES, FIXTURE_NAMES } from '../helpers/gpu.ts';
import { Runtime, type RuntimeOptions } from '../../src/host/runtime.ts';
import { selftest, trainSelftest } from '../../src/host/selftest.ts';
import { tuneState } from '../../src/ops/matmul.ts';

for (const sg of ['auto', 'never'] as const)
  describe(`the GPU kernel path (forced on SwiftShader), subgroups ${sg === 'auto' ? 'on' : 'off'}`, () => {
    let rt: Runtime;
    before(async () => {
      const policy = { family: 'gpu', subgroups: sg === 'auto', ...(sg === 'auto' ? { matmul: { tune: 'on' } } : {}) };
      rt = await Runtime.create({ log: () => {}, policy: policy as RuntimeOptions['policy'] });
      assert.equal(rt.policy.family, 'gpu');
      assert.equal(rt.policy.attention.rowwise, false, 'the workgroup attention kernels');
      if (sg === 'auto') {
        assert.ok(rt.gpu.handle.features.has('subgroups'), 'this adapter offers subgroups (SwiftShader does)');
        assert.ok(rt.policy.subgroups);
      } else assert.equal(rt.policy.subgroups, false);
    });
    after(() => {
      rt?.dispose();
    });
    for (const name of FIXTURE_NAMES) {
      it(`${name}: every selftest check passes`, async () => {
        const dir = join(FIXTURES, name);
        await rt.loadModel({ path: dir });
        const checks = [...(await selftest(rt, dir)), ...(await trainSelftest(rt, dir))];
        const failed = checks.filter((c) => !c.pass);
        assert.deepEqual(failed, [], JSON.stringify(failed));
        assert.ok(checks.length >= 13);
        if (sg === 'auto')
          assert.ok(tuneState(rt.gpu).table.size > 0, 'the tuner picked kernels for the shapes it met');
      });
    }
  });
