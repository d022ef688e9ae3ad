// The browser worker's evaluate (src/host/eval-worker.ts) takes scoring and shard like the CLI and the Node API:
// run here in Node with a fake runtime whose token log-probs come from fakeTokens.
import { strict as assert } from 'node:assert';
import { evaluateRequest } from '../../src/host/eval-worker.ts';
import type { RuntimeLike } from '../../src/eval/scorer.ts';
import { fakeTokens } from './fake-scorer.ts';

const rt: RuntimeLike = {
  async score(texts) {
    return texts.map((t) => {
      const s = fakeTokens(t);
      return { mean_logprob: s.mean, token_logprobs: s.logprobs, offsets: s.offsets };
    });
  },
};
const info = { model: 'fake', adapter: 'none', dtype: 'f32', int8: false };
const rows = Array.from({ length: 6 }, (_, k) => ({ id: k, text: `text number ${k}`, label: k % 3 }));
const req = { data: { eng: rows }, prompts: [1, 2] };

describe('worker evaluate: scoring and shard', () => {
  it('scoring: the chosen rule decides, all three are reported; shards cover the items once', async () => {
    const all = await evaluateRequest(rt, info, { ...req, scoring: 'label' });
    assert.equal(all.scoring, 'label');
    assert.deepEqual(
      all.scorings!.map((s) => s.rule),
      ['label', 'paper', 'label-norm'],
    );
    const paper = await evaluateRequest(rt, info, req);
    assert.deepEqual(paper.scorings!.find((s) => s.rule === 'label')!.overall, all.overall);
    const seen: string[] = [];
    for (const shard of ['1/2', '2/2']) {
      const r = await evaluateRequest(
        rt,
        info,
        { ...req, scoring: 'label', shard },
        { onProgress: (p) => seen.push(...p.predictions.map((x) => `${x.prompt}:${x.id}`)) },
      );
      assert.deepEqual(r.shard, { index: Number(shard[0]), count: 2, items: 6 });
    }
    assert.deepEqual(seen.sort(), rows.flatMap((r) => [`1:${r.id}`, `2:${r.id}`]).sort());
    await assert.rejects(evaluateRequest(rt, info, { ...req, shard: '0/2' }), /shard must be i\/n/);
    await assert.rejects(
      evaluateRequest(rt, info, { ...req, scoring: 'acc' as never }),
      /evaluate: scoring must be paper, label or label-norm, got "acc"/,
    );
  });
});
