// FIREFOX LANE (INSTRUCTALIGN_FIREFOX=1, or `.ci/lane firefox`): the evaluation page (web/index.html and its worker,
// the ones test/browser/eval-page.test.ts drives in Chromium) in Firefox ESR, whose WebGPU is wgpu with the Naga WGSL
// compiler, driven over WebDriver BiDi by puppeteer-core. The same evaluation runs in headless Chromium (Dawn, Tint)
// on the same Vulkan driver; both must give the same predictions, and label scores within 1e-4 (abs + rel, as
// eval-page's page-vs-CLI comparison): the two browsers compile the same WGSL with different compilers, and the
// policy picks different reductions (Chromium's SwiftShader has subgroups, wgpu offers none), so the float sums
// differ in their last bits (measured: max 2e-6 relative on SwiftShader, docs/drivers.md), never in a label.
// Also checked for real: wgpu offers no `subgroups`, the policy turns them off, no compiled variant needs them, and
// every variant the page compiled passed Naga (the worker checks each module's compilation info). Then the worker's
// selftest (forward, KV-cached generation, every gradient, two AdamW steps against the HuggingFace fixtures, as
// test/browser/selftest-worker.test.ts runs it in Chromium) in Firefox on both fixtures: the training kernels too.
// Where Firefox's adapter has shader-f16 (lavapipe), nano-bloomz --dtype f16 in f16 arithmetic vs f32 math (5e-3).
// Needs Firefox ≥ 141 (ESR 153 from Debian's bookworm-security: `apt-get update && apt-get install -y firefox-esr`;
// ESR 140 refuses WebGPU in release builds). Vulkan driver: SwiftShader (Chromium's), or INSTRUCTALIGN_VULKAN=lavapipe.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Browser as PBrowser, Page as PPage } from 'puppeteer-core';
import { chromium, type Browser } from 'playwright-core';
import {
  assertSamePredictions,
  buildWeb,
  CHROMIUM,
  EXTRA_FLAGS,
  QUIET_FLAGS,
  WEBGPU_FLAGS,
} from '../helpers/browser.ts';
import { FIXTURE_NAMES, FIXTURES, REPO } from '../helpers/gpu.ts';
import { staticServer, type StaticServer } from '../../src/cli/serve.ts';
import { lavapipeIcdCandidates } from '../../src/gpu/device.ts';
import { Runtime } from '../../src/host/runtime.ts';
import { preprocess, requiredFeatures } from '../../src/gpu/wgsl.ts';
import { SHADERS } from '../../src/generated/assets.ts';
import type { ResultsJson } from '../../src/eval/results.ts';
import type { PredictionRecord } from '../../src/eval/predictions.ts';
import type { KernelPolicy } from '../../src/gpu/policy.ts';

const ON = process.env.INSTRUCTALIGN_FIREFOX === '1';
const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const LANGS = ['eng', 'jav', 'mad'],
  LIMIT = 3,
  PROMPT = 1;
/** the two prefs Firefox ESR needs: without the first there is no navigator.gpu, without the second no adapter */
const FIREFOX_PREFS = { 'dom.webgpu.enabled': true, 'gfx.webgpu.ignore-blocklist': true };

/** The part of a page both drivers share (playwright's and puppeteer's Page): run a function in the page. */
interface Evaluates {
  // (loosely typed: the two libraries type the serialised argument differently)
  evaluate(fn: (arg: any) => unknown, arg: any): Promise<any>;
}

/** Polls `fn` in the page until it is truthy; on a timeout, an error with the page's status lines. */
async function waitPage<A>(page: Evaluates, what: string, fn: (arg: A) => unknown, arg: A, timeout: number) {
  const t0 = Date.now();
  while (!(await page.evaluate(fn, arg))) {
    if (Date.now() - t0 > timeout) {
      const status = await page.evaluate(
        () =>
          ['status', 'model-status', 'run-status', 'progress-text']
            .map((id) => `#${id} "${document.getElementById(id)?.textContent}"`)
            .join(', '),
        undefined,
      );
      throw new Error(`${what}: not done after ${timeout / 1000} s; page: ${status}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface PageRun {
  results: ResultsJson;
  predictions: PredictionRecord[];
  adapter: { features: string[]; text: string };
  kernels: { policy: KernelPolicy; pipelines: { shader: string; defines: Record<string, boolean | number> }[] };
  seconds: number;
}

/** The page's evaluation through its controls: bloom-tiny from a URL, NusaX LANGS, LIMIT rows, prompt PROMPT. */
async function evaluateOnPage(page: Evaluates): Promise<PageRun> {
  const t0 = Date.now();
  const started = () =>
    (window as any).instructalign?.adapter || /^error/.test(document.getElementById('status')?.textContent ?? '');
  await waitPage(page, 'the worker start', started, undefined, 60000);
  const status = await page.evaluate(() => document.getElementById('status')?.textContent ?? '', undefined);
  assert.doesNotMatch(status, /^error/, `page status: ${status}`);
  await page.evaluate(() => {
    (document.getElementById('model-url') as HTMLInputElement).value = '/fixtures/bloom-tiny/';
    document.getElementById('model-load-url')!.click();
  }, undefined);
  const settled = ([id, re]: string[]) => new RegExp(re).test(document.getElementById(id)?.textContent ?? '');
  await waitPage(page, 'the model load', settled, ['model-status', '^(loaded|could not)'], 150000);
  const model = await page.evaluate(() => document.getElementById('model-status')?.textContent ?? '', undefined);
  assert.match(model, /^loaded bloom-tiny/, `model status: ${model}`);
  await page.evaluate(
    ([langs, limit, prompt]) => {
      document.querySelectorAll<HTMLInputElement>('input[name=lang]').forEach((box) => {
        box.checked = langs.includes(box.value);
      });
      document.querySelectorAll<HTMLInputElement>('input[name=prompt]').forEach((box) => {
        box.checked = Number(box.value) === prompt;
      });
      (document.getElementById('limit') as HTMLInputElement).value = String(limit);
      document.getElementById('run')!.click();
    },
    [LANGS, LIMIT, PROMPT] as [string[], number, number],
  );
  await waitPage(page, 'the evaluation', settled, ['run-status', '^(done|error|cancelled)'], 240000);
  const run = await page.evaluate(() => document.getElementById('run-status')?.textContent ?? '', undefined);
  assert.match(run, /^done/, `run status: ${run}`);
  return {
    ...(await page.evaluate(async () => {
      const w = (window as any).instructalign;
      const rt = await w.ready;
      return {
        results: JSON.parse(document.getElementById('results-json')!.textContent!),
        predictions: w.predictions,
        adapter: { features: w.adapter.features, text: w.adapter.text },
        kernels: await rt.kernels(),
      };
    }, undefined)),
    seconds: (Date.now() - t0) / 1000,
  };
}

/** The Vulkan driver Firefox's wgpu is pointed at (the same one Chromium uses by default: SwiftShader). */
function firefoxIcd(): string {
  if (process.env.INSTRUCTALIGN_VULKAN === 'lavapipe') {
    const icd = lavapipeIcdCandidates(process.env, homedir()).find((f) => existsSync(f));
    if (!icd) throw new Error('INSTRUCTALIGN_VULKAN=lavapipe: no lavapipe ICD found; run .ci/lavapipe.sh');
    return icd;
  }
  if (!existsSync(SWIFTSHADER_ICD))
    throw new Error(`no SwiftShader ICD at ${SWIFTSHADER_ICD}: apt-get install -y chromium libvulkan1`);
  return SWIFTSHADER_ICD;
}

describe('browser: the evaluation page in Firefox ESR (wgpu, Naga) gives the scores Chromium (Dawn, Tint) gives', function () {
  this.timeout(600000);
  if (!ON) {
    it.skip('skipped: the Firefox lane needs INSTRUCTALIGN_FIREFOX=1 and firefox-esr ≥ 141 (`.ci/lane firefox`)');
    return;
  }
  let server: StaticServer, firefox: PBrowser | undefined, chrome: Browser | undefined, ffPage: PPage | undefined;
  let ff: PageRun, cr: PageRun;
  const firefoxLog: string[] = [];

  before(async () => {
    if (!existsSync(FIREFOX))
      throw new Error(
        `INSTRUCTALIGN_FIREFOX=1 but no Firefox at ${FIREFOX}: \`apt-get update && apt-get install -y firefox-esr\` ` +
          '(≥ 141), or set FIREFOX_PATH',
      );
    buildWeb();
    server = await staticServer({
      '/': join(REPO, 'dist/web'),
      '/data/': join(REPO, 'data'),
      '/models/': join(REPO, 'models'),
      '/fixtures/': FIXTURES,
    });
  });

  after(async () => {
    await firefox?.close();
    await chrome?.close();
    await server?.close();
  });

  it(`Firefox: bloom-tiny on NusaX ${LANGS.join('+')} (limit ${LIMIT}, prompt ${PROMPT}), no subgroup variant compiled`, async () => {
    const t0 = Date.now();
    const { default: puppeteer } = await import('puppeteer-core'); // loaded only when the lane runs
    firefox = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX,
      headless: true,
      extraPrefsFirefox: FIREFOX_PREFS,
      // one page call (a selftest) may outlast puppeteer's default 180 s where shaders compile cold (lavapipe)
      protocolTimeout: 600000,
      env: { ...process.env, VK_ICD_FILENAMES: firefoxIcd(), XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' },
    });
    const version = await firefox.version();
    if (Number(/(\d+)\./.exec(version)?.[1]) < 141)
      throw new Error(
        `${FIREFOX} is ${version}: Firefox before 141 (ESR 140) refuses WebGPU in release builds; ` +
          '`apt-get update && apt-get install -y firefox-esr` gives ESR 153 (bookworm-security)',
      );
    const page = (ffPage = await firefox.newPage());
    page.on('console', (m) => firefoxLog.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => firefoxLog.push(`[pageerror] ${(e as Error).message}`));
    await page.goto(new URL('index.html', server.url).href);
    const launch = (Date.now() - t0) / 1000;
    try {
      ff = await evaluateOnPage(page);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- Firefox log ---\n${firefoxLog.slice(-30).join('\n')}`);
    }
    console.log(
      `      ${version} on ${ff.adapter.text}: launch ${launch.toFixed(1)} s, page evaluation ${ff.seconds.toFixed(1)} s, ` +
        `${ff.kernels.pipelines.length} pipelines`,
    );
    assert.equal(ff.predictions.length, LANGS.length * LIMIT);
    assert.match(ff.results.model.adapter, /browser/);
    assert.doesNotMatch(ff.adapter.text, /^\?/, 'the adapter is named, or called unnamed');
    // wgpu offers no subgroups (Naga cannot compile `enable subgroups;`): the policy must not choose them, and no
    // variant the page compiled may need them; each one passed Naga (a compile error would have failed the run)
    assert.ok(!ff.adapter.features.includes('subgroups'), `Firefox's adapter features: ${ff.adapter.features}`);
    assert.equal(ff.kernels.policy.subgroups, false);
    assert.ok(ff.kernels.pipelines.length > 0);
    for (const { shader, defines } of ff.kernels.pipelines) {
      const needs = requiredFeatures(preprocess(SHADERS[shader], defines, shader));
      assert.ok(!needs.includes('subgroups'), `${shader}.wgsl ${JSON.stringify(defines)} needs ${needs}`);
    }
  });

  it('Chromium: the same evaluation; same predictions and results.json, label scores within 1e-4', async function () {
    if (!ff) {
      console.log('      (skipped: the Firefox run above failed, so there is nothing to compare with)');
      this.skip();
    }
    chrome = await chromium.launch({
      executablePath: CHROMIUM,
      args: [...WEBGPU_FLAGS, ...QUIET_FLAGS, ...EXTRA_FLAGS],
    });
    const page = await chrome.newPage();
    await page.goto(new URL('index.html', server.url).href);
    cr = await evaluateOnPage(page);
    const sg = cr.kernels.pipelines.filter(({ shader, defines }) =>
      requiredFeatures(preprocess(SHADERS[shader], defines, shader)).includes('subgroups'),
    );
    console.log(
      `      Chromium on ${cr.adapter.text}: page evaluation ${cr.seconds.toFixed(1)} s, ` +
        `${cr.kernels.pipelines.length} pipelines, ${sg.length} with subgroups (policy.subgroups ${cr.kernels.policy.subgroups})`,
    );
    if (process.env.INSTRUCTALIGN_BROWSER_LOG)
      for (const [who, r] of [
        ['Firefox', ff],
        ['Chromium', cr],
      ] as const)
        for (const p of r.kernels.pipelines) console.log(`      ${who}: ${p.shader} ${JSON.stringify(p.defines)}`);
    const worst = assertSamePredictions(ff.predictions, cr.predictions, 'Firefox', 'Chromium');
    console.log(`      label scores: max relative difference Firefox vs Chromium ${worst.toExponential(1)}`);
    const strip = (r: ResultsJson) => ({ ...r, created: '', model: { ...r.model, adapter: '' } });
    assert.deepEqual(strip(ff.results), strip(cr.results));
  });
  for (const name of FIXTURE_NAMES)
    it(`Firefox: the worker's selftest on ${name} (forward, generation, gradients, AdamW vs HuggingFace)`, async function () {
      if (!ffPage) {
        console.log('      (skipped: Firefox did not start above)');
        this.skip();
      }
      const t0 = Date.now();
      const checks: { check: string; maxAbs: number; pass: boolean }[] = await ffPage.evaluate(async (name) => {
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
      const kernels: PageRun['kernels'] = await ffPage.evaluate(async () =>
        ((await (window as any).instructalign.ready) as any).kernels(),
      );
      let f16 = 0;
      for (const { shader, defines } of kernels.pipelines) {
        const needs = requiredFeatures(preprocess(SHADERS[shader], defines, shader));
        assert.ok(!needs.includes('subgroups'), `${shader}.wgsl ${JSON.stringify(defines)} needs ${needs}`);
        if (needs.includes('shader-f16')) f16++;
      }
      console.log(
        `      ${checks.length} checks in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${kernels.pipelines.length} ` +
          `variants compiled by Naga so far (${f16} with f16 arithmetic)`,
      );
    });
  it('Firefox on a shader-f16 adapter: nano-bloomz --dtype f16 in f16 arithmetic, as Node (Dawn) scores it, within 5e-3 of f32 math', async function () {
    if (!ffPage) {
      console.log('      (skipped: Firefox did not start above)');
      this.skip();
    }
    if (!ff?.adapter.features.includes('shader-f16')) {
      console.log(
        `      (skipped: Firefox's adapter has no shader-f16 on this driver; INSTRUCTALIGN_VULKAN=lavapipe has it)`,
      );
      this.skip();
    }
    const texts = ['Sentiment: positive. The food was good.', 'Kalimat ini sangat bagus sekali', 'It is cold.'];
    const t0 = Date.now();
    const out: { scores: Record<string, number[]>; kernels: PageRun['kernels'] } = await ffPage.evaluate(
      async (texts) => {
        const rt = await (window as any).instructalign.ready;
        const scores: Record<string, number[]> = {};
        // f32: the f16 file's weights unpacked to f32, f32 math; f16: f16 weights, f16 arithmetic where it applies
        for (const dtype of ['f32', 'f16']) {
          await rt.loadModel(new URL('/models/nano-bloomz/', location.href).href, { dtype });
          scores[dtype] = (await rt.score(texts)).map((r: { mean_logprob: number }) => r.mean_logprob);
        }
        return { scores, kernels: await rt.kernels() };
      },
      texts,
    );
    const f16Variants = out.kernels.pipelines.filter(({ shader, defines }) =>
      requiredFeatures(preprocess(SHADERS[shader], defines, shader)).includes('shader-f16'),
    );
    console.log(
      `      f16 vs f32 mean log-probs ${out.scores.f16.map((v, i) => (v - out.scores.f32[i]).toExponential(1)).join(', ')}; ` +
        `${f16Variants.length} f16 variants (${f16Variants.map((v) => [v.shader, ...Object.keys(v.defines).filter((k) => v.defines[k] === true)].join('+')).join(', ')}) compiled by Naga, ` +
        `${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    assert.equal(out.kernels.policy.f16, 'f32acc');
    assert.ok(f16Variants.length > 0, 'f16 variants were built');
    // the same f16 scoring by Node's Dawn (Tint) on the same driver: the compilers must not change the f16 results
    const rt = await Runtime.create({ log: () => {} });
    let node: number[];
    try {
      if (!rt.adapter.features.includes('shader-f16'))
        throw new Error(
          `Node's adapter (${rt.adapterInfo}) has no shader-f16 while Firefox's has: run both on lavapipe`,
        );
      await rt.loadModel({ path: join(REPO, 'models/nano-bloomz'), dtype: 'f16' });
      node = await rt.scoreTexts(texts);
    } finally {
      rt.dispose();
    }
    console.log(
      `      Firefox − Node (Dawn) f16 mean log-probs: ${node.map((v, i) => (out.scores.f16[i] - v).toExponential(1)).join(', ')}`,
    );
    for (let i = 0; i < texts.length; i++) {
      assert.ok(
        Math.abs(out.scores.f16[i] - node[i]) <= 1e-4,
        `${texts[i]}: f16 math in Firefox ${out.scores.f16[i]}, in Node ${node[i]}`,
      );
      assert.ok(
        Math.abs(out.scores.f16[i] - out.scores.f32[i]) <= 5e-3,
        `${texts[i]}: f32 math ${out.scores.f32[i]}, f16 math ${out.scores.f16[i]}`,
      );
    }
  });
});
