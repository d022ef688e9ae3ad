// The page's behaviour in headless Chromium beyond its numbers (those are eval-page.test.ts): one run per click,
// nothing stale left unmarked after a cancel, escaping, messages in the page's words, a phone-width layout and an
// axe-core accessibility check (zero violations) in the page's main states; plus the README's embedding snippet
// run as written, and the tokenizer tool without WebGPU.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  buildWeb,
  launchPage,
  CHROMIUM,
  QUIET_FLAGS,
  WEBGPU_FLAGS,
  recordLogs,
  pageSuite,
} from '../helpers/browser.ts';
import { FIXTURES, REPO } from '../helpers/gpu.ts';
import { staticServer, type StaticServer } from '../../src/cli/serve.ts';
import { Tokenizer } from '../../src/wasm/tokenizer.ts';

const text = (page: Page, sel: string) => page.textContent(sel).then((t) => t ?? '');

/** axe-core's violations on the page as it is now, one line each (empty: none) */
async function axeViolations(page: Page): Promise<string[]> {
  const r = await new AxeBuilder({ page }).analyze();
  return r.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
}

/** the page's width beyond the viewport at 390×844 (0: no horizontal scrolling) */
async function overflowAt390(page: Page): Promise<number> {
  const before = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (before) await page.setViewportSize(before);
  return over;
}

/** a CSV of n rows cycling through the three sentiment labels */
const csvRows = (n: number) =>
  `id,text,label\n${Array.from({ length: n }, (_, k) => `r${k},"sentence number ${k}, quite ${k % 2 ? 'good' : 'bad'}",${k % 3}`).join('\n')}\n`;

describe('browser: the page (defects found in a real browser, accessibility, phone width)', function () {
  this.timeout(300000);
  let server: StaticServer, browser: Browser, page: Page;
  let logs: string[] = [];
  const { why, waitFor } = pageSuite(() => ({ server, browser, page, logs }), 25);

  before(async () => {
    ({ server, browser, page, logs } = await launchPage(
      { '/fixtures/': FIXTURES, '/models/': join(REPO, 'models') },
      { viewport: { width: 1100, height: 900 } },
    ));
    const res = await page.goto(new URL('index.html', server.url).href);
    assert.ok(res?.ok(), `GET index.html: HTTP ${res?.status()}`);
    await page.waitForFunction(
      () =>
        (window as any).instructalign?.adapter || /^error/.test(document.getElementById('status')!.textContent ?? ''),
      null,
      { timeout: 60000 },
    );
    assert.doesNotMatch(await text(page, '#status'), /^error/, why());
  });
  const modelSettled = () => /^(loaded|could not)/.test(document.getElementById('model-status')!.textContent ?? '');
  const runSettled = () => /^(done|error|cancelled)/.test(document.getElementById('run-status')!.textContent ?? '');
  const evaluateCalls = () => logs.filter((l) => /evaluate starts/.test(l)).length;

  async function useCsv(name: string, csv: string): Promise<void> {
    await page.check('input[name=data][value=csv]');
    await page.setInputFiles('#data-csv', [{ name, mimeType: 'text/csv', buffer: Buffer.from(csv) }]);
  }
  async function run(): Promise<string> {
    await page.click('#run');
    await waitFor('the run', runSettled);
    return text(page, '#run-status');
  }

  it('first load: a viewport tag, no overflow at 390×844, and no axe violations', async () => {
    assert.equal(await page.getAttribute('meta[name=viewport]', 'content'), 'width=device-width, initial-scale=1');
    assert.equal(await overflowAt390(page), 0, 'horizontal overflow at 390 px');
    // the URL field keeps a usable width on a phone (it was squeezed to 36 px)
    await page.setViewportSize({ width: 390, height: 844 });
    const w = await page.evaluate(() => document.getElementById('model-url')!.getBoundingClientRect().width);
    await page.setViewportSize({ width: 1100, height: 900 });
    assert.ok(w >= 200, `model URL field ${w} px wide at 390 px`);
    assert.deepEqual(await axeViolations(page), []);
  });

  it('an invalid config.json is reported with its file name', async () => {
    await page.setInputFiles('#model-files', [
      { name: 'config.json', mimeType: 'application/json', buffer: Buffer.from('{"model_type": "bloom",}') },
    ]);
    await waitFor('the bad load', modelSettled, 60000);
    assert.match(await text(page, '#model-status'), /^could not load the files: config\.json: not valid JSON \(/);
  });

  it('escapes a file name with markup, and focuses the results after a run', async () => {
    await page.fill('#model-url', '/fixtures/bloom-tiny/');
    await page.evaluate(() => (document.getElementById('model-status')!.textContent = ''));
    await page.click('#model-load-url');
    await waitFor('the model load', modelSettled);
    assert.match(await text(page, '#model-status'), /^loaded bloom-tiny/, why());
    const evil = '<img src=x onerror="window.pwned=1">';
    await useCsv(`${evil}.csv`, csvRows(2));
    await page.fill('#limit', '2');
    for (const box of await page.$$('input[name=prompt]'))
      await box.setChecked((await box.getAttribute('value')) === '1');
    assert.match(await run(), /^done/, why());
    assert.equal(await page.$$eval('#results img, #chart img', (x) => x.length), 0, 'markup from a file name');
    assert.equal(await page.evaluate(() => (window as any).pwned), undefined);
    assert.ok((await text(page, '#results table')).includes(evil), 'the name shown as text');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'results-heading');
    assert.match(
      (await page.getAttribute('#chart svg', 'aria-label')) ?? '',
      /^Chart of weighted F1 per language.*: <img/,
    );
    assert.equal(await overflowAt390(page), 0, 'horizontal overflow at 390 px with results');
    assert.deepEqual(await axeViolations(page), []);
  });

  it('a double click on Evaluate starts one run', async () => {
    const before = evaluateCalls();
    await page.dblclick('#run');
    await waitFor('the run', runSettled);
    assert.match(await text(page, '#run-status'), /^done/, why());
    await page.waitForTimeout(1500); // a second run would have been queued behind the first: give it time to start
    assert.equal(evaluateCalls() - before, 1, `evaluate calls after a double click${why()}`);
  });

  it('after Cancel, no ETA is left and the previous results are marked as old', async () => {
    await useCsv('many.csv', csvRows(200));
    await page.fill('#limit', '200');
    await page.fill('#batch-size', '2');
    await page.click('#run');
    await waitFor('the first progress', () => (document.getElementById('progress') as HTMLProgressElement).value > 0);
    // no model load during a run: the button is disabled, and the worker refuses one asked for directly
    assert.equal(await page.isDisabled('#model-load-url'), true, 'Load is disabled during a run');
    const refused = await page.evaluate(async () =>
      (await (window as any).instructalign.ready).loadModel('/fixtures/bloom-tiny/').then(
        () => 'loaded',
        (e: Error) => e.message,
      ),
    );
    assert.match(refused, /^loading a model is refused while an evaluation or alignment runs/);
    await page.click('#cancel');
    await waitFor('the cancel', runSettled);
    assert.equal(await page.isDisabled('#model-load-url'), false, 'Load is enabled again');
    assert.equal(await text(page, '#run-status'), 'cancelled', why());
    assert.doesNotMatch(await text(page, '#progress-text'), /ETA/);
    assert.match(await text(page, '#progress-text'), /^stopped at \d+ \/ 200 /);
    assert.match(await text(page, '#results-note'), /from an earlier run: this one was cancelled/);
    assert.ok(await page.$('#results-block.stale'), 'the old results are greyed');
    assert.notEqual(await page.evaluate(() => document.activeElement?.tagName), 'BODY', 'focus kept');
    assert.deepEqual(await axeViolations(page), []);
  });

  it('a bad label is reported with the file and line, without CLI flags', async () => {
    await useCsv('moods.csv', 'id,text,label\na,fine,positive\nb,yay,happy\n');
    assert.match(await run(), /^error: moods\.csv:3: label "happy" is not one of negative, neutral, positive \(/);
    const st = await text(page, '#run-status');
    assert.doesNotMatch(st, /--/, st);
    assert.deepEqual(await axeViolations(page), []);
  });
});

describe('browser: the README embedding snippet, as written', function () {
  this.timeout(300000);
  it('runs in a page beside dist/, models/ and data/, with no "NaN" in its progress', async () => {
    buildWeb();
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const snippet = /```html\n(<pre id="out"><\/pre>\n<script type="module">[\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(snippet, 'the snippet in README.md');
    const server = await staticServer({
      '/dist/': join(REPO, 'dist'),
      '/models/': join(REPO, 'models'),
      '/data/': join(REPO, 'data'),
    });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...WEBGPU_FLAGS, ...QUIET_FLAGS] });
    try {
      const page = await browser.newPage();
      const logs = recordLogs(page);
      // every text the snippet writes into #out, in order
      await page.addInitScript(() => {
        const seen: string[] = ((window as any).outs = []);
        new MutationObserver(() => {
          const t = document.getElementById('out')?.textContent;
          if (t && t !== seen[seen.length - 1]) seen.push(t);
        }).observe(document, { subtree: true, childList: true, characterData: true });
      });
      // the user's own page, beside the package's folders: served without `instructalign serve`'s CSP, which allows
      // no inline script (the snippet is one)
      const url = new URL('index.html', server.url).href;
      await page.route(url, (r) =>
        r.fulfill({ contentType: 'text/html', body: `<!doctype html>\n<meta charset="utf-8">\n${snippet}` }),
      );
      await page.goto(url);
      await page
        .waitForFunction(() => /^\{/.test(document.getElementById('out')?.textContent ?? ''), null, { timeout: 240000 })
        .catch((e) => {
          throw new Error(`${e.message.split('\n')[0]}\n${logs.slice(-20).join('\n')}`);
        });
      const outs: string[] = await page.evaluate(() => (window as any).outs);
      const overall = JSON.parse(outs[outs.length - 1]);
      assert.ok(overall.accuracy >= 0 && overall.accuracy <= 1 && Number.isFinite(overall.weightedF1), outs.join('\n'));
      assert.ok(outs.length >= 2, `progress lines: ${outs.join(' | ')}`);
      for (const o of outs.slice(0, -1)) assert.match(o, /^\d+\/5, ETA (\?|\d+s)$/);
    } finally {
      await browser.close();
      await server.close();
    }
  });
});

describe('browser: the tokenizer tool without WebGPU', function () {
  this.timeout(60000);
  it('tokenizes (it needs no GPU) while the page explains the missing adapter', async () => {
    buildWeb();
    const server = await staticServer({ '/': join(REPO, 'dist/web'), '/models/': join(REPO, 'models') });
    // without --enable-unsafe-webgpu, Chromium on Linux has navigator.gpu but no adapter
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: QUIET_FLAGS });
    try {
      const page = await browser.newPage();
      await page.goto(new URL('index.html', server.url).href);
      await page.waitForFunction(() => /^error/.test(document.getElementById('status')!.textContent ?? ''), null, {
        timeout: 30000,
      });
      await page.click('summary:has-text("Tokenizer")');
      await page.fill('#text', 'Hello world');
      await page.click('#tokenize');
      await page.waitForFunction(() => document.getElementById('ids')!.textContent, null, { timeout: 30000 });
      // the same ids as the wasm tokenizer in Node
      const tok = await Tokenizer.fromJSON(readFileSync(join(REPO, 'models/nano-bloomz/tokenizer.json'), 'utf8'));
      const want = tok.encode('Hello world');
      tok.free();
      assert.equal(await page.textContent('#ids'), `${want.length} tokens: ${JSON.stringify(want)}`);
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
