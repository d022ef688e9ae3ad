// A web developer's page built from the packed package (`npm pack`, unpacked as node_modules/instructalign): bundled
// with esbuild (ESM, worker.js copied next to the bundle as docs/web.md says; ESM without the copy: the error names
// the 404 and the fix; IIFE with startRuntime({ workerUrl })) and with Vite (no configuration: it emits the worker
// itself), each served and run in headless Chromium: the worker starts, nano-bloomz loads by URL with tensor and byte
// progress, and the scores equal those of the repository's own worker. The documented call
// `rt.loadModel(url, { onProgress })` also type-checks against the packed declarations.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM, QUIET_FLAGS, WEBGPU_FLAGS, recordLogs } from '../helpers/browser.ts';
import { staticServer } from '../../src/cli/serve.ts';
import { packPackage } from '../helpers/package.ts';

const REPO = join(import.meta.dirname, '../..');

const MAIN = `import { startRuntime, formatDuration } from 'instructalign/web';
const out = document.getElementById('out');
(async () => { try {
  const rt = await startRuntime(window.WORKER_URL ? { workerUrl: window.WORKER_URL } : undefined);
  await rt.init();
  let tensors = 0, bytes = 0;
  const info = await rt.loadModel('models/nano-bloomz/', {
    onProgress: () => tensors++,
    onDownload: (p) => (bytes = Math.max(bytes, p.loaded)),
  });
  const [s] = await rt.score(['I like fried rice.']);
  out.textContent = JSON.stringify({ ok: true, name: info.name, tensors, bytes, logprobs: s.token_logprobs,
    fmt: formatDuration(65) });
  rt.terminate();
} catch (e) {
  out.textContent = JSON.stringify({ ok: false, error: e.message });
} })();
`;
const HTML = (script: string, type = 'module', pre = '') =>
  `<!doctype html><html><head><meta charset="utf-8"><title>consumer</title></head><body><pre id="out"></pre>${pre}` +
  `<script type="${type}" src="${script}"></script></body></html>`;

const TYPES = `import { startRuntime, type RemoteRuntime } from 'instructalign/web';
export async function load(): Promise<number> {
  const rt: RemoteRuntime = await startRuntime({ workerUrl: '/worker.js' });
  const info = await rt.loadModel('models/nano-bloomz/', { onProgress: (done: number, total: number) => void [done, total], dtype: 'f16' });
  return info.parameters;
}
`;

describe('package: a web page bundled from the packed tarball (esbuild, Vite) runs in Chromium', function () {
  this.timeout(600000);
  let dir = '';
  let browser: Browser;
  let expected: number[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ia-webconsumer-'));
    const pkg = join(dir, 'app/node_modules/instructalign');
    mkdirSync(pkg, { recursive: true });
    execFileSync('tar', ['xzf', packPackage().tgz, '-C', pkg, '--strip-components=1']);
    // the package's dependencies, as an install would bring them (the declarations name some of their types)
    const deps = Object.keys(JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).dependencies ?? {});
    for (const dep of deps) {
      mkdirSync(join(dir, 'app/node_modules', dep, '..'), { recursive: true });
      symlinkSync(join(REPO, 'node_modules', dep), join(dir, 'app/node_modules', dep));
    }
    writeFileSync(join(dir, 'app/main.js'), MAIN);
    writeFileSync(join(dir, 'app/index.html'), HTML('./main.js'));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: [...WEBGPU_FLAGS, ...QUIET_FLAGS] });
    // the reference: the repository's own build, through the same page code
    expected = (await runPage(join(REPO, 'dist/web'), 'index.html', true)).logprobs;
  });
  after(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** serves `root` (+ the package's models/), opens `page`, and returns what the consumer wrote */
  async function runPage(root: string, page: string, repoPage = false, workerUrl?: string): Promise<any> {
    const server = await staticServer({ '/': root, '/models/': join(REPO, 'models') });
    const p = await browser.newPage();
    const logs = recordLogs(p);
    try {
      if (workerUrl) await p.addInitScript(`window.WORKER_URL = ${JSON.stringify(workerUrl)}`);
      await p.goto(new URL(page, server.url).href);
      if (repoPage) {
        // the repository's page: score through its runtime
        return await p.evaluate(async () => {
          const rt = await (window as any).instructalign.ready;
          await rt.loadModel('models/nano-bloomz/');
          return { logprobs: (await rt.score(['I like fried rice.']))[0].token_logprobs };
        });
      }
      await p.waitForFunction(() => document.getElementById('out')!.textContent, null, { timeout: 180000 });
      return JSON.parse((await p.textContent('#out')) ?? '{}');
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs.slice(-15).join('\n')}`);
    } finally {
      await p.close();
      await server.close();
    }
  }

  const esbuild = async (format: 'esm' | 'iife', outdir: string) => {
    const { build } = await import('esbuild');
    await build({
      entryPoints: [join(dir, 'app/main.js')],
      bundle: true,
      format,
      outdir,
      absWorkingDir: join(dir, 'app'),
      logLevel: 'silent',
    });
  };

  it('esbuild ESM, worker.js copied next to the bundle: loads with progress, same scores', async () => {
    const out = join(dir, 'esm');
    await esbuild('esm', out);
    cpSync(join(dir, 'app/node_modules/instructalign/dist/web/worker.js'), join(out, 'worker.js'));
    writeFileSync(join(out, 'index.html'), HTML('./main.js'));
    const r = await runPage(out, 'index.html');
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.name, 'nano-bloomz');
    assert.ok(r.tensors > 10, `tensor progress calls: ${r.tensors}`);
    assert.ok(r.bytes >= 8_000_000, `bytes reported by the download progress: ${r.bytes}`);
    assert.deepEqual(r.logprobs, expected);
    assert.equal(r.fmt, '1m05s');
  });

  it('esbuild ESM without the copy: the error names the 404 and the fix', async () => {
    const out = join(dir, 'esm-nocopy');
    await esbuild('esm', out);
    writeFileSync(join(out, 'index.html'), HTML('./main.js'));
    const r = await runPage(out, 'index.html');
    assert.equal(r.ok, false);
    assert.match(
      r.error,
      /worker\.js failed to start: HTTP 404 for .*worker\.js: serve node_modules\/instructalign\/dist\/web\/worker\.js there .*startRuntime\(\{ workerUrl \}\)/,
    );
  });

  it('esbuild IIFE (a classic script): startRuntime() says to pass workerUrl, and with it everything works', async () => {
    const out = join(dir, 'iife');
    await esbuild('iife', out);
    cpSync(join(dir, 'app/node_modules/instructalign/dist/web/worker.js'), join(out, 'ia-worker.js'));
    writeFileSync(join(out, 'index.html'), HTML('./main.js', 'text/javascript'));
    const bare = await runPage(out, 'index.html');
    assert.equal(bare.ok, false);
    assert.match(bare.error, /no import\.meta\.url .*pass startRuntime\(\{ workerUrl \}\)/);
    const r = await runPage(out, 'index.html', false, '/ia-worker.js');
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.deepEqual(r.logprobs, expected);
  });

  it('Vite build with no configuration: it emits the worker itself; same scores', async () => {
    const { build } = await import('vite');
    await build({
      root: join(dir, 'app'),
      logLevel: 'silent',
      build: { outDir: join(dir, 'vite'), emptyOutDir: true },
    });
    const assets = readdirSync(join(dir, 'vite/assets'));
    assert.ok(
      assets.some((f) => /^worker-.*\.js$/.test(f)),
      `a worker asset: ${assets.join(', ')}`,
    );
    const r = await runPage(join(dir, 'vite'), 'index.html');
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.deepEqual(r.logprobs, expected);
  });

  it('the documented loadModel(url, { onProgress }) type-checks against the packed declarations', () => {
    writeFileSync(join(dir, 'app/consumer.ts'), TYPES);
    writeFileSync(
      join(dir, 'app/tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'esnext',
          moduleResolution: 'bundler',
          target: 'es2022',
          lib: ['es2022', 'dom'],
          noEmit: true,
          types: [],
        },
        files: ['consumer.ts'],
      }),
    );
    try {
      execFileSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'app')], {
        encoding: 'utf8',
      });
    } catch (e) {
      throw new Error(`tsc on the consumer:\n${(e as { stdout?: string }).stdout}`);
    }
  });
});
