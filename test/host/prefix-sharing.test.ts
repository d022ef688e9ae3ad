// Prompt-prefix sharing (Runtime.score with groupSize): each example's label texts share their prompt, which goes
// through the KV cache once. It must give the numbers of scoring every full text (tolerance 2e-5 per token log-prob
// and per mean, f32 with a different summation grouping), fall back to full texts when the shared part is short,
// and keep the groups' order.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Runtime, sharedPrefix } from '../../src/host/runtime.ts';
import { REPO } from '../helpers/gpu.ts';
import { DEFAULT_LABELS, labelTexts, promptTemplates } from '../../src/eval/tasks.ts';

describe('runtime: prompt-prefix sharing for label texts (nano-bloomz)', () => {
  let rt: Runtime;
  before(async () => {
    rt = await Runtime.create({ log: () => {} });
    await rt.loadModel({ path: join(REPO, 'models/nano-bloomz') });
  });
  after(() => rt?.dispose());

  it('sharedPrefix: every text keeps a token; short or minor prefixes are not shared', () => {
    const p = Array.from({ length: 20 }, (_, i) => i + 10);
    assert.equal(
      sharedPrefix([
        [...p, 1],
        [...p, 2, 3],
        [...p, 4],
      ]),
      20,
    );
    assert.equal(sharedPrefix([[...p], [...p, 2]]), 19, 'the shorter text keeps its last token');
    assert.equal(
      sharedPrefix([
        [1, 2, 3, 4, 5, 9],
        [1, 2, 3, 4, 5, 8],
      ]),
      0,
      'under 8 tokens',
    );
    assert.equal(
      sharedPrefix([
        [...p.slice(0, 9), ...p, 1],
        [...p.slice(0, 9), 7, ...p],
      ]),
      0,
      'under half of the shortest text',
    );
  });

  it('scores NusaX label texts of all three prompts as full-text scoring does', async () => {
    const labels = DEFAULT_LABELS.sentiment!;
    const rows = [
      'Pelayanan buruk sekali, saya kecewa.',
      'The food was great and the staff were friendly.',
      'biasa saja',
    ];
    const texts = promptTemplates('sentiment').flatMap((t) => rows.flatMap((r) => labelTexts(t.template, r, labels)));
    const full = await rt.score(texts); // no groups: every text scored whole
    const shared = await rt.score(texts, { groupSize: labels.length, batchSize: 16 }); // 5 groups of different prompt lengths per batched step
    assert.equal(shared.length, texts.length);
    let maxDiff = 0;
    shared.forEach((s, i) => {
      assert.deepEqual(s.ids, full[i].ids);
      assert.equal(s.token_logprobs.length, full[i].token_logprobs.length);
      s.token_logprobs.forEach((v, t) => (maxDiff = Math.max(maxDiff, Math.abs(v - full[i].token_logprobs[t]))));
      assert.ok(
        Math.abs(s.mean_logprob - full[i].mean_logprob) <= 2e-5,
        `text ${i}: ${s.mean_logprob} vs ${full[i].mean_logprob}`,
      );
    });
    assert.ok(maxDiff <= 2e-5, `max token log-prob difference ${maxDiff}`);
    // the groups really shared something (prompts are long, labels short)
    for (let s = 0; s < texts.length; s += 3) assert.ok(sharedPrefix(full.slice(s, s + 3).map((r) => r.ids)) > 0);
  });

  it('mixes shared and full-text groups (a group without a long common prefix) in input order', async () => {
    const texts = [
      'a b',
      'c d',
      'Text: the same long prompt for both of these texts here. Answer: yes',
      'Text: the same long prompt for both of these texts here. Answer: no',
    ];
    const full = await rt.score(texts);
    const shared = await rt.score(texts, { groupSize: 2 });
    shared.forEach((s, i) => assert.ok(Math.abs(s.mean_logprob - full[i].mean_logprob) <= 2e-5, `text ${i}`));
  });
});

describe('runtime: prompt-prefix sharing on the GPU kernel family (forced on SwiftShader)', () => {
  let rt: Runtime;
  before(async () => {
    // the GPU family's matmul, attention and LayerNorm (cross-entropy keeps SwiftShader's rowwise kernels)
    rt = await Runtime.create({ log: () => {}, policy: { family: 'gpu', crossEntropy: { rowwise: true } } });
    await rt.loadModel({ path: join(REPO, 'models/nano-bloomz') });
  });
  after(() => {
    rt?.dispose();
  });

  it('the batched cached steps (tiled matmul, workgroup attention) give the full-text scores', async () => {
    const labels = DEFAULT_LABELS.sentiment!;
    const texts = promptTemplates('sentiment')
      .slice(0, 2)
      .flatMap((t) =>
        ['Sangat bagus!', 'Not what I ordered, and late.'].flatMap((r) => labelTexts(t.template, r, labels)),
      );
    const full = await rt.score(texts, { batchSize: 12 });
    const shared = await rt.score(texts, { groupSize: 3, batchSize: 12 });
    shared.forEach((s, i) =>
      assert.ok(
        Math.abs(s.mean_logprob - full[i].mean_logprob) <= 2e-5,
        `text ${i}: ${s.mean_logprob} vs ${full[i].mean_logprob}`,
      ),
    );
  });
});
