// Browser-test helpers: build dist/web, serve it (and the test fixtures) on 127.0.0.1, and open the page in
// headless Chromium (playwright-core, the system's browser; none is downloaded) with WebGPU on SwiftShader.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { staticServer, type StaticServer } from '../../src/cli/serve.ts';
import type { PredictionRecord } from '../../src/eval/predictions.ts';
import { FIXTURES, REPO, compare } from './gpu.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/**
 * The one flag WebGPU needs: Chromium on Linux refuses every adapter (SwiftShader included) without it.
 * --use-angle=swiftshader and --enable-features=Vulkan were tried and are not needed (Chromium 156 picks
 * SwiftShader by itself); playwright adds --no-sandbox (needed as root) because chromiumSandbox defaults to false.
 */
export const WEBGPU_FLAGS = ['--enable-unsafe-webgpu'];
/** keep the browser from reaching the network on its own (there is none here; they only add startup noise) */
export const QUIET_FLAGS = [
  '--no-first-run',
  '--disable-sync',
  '--disable-background-networking',
  '--disable-component-update',
];
/** CHROMIUM_EXTRA_ARGS (space-separated): more Chromium flags for a debugging run, e.g. --enable-logging=stderr --v=1 */
export const EXTRA_FLAGS = (process.env.CHROMIUM_EXTRA_ARGS ?? '').split(/\s+/).filter(Boolean);

/**
 * Collects the page's and its workers' console lines and errors, each stamped with the seconds since this call
 * (INSTRUCTALIGN_BROWSER_LOG=1 also prints them as they come, to follow a run that hangs).
 */
export function recordLogs(page: Page): string[] {
  const logs: string[] = [];
  const t0 = Date.now();
  const add = (line: string) => {
    const l = `${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s ${line}`;
    logs.push(l);
    if (process.env.INSTRUCTALIGN_BROWSER_LOG) process.stderr.write(`      | ${l}\n`);
  };
  page.on('console', (m) => add(`[${(m as any).worker?.() ? 'worker ' : ''}${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => add(`[pageerror] ${e.message}`));
  page.on('crash', () => add('[crash] the page crashed'));
  // (playwright 1.65 reports a worker's console lines on the page too, with m.worker() set; older ones only on the
  // worker)
  page.on('worker', (w) => {
    add(`[worker] started ${w.url()}`);
    w.on('console', (m) => {
      if (!(m as any).worker?.()) add(`[worker ${m.type()}] ${m.text()}`);
    });
    w.on('close', () => add(`[worker] closed ${w.url()}`));
  });
  return logs;
}

/**
 * What the page's runtime worker says it is doing and waiting for (its diag() call, which is not queued behind a
 * stalled call): for the message of a step that timed out.
 */
export async function workerDiag(page: Page): Promise<string> {
  try {
    return (await page.evaluate(() =>
      Promise.race([
        (window as any).instructalign.ready.then((rt: any) => rt.diag()),
        new Promise((r) => setTimeout(() => r('the worker did not answer diag() within 10 s'), 10000)),
      ]),
    )) as string;
  } catch (e) {
    return `no diag: ${(e as Error).message}`;
  }
}

let webBuilt = false;
/**
 * `node build.mjs web`: gen + the worker/page bundles, without the Node CLI; once per test process (every browser
 * suite calls it; the sources do not change during a run, and a rebuild while another suite's page loads would
 * rewrite the files it is reading)
 */
export function buildWeb(): void {
  if (webBuilt) return;
  execFileSync(process.execPath, [join(REPO, 'build.mjs'), 'web'], {
    cwd: REPO,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  webBuilt = true;
}

export interface BrowserPage {
  browser: Browser;
  page: Page;
  server: StaticServer;
  url: string;
  /** console lines and page errors, for failure messages */
  logs: string[];
  screenshot(file: string): Promise<void>;
  close(): Promise<void>;
}

/** Serves dist/web at / and test/fixtures at /fixtures/, opens `path` (default index.html) in headless Chromium. */
export async function openPage(path = 'index.html'): Promise<BrowserPage> {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium, or set CHROMIUM_PATH`);
  const server = await staticServer({ '/': join(REPO, 'dist/web'), '/fixtures/': FIXTURES });
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [...WEBGPU_FLAGS, ...QUIET_FLAGS, ...EXTRA_FLAGS],
    });
    const page = await browser.newPage();
    const logs = recordLogs(page);
    const url = new URL(path, server.url).href;
    const res = await page.goto(url);
    if (!res?.ok()) throw new Error(`GET ${url}: HTTP ${res?.status()} (did \`node build.mjs web\` run?)`);
    const b = browser;
    return {
      browser: b,
      page,
      server,
      url,
      logs,
      async screenshot(file) {
        mkdirSync(dirname(file), { recursive: true });
        await page.screenshot({ path: file, fullPage: true });
      },
      async close() {
        await b.close();
        await server.close();
      },
    };
  } catch (e) {
    await browser?.close();
    await server.close();
    throw e;
  }
}

/** The page tests' setup: builds dist/web, serves it at / with `roots` (URL prefix → folder), launches headless
 *  Chromium and opens a page in an explicit context (axe-core/playwright needs one); the caller navigates. */
export async function launchPage(
  roots: Record<string, string>,
  context: BrowserContextOptions = {},
): Promise<{ server: StaticServer; browser: Browser; page: Page; logs: string[] }> {
  buildWeb();
  const server = await staticServer({ '/': join(REPO, 'dist/web'), ...roots });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [...WEBGPU_FLAGS, ...QUIET_FLAGS, ...EXTRA_FLAGS],
  });
  const page = await (await browser.newContext(context)).newPage();
  return { server, browser, page, logs: recordLogs(page) };
}

/**
 * The page suites' shared part (call it in the `describe` body): an `after` hook that closes what `launchPage`
 * opened, `why()` (the last `tail` lines of the page's log, for a failure message) and `waitFor(what, fn, timeout)`,
 * page.waitForFunction whose failure names what was awaited, the worker's diag() and the page's log. `get` returns
 * the suite's launchPage result, which its own `before` sets.
 */
export function pageSuite(
  get: () => { server?: StaticServer; browser?: Browser; page?: Page; logs: string[] },
  tail = 25,
): { why(): string; waitFor(what: string, fn: () => unknown, timeout?: number): Promise<void> } {
  after(async () => {
    const { browser, server } = get();
    await browser?.close();
    await server?.close();
  });
  const why = () => `\n--- page log ---\n${get().logs.slice(-tail).join('\n')}`;
  async function waitFor(what: string, fn: () => unknown, timeout = 120000): Promise<void> {
    const { page } = get();
    if (!page) throw new Error(`${what}: the page did not open (see the before hook's error)`);
    try {
      await page.waitForFunction(fn, null, { timeout });
    } catch (e) {
      throw new Error(`${what}: ${(e as Error).message.split('\n')[0]}\n${await workerDiag(page)}${why()}`);
    }
  }
  return { why, waitFor };
}

/** Whether this Chromium gives WebGPU an adapter in a page (a clear reason when not). */
export async function webgpuAdapter(page: Page): Promise<{ ok: true; info: string } | { ok: false; reason: string }> {
  return page.evaluate(async () => {
    const gpu = (navigator as any).gpu;
    if (!gpu)
      return { ok: false as const, reason: 'navigator.gpu is missing (not a secure context, or WebGPU disabled)' };
    const a = await gpu.requestAdapter();
    if (!a) return { ok: false as const, reason: 'navigator.gpu.requestAdapter() returned null' };
    return { ok: true as const, info: `${a.info?.vendor} ${a.info?.architecture} ${a.info?.description}`.trim() };
  });
}

/** buildWeb + openPage + a WebGPU adapter check: the setup every worker suite starts with. */
export async function openWorkerPage(): Promise<BrowserPage> {
  buildWeb();
  const bp = await openPage();
  const probe = await webgpuAdapter(bp.page);
  if (!probe.ok) {
    await bp.close();
    throw new Error(`Chromium gives no WebGPU adapter: ${probe.reason}`);
  }
  return bp;
}

/**
 * Two runs of one evaluation (two doors, two browsers) give the same predictions, one by one (language, id, prompt,
 * gold, predicted label), and label scores within 1e-4 absolute + 1e-4 relative. Returns the largest relative
 * difference of the scores.
 */
export function assertSamePredictions(
  got: readonly PredictionRecord[],
  want: readonly PredictionRecord[],
  gotName: string,
  wantName: string,
): number {
  assert.equal(got.length, want.length, 'prediction count');
  let worst = 0;
  want.forEach((w, i) => {
    const g = got[i];
    const tag = `${w.lang}/${w.id} prompt ${w.prompt}`;
    assert.deepEqual(
      [g.lang, g.id, g.prompt, g.gold, g.pred],
      [w.lang, w.id, w.prompt, w.gold, w.pred],
      `${tag}: ${gotName} vs ${wantName} (scores ${g.scores} vs ${w.scores})`,
    );
    const d = compare(g.scores, w.scores, 1e-4, 1e-4);
    assert.ok(d.ok, `${tag}: label score ${d.bad}: ${gotName} ${d.got} vs ${wantName} ${d.want}`);
    worst = Math.max(worst, d.maxRel);
  });
  return worst;
}
