// The saved alignment (OPFS) across reloads in headless Chromium: nano-bloomz aligned for one step in the page (a
// one-row evaluation before and after), the page reloaded, its notice of the saved model, Load it giving the tuned
// weights back (the same scores, bit for bit, as before the reload, and not the base model's; axe-core on the
// notice), then Discard and a reload that offers nothing.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Browser, Page } from 'playwright-core';
import { launchPage, pageSuite } from '../helpers/browser.ts';
import { REPO } from '../helpers/gpu.ts';
import type { StaticServer } from '../../src/cli/serve.ts';

const TEXTS = ['Saya suka makan nasi goreng.', 'I like fried rice.'];

describe('browser: the tuned model saved in OPFS survives a reload (nano-bloomz, one step)', function () {
  this.timeout(600000);
  let server: StaticServer, browser: Browser, page: Page;
  let logs: string[] = [];
  const { why, waitFor } = pageSuite(() => ({ server, browser, page, logs }), 25);

  before(async () => {
    ({ server, browser, page, logs } = await launchPage(
      { '/data/': join(REPO, 'data'), '/models/': join(REPO, 'models') },
      { viewport: { width: 1100, height: 900 } },
    ));
  });
  /** opens the page and waits for the GPU and the saved-alignment check */
  async function open(): Promise<string> {
    const res = await page.goto(new URL('index.html', server.url).href);
    assert.ok(res?.ok(), `GET index.html: HTTP ${res?.status()}`);
    await waitFor('the GPU', () => (window as any).instructalign?.adapter, 60000);
    await waitFor('the saved-alignment check', () => document.getElementById('saved-status')!.textContent, 30000);
    return (await page.textContent('#saved-status')) ?? '';
  }
  const loaded = (name: RegExp) =>
    waitFor(
      'the model',
      () => /^(loaded|could not)/.test(document.getElementById('model-status')!.textContent!),
      120000,
    ).then(async () => assert.match((await page.textContent('#model-status')) ?? '', name, why()));
  const scores = () =>
    page.evaluate(async (texts) => {
      const rt = await (window as any).instructalign.ready;
      return (await rt.score(texts)).map((s: { token_logprobs: number[] }) => s.token_logprobs);
    }, TEXTS);
  const visible = (id: string) => page.isVisible(`#${id}`);

  it('aligns, reloads, loads the saved model with the same weights, and Discard removes it', async () => {
    assert.match(await open(), /^no tuned model is saved in this browser/, why());
    assert.equal(await visible('saved-load'), false);
    await page.click('#model-load-url'); // the pre-filled models/nano-bloomz/
    await loaded(/^loaded nano-bloomz/);
    const base = await scores();

    for (const box of await page.$$('input[name=lang]'))
      await box.setChecked((await box.getAttribute('value')) === 'jav');
    for (const box of await page.$$('input[name=prompt]'))
      await box.setChecked((await box.getAttribute('value')) === '1');
    await page.fill('#limit', '1');
    await page.fill('#align-l2', 'jav');
    await page.fill('#align-objectives', 'tlm');
    await page.fill('#align-steps', '1');
    await page.fill('#align-batch', '1');
    await page.fill('#align-max-length', '16');
    await page.uncheck('#align-replay');
    await page.fill('#align-lr', '1e-2');
    await page.click('#align-run');
    await waitFor(
      'the align flow',
      () => /^(done|error|cancelled)/.test(document.getElementById('align-status')!.textContent!),
      480000,
    );
    assert.match((await page.textContent('#align-status')) ?? '', /^done/, why());
    assert.match((await page.textContent('#saved-status')) ?? '', /\(nano-bloomz, 1 steps\) is saved/, why());
    const tuned = await scores();
    assert.notDeepEqual(tuned, base, 'one step at lr 1e-2 moved no score');

    // a reload: no model on the GPU, the saved one offered
    assert.match(await open(), /^A tuned model from .* \(nano-bloomz, 1 steps\) is saved in this browser:$/, why());
    assert.equal(await page.textContent('#model-status'), 'no model loaded');
    assert.ok((await visible('saved-load')) && (await visible('saved-discard')));
    assert.deepEqual(
      (await new AxeBuilder({ page }).analyze()).violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target)}`),
      [],
    );
    const saved = await page.evaluate(() => (window as any).instructalign.saved);
    assert.equal(saved.steps, 1);
    assert.equal(saved.settings.lr, 0.01);
    assert.deepEqual(
      saved.before.languages.map((l: { lang: string }) => l.lang),
      ['jav'],
      "the base model's evaluation is saved",
    );
    await page.click('#saved-load');
    await loaded(/^loaded nano-bloomz \+ 1 step/); // the page names a tuned model by its base and steps
    assert.deepEqual(await scores(), tuned, 'the loaded model scores differently from the tuned one');

    // Discard, and a reload offers nothing
    await page.click('#saved-discard');
    await waitFor('the discard', () => /^discarded/.test(document.getElementById('saved-status')!.textContent!), 30000);
    assert.equal(await visible('saved-load'), false);
    assert.match(await open(), /^no tuned model is saved in this browser/, why());
    assert.equal(await visible('saved-discard'), false);
  });
});
