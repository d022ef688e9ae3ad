// Models by URL in headless Chromium, against a local server on another origin that mimics the HuggingFace Hub's
// layout (ORG/NAME/resolve/main/<file>, weights answered by a 302 to an "LFS" URL with an ETag and Range support):
// a single model.safetensors with byte progress; an interrupted download resumed with a Range request (the part kept
// in OPFS); the next load read from OPFS; a sharded folder (model.safetensors.index.json + 2 shards); a repository
// URL (…/ORG/NAME) on a host named like the Hub is not reachable here, so the folder rules are checked in Node. The
// same files on a server without CORS fail with an error naming the URL and CORS. Scores equal the same-origin load.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchPage, workerDiag } from '../helpers/browser.ts';
import { REPO } from '../helpers/gpu.ts';
import type { StaticServer } from '../../src/cli/serve.ts';
import { bufferSource, encodeSafetensors, SafetensorsFile, type DType } from '../../src/model/safetensors.ts';
import { modelFolderUrl } from '../../src/host/model-source.ts';

const NANO = join(REPO, 'models/nano-bloomz');
const TEXTS = ['I like fried rice.'];

/** nano-bloomz's weights split into two shards, with the index transformers writes */
async function shards(): Promise<Record<string, Buffer>> {
  const st = await SafetensorsFile.open(bufferSource(readFileSync(join(NANO, 'model.safetensors')), 'nano'));
  const names = [...st.tensors.keys()];
  const half = Math.ceil(names.length / 2);
  const files: Record<string, Buffer> = {};
  const weightMap: Record<string, string> = {};
  let total = 0;
  for (const [k, part] of [names.slice(0, half), names.slice(half)].entries()) {
    const file = `model-0000${k + 1}-of-00002.safetensors`;
    const tensors = [];
    for (const n of part) {
      const info = st.tensors.get(n)!;
      tensors.push({ name: n, dtype: info.dtype as DType, shape: info.shape, data: await st.raw(n) });
      weightMap[n] = file;
    }
    files[file] = Buffer.from(encodeSafetensors(tensors, { format: 'pt' }));
    total += files[file].length;
  }
  files['model.safetensors.index.json'] = Buffer.from(
    JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }),
  );
  return files;
}

interface Hub {
  server: Server;
  origin: string;
  requests: string[];
  /** the next full GET of an LFS object sends this many bytes, then drops the connection */
  cutAfter: number | null;
}

/** A Hub-like server: /acme/<repo>/resolve/main/<file>; weights 302 to /lfs/<sha256> (ETag, Range, CORS if asked). */
async function hub(repos: Record<string, Record<string, Buffer>>, cors: boolean): Promise<Hub> {
  const lfs = new Map<string, Buffer>();
  const h: Hub = { server: null as unknown as Server, origin: '', requests: [], cutAfter: null };
  h.server = createServer((req, res) => {
    const range = req.headers.range;
    h.requests.push(`${req.method} ${req.url}${range ? ` ${range}` : ''}`);
    const common: Record<string, string> = cors
      ? {
          'access-control-allow-origin': '*',
          'access-control-allow-headers': 'range',
          'access-control-expose-headers': 'etag, content-length, content-range, accept-ranges',
        }
      : {};
    if (req.method === 'OPTIONS') return res.writeHead(204, common).end();
    const m = req.url!.match(/^\/acme\/([^/]+)\/resolve\/main\/(.+)$/);
    if (m) {
      const body = repos[m[1]]?.[m[2]];
      if (!body) return res.writeHead(404, common).end('Entry not found');
      if (!m[2].endsWith('.safetensors'))
        return res.writeHead(200, { ...common, 'content-length': body.length }).end(body);
      const sha = createHash('sha256').update(body).digest('hex');
      lfs.set(sha, body);
      return res.writeHead(302, { ...common, location: `/lfs/${sha}` }).end();
    }
    const l = req.url!.match(/^\/lfs\/([0-9a-f]+)$/);
    const body = l && lfs.get(l[1]);
    if (!l) {
      // the page (dist/web) and the package's models/, without a CSP
      const path = req.url!.split('?')[0];
      const file = path.startsWith('/models/') ? join(REPO, path) : join(REPO, 'dist/web', path);
      if (!file.startsWith(REPO) || !existsSync(file) || statSync(file).isDirectory()) return res.writeHead(404).end();
      const type = { js: 'text/javascript', html: 'text/html', css: 'text/css', json: 'application/json' }[
        file.split('.').pop() as string
      ];
      return res.writeHead(200, { 'content-type': type ?? 'application/octet-stream' }).end(readFileSync(file));
    }
    if (!body) return res.writeHead(404, common).end();
    const head = { ...common, etag: `"${l![1]}"`, 'accept-ranges': 'bytes' };
    if (req.method === 'HEAD') return res.writeHead(200, { ...head, 'content-length': body.length }).end();
    const from = range ? Number(range.match(/^bytes=(\d+)-$/)?.[1] ?? 0) : 0;
    if (range) {
      res.writeHead(206, {
        ...head,
        'content-length': body.length - from,
        'content-range': `bytes ${from}-${body.length - 1}/${body.length}`,
      });
      return res.end(body.subarray(from));
    }
    res.writeHead(200, { ...head, 'content-length': body.length });
    if (h.cutAfter !== null) {
      const n = h.cutAfter;
      h.cutAfter = null;
      res.write(body.subarray(0, n), () => setTimeout(() => res.socket?.destroy(), 200));
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => h.server.listen(0, '127.0.0.1', r));
  h.origin = `http://127.0.0.1:${(h.server.address() as AddressInfo).port}`;
  return h;
}

describe('browser: models by URL (Hub layout on another origin: progress, resume, shards, CORS errors)', function () {
  this.timeout(300000);
  let server: StaticServer, browser: Browser, page: Page;
  let logs: string[] = [];
  let withCors: Hub, noCors: Hub;
  const why = () => `\n--- page log ---\n${logs.slice(-20).join('\n')}`;

  before(async () => {
    const files = Object.fromEntries(
      ['config.json', 'tokenizer.json', 'model.safetensors'].map((f) => [f, readFileSync(join(NANO, f))]),
    );
    const sharded = {
      'config.json': files['config.json'],
      'tokenizer.json': files['tokenizer.json'],
      ...(await shards()),
    };
    withCors = await hub({ 'nano-bloomz': files, 'nano-sharded': sharded }, true);
    noCors = await hub({ 'nano-bloomz': files }, false);
    ({ server, browser, page, logs } = await launchPage({ '/models/': join(REPO, 'models') }));
    // the page comes from the Hub-like server itself: `instructalign serve`'s CSP allows fetches of https: and its
    // own origin only, and a consumer's page has its own policy (docs/web.md); the no-CORS server is another origin
    await page.addInitScript('globalThis.__name = (f) => f'); // tsx's keepNames helper, for the evaluated code
    assert.ok((await page.goto(`${withCors.origin}/index.html`))?.ok());
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    for (const h of [withCors, noCors]) h?.server.close();
  });

  /** loads `url` in the page's worker: scores, the last download report per file, or the error */
  const load = (url: string) =>
    page
      .evaluate(
        async ([url, texts]) => {
          const rt = await (window as any).instructalign.ready;
          const seen: Record<string, { loaded: number; total: number | null; cached: number; calls: number }> = {};
          try {
            const info = await rt.loadModel(url, {
              onDownload: (p: any) => {
                seen[p.file] = {
                  loaded: p.loaded,
                  total: p.total,
                  cached: p.cached,
                  calls: (seen[p.file]?.calls ?? 0) + 1,
                };
              },
            });
            return { name: info.name, seen, scores: (await rt.score(texts))[0].token_logprobs as number[] };
          } catch (e) {
            return { error: (e as Error).message, seen };
          }
        },
        [url, TEXTS] as const,
      )
      .catch(async (e) => {
        throw new Error(`${(e as Error).message}\n${await workerDiag(page)}${why()}`);
      });

  it('loads a Hub-style folder with byte progress, resumes a cut download, then reads it from OPFS', async () => {
    const ref = await load('models/nano-bloomz/');
    assert.ok(ref.scores, ref.error);
    const url = `${withCors.origin}/acme/nano-bloomz/resolve/main/`;
    const size = readFileSync(join(NANO, 'model.safetensors')).length;

    withCors.cutAfter = 3_000_000; // the first download of the weights stops after 3 MB
    const cut = await load(url);
    assert.match(
      cut.error ?? '',
      /model\.safetensors/,
      `a cut download fails, naming the file: ${JSON.stringify(cut)}`,
    );

    withCors.requests.length = 0;
    const resumed = await load(url);
    assert.ok(resumed.scores, `${resumed.error}${why()}`);
    assert.equal(resumed.name, 'nano-bloomz');
    assert.deepEqual(resumed.scores, ref.scores);
    const w = resumed.seen['model.safetensors'];
    assert.equal(w.total, size);
    assert.equal(w.loaded, size);
    assert.ok(w.cached >= 3_000_000 && w.cached < size, `resumed from the kept part: ${JSON.stringify(w)}`);
    assert.ok(
      withCors.requests.some((r) => /^GET \/lfs\/\w+ bytes=\d+-$/.test(r)),
      `a Range request: ${withCors.requests.join('; ')}`,
    );

    withCors.requests.length = 0;
    const again = await load(url);
    assert.deepEqual(again.scores, ref.scores);
    assert.equal(again.seen['model.safetensors'].cached, size, 'read from OPFS');
    assert.ok(!withCors.requests.some((r) => r.startsWith('GET /lfs/')), withCors.requests.join('; '));
  });

  it('loads a sharded folder (index + 2 shards) with the same scores', async () => {
    const ref = await load('models/nano-bloomz/');
    const r = await load(`${withCors.origin}/acme/nano-sharded/resolve/main/`);
    assert.ok(r.scores, `${r.error}${why()}`);
    assert.equal(r.name, 'nano-sharded');
    assert.deepEqual(r.scores, ref.scores);
    assert.ok(r.seen['model-00002-of-00002.safetensors']?.loaded > 0, JSON.stringify(r.seen));
  });

  it('a server without CORS: the error names the URL and CORS', async () => {
    const r = await load(`${noCors.origin}/acme/nano-bloomz/resolve/main/`);
    assert.match(
      r.error ?? '',
      new RegExp(`^cannot fetch ${noCors.origin}/acme/nano-bloomz/resolve/main/config\\.json: .*needs CORS`),
    );
    const missing = await load(`${withCors.origin}/acme/nothing/resolve/main/`);
    assert.match(missing.error ?? '', /^cannot fetch http:.*\/acme\/nothing\/resolve\/main\/config\.json: HTTP 404/);
  });

  it('Hub repository and file URLs map to the resolve/ folder (Node)', () => {
    const at = 'https://example.org/page/';
    const f = (u: string) => modelFolderUrl(u, at).href;
    assert.equal(
      f('https://huggingface.co/bigscience/bloomz-560m'),
      'https://huggingface.co/bigscience/bloomz-560m/resolve/main/',
    );
    assert.equal(
      f('https://huggingface.co/bigscience/bloomz-560m/tree/v1'),
      'https://huggingface.co/bigscience/bloomz-560m/resolve/v1/',
    );
    assert.equal(
      f('https://huggingface.co/bigscience/bloomz-560m/resolve/main/model.safetensors'),
      'https://huggingface.co/bigscience/bloomz-560m/resolve/main/',
    );
    assert.equal(f('models/nano-bloomz'), 'https://example.org/page/models/nano-bloomz/');
  });
});
