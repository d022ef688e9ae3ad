// `instructalign serve`: serves the web page + worker bundle (dist/web) and the model folders on http://127.0.0.1,
// a secure context, so navigator.gpu works. staticServer() is also what the browser tests serve pages with.
import { createServer, type Server } from 'node:http';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { UsageError, num, parseArgs, str } from './args.ts';
import { packageRoot } from '../train/data/paths.ts';

export const help = `instructalign serve [--port N] [--host ADDR] [--web DIR] [--models DIR]

Serves the browser page (WebGPU runtime in a Web Worker) and prints its URL.
  /           the page and bundles (run \`node build.mjs\` first to make dist/web)
  /models/    model folders (tokenizer.json, config.json, model.safetensors) for the page to fetch
  /data/      the package's data/ (the page's built-in NusaX test splits: /data/nusax/sentiment/<language>/test.csv)

Options:
  --port N       port (default 8080; 0 picks a free one)
  --host ADDR    address to bind (default 127.0.0.1: WebGPU needs a secure context, and localhost is one)
  --web DIR      the page folder (default: dist/web next to this program)
  --models DIR   model folders (default: models/ next to this program)`;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

export interface StaticServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** Serves each URL prefix (e.g. '/', '/fixtures/') from a folder; the longest matching prefix wins. */
export function staticServer(
  mounts: Record<string, string>,
  opts: { port?: number; host?: string } = {},
): Promise<StaticServer> {
  const table = Object.entries(mounts)
    .map(([p, d]) => [p.endsWith('/') ? p : p + '/', resolve(d)] as const)
    .sort((a, b) => b[0].length - a[0].length);
  const server = createServer((req, res) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      res.writeHead(400).end('bad URL');
      return;
    }
    const hit = table.find(([p]) => path.startsWith(p));
    let file = hit ? resolve(hit[1], '.' + path.slice(hit[0].length - 1)) : '';
    // refuse ../ escapes out of the mounted folder
    if (!hit || (file !== hit[1] && !file.startsWith(hit[1] + sep))) {
      res.writeHead(404).end('not found');
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end(`not found: ${path}`);
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': statSync(file).size,
      'cache-control': 'no-store',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file).pipe(res);
  });
  const host = opts.host ?? '127.0.0.1';
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, host, () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : opts.port;
      ok({
        server,
        url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
        close: () =>
          new Promise((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args.positional.length) throw new UsageError(`unexpected argument "${args.positional[0]}"`);
  const root = packageRoot();
  const web = str(args, 'web', join(root, 'dist/web'));
  const models = str(args, 'models', join(root, 'models'));
  if (!existsSync(join(web, 'index.html')))
    throw new Error(
      `no page at ${web}/index.html: run \`node build.mjs\` (or \`npm run serve\`) first, or pass --web DIR`,
    );
  const port = num(args, 'port', 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be an integer in [0, 65535], got ${port}`);
  const data = join(root, 'data');
  const s = await staticServer(
    { '/': web, '/models/': models, '/data/': data },
    { port, host: str(args, 'host', '127.0.0.1') },
  );
  console.log(`serving ${web} (and ${models} under /models/, ${data} under /data/) at ${s.url}`);
  console.log('open it in Chrome/Edge with WebGPU (Chromium on Linux: --enable-unsafe-webgpu); Ctrl-C stops');
  await new Promise<void>((r) => {
    process.once('SIGINT', r);
    process.once('SIGTERM', r);
  });
  await s.close();
  return 0;
}
