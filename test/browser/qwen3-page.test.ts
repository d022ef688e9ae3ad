// The page's worker loads a tiny random-weight Qwen3-shaped checkpoint (test/helpers/tiny-qwen3.ts: the original
// Qwen3 tokenizer.json, two safetensors shards and their index) from Blobs, by its model_type, and scores texts with
// the same ids and log-probs (1e-4) as the Node runtime; its plan (planModel) counts Qwen3's parameters.
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { launchPage } from '../helpers/browser.ts';
import { compare } from '../helpers/gpu.ts';
import { makeTinyQwen3 } from '../helpers/tiny-qwen3.ts';
import { Runtime } from '../../src/host/runtime.ts';

const TEXTS = ['Saya suka makan nasi goreng.', 'Aku seneng mangan sega pecel, enak tenan!', '我喜欢吃炒饭。'];

describe('browser: a Qwen3 checkpoint in the page worker', function () {
  this.timeout(300_000);
  let dir: string, files: string[], env: Awaited<ReturnType<typeof launchPage>>;
  before(async () => {
    dir = await makeTinyQwen3();
    files = readdirSync(dir);
    env = await launchPage({ '/qwen3/': dir });
    await env.page.goto(new URL('index.html', env.server.url).href);
  });
  after(async () => {
    await env?.browser.close();
    await env?.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads from Blobs and scores like the Node runtime', async () => {
    const inWorker: { ids: number[]; token_logprobs: number[] }[] = await env.page.evaluate(
      async ({ names, texts }) => {
        const rt = await (window as any).instructalign.ready;
        const blobs = new Map<string, Blob>();
        for (const f of names) {
          const res = await fetch(`/qwen3/${f}`);
          if (!res.ok) throw new Error(`${f}: HTTP ${res.status}`);
          blobs.set(f, await res.blob());
        }
        await rt.loadModel(blobs);
        return rt.score(texts);
      },
      { names: files, texts: TEXTS },
    );
    const node = await Runtime.create({ log: () => {} });
    let inNode: Awaited<ReturnType<Runtime['score']>>;
    try {
      await node.loadModel({ path: dir });
      inNode = await node.score(TEXTS);
    } finally {
      node.dispose();
    }
    inNode.forEach((r, i) => {
      assert.deepEqual(inWorker[i].ids, r.ids, `text ${i}: ids`);
      const c = compare(inWorker[i].token_logprobs, r.token_logprobs, 1e-4, 1e-4);
      assert.ok(c.ok, `text ${i}: log-prob ${c.bad}: worker ${c.got} vs Node ${c.want}`);
    });
  });
});
