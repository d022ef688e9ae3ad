// The selftest (forward, KV-cached generation, every gradient, two AdamW steps vs HuggingFace) run in the browser
// worker through Comlink on headless Chromium's WebGPU, for both fixtures: the same checks `instructalign selftest`
// makes in Node.
import assert from 'node:assert/strict';
import { openWorkerPage, type BrowserPage } from '../helpers/browser.ts';
import { FIXTURE_NAMES } from '../helpers/gpu.ts';

describe('browser: selftest in the runtime worker', function () {
  this.timeout(300000);
  let bp: BrowserPage;
  before(async () => {
    bp = await openWorkerPage();
  });
  after(async () => {
    await bp?.close();
  });

  for (const name of FIXTURE_NAMES) {
    it(`${name}: every check passes in the worker (fixture README tolerances)`, async () => {
      const checks: { check: string; maxAbs: number; pass: boolean }[] = await bp.page.evaluate(async (name) => {
        const rt = await (window as any).instructalign.ready;
        const files = new Map<string, Blob>();
        for (const f of [
          'config.json',
          'tokenizer.json',
          'model.safetensors',
          'reference.json',
          'reference.safetensors',
        ]) {
          const res = await fetch(`/fixtures/${name}/${f}`);
          if (!res.ok) throw new Error(`${f}: HTTP ${res.status}`);
          files.set(`${name}/${f}`, await res.blob());
        }
        return rt.selftest(files);
      }, name);
      const failed = checks.filter((c) => !c.pass);
      assert.deepEqual(failed, [], JSON.stringify(failed));
      assert.ok(checks.length >= 13, `${checks.length} checks`);
      assert.ok(
        checks.some((c) => c.check.startsWith('gradients')) &&
          checks.some((c) => c.check.startsWith('parameters after 2 AdamW')),
      );
    });
  }
});
