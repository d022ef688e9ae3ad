// `instructalign serve`: serves the web page + worker bundle (dist/web) and the model folders on http://127.0.0.1,
// a secure context, so navigator.gpu works. staticServer() is also what the browser tests serve pages with.
import { createServer, type Server, type ServerResponse } from 'node:http';
import { createReadStream, existsSync, realpathSync, statSync } from 'node:fs';
import { pipeline } from 'node:stream';
import { extname, join, resolve, sep } from 'node:path';
import { helpText, num, parseCommand, str, UsageError, type CommandSpec } from './args.ts';
import { packageRoot } from '../train/data/paths.ts';

export const spec: CommandSpec = {
  name: 'serve',
  usage: 'instructalign serve [--port N] [--host ADDR] [--web DIR] [--models DIR]',
  about: `Serves the browser page (WebGPU runtime in a Web Worker) and prints its URL.
  /           the page and bundles (run \`node build.mjs\` first to make dist/web)
  /models/    model folders (tokenizer.json, config.json, model.safetensors) for the page to fetch
  /data/      the package's data/ (the page's built-in NusaX test splits: /data/nusax/sentiment/<language>/test.csv)

Requests must name 127.0.0.1, localhost, [::1] or the --host address in their Host header (others get 421: DNS
rebinding); files are served only from inside the three folders (symlinks that lead out are refused). See
docs/reliability.md for the headers sent.`,
  options: {
    port: { type: 'int', min: 0, max: 65535, default: 8080, help: 'port (default 8080; 0 picks a free one)' },
    host: {
      type: 'string',
      arg: 'ADDR',
      default: '127.0.0.1',
      help: 'address to bind (default 127.0.0.1: WebGPU needs a secure context, and localhost is one)',
    },
    web: { type: 'string', arg: 'DIR', help: 'the page folder (default: dist/web next to this program)' },
    models: { type: 'string', arg: 'DIR', help: 'model folders (default: models/ next to this program)' },
  },
};
export const help = helpText(spec);

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

/**
 * Sent with every response. The page runs under this CSP: its own scripts and module worker, the tokenizer's wasm
 * (compiled from bytes: 'wasm-unsafe-eval'), its inline <style> and style attributes, fetches of its own files or of
 * an https model URL the user types, blob: downloads of results. Nothing may frame it or be sniffed as another type.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; style-src 'self' 'unsafe-inline'; " +
    "img-src 'self' data: blob:; connect-src 'self' https:; object-src 'none'; base-uri 'none'; " +
    "form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'referrer-policy': 'no-referrer',
};

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The Host header names a loopback address (with or without a port) or the address the server was told to bind.
 * Anything else is a DNS-rebinding attempt: a web page whose name resolves to 127.0.0.1 reading the served files.
 */
export function hostAllowed(hostHeader: string | undefined, bound: string): boolean {
  if (!hostHeader) return false;
  const m = /^(\[[^\]]+\]|[^:]+)(?::\d{1,5})?$/.exec(hostHeader.trim().toLowerCase());
  if (!m) return false;
  const name = m[1];
  const boundName = bound.includes(':') ? `[${bound.toLowerCase()}]` : bound.toLowerCase();
  return LOOPBACK_NAMES.has(name) || (name === boundName && boundName !== '0.0.0.0' && boundName !== '[::]');
}

function reply(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', ...extra }).end(text);
}

/** The real path of `file` if it (after following symlinks) lies inside the real `root`; undefined otherwise. */
function inside(root: string, file: string): string | undefined {
  try {
    const realRoot = realpathSync(root);
    const real = realpathSync(file);
    return real === realRoot || real.startsWith(realRoot + sep) ? real : undefined;
  } catch {
    return undefined; // missing, or a dangling symlink
  }
}

/** Serves each URL prefix (e.g. '/', '/fixtures/') from a folder; the longest matching prefix wins. */
export function staticServer(
  mounts: Record<string, string>,
  opts: { port?: number; host?: string } = {},
): Promise<StaticServer> {
  const table = Object.entries(mounts)
    .map(([p, d]) => [p.endsWith('/') ? p : p + '/', resolve(d)] as const)
    .sort((a, b) => b[0].length - a[0].length);
  const bound = opts.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    if (!hostAllowed(req.headers.host, bound)) {
      reply(res, 421, `misdirected request: this server answers only to 127.0.0.1, localhost, [::1] or ${bound}`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      reply(res, 405, 'method not allowed', { allow: 'GET, HEAD' });
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      reply(res, 400, 'bad URL');
      return;
    }
    const hit = table.find(([p]) => path.startsWith(p));
    const lexical = hit ? resolve(hit[1], '.' + path.slice(hit[0].length - 1)) : '';
    // refuse ../ escapes out of the mounted folder, then symlinks that lead out of it
    let file = hit && (lexical === hit[1] || lexical.startsWith(hit[1] + sep)) ? inside(hit[1], lexical) : undefined;
    try {
      if (file && hit && statSync(file).isDirectory()) file = inside(hit[1], join(file, 'index.html'));
      const st = file ? statSync(file) : undefined;
      if (!file || !st?.isFile()) {
        reply(res, 404, 'not found'); // the path is not echoed: it would be attacker-chosen text
        return;
      }
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'content-length': st.size,
        'cache-control': 'no-store',
      });
    } catch {
      reply(res, 404, 'not found'); // removed between the checks, or unreadable
      return;
    }
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    // pipeline closes the file when the client goes away (one leaked fd per aborted download before) and turns a
    // read error (EMFILE, EACCES, a file removed after stat) into a closed response instead of a crash
    pipeline(createReadStream(file), res, () => {});
  });
  const host = bound;
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

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand(argv, spec);
  const root = packageRoot();
  const web = str(args, 'web', join(root, 'dist/web'));
  const models = str(args, 'models', join(root, 'models'));
  if (!isDir(models))
    throw new UsageError(`--models ${models} is not a folder: pass the folder that holds the model folders`);
  if (!existsSync(join(web, 'index.html')))
    throw new Error(
      `no page at ${web}/index.html: run \`node build.mjs\` (or \`npm run serve\`) first, or pass --web DIR`,
    );
  const port = num(args, 'port') as number;
  const data = join(root, 'data');
  const s = await staticServer({ '/': web, '/models/': models, '/data/': data }, { port, host: str(args, 'host') });
  console.log(`serving ${web} (and ${models} under /models/, ${data} under /data/) at ${s.url}`);
  console.log('open it in Chrome/Edge with WebGPU (Chromium on Linux: --enable-unsafe-webgpu); Ctrl-C stops');
  await new Promise<void>((r) => {
    process.once('SIGINT', r);
    process.once('SIGTERM', r);
  });
  await s.close();
  return 0;
}
