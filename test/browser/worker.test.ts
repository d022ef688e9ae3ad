// The runtime worker in headless Chromium (WebGPU on SwiftShader) against the same code in Node: tokenizer ids
// must match HuggingFace's (bloom-tiny fixture) exactly, and kernel outputs must match Node's GPU results.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildWeb, openPage, webgpuAdapter, CHROMIUM, WEBGPU_FLAGS, type BrowserPage } from '../helpers/browser.ts';
import { FIXTURES, REPO, compare, getGpu } from '../helpers/gpu.ts';
import { Tokenizer } from '../../src/wasm/tokenizer.ts';
import { kernelCheck, kernelCheckCpu, KERNEL_CHECK_K } from '../../src/host/kernel-check.ts';
import { Runtime } from '../../src/host/runtime.ts';
import { createRuntime } from '../../src/index.ts';

const SCREENSHOT = join(REPO, 'test-output/browser/page.png');
const fixtureTexts: string[] = JSON.parse(readFileSync(join(FIXTURES, 'bloom-tiny/reference.json'), 'utf8')).texts;
const cases: { text: string; ids: number[] }[] = JSON.parse(
  readFileSync(join(FIXTURES, 'bloom-tiny/reference.json'), 'utf8'),
).tokenizer_cases;

/** deterministic inputs with a spread of magnitudes and signs */
function inputs(n: number): { a: Float32Array; b: Float32Array } {
  const a = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 7)));
  const b = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.11) - 0.25 + (i % 5) * 0.1);
  return { a, b };
}

describe('browser: runtime worker (Comlink) in headless Chromium', function () {
  this.timeout(300000);
  let bp: BrowserPage;

  before(async () => {
    buildWeb();
    bp = await openPage();
    const probe = await webgpuAdapter(bp.page);
    if (!probe.ok) {
      throw new Error(
        `Chromium (${CHROMIUM}, flags ${WEBGPU_FLAGS.join(' ') || '(none)'}) gives no WebGPU adapter: ${probe.reason}. ` +
          'The browser tests need one; check the flags in test/helpers/browser.ts against this Chromium version.',
      );
    }
  });

  after(async () => {
    await bp?.close();
  });

  it('opens a WebGPU device inside the worker', async () => {
    const adapter = await bp.page.evaluate(async () => {
      const rt = await (window as any).instructalign.ready;
      return rt.init();
    });
    assert.equal(adapter.backend, 'browser');
    assert.ok(adapter.text.length > 0, 'adapter description');
    assert.ok(adapter.limits.maxStorageBufferBindingSize > 0, `limits: ${JSON.stringify(adapter.limits)}`);
    assert.equal(await bp.page.textContent('#status'), adapter.text);
  });

  it(`tokenizes all ${cases.length} bloom-tiny tokenizer_cases like HuggingFace and like Node`, async () => {
    const texts = cases.map((c) => c.text);
    const inWorker: number[][] = await bp.page.evaluate(async (texts) => {
      const rt = await (window as any).instructalign.ready;
      const res = await fetch('/fixtures/bloom-tiny/tokenizer.json');
      if (!res.ok) throw new Error(`fixture tokenizer: HTTP ${res.status}`);
      return rt.tokenize(await res.text(), texts);
    }, texts);
    const tok = await Tokenizer.fromJSON(readFileSync(join(FIXTURES, 'bloom-tiny/tokenizer.json'), 'utf8'));
    const inNode = texts.map((t) => tok.encode(t));
    tok.free();
    const bad = cases.findIndex(
      (c, i) =>
        JSON.stringify(inWorker[i]) !== JSON.stringify(c.ids) || JSON.stringify(inNode[i]) !== JSON.stringify(c.ids),
    );
    assert.equal(
      bad,
      -1,
      bad < 0
        ? ''
        : `case ${bad} ${JSON.stringify(cases[bad].text)}:\n  HF     ${JSON.stringify(cases[bad].ids)}\n  worker ${JSON.stringify(inWorker[bad])}\n  node   ${JSON.stringify(inNode[bad])}`,
    );
    assert.equal(inWorker.length, cases.length);
  });

  it('runs elementwise add + matmul in the worker with the same results as Node', async () => {
    const n = 48 * KERNEL_CHECK_K;
    const { a, b } = inputs(n);
    const inWorker = Float32Array.from(
      await bp.page.evaluate(
        async ([a, b]) => {
          const rt = await (window as any).instructalign.ready;
          return Array.from((await rt.kernelCheck(Float32Array.from(a), Float32Array.from(b))) as Float32Array);
        },
        [Array.from(a), Array.from(b)],
      ),
    );
    const inNode = await kernelCheck(await getGpu(), a, b);
    const cpu = kernelCheckCpu(a, b);
    assert.equal(inWorker.length, cpu.length, 'output length');
    const same = compare(inWorker, inNode, 1e-6, 0);
    assert.ok(
      same.ok,
      `worker vs Node GPU: first mismatch at ${same.bad}: ${same.got} vs ${same.want} (max |d| ${same.maxAbs})`,
    );
    const ref = compare(inWorker, cpu, 1e-5, 1e-5);
    assert.ok(
      ref.ok,
      `worker vs float64 CPU: first mismatch at ${ref.bad}: ${ref.got} vs ${ref.want} (max |d| ${ref.maxAbs})`,
    );
  });

  it('loads bloom-tiny from Blobs in the worker and scores texts like the Node runtime', async () => {
    const inWorker: { ids: number[]; token_logprobs: number[] }[] = await bp.page.evaluate(async (texts) => {
      const rt = await (window as any).instructalign.ready;
      const files = new Map<string, Blob>();
      for (const f of ['config.json', 'tokenizer.json', 'model.safetensors']) {
        const res = await fetch(`/fixtures/bloom-tiny/${f}`);
        if (!res.ok) throw new Error(`fixture ${f}: HTTP ${res.status}`);
        files.set(f, await res.blob());
      }
      await rt.loadModel(files);
      return rt.score(texts);
    }, fixtureTexts);
    const node = await Runtime.create({ log: () => {} });
    let inNode: Awaited<ReturnType<Runtime['score']>>;
    try {
      await node.loadModel({ path: join(FIXTURES, 'bloom-tiny') });
      inNode = await node.score(fixtureTexts);
    } finally {
      node.dispose();
    }
    assert.equal(inWorker.length, fixtureTexts.length);
    inNode.forEach((r, i) => {
      assert.deepEqual(inWorker[i].ids, r.ids, `text ${i}: ids`);
      const c = compare(inWorker[i].token_logprobs, r.token_logprobs, 1e-4, 1e-4);
      assert.ok(c.ok, `text ${i}: log-prob ${c.bad}: worker ${c.got} vs Node ${c.want} (max |d| ${c.maxAbs})`);
    });
  });

  it('score/generate: a bad argument gives the Node API’s RequestError, word for word (request definitions)', async () => {
    // [call, args]: wrong types, unknown or out-of-range options, a one-token text, ids past the vocabulary; before
    // the worker used src/api/calls.ts these gave raw TypeErrors, other wording, a NaN score or a result
    const bad: [string, unknown[]][] = [
      ['score', ['Hello world']],
      ['score', [['Hello world', null]]],
      ['score', [['Hello world'], { batchsize: 2 }]],
      ['score', [['Hello world'], { groupSize: 1.5 }]],
      ['score', [['Hello world'], { batchSize: 0 }]],
      ['score', [['Hello world'], { maxLength: 1 }]],
      ['score', [['Hello world', 'a']]],
      ['generate', ['']],
      ['generate', ['Hello', { maxNewTokens: 1.5 }]],
      ['generate', ['Hello', { temprature: 1 }]],
      ['generate', [[1, 2.5]]],
      ['generate', [[99999]]],
    ];
    const inWorker: string[] = await bp.page.evaluate(async (bad) => {
      const rt = await (window as any).instructalign.ready;
      const files = new Map<string, Blob>();
      for (const f of ['config.json', 'tokenizer.json', 'model.safetensors'])
        files.set(f, await (await fetch(`/fixtures/bloom-tiny/${f}`)).blob());
      await rt.loadModel(files);
      const out: string[] = [];
      for (const [call, args] of bad)
        out.push(
          await rt[call](...args).then(
            () => 'resolved',
            (e: Error) => `${e.name}: ${e.message}`,
          ),
        );
      return out;
    }, bad);
    const node = await createRuntime({ log: () => {} });
    const inNode: string[] = [];
    try {
      await node.loadModel(join(FIXTURES, 'bloom-tiny'));
      for (const [call, args] of bad)
        inNode.push(
          await (node as any)[call](...args).then(
            () => 'resolved',
            (e: Error) => `${e.name}: ${e.message}`,
          ),
        );
    } finally {
      await node.dispose();
    }
    inNode.forEach((m) => assert.match(m, /^RequestError: (score|generate): /));
    assert.deepEqual(inWorker, inNode);
    // as in the Node API, a bad argument is answered at once, not after the calls queued before it
    const order: string[] = await bp.page.evaluate(async () => {
      const rt = await (window as any).instructalign.ready;
      const out: string[] = [];
      const ev = rt
        .evaluate({ data: 'id,text,label\na,good,positive\nb,bad,negative\n', name: 'x', prompts: [1] })
        .then(() => out.push('evaluate resolved'));
      await rt.score(['Hello world'], { batchSize: 0 }).catch(() => out.push('bad score refused'));
      await ev;
      return out;
    });
    assert.deepEqual(order, ['bad score refused', 'evaluate resolved']);
  });

  it('runs every progress callback of loadModel and evaluate before answering (none lands after the result)', async () => {
    // A callback is a Comlink proxy with its own MessagePort, the answer comes on the worker's: the worker must wait
    // for the page to have run each call. Slow callbacks make a fire-and-forget worker fail here every time (the
    // page's model status was overwritten by a late "29/29 tensors" after "loaded", seen as a stalled load).
    const events: string[] = await bp.page.evaluate(async () => {
      const rt = await (window as any).instructalign.ready;
      const files = new Map<string, Blob>();
      for (const f of ['config.json', 'tokenizer.json', 'model.safetensors'])
        files.set(f, await (await fetch(`/fixtures/bloom-tiny/${f}`)).blob());
      const out: string[] = [];
      // (no named functions in here, `{ onProgress: () => … }` included: tsx wraps them in a helper the page lacks)
      const opts: { onProgress?: unknown } = {};
      opts.onProgress = (d: number, t: number) =>
        new Promise((r) => setTimeout(() => r(out.push(`load ${d}/${t}`)), 50));
      await rt.loadModel(files, opts);
      out.push('loaded');
      await rt.evaluate(
        { data: 'id,text,label\na,good,positive\nb,bad,negative\n', name: 'x', prompts: [1], batchSize: 3 },
        (p: { done: number; total: number }) =>
          new Promise((r) => setTimeout(() => r(out.push(`eval ${p.done}/${p.total}`)), 50)),
      );
      out.push('evaluated');
      return out;
    });
    const n = Number(/^load \d+\/(\d+)$/.exec(events[0])?.[1]);
    assert.deepEqual(events, [
      ...Array.from({ length: n }, (_, i) => `load ${i + 1}/${n}`),
      'loaded',
      'eval 0/2',
      'eval 1/2',
      'eval 2/2',
      'evaluated',
    ]);
  });

  it('the page runs its own kernel check and tokenizer (screenshot in test-output/browser/page.png)', async () => {
    const { page } = bp;
    await page.click('summary:has-text("Tokenizer")'); // the tools are folded away by default
    await page.fill('#tokenizer-url', '/fixtures/bloom-tiny/tokenizer.json');
    await page.fill('#text', cases[2].text);
    await page.click('#tokenize');
    await page.waitForFunction(() => document.getElementById('ids')!.textContent !== '');
    await page.click('#check');
    await page.waitForFunction(() => document.getElementById('check-result')!.textContent !== '');
    await bp.screenshot(SCREENSHOT);
    assert.match(
      (await page.textContent('#ids')) ?? '',
      new RegExp(`^${cases[2].ids.length} tokens: ${JSON.stringify(cases[2].ids).replace(/[[\]]/g, '\\$&')}$`),
    );
    const check = (await page.textContent('#check-result')) ?? '';
    assert.match(check, /^PASS/, `page kernel check: ${check}\n${bp.logs.join('\n')}`);
  });
});
