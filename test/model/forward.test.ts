// Forward parity with HuggingFace on both fixtures: hidden states, logits, token log-probs (non-pad positions).
import assert from 'node:assert/strict';
import { compare, FIXTURE_NAMES, getGpu, loadFixture } from '../helpers/gpu.ts';
import { openCheckpoint } from '../../src/model/checkpoint.ts';
import { BloomWeights } from '../../src/model/bloom/weights.ts';
import { BloomModel } from '../../src/model/bloom/model.ts';

for (const name of FIXTURE_NAMES) {
  describe(`forward parity: ${name}`, () => {
    let model: BloomModel;
    let fx: Awaited<ReturnType<typeof loadFixture>>;
    before(async () => {
      const gpu = await getGpu();
      fx = await loadFixture(name);
      const ck = await openCheckpoint(fx.dir);
      model = new BloomModel(gpu, await BloomWeights.fromCheckpoint(gpu, ck, 'f32'));
      await ck.close();
    });
    after(() => model?.destroy());

    it('logits, hidden states and token log-probs match HF (atol 1e-3, rtol 1e-3)', async () => {
      const ids = new Int32Array((await fx.ref.raw('input_ids')).buffer.slice(0));
      const mask = new Int32Array((await fx.ref.raw('attention_mask')).buffer.slice(0));
      const [B, T] = fx.ref.tensors.get('input_ids')!.shape;
      const V = model.config.vocabSize,
        H = model.config.hiddenSize;
      const out = await model.forward({ ids, mask, B, T }, { logits: true, hidden: true });
      const real = (row: number) => mask[row] === 1;
      const lg = compare(out.logits!, await fx.ref.f32('logits'), 1e-3, 1e-3, (i) => real(Math.floor(i / V)));
      assert.ok(lg.ok, `logits: max abs ${lg.maxAbs} (first bad: ${lg.got} vs ${lg.want} at ${lg.bad})`);
      for (let l = 0; l < out.hidden!.length; l++) {
        const h = compare(out.hidden![l], await fx.ref.f32(`hidden_states.${l}`), 1e-3, 1e-3, (i) =>
          real(Math.floor(i / H)),
        );
        assert.ok(h.ok, `hidden_states.${l}: max abs ${h.maxAbs} (first bad ${h.got} vs ${h.want} at ${h.bad})`);
      }
      const refLp = await fx.ref.f32('token_logprobs');
      const lp = new Float32Array(B * (T - 1));
      for (let b = 0; b < B; b++) for (let t = 0; t < T - 1; t++) lp[b * (T - 1) + t] = out.logprobs[b * T + t];
      const c = compare(lp, refLp, 1e-3, 1e-3);
      assert.ok(c.ok, `token_logprobs: max abs ${c.maxAbs}`);
    });
  });
}
