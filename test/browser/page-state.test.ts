// The page's one state machine in headless Chromium (nano-bloomz, tiny runs): a broken parallel-data file is reported
// before any evaluation starts, in the page's words; Align is disabled during an evaluation; no model can be loaded
// during an alignment (the button is disabled and the worker refuses); Cancel mid-alignment leaves a named model
// ("nano-bloomz + N of M steps, cancelled") that can be downloaded (once per double click), saved and restored to
// the base; a double click on Load loads once, after saying what the model needs on the GPU; the comparison names both models; the phone width (390 px) has no
// overflow after a long error and axe finds nothing at 390 px with the tables shown.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Browser, Page } from 'playwright-core';
import { launchPage, pageSuite } from '../helpers/browser.ts';
import { REPO } from '../helpers/gpu.ts';
import type { StaticServer } from '../../src/cli/serve.ts';

const TEXTS = ['Saya suka makan nasi goreng.'];

describe('browser: the page state machine (model switch, cancel, double clicks, early data checks)', function () {
  this.timeout(600000);
  let server: StaticServer, browser: Browser, page: Page;
  let logs: string[] = [];
  const { why, waitFor } = pageSuite(() => ({ server, browser, page, logs }), 30);
  const text = async (sel: string) => (await page.textContent(sel)) ?? '';
  /** worker calls of `name` started so far (the worker's trace lines) */
  const calls = (name: string) => logs.filter((l) => l.includes(`: ${name} starts`)).length;

  before(async () => {
    ({ server, browser, page, logs } = await launchPage(
      { '/data/': join(REPO, 'data'), '/models/': join(REPO, 'models') },
      { viewport: { width: 1280, height: 900 }, acceptDownloads: true },
    ));
    // headless Chromium's file picker cancels at once: stand in for the user, picking an OPFS file as the target
    await page.addInitScript(() => {
      (window as any).showSaveFilePicker = async () =>
        (await navigator.storage.getDirectory()).getFileHandle('picked.zip', { create: true });
    });
    const res = await page.goto(new URL('index.html', server.url).href);
    assert.ok(res?.ok());
    await waitFor('the GPU', () => (window as any).instructalign?.adapter, 60000);
    await waitFor('the saved check', () => document.getElementById('saved-status')!.textContent, 30000);
  });
  const idle = () => waitFor('the page to be idle', () => !(window as any).instructalign.busy);
  const alignEnded = () =>
    waitFor('the alignment', () =>
      /^(done|error|cancelled)/.test(document.getElementById('align-status')!.textContent!),
    );
  const axe = async () =>
    (await new AxeBuilder({ page }).analyze()).violations.map(
      (v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
    );
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  const scores = () =>
    page.evaluate(
      async (t) => (await (await (window as any).instructalign.ready).score(t))[0].token_logprobs as number[],
      TEXTS,
    );

  it('a double click on Load from URL loads once', async () => {
    const before = calls('loadModel');
    await page.dblclick('#model-load-url');
    await idle();
    assert.match(await text('#model-status'), /^loaded nano-bloomz: /, why());
    await page.waitForTimeout(500);
    assert.equal(calls('loadModel') - before, 1, `loadModel calls after a double click${why()}`);
    // before loading, the page said what the model needs on the GPU (from config.json alone), and it was right
    const plan = logs.find((l) => l.includes('plan: loading'));
    assert.match(
      plan ?? '',
      /4,208,640 parameters, needs 16\.1 MiB of GPU memory as f32; aligning it needs f32 and at least 64\.2 MiB/,
    );
    const sizes = await page.evaluate(async () => {
      const ia = (window as any).instructalign;
      return { plan: await (await ia.ready).planModel('models/nano-bloomz/'), gpuBytes: ia.model.gpuBytes };
    });
    const off = Math.abs(sizes.plan.weightsBytes.f32 - sizes.gpuBytes) / sizes.gpuBytes;
    assert.ok(off < 0.01, `planned ${sizes.plan.weightsBytes.f32} B, the load took ${sizes.gpuBytes} B`);
    assert.ok(sizes.plan.weightsBytes.f16 < 0.55 * sizes.plan.weightsBytes.f32, JSON.stringify(sizes.plan));
    // a tiny evaluation and alignment for the rest
    for (const box of await page.$$('input[name=lang]'))
      await box.setChecked((await box.getAttribute('value')) === 'jav');
    for (const box of await page.$$('input[name=prompt]'))
      await box.setChecked((await box.getAttribute('value')) === '1');
    await page.fill('#limit', '2');
    await page.fill('#align-l2', 'jav');
    await page.fill('#align-objectives', 'tlm');
    await page.fill('#align-batch', '1');
    await page.fill('#align-max-length', '16');
    await page.uncheck('#align-replay');
  });

  it('checks the parallel data before any evaluation, in the page words', async () => {
    await page.check('input[name=pairs][value=file]');
    const cases: [string, Buffer, RegExp][] = [
      ['binary.tsv', Buffer.from(Array.from({ length: 3000 }, (_, k) => (k * 37) % 256)), /is not a text file/],
      ['header-only.tsv', Buffer.from('eng\tjav\n'), /no data rows/],
      ['other-langs.tsv', Buffer.from('eng\ttgl\nhello\thalo\n'), /no column for language "jav"|jav/],
    ];
    for (const [name, bytes, want] of cases) {
      const evals = calls('evaluate');
      await page.setInputFiles('#pairs-file', { name, mimeType: 'text/tab-separated-values', buffer: bytes });
      await page.click('#align-run');
      await alignEnded();
      const msg = await text('#align-status');
      assert.match(msg, want, `${name}: ${msg}`);
      assert.match(msg, /^error: /);
      assert.doesNotMatch(msg, /--[a-z]|TrainingStream|\ufffd/, `${name}: CLI words or raw bytes in "${msg}"`);
      assert.equal(calls('evaluate'), evals, `${name}: reported before any evaluation`);
    }
    await page.fill('#align-l1', 'jav');
    await page.click('#align-run');
    await alignEnded();
    assert.match(await text('#align-status'), /jav is both L1 and L2/);
    await page.fill('#align-l1', 'eng');
    // at phone width, a long error wraps instead of widening the page
    await page.setInputFiles('#pairs-file', {
      name: `${'a-very-long-file-name-without-any-space-'.repeat(4)}.tsv`,
      mimeType: 'text/tab-separated-values',
      buffer: Buffer.from('eng\tjav\n'),
    });
    await page.click('#align-run');
    await alignEnded();
    await page.setViewportSize({ width: 390, height: 844 });
    assert.equal(await overflow(), 0, `overflow at 390 px after a long error: ${await text('#align-status')}`);
    assert.deepEqual(await axe(), [], 'axe at 390 px, after an error');
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.check('input[name=pairs][value=nusax]');
  });

  it('Align is disabled during an evaluation', async () => {
    await page.fill('#limit', '20');
    await page.fill('#batch-size', '1');
    await page.click('#run');
    await waitFor('the evaluation', () => !document.getElementById('cancel')!.hasAttribute('disabled'));
    assert.equal(await page.isDisabled('#align-run'), true, 'Align during an evaluation');
    assert.equal(await page.isDisabled('#model-load-url'), true, 'Load during an evaluation');
    assert.equal(await page.isDisabled('#limit'), true, 'the data settings during an evaluation');
    await page.click('#cancel');
    await idle();
    assert.equal(await page.isDisabled('#align-run'), false);
    await page.fill('#limit', '2');
    await page.fill('#batch-size', '16');
  });

  it('no model switch during an alignment; Cancel names the model; download once; save; restore', async () => {
    const base = await scores();
    await page.fill('#align-steps', '40');
    await page.click('#align-run');
    await waitFor(
      'the second step',
      () => (document.getElementById('align-progress') as HTMLProgressElement).value >= 2,
      240000,
    );
    assert.equal(await page.isDisabled('#model-load-url'), true, 'Load during an alignment');
    assert.equal(await page.isDisabled('#saved-load'), true, 'Load it during an alignment');
    const refused = await page.evaluate(async () =>
      (await (window as any).instructalign.ready).loadModel('models/nano-bloomz/').then(
        () => 'loaded',
        (e: Error) => e.message,
      ),
    );
    assert.match(refused, /^loading a model is refused while an evaluation or alignment runs/);
    await page.click('#align-cancel');
    await alignEnded();
    assert.equal(await text('#align-status'), 'cancelled', why());
    const status = await text('#model-status');
    const m = status.match(/^loaded nano-bloomz \+ (\d+) of 40 steps, cancelled: /);
    assert.ok(m, `model status after a cancel: ${status}`);
    const n = Number(m[1]);
    assert.ok(n >= 2 && n < 40, status);
    assert.match(await text('#tuned-status'), new RegExp(`nano-bloomz \\+ ${n} of 40 steps, cancelled`));
    assert.notDeepEqual(await scores(), base, 'the cancelled steps changed the weights');

    // an evaluation now is labelled with that name
    await page.click('#run');
    await idle();
    assert.match(await text('#results'), new RegExp(`^nano-bloomz \\+ ${n} of 40 steps, cancelled on `));

    // a double click on Download packs and writes once, streamed into the file picked
    const packs = calls('tunedCheckpoint');
    await page.dblclick('#align-download');
    await idle();
    await page.waitForTimeout(1000);
    assert.equal(calls('tunedCheckpoint') - packs, 1, why());
    assert.match(await text('#align-download-status'), /^nano-bloomz-aligned\.zip: \d+\.\d MiB \(.*cancelled\)$/);
    const picked = await page.evaluate(async () => {
      const f = await (await (await navigator.storage.getDirectory()).getFileHandle('picked.zip')).getFile();
      return { size: f.size, magic: [...new Uint8Array(await f.slice(0, 4).arrayBuffer())] };
    });
    assert.ok(picked.size > 16e6, `the picked file holds the zip: ${picked.size} bytes`);
    assert.deepEqual(picked.magic, [0x50, 0x4b, 0x03, 0x04], 'a zip');

    await page.click('#tuned-save');
    await idle();
    assert.match(await text('#saved-status'), new RegExp(`\\(nano-bloomz \\+ ${n} of 40 steps, cancelled\\)`));

    await page.click('#tuned-restore');
    await idle();
    assert.match(await text('#model-status'), /^loaded nano-bloomz: /, why());
    assert.equal(await page.isVisible('#tuned'), false);
    assert.deepEqual(await scores(), base, 'restored: the base weights');
    assert.deepEqual(await axe(), [], 'axe at 1280 px after restoring');
  });

  it('the comparison names both models, survives a reload, and its table is reachable at 390 px', async () => {
    await page.fill('#align-steps', '1');
    await page.click('#align-run');
    await alignEnded();
    assert.match(await text('#align-status'), /^done/, why());
    const p = await text('#compare p');
    assert.match(p, /^Before: nano-bloomz\. After: nano-bloomz \+ 1 step\. /, p);
    await page.setViewportSize({ width: 390, height: 844 });
    assert.equal(await overflow(), 0);
    assert.deepEqual(await axe(), [], 'axe at 390 px with the results and compare tables');
    assert.equal(await page.getAttribute('#compare .scroll', 'tabindex'), '0');
    await page.reload();
    await waitFor('the saved check', () =>
      /saved in this browser/.test(document.getElementById('saved-status')!.textContent!),
    );
    await waitFor('the comparison', () => document.querySelector('#compare table'), 10000);
    assert.match(
      await text('#compare p'),
      /^From the alignment saved .*Before: nano-bloomz\. After: nano-bloomz \+ 1 step/,
    );
    assert.deepEqual(await axe(), [], 'axe at 390 px after the reload');
    await page.setViewportSize({ width: 1280, height: 900 });
  });
});
