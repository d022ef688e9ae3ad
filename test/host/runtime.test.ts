// Runtime invariants on the bloom-tiny fixture: KV-cached generation equals recomputation, a batch equals its rows
// one by one, left padding equals right padding, and score() equals the fixture's mean_logprob.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Runtime } from '../../src/host/runtime.ts';
import { FIXTURES, loadFixture } from '../helpers/gpu.ts';

describe('runtime invariants (bloom-tiny)', () => {
  let rt: Runtime;
  const dir = join(FIXTURES, 'bloom-tiny');
  before(async () => {
    rt = await Runtime.create({ log: () => {} });
    await rt.loadModel({ path: dir });
  });
  after(() => rt?.dispose());

  it('KV-cached greedy generation equals full recomputation at every step', async () => {
    const prompt = rt.tokenizer.encode('Nikmati cicilan 0% hingga');
    const cached = await rt.generate(prompt, { maxNewTokens: 6, stopAtEos: false });
    const seq = [...prompt];
    for (let i = 0; i < 6; i++) {
      const T = seq.length;
      const out = await rt.loaded.forward(
        { ids: Int32Array.from(seq), mask: new Int32Array(T).fill(1), B: 1, T },
        { logits: true },
      );
      const V = rt.loaded.config.vocabSize;
      const last = out.logits!.subarray((T - 1) * V, T * V);
      let best = 0;
      for (let v = 1; v < V; v++) if (last[v] > last[best]) best = v;
      seq.push(best);
    }
    assert.deepEqual(cached.ids, seq.slice(prompt.length));
  });

  it('a batch scores the same as its rows one by one (within 1e-5)', async () => {
    const texts = [
      'a bear in the woods.',
      'Hello world',
      'Kuenya enak dan harganya juga murah, semuanya tipikal kue zaman dulu.',
    ];
    const batched = await rt.score(texts, { batchSize: 3 });
    const single = await rt.score(texts, { batchSize: 1 });
    for (let i = 0; i < texts.length; i++) {
      assert.deepEqual(batched[i].ids, single[i].ids);
      assert.ok(
        Math.abs(batched[i].mean_logprob - single[i].mean_logprob) < 1e-5,
        `${batched[i].mean_logprob} vs ${single[i].mean_logprob}`,
      );
    }
  });

  it('left padding gives the same log-probs as right padding (ALiBi positions from the mask)', async () => {
    const a = rt.tokenizer.encode('The quick brown fox'),
      b = rt.tokenizer.encode('jumps over the lazy dog, twice over');
    const T = Math.max(a.length, b.length),
      pad = rt.loaded.config.padTokenId;
    const build = (left: boolean) => {
      const ids = new Int32Array(2 * T).fill(pad),
        mask = new Int32Array(2 * T);
      [a, b].forEach((s, r) => {
        const o = r * T + (left ? T - s.length : 0);
        ids.set(s, o);
        mask.fill(1, o, o + s.length);
      });
      return { ids, mask, B: 2, T };
    };
    const right = await rt.loaded.forward(build(false)),
      left = await rt.loaded.forward(build(true));
    [a, b].forEach((s, r) => {
      for (let t = 0; t + 1 < s.length; t++) {
        const x = right.logprobs[r * T + t],
          y = left.logprobs[r * T + (T - s.length) + t];
        assert.ok(Math.abs(x - y) < 1e-4, `row ${r} token ${t}: right ${x} vs left ${y}`);
      }
    });
  });

  it("scoring the fixture rows equals HF's mean_logprob (1e-3 + 1e-3·|ref|)", async () => {
    const fx = await loadFixture('bloom-tiny');
    const ref = await fx.ref.f32('mean_logprob');
    const ids = new Int32Array((await fx.ref.raw('input_ids')).slice().buffer),
      mask = new Int32Array((await fx.ref.raw('attention_mask')).slice().buffer);
    const [B, T] = fx.ref.tensors.get('input_ids')!.shape;
    const rows = Array.from({ length: B }, (_, b) =>
      Array.from(ids.subarray(b * T, (b + 1) * T)).filter((_, t) => mask[b * T + t] === 1),
    );
    // the fixture's rows are its texts tokenized and truncated to T tokens
    rows.forEach((r, b) => assert.deepEqual(r, rt.tokenizer.encode((fx.json.texts as string[])[b]).slice(0, r.length)));
    const res = await rt.scoreIds(rows, 2);
    res.forEach((r, i) =>
      assert.ok(
        Math.abs(r.mean_logprob - ref[i]) <= 1e-3 + 1e-3 * Math.abs(ref[i]),
        `text ${i}: ${r.mean_logprob} vs ${ref[i]}`,
      ),
    );
    await fx.ref.close();
  });

  it("firstPad (the official batched scorer's quirk): log P(first pad | text) counted, mean over n targets", async () => {
    const texts = ['Great food!\nWhat is the sentiment? positive', 'Great food!\nWhat is the sentiment? negative'];
    const pad = rt.loaded.config.padTokenId;
    for (const groupSize of [1, 2]) {
      const plain = await rt.score(texts, { groupSize });
      const quirk = await rt.score(texts, { groupSize, firstPad: true });
      for (let k = 0; k < texts.length; k++) {
        const ids = plain[k].ids;
        const n = ids.length;
        // reference: the full logits of the unpadded text, log-softmax at the last position, read at the pad id
        const V = rt.loaded.config.vocabSize;
        const out = await rt.loaded.forward(
          { ids: Int32Array.from(ids), mask: new Int32Array(n).fill(1), B: 1, T: n },
          { logits: true },
        );
        const last = out.logits!.subarray((n - 1) * V, n * V);
        const mx = Math.max(...last);
        const lse = mx + Math.log(last.reduce((a, x) => a + Math.exp(x - mx), 0));
        const lpPad = last[pad] - lse;
        assert.equal(quirk[k].token_logprobs.length, n);
        quirk[k].token_logprobs.slice(0, n - 1).forEach((x, t) => {
          assert.ok(
            Math.abs(x - plain[k].token_logprobs[t]) < 1e-4,
            `token ${t}: ${x} vs ${plain[k].token_logprobs[t]}`,
          );
        });
        const got = quirk[k].token_logprobs[n - 1];
        assert.ok(Math.abs(got - lpPad) < 1e-3 + 1e-3 * Math.abs(lpPad), `pad log-prob ${got} vs ${lpPad}`);
        const want = (plain[k].mean_logprob * (n - 1) + lpPad) / n;
        assert.ok(Math.abs(quirk[k].mean_logprob - want) < 1e-3, `${quirk[k].mean_logprob} vs ${want}`);
      }
    }
    // a text already at maxLength is the longest row of its batch: no pad
    const ids = rt.tokenizer.encode(texts[0]);
    const [atMax] = await rt.score([texts[0]], { maxLength: ids.length, firstPad: true });
    assert.equal(atMax.token_logprobs.length, ids.length - 1);
  });
});
