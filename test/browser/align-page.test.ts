// The page's align flow end to end in headless Chromium: nano-bloomz from the models/ folder, a tiny evaluation
// (2 rows of eng and jav, prompt 1) before and after 3 InstructAlign steps on the built-in NusaX-MT with replay,
// the live loss chart, the before/after table (= compareResults of the two evaluations), the downloaded zip opened
// as a checkpoint in Node, and axe-core/phone-width checks of the finished state.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { unzipSync } from 'fflate';
import type { Browser, Page } from 'playwright-core';
import { launchPage, pageSuite } from '../helpers/browser.ts';
import { REPO } from '../helpers/gpu.ts';
import type { StaticServer } from '../../src/cli/serve.ts';
import { openCheckpoint } from '../../src/model/checkpoint.ts';

const STEPS = 3;
const SCREENSHOT = join(REPO, 'test-output/browser/align-page.png');

describe('browser: the align flow of the page (nano-bloomz, a few steps)', function () {
  this.timeout(600000);
  let server: StaticServer, browser: Browser, page: Page;
  let logs: string[] = [];
  const { why, waitFor } = pageSuite(() => ({ server, browser, page, logs }), 25);

  before(async () => {
    ({ server, browser, page, logs } = await launchPage(
      { '/data/': join(REPO, 'data'), '/models/': join(REPO, 'models') },
      { viewport: { width: 1100, height: 900 }, acceptDownloads: true },
    ));
    // as in a browser without showSaveFilePicker: the zip comes as a download (a Blob of streamed parts)
    await page.addInitScript(() => delete (window as any).showSaveFilePicker);
    const res = await page.goto(new URL('index.html', server.url).href);
    assert.ok(res?.ok(), `GET index.html: HTTP ${res?.status()}`);
  });

  it('evaluates, aligns, evaluates again, compares and downloads the tuned checkpoint', async () => {
    await waitFor('the GPU', () => (window as any).instructalign?.adapter, 60000);
    await page.click('#model-load-url'); // the pre-filled models/nano-bloomz/
    await waitFor(
      'the model',
      () => /^(loaded|could not)/.test(document.getElementById('model-status')!.textContent!),
      120000,
    );
    assert.match((await page.textContent('#model-status')) ?? '', /^loaded nano-bloomz/, why());

    for (const box of await page.$$('input[name=lang]'))
      await box.setChecked(['eng', 'jav'].includes((await box.getAttribute('value')) ?? ''));
    for (const box of await page.$$('input[name=prompt]'))
      await box.setChecked((await box.getAttribute('value')) === '1');
    await page.fill('#limit', '2');
    await page.fill('#align-l2', 'jav');
    await page.fill('#align-steps', String(STEPS));
    await page.fill('#align-batch', '2');
    await page.fill('#align-max-length', '32');
    await page.fill('#align-replay-size', '4');
    await page.fill('#align-lr', '1e-3');
    await page.click('#align-run');
    await waitFor(
      'the align flow',
      () => /^(done|error|cancelled)/.test(document.getElementById('align-status')!.textContent!),
      480000,
    );
    assert.match((await page.textContent('#align-status')) ?? '', /^done/, why());

    // the loss chart: one point per step, its numbers in the text alternative
    const points = ((await page.getAttribute('#loss-chart polyline', 'points')) ?? '').trim().split(/\s+/);
    assert.equal(points.length, STEPS);
    const label = (await page.getAttribute('#loss-chart svg', 'aria-label')) ?? '';
    const losses = label.split(': ')[1].split(', ').map(Number);
    assert.equal(losses.length, STEPS, label);
    assert.ok(
      losses.every((l) => Number.isFinite(l) && l > 0),
      label,
    );
    const log = await page.evaluate(() => (window as any).instructalign.alignLog);
    assert.deepEqual(
      losses,
      log.map((s: { loss: number }) => Number(s.loss.toFixed(4))),
    );

    // the table shows compareResults of the two evaluations
    const c = await page.evaluate(() => (window as any).instructalign.compare);
    assert.deepEqual(
      c.languages.map((l: { lang: string }) => l.lang),
      ['eng', 'jav'],
    );
    const table = (await page.textContent('#compare table')) ?? '';
    for (const l of c.languages)
      assert.ok(table.includes(`${l.lang}${l.group}${(100 * l.weightedF1.a).toFixed(2)}`), table);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'compare-heading');

    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.locator('#align-section').screenshot({ path: SCREENSHOT });
    if (process.env.UPDATE_DOCS_SCREENSHOT) copyFileSync(SCREENSHOT, join(REPO, 'docs/page-align.png'));
    assert.deepEqual(
      (await new AxeBuilder({ page }).analyze()).violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target)}`),
      [],
    );
    await page.setViewportSize({ width: 390, height: 844 });
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), 0, 'overflow');
    await page.setViewportSize({ width: 1100, height: 900 });

    // the download: a zip of nano-bloomz-aligned/, which opens as a checkpoint whose weights moved
    // the zip is streamed from the GPU tensor by tensor before the download starts: on a loaded 2-core machine that
    // took over Playwright's default 30 s (the full-suite run at c12d4e8), so it gets the flow's own kind of limit
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 180000 }),
      page.click('#align-download'),
    ]);
    assert.equal(download.suggestedFilename(), 'nano-bloomz-aligned.zip');
    const files = unzipSync(new Uint8Array(readFileSync((await download.path())!)));
    const ck = await openCheckpoint(new Map(Object.entries(files).map(([k, v]) => [k, new Blob([v])])));
    const base = await openCheckpoint(join(REPO, 'models/nano-bloomz'));
    try {
      assert.equal(ck.dir, 'nano-bloomz-aligned');
      assert.deepEqual({ ...ck.config, raw: null, torchDtype: null }, { ...base.config, raw: null, torchDtype: null });
      assert.equal(ck.tokenizerJSON, base.tokenizerJSON);
      const name = 'h.0.self_attention.query_key_value.weight';
      const [a, b] = [await ck.f32(name), await base.f32(name)];
      assert.ok(a.every(Number.isFinite));
      assert.ok(
        a.some((x, i) => x !== b[i]),
        `${name}: the tuned weights equal the base ones`,
      );
    } finally {
      await ck.close();
      await base.close();
    }
  });

  it('aligns on your own parallel file (TSV, eng ↔ tgl) and Cancel stops between steps', async () => {
    await page.check('input[name=pairs][value=file]');
    await page.setInputFiles('#pairs-file', join(REPO, 'data/examples/tagalog/pairs.tsv'));
    await page.fill('#align-l2', 'tgl');
    await page.fill('#align-steps', '500');
    await page.evaluate(() => (document.getElementById('align-status')!.textContent = ''));
    await page.click('#align-run');
    await waitFor(
      'the first step',
      () =>
        ((document.getElementById('align-progress') as HTMLProgressElement).value >= 1 &&
          document.getElementById('align-status')!.textContent === 'aligning…') ||
        /^error/.test(document.getElementById('align-status')!.textContent!),
      240000,
    );
    assert.doesNotMatch((await page.textContent('#align-status')) ?? '', /^error/, why());
    await page.click('#align-cancel');
    await waitFor(
      'the cancel',
      () => /^(done|error|cancelled)/.test(document.getElementById('align-status')!.textContent!),
      120000,
    );
    assert.equal(await page.textContent('#align-status'), 'cancelled', why());
    assert.match((await page.textContent('#align-progress-text')) ?? '', /^stopped/);
    const steps = await page.evaluate(() => (document.getElementById('align-progress') as HTMLProgressElement).value);
    assert.ok(steps >= 1 && steps < 500, `stopped after ${steps} of 500 steps`);
    assert.equal(await page.getAttribute('#align-run', 'disabled'), null, 'the flow can run again');
  });
});
