// The evaluation page end to end in headless Chromium (WebGPU on SwiftShader): load the bloom-tiny fixture through the
// folder input, evaluate a few NusaX rows, and require the page's results.json and predictions to equal those of
// `instructalign eval` run in Node on the same inputs. Saves a screenshot (test-output/browser/eval-page.png, and
// docs/page.png when UPDATE_DOCS_SCREENSHOT=1).
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  assertSamePredictions,
  buildWeb,
  CHROMIUM,
  EXTRA_FLAGS,
  QUIET_FLAGS,
  WEBGPU_FLAGS,
  recordLogs,
  webgpuAdapter,
  workerDiag,
} from '../helpers/browser.ts';
import { FIXTURES, REPO } from '../helpers/gpu.ts';
import { staticServer, type StaticServer } from '../../src/cli/serve.ts';
import { loadRuntimeScorer, runWith } from '../../src/cli/eval.ts';
import type { ResultsJson } from '../../src/eval/results.ts';
import type { PredictionRecord } from '../../src/eval/predictions.ts';

const MODEL = join(FIXTURES, 'bloom-tiny');
const LANGS = ['eng', 'jav', 'mad'],
  LIMIT = 3,
  PROMPTS = [1];
const SCREENSHOT = join(REPO, 'test-output/browser/eval-page.png');

describe('browser: the evaluation page (web/index.html) against the Node CLI', function () {
  this.timeout(300000);
  let server: StaticServer, browser: Browser, page: Page;
  let logs: string[] = [];
  let out: string;

  before(async () => {
    buildWeb();
    // the layout `instructalign serve` uses: the page at /, the package's data/ and models/ beside it
    server = await staticServer({
      '/': join(REPO, 'dist/web'),
      '/data/': join(REPO, 'data'),
      '/models/': join(REPO, 'models'),
      '/fixtures/': FIXTURES,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [...WEBGPU_FLAGS, ...QUIET_FLAGS, ...EXTRA_FLAGS],
    });
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    logs = recordLogs(page);
    const res = await page.goto(new URL('index.html', server.url).href);
    assert.ok(res?.ok(), `GET index.html: HTTP ${res?.status()}`);
    const probe = await webgpuAdapter(page);
    if (!probe.ok) throw new Error(`Chromium gives no WebGPU adapter: ${probe.reason}`);
    out = mkdtempSync(join(tmpdir(), 'instructalign-eval-page-'));
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  const why = () => `\n--- page log ---\n${logs.slice(-30).join('\n')}`;

  /**
   * page.waitForFunction; on a timeout, an error (also printed at once: mocha reports failures only at the end) with
   * the page's status lines, whether the condition holds by now, what the worker is doing and waiting for, the log.
   */
  async function waitPage(what: string, fn: (arg: any) => unknown, arg: unknown, timeout: number): Promise<void> {
    try {
      await page.waitForFunction(fn, arg, { timeout });
    } catch (e) {
      const status = await page
        .evaluate(() =>
          ['status', 'model-status', 'run-status', 'progress-text']
            .map((id) => `#${id} "${document.getElementById(id)?.textContent}"`)
            .join(', '),
        )
        .catch((x) => `no status: ${x.message}`);
      const holds = await page.evaluate(fn, arg).then(
        (v) => !!v,
        () => 'unknown',
      );
      const msg = `${what}: ${(e as Error).message.split('\n')[0]}\npage: ${status}; condition holds now: ${holds}\n${await workerDiag(page)}${why()}`;
      console.error(`      ${msg.replace(/\n/g, '\n      ')}`);
      throw new Error(msg);
    }
  }
  const modelSettled = () => /^(loaded|could not)/.test(document.getElementById('model-status')!.textContent ?? '');
  const runSettled = () => /^(done|error|cancelled)/.test(document.getElementById('run-status')!.textContent ?? '');

  it(`evaluates bloom-tiny on ${LANGS.join('+')} (limit ${LIMIT}, prompt ${PROMPTS}) with the Node CLI's numbers`, async () => {
    // 1. the model through the folder input (webkitdirectory)
    await page.waitForFunction(() => (window as any).instructalign?.adapter, null, { timeout: 60000 });
    await page.setInputFiles('#model-folder', MODEL);
    await waitPage('the folder load', modelSettled, null, 120000);
    const modelStatus = await page.textContent('#model-status');
    assert.match(modelStatus ?? '', /^loaded /, `model status: ${modelStatus}${why()}`);

    // 2. the form: NusaX, eng + jav, prompt 1, limit 3
    for (const box of await page.$$('input[name=lang]'))
      await box.setChecked(LANGS.includes((await box.getAttribute('value')) ?? ''));
    for (const box of await page.$$('input[name=prompt]'))
      await box.setChecked(PROMPTS.includes(Number(await box.getAttribute('value'))));
    await page.fill('#limit', String(LIMIT));

    // 3. run and wait for the results
    await page.click('#run');
    await waitPage('the evaluation', runSettled, null, 240000);
    const runStatus = await page.textContent('#run-status');
    assert.match(runStatus ?? '', /^done/, `run status: ${runStatus}${why()}`);
    const web: ResultsJson = JSON.parse((await page.textContent('#results-json')) ?? '');
    const webPreds: PredictionRecord[] = await page.evaluate(() => (window as any).instructalign.predictions);
    const progress = await page.textContent('#progress-text');
    await page.evaluate(() => document.querySelector('details[open]')?.removeAttribute('open')); // the tools are not the subject
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    // the README's picture is refreshed on request only, so test runs leave the committed tree unchanged
    if (process.env.UPDATE_DOCS_SCREENSHOT) copyFileSync(SCREENSHOT, join(REPO, 'docs/page.png'));

    // 4. the same evaluation by the Node CLI (in process, the real runtime on Node's Dawn)
    const code = await runWith(
      [
        '--model',
        MODEL,
        '--langs',
        LANGS.join(','),
        '--limit',
        String(LIMIT),
        '--prompts',
        PROMPTS.join(','),
        '--out',
        out,
      ],
      loadRuntimeScorer,
      () => {},
    );
    assert.equal(code, 0);
    const node: ResultsJson = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    const nodePreds: PredictionRecord[] = readFileSync(join(out, 'predictions.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));

    // 5. compare: predictions (labels exact, scores to 1e-4) and every number of results.json
    assert.equal(
      progress,
      `${LANGS.length * LIMIT * PROMPTS.length} / ${LANGS.length * LIMIT * PROMPTS.length} examples × prompts (100%), ETA 0s`,
    );
    assertSamePredictions(webPreds, nodePreds, 'page', 'CLI');
    const strip = (r: ResultsJson) => ({ ...r, created: '', model: { ...r.model, model: '', adapter: '' } });
    assert.deepEqual(strip(web), strip(node));
    assert.equal(web.data, 'nusax');
    assert.deepEqual(
      web.languages.map((l) => [l.lang, l.group, l.n]),
      [
        ['eng', 'L1', LIMIT],
        ['jav', 'L2', LIMIT],
        ['mad', 'L3', LIMIT],
      ],
    );
    assert.match(web.model.adapter, /browser/);

    // 6. what the page shows
    const table = await page.textContent('#results table');
    for (const l of node.languages)
      assert.ok(
        table?.includes(
          `${l.lang}${l.name}${l.n}${(100 * l.mean.accuracy).toFixed(2)}${(100 * l.mean.weightedF1).toFixed(2)}`,
        ),
        `table row of ${l.lang}: ${table}`,
      );
    // what the model predicts per language (results.json's predicted shares, issue 19)
    for (const l of node.languages) {
      const shares = node.labels.map((lab, k) => `${lab.slice(0, 3)} ${(100 * l.predicted!.shares[k]).toFixed(0)}%`);
      assert.ok(table?.includes(shares.join(' · ')), `predicted labels of ${l.lang}: ${table}`);
    }
    assert.ok(await page.$('#chart svg'), 'the chart');
    assert.ok(await page.getAttribute('#download', 'href'), 'the results.json download link');
  });

  it('cancel stops a running evaluation, and the page says so', async () => {
    for (const box of await page.$$('input[name=lang]')) await box.setChecked(true);
    await page.fill('#limit', '50');
    await page.fill('#batch-size', '3');
    await page.click('#run');
    const total = 12 * 50 * PROMPTS.length;
    await waitPage(
      'the first progress',
      (total: number) => {
        const p = document.getElementById('progress') as HTMLProgressElement;
        return (
          (p.max === total && p.value > 0) || /^error/.test(document.getElementById('run-status')!.textContent ?? '')
        );
      },
      total,
      120000,
    );
    assert.doesNotMatch((await page.textContent('#run-status')) ?? '', /^error/, why());
    await page.click('#cancel');
    await waitPage('the cancel', runSettled, null, 120000);
    assert.equal(await page.textContent('#run-status'), 'cancelled', why());
    const done = await page.evaluate(() => (document.getElementById('progress') as HTMLProgressElement).value);
    assert.ok(done < total, `cancelled at ${done} of ${total}`);
  });

  it("a model over the adapter's buffer limits is refused on the page with the numbers", async () => {
    const config = { model_type: 'bloom', hidden_size: 32768, n_head: 32, n_layer: 1, vocab_size: 1024 };
    await page.setInputFiles('#model-files', [
      { name: 'config.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(config)) },
    ]);
    await waitPage('the over-limit load', modelSettled, null, 60000);
    const msg = (await page.textContent('#model-status')) ?? '';
    const limits = await page.evaluate(() => (window as any).instructalign.adapter.limits);
    const n = (x: number) => x.toLocaleString('en');
    // weights "auto" loads a model whose f32 weights pass 1 GiB as f16: 4·32768² elements × 2 bytes
    assert.match(
      msg,
      /^could not load the files: this model does not fit this GPU adapter: h\.0\.mlp\.dense_\w+\.weight \d+×\d+ needs 8,589,934,592 bytes/,
    );
    assert.ok(
      msg.includes(
        `maxStorageBufferBindingSize is ${n(limits.maxStorageBufferBindingSize)} and maxBufferSize ${n(limits.maxBufferSize)}`,
      ),
      msg,
    );
  });
  it('loads a model from a URL and evaluates a user CSV (language from the file name)', async () => {
    await page.fill('#model-url', '/fixtures/bloom-tiny/');
    // the previous test left "could not load…" in the status line: clear it so the wait sees this load's end
    await page.evaluate(() => {
      document.getElementById('model-status')!.textContent = '';
    });
    await page.click('#model-load-url');
    await waitPage('the URL load', modelSettled, null, 150000);
    assert.match((await page.textContent('#model-status')) ?? '', /^loaded bloom-tiny: 165,760 parameters/, why());
    await page.check('input[name=data][value=csv]');
    const csv = 'id,text,label\na1,"I love it, really",positive\na2,awful,0\n';
    await page.setInputFiles('#data-csv', [{ name: 'mine.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) }]);
    await page.fill('#limit', '5');
    // the previous test left "cancelled" in the status line: clear it so the wait below sees this run's end
    await page.evaluate(() => {
      document.getElementById('run-status')!.textContent = '';
    });
    await page.click('#run');
    await waitPage('the CSV evaluation', runSettled, null, 120000);
    {
      const st = (await page.textContent('#run-status')) ?? '';
      assert.match(st, /^done/, st + why());
    }
    const r: ResultsJson = JSON.parse((await page.textContent('#results-json')) ?? '');
    assert.deepEqual(
      r.languages.map((l) => [l.lang, l.group, l.n]),
      [['mine', 'other', 2]],
    );
    assert.equal(r.data, 'mine.csv');
    const preds: PredictionRecord[] = await page.evaluate(() => (window as any).instructalign.predictions);
    assert.deepEqual(
      preds.map((p) => [p.id, p.gold]),
      [
        ['a1', 'positive'],
        ['a2', 'negative'],
      ],
    ); // "0" is label index 0
  });
});

describe('browser: the evaluation page without WebGPU', function () {
  this.timeout(60000);
  it('says that WebGPU gives no adapter and how to fix it', async () => {
    buildWeb();
    const server = await staticServer({ '/': join(REPO, 'dist/web') });
    // without --enable-unsafe-webgpu, Chromium on Linux has navigator.gpu but no adapter
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: QUIET_FLAGS });
    try {
      const page = await browser.newPage();
      await page.goto(new URL('index.html', server.url).href);
      await page.waitForFunction(() => /^error/.test(document.getElementById('status')!.textContent ?? ''), null, {
        timeout: 30000,
      });
      assert.match(
        (await page.textContent('#status')) ?? '',
        /^error: WebGPU (is missing|gives no adapter).*--enable-unsafe-webgpu/,
      );
      assert.equal(await page.getAttribute('#run', 'disabled'), '');
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
