// Alignment in the browser worker against `instructalign train` in Node: the same seed and settings give the same
// losses (rel 1e-5: both run train/loop.ts, on SwiftShader in Chromium and on Dawn's SwiftShader in Node), and the
// tuned checkpoint the worker zips is the HF folder the Node trainer writes: same files, same weights, same scores.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { openWorkerPage, type BrowserPage } from '../helpers/browser.ts';
import { FIXTURES, REPO, getGpu } from '../helpers/gpu.ts';
import { Runtime } from '../../src/host/runtime.ts';
import { train, TRAIN_DEFAULTS } from '../../src/train/trainer.ts';
import { bufferSource, SafetensorsFile } from '../../src/model/safetensors.ts';

const PAIRS = join(REPO, 'data/nusax/mt/train.csv');
const REPLAY = join(REPO, 'data/replay/nusax_l1_sentiment.jsonl');
const SETTINGS = {
  l1: ['eng'],
  l2: ['jav'],
  objectives: 'tlm,xss',
  replaySize: 8,
  steps: 3,
  lr: 2e-3,
  batchSize: 4,
  gradAccum: 2,
  maxLength: 24,
  seed: 7,
};
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

describe('browser: alignment in the runtime worker = instructalign train', function () {
  this.timeout(300000);
  let bp: BrowserPage;
  let out: string;
  before(async () => {
    bp = await openWorkerPage();
    out = mkdtempSync(join(tmpdir(), 'ia-align-'));
  });
  after(async () => {
    await bp?.close();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it(`${SETTINGS.steps} steps on bloom-tiny: same losses (rel 1e-5), same checkpoint, same scores`, async () => {
    const req = {
      ...SETTINGS,
      pairs: readFileSync(PAIRS, 'utf8'),
      pairsName: 'train.csv',
      replay: readFileSync(REPLAY, 'utf8'),
      replayName: 'nusax_l1_sentiment.jsonl',
    };
    const web: { logs: { step: number; loss: number; lr: number; grad_norm: number }[]; zip: string; eta: number[] } =
      await bp.page.evaluate(async (req) => {
        const rt = await (window as any).instructalign.ready;
        await rt.loadModel('/fixtures/bloom-tiny/');
        const eta: number[] = [];
        const logs = await rt.align(req, (p: any) => eta.push(p.etaSeconds));
        // streamed in 4 KiB pieces: many per tensor, so the pieces must join up exactly
        const blob: Blob = await rt.tunedCheckpoint('tuned', { chunkBytes: 4096 });
        const zip = new Uint8Array(await blob.arrayBuffer());
        let s = '';
        for (let i = 0; i < zip.length; i += 0x8000) s += String.fromCharCode(...zip.subarray(i, i + 0x8000));
        return { logs, zip: btoa(s), eta };
      }, req);

    const node = await train(
      Runtime.onGpu(await getGpu()),
      { ...TRAIN_DEFAULTS, ...SETTINGS, model: join(FIXTURES, 'bloom-tiny'), out, pairs: PAIRS, replay: REPLAY },
      false,
      { log: () => {} },
    );
    const lines = node.map((n, k) => `step ${n.step}: loss Node ${n.loss} / worker ${web.logs[k]?.loss}`).join('\n');
    assert.equal(web.logs.length, SETTINGS.steps, lines);
    assert.equal(web.eta.length, SETTINGS.steps, 'one progress call per step');
    node.forEach((n, k) => {
      const w = web.logs[k];
      assert.equal(w.step, n.step);
      assert.equal(w.lr, n.lr, lines);
      assert.ok(rel(w.loss, n.loss) <= 1e-5, `loss, step ${n.step}\n${lines}`);
      assert.ok(rel(w.grad_norm, n.grad_norm) <= 1e-4, `grad norm, step ${n.step}: ${w.grad_norm} vs ${n.grad_norm}`);
    });

    // the zip: tuned/{config.json, tokenizer.json, model.safetensors}, as the Node trainer's checkpoint folder
    const files = unzipSync(new Uint8Array(Buffer.from(web.zip, 'base64')));
    assert.deepEqual(Object.keys(files).sort(), [
      'tuned/config.json',
      'tuned/model.safetensors',
      'tuned/tokenizer.json',
    ]);
    const ck = join(out, 'checkpoint');
    for (const f of ['config.json', 'tokenizer.json'])
      assert.equal(Buffer.from(files[`tuned/${f}`]).toString('utf8'), readFileSync(join(ck, f), 'utf8'), f);
    const a = await SafetensorsFile.open(bufferSource(files['tuned/model.safetensors'], 'zip'));
    const b = await SafetensorsFile.open(bufferSource(readFileSync(join(ck, 'model.safetensors')), 'node'));
    assert.deepEqual([...a.tensors.keys()].sort(), [...b.tensors.keys()].sort());
    for (const name of b.tensors.keys()) {
      const x = await a.f32(name),
        y = await b.f32(name);
      let worst = 0;
      for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]) / (1e-3 + Math.abs(y[i])));
      assert.ok(worst <= 1e-4, `${name}: worker vs Node weights differ by ${worst} (relative to 1e-3 + |Node|)`);
    }

    // both checkpoints score a text alike in Node
    const text = 'Saya suka makan nasi goreng.';
    const scores: number[][] = [];
    for (const src of [{ files: new Map(Object.entries(files).map(([k, v]) => [k, new Blob([v])])) }, { path: ck }]) {
      const r = await Runtime.create({ log: () => {} });
      try {
        await r.loadModel(src);
        scores.push((await r.score([text]))[0].token_logprobs);
      } finally {
        r.dispose();
      }
    }
    scores[1].forEach((y, i) => assert.ok(Math.abs(scores[0][i] - y) <= 1e-4, `token ${i}: ${scores[0][i]} vs ${y}`));
  });
});
