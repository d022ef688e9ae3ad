// The streamed export in headless Chromium, small and fast (nano-bloomz, 16 MB): the worker's zip (tunedCheckpoint)
// and its OPFS save (saveAlignment) are written in 64 KiB pieces read from the GPU tensor by tensor; the zip's
// model.safetensors and the saved folder each load back with the same scores, bit for bit. The save is atomic: a
// worker killed in the middle of a second save (as a closed tab would) leaves the first save offered and intact,
// and the next complete save removes the torn folder. The same code at 2 GB+ is test/browser/export-big.test.ts.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchPage, workerDiag } from '../helpers/browser.ts';
import { REPO } from '../helpers/gpu.ts';
import type { StaticServer } from '../../src/cli/serve.ts';

const TEXTS = ['Saya suka makan nasi goreng.', 'I like fried rice.'];

describe('browser: streamed export (zip Blob, OPFS save) and reload, nano-bloomz', function () {
  this.timeout(300000);
  let server: StaticServer, browser: Browser, page: Page;
  let logs: string[] = [];
  const why = () => `\n--- page log ---\n${logs.slice(-25).join('\n')}`;

  before(async () => {
    ({ server, browser, page, logs } = await launchPage({ '/models/': join(REPO, 'models') }));
    // tsx compiles the evaluated functions with esbuild's keepNames: its __name helper must exist in the page
    await page.addInitScript('globalThis.__name = (f) => f');
    const res = await page.goto(new URL('index.html', server.url).href);
    assert.ok(res?.ok());
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('zip and OPFS save, each read back in pieces, give the same scores; a killed save keeps the previous one', async () => {
    const out = await page
      .evaluate(async (texts) => {
        const ia = (window as any).instructalign;
        const rt = await ia.ready;
        const scores = async (r: any) =>
          (await r.score(texts)).map((s: { token_logprobs: number[] }) => s.token_logprobs);
        await rt.loadModel('models/nano-bloomz/');
        const base = await scores(rt);
        const zip: Blob = await rt.tunedCheckpoint('nano-export', { chunkBytes: 65536 });
        // a stored zip: the central directory says where each file's bytes are; slice them out without unzipping
        const buf = new DataView(await zip.slice(zip.size - 22).arrayBuffer());
        const count = buf.getUint16(10, true);
        const cdOffset = buf.getUint32(16, true);
        const cd = new DataView(await zip.slice(cdOffset, zip.size - 22).arrayBuffer());
        const files = new Map<string, Blob>();
        const names: string[] = [];
        for (let k = 0, p = 0; k < count; k++) {
          const size = cd.getUint32(p + 24, true);
          const nameLen = cd.getUint16(p + 28, true);
          const extra = cd.getUint16(p + 30, true);
          const comment = cd.getUint16(p + 32, true);
          const local = cd.getUint32(p + 42, true);
          const name = new TextDecoder().decode(new Uint8Array(cd.buffer, p + 46, nameLen));
          const lh = new DataView(await zip.slice(local, local + 30).arrayBuffer());
          const start = local + 30 + lh.getUint16(26, true) + lh.getUint16(28, true);
          files.set(name, zip.slice(start, start + size));
          names.push(`${name} ${size}`);
          p += 46 + nameLen + extra + comment;
        }
        await rt.loadModel(files);
        const fromZip = await scores(rt);

        await rt.loadModel('models/nano-bloomz/');
        const first = await rt.saveAlignment({ model: 'nano-bloomz', steps: 0 }, { chunkBytes: 65536 });
        // a second save in 4 KiB pieces (thousands of GPU reads: slow enough to catch), killed half-way
        const root = await navigator.storage.getDirectory();
        const saves = await (await root.getDirectoryHandle('instructalign')).getDirectoryHandle('saves');
        const folders = async () => {
          const out: { name: string; files: Record<string, number> }[] = [];
          for await (const [name, h] of (saves as any).entries()) {
            const files: Record<string, number> = {};
            for await (const [f, fh] of (h as any).entries()) files[f] = (await fh.getFile()).size;
            out.push({ name, files });
          }
          return out;
        };
        // not awaited: terminate() kills the worker mid-write, as closing the tab would
        void rt.saveAlignment({ model: 'nano-bloomz', steps: 1 }, { chunkBytes: 4096 }).catch(() => undefined);
        let torn: { name: string; files: Record<string, number> }[] = [];
        for (let t = 0; t < 600; t++) {
          await new Promise((r) => setTimeout(r, 50));
          torn = (await folders()).filter((f) => !('saved.json' in f.files) && (f.files['model.safetensors'] ?? 0) > 0);
          if (torn.length) break;
        }
        rt.terminate();
        const { savedAlignment, startRuntime } = await import(`${location.origin}/web.js`);
        const kept = await savedAlignment();
        const rt3 = await startRuntime();
        await rt3.init();
        await rt3.loadModel(kept!.files);
        const fromOpfs = await scores(rt3);
        const second = await rt3.saveAlignment({ model: 'nano-bloomz', steps: 2 });
        const after = await folders();
        rt3.terminate();
        return {
          base,
          fromZip,
          fromOpfs,
          names,
          zipSize: zip.size,
          first,
          torn,
          keptSavedAt: kept?.meta.savedAt,
          keptSteps: kept?.meta.steps,
          second,
          after,
        };
      }, TEXTS)
      .catch(async (e) => {
        throw new Error(`${(e as Error).message}\n${await workerDiag(page)}${why()}`);
      });

    assert.deepEqual(
      out.names.map((n: string) => n.split(' ')[0]).sort(),
      ['nano-export/config.json', 'nano-export/model.safetensors', 'nano-export/tokenizer.json'],
      why(),
    );
    assert.deepEqual(out.fromZip, out.base, 'scores of the model sliced out of the streamed zip');
    assert.ok(out.torn.length === 1, `a save folder caught mid-write: ${JSON.stringify(out.torn)}`);
    assert.equal(out.keptSavedAt, out.first.savedAt, 'the first, complete save is still the one offered');
    assert.equal(out.keptSteps, 0);
    assert.deepEqual(out.fromOpfs, out.base, 'scores of the model read back from the OPFS save');
    assert.equal(out.after.length, 1, `after a complete save only it remains: ${JSON.stringify(out.after)}`);
    assert.deepEqual(out.after[0].files, { ...out.second.files, 'saved.json': out.after[0].files['saved.json'] });
  });
});
