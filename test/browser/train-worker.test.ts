// Training in the browser worker: two AdamW steps on the bloom-tiny fixture batch through the worker's trainSteps,
// compared with the same steps in Node (lossAndBackward + AdamW on Dawn) and with HF Trainer's recorded losses and
// gradient norms (reference.json: lr 1e-3 then 5e-4, weight decay 0.01 on every parameter, clip 1.0).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openWorkerPage, type BrowserPage } from '../helpers/browser.ts';
import { FIXTURES, compare, loadFixture, type Fixture } from '../helpers/gpu.ts';
import { Runtime } from '../../src/host/runtime.ts';
import { Scope } from '../../src/gpu/scope.ts';
import { AdamW } from '../../src/train/optimizer.ts';

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('browser: training steps in the runtime worker', function () {
  this.timeout(300000);
  let bp: BrowserPage;
  let fx: Fixture;

  before(async () => {
    bp = await openWorkerPage();
    fx = await loadFixture('bloom-tiny');
  });
  after(async () => {
    await bp?.close();
    await fx?.ref.close();
  });

  it('two AdamW steps: worker losses = Node losses = HF losses_per_step (rel 1e-4), and the trained weights score alike', async () => {
    const a = fx.json.adamw;
    const i32 = async (n: string) => Array.from(new Int32Array((await fx.ref.raw(n)).slice().buffer));
    const [B, T] = fx.ref.tensors.get('input_ids')!.shape;
    const batch = { ids: await i32('input_ids'), mask: await i32('attention_mask'), labels: await i32('labels'), B, T };
    const lrs = [0, 1].map((s) => a.lr * (1 - s / a.steps)); // reference.json: linear, lr at step s = 1e-3·(1 − s/2)
    const probe: string = fx.json.texts[0];
    const req = {
      batches: [batch, batch],
      lr: lrs,
      betas: a.betas,
      eps: a.eps,
      weightDecay: a.weight_decay,
      maxGradNorm: a.max_grad_norm,
      decayAll: true,
    };

    const inWorker: { steps: { loss: number; gradNorm: number; lr: number; skipped: boolean }[]; after: number[] } =
      await bp.page.evaluate(
        async ({ req, probe }) => {
          const rt = await (window as any).instructalign.ready;
          const files = new Map<string, Blob>();
          for (const f of ['config.json', 'tokenizer.json', 'model.safetensors']) {
            const res = await fetch(`/fixtures/bloom-tiny/${f}`);
            if (!res.ok) throw new Error(`fixture ${f}: HTTP ${res.status}`);
            files.set(`bloom-tiny/${f}`, await res.blob());
          }
          await rt.loadModel(files);
          const steps = await rt.trainSteps(req);
          const [r] = await rt.score([probe]);
          return { steps, after: r.token_logprobs };
        },
        { req, probe },
      );

    // the same two steps in Node, written out with the training modules directly
    const node = await Runtime.create({ log: () => {} });
    const inNode: { loss: number; gradNorm: number }[] = [];
    let nodeAfter: number[];
    try {
      await node.loadModel({ path: join(FIXTURES, 'bloom-tiny') });
      const mem = new Scope(node.gpu);
      const model = mem.own(node.loaded.training());
      const opt = new AdamW(mem, model.params, {
        lr: a.lr,
        betas: a.betas,
        eps: a.eps,
        weightDecay: a.weight_decay,
        maxGradNorm: a.max_grad_norm,
        decayAll: true,
      });
      for (let s = 0; s < 2; s++) {
        model.grads.zero();
        const { loss } = await model.lossAndBackward(
          { ids: Int32Array.from(batch.ids), mask: Int32Array.from(batch.mask), B, T },
          Int32Array.from(batch.labels),
        );
        const { gradNorm } = await opt.step(model.grads, lrs[s]);
        inNode.push({ loss, gradNorm });
      }
      mem.destroy();
      nodeAfter = (await node.score([probe]))[0].token_logprobs;
    } finally {
      node.dispose();
    }

    const lines = inWorker.steps
      .map(
        (w, s) =>
          `step ${s} (lr ${w.lr}): loss worker ${w.loss} / Node ${inNode[s].loss} / HF ${fx.json.losses_per_step[s]}; ` +
          `grad norm worker ${w.gradNorm} / Node ${inNode[s].gradNorm} / HF ${fx.json.grad_norms_before_clip[s]}`,
      )
      .join('\n');
    assert.equal(inWorker.steps.length, 2, lines);
    inWorker.steps.forEach((w, s) => {
      assert.ok(!w.skipped, lines);
      assert.equal(w.lr, lrs[s], lines);
      assert.ok(rel(w.loss, inNode[s].loss) <= 1e-4, `worker vs Node loss\n${lines}`);
      assert.ok(rel(w.loss, fx.json.losses_per_step[s]) <= 1e-4, `worker vs HF loss\n${lines}`);
      assert.ok(rel(inNode[s].loss, fx.json.losses_per_step[s]) <= 1e-4, `Node vs HF loss\n${lines}`);
      assert.ok(rel(w.gradNorm, fx.json.grad_norms_before_clip[s]) <= 1e-4, `worker vs HF grad norm\n${lines}`);
    });
    // the second loss only drops if the first step changed the weights the worker trains
    assert.ok(inWorker.steps[1].loss < inWorker.steps[0].loss, lines);
    const c = compare(inWorker.after, nodeAfter!, 1e-4, 1e-4);
    assert.ok(
      c.ok,
      `log-probs after training, token ${c.bad}: worker ${c.got} vs Node ${c.want} (max |d| ${c.maxAbs})`,
    );
  });

  it('refuses to train without a loaded model, naming the fix', async () => {
    const msg: string = await bp.page.evaluate(async () => {
      const rt = await (window as any).instructalign.ready;
      await rt.dispose();
      try {
        await rt.trainSteps({ batches: [], lr: 1e-3 });
        return 'no error';
      } catch (e) {
        return (e as Error).message;
      }
    });
    assert.match(msg, /no model loaded: call loadModel first/);
  });
});
