// `serve` (staticServer) with real HTTP requests: Host allow-list (DNS rebinding), security headers, methods,
// symlinks out of the served folder, and no file descriptor left open by aborted downloads.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostAllowed, staticServer, type StaticServer } from '../../src/cli/serve.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(url: string, path: string, opts: { host?: string; method?: string } = {}): Promise<Reply> {
  const u = new URL(url);
  return new Promise((ok, fail) => {
    const req = request(
      { host: u.hostname, port: u.port, path, method: opts.method ?? 'GET', headers: { host: opts.host ?? u.host } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', fail);
    req.end();
  });
}

/** Starts a download of `path` and destroys the socket as soon as the first bytes arrive. */
function abortedDownload(url: string, path: string): Promise<void> {
  const u = new URL(url);
  return new Promise((ok) => {
    const req = request({ host: u.hostname, port: u.port, path }, (res) => {
      res.once('data', () => {
        req.destroy();
        ok();
      });
    });
    req.on('error', () => ok());
    req.end();
  });
}

const openFds = () => readdirSync('/proc/self/fd').length;

describe('cli/serve (static server hardening)', () => {
  let dir: string;
  let s: StaticServer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'serve-'));
    mkdirSync(join(dir, 'root/models'), { recursive: true });
    writeFileSync(join(dir, 'root/index.html'), '<!doctype html><p>hi</p>');
    writeFileSync(join(dir, 'root/models/big.bin'), Buffer.alloc(8 << 20, 7));
    writeFileSync(join(dir, 'secret.txt'), 'outside the served folder');
    symlinkSync(join(dir, 'secret.txt'), join(dir, 'root/models/leak.txt'));
    symlinkSync(dir, join(dir, 'root/models/up'));
    symlinkSync(join(dir, 'root/index.html'), join(dir, 'root/models/inner.html'));
    s = await staticServer({ '/': join(dir, 'root') });
  });
  after(async () => {
    await s?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a file with nosniff, a CSP and cross-origin isolation headers', async () => {
    const r = await get(s.url, '/');
    assert.equal(r.status, 200);
    assert.equal(r.body, '<!doctype html><p>hi</p>');
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.match(String(r.headers['content-security-policy']), /default-src 'self'.*frame-ancestors 'none'/);
    assert.equal(r.headers['cross-origin-opener-policy'], 'same-origin');
    assert.equal(r.headers['cross-origin-resource-policy'], 'same-origin');
  });

  it('answers only to loopback Host headers (421 otherwise: DNS rebinding)', async () => {
    const port = new URL(s.url).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'localhost', 'LOCALHOST:1'])
      assert.equal((await get(s.url, '/', { host })).status, 200, host);
    for (const host of ['evil.example.com', `evil.example.com:${port}`, '127.0.0.1.nip.io', 'localhost.evil', '[::2]'])
      assert.equal((await get(s.url, '/', { host })).status, 421, host);
    assert.equal(hostAllowed(undefined, '127.0.0.1'), false);
    assert.equal(hostAllowed('192.168.1.5:8080', '192.168.1.5'), true, 'the address passed to --host');
    assert.equal(hostAllowed('evil.example.com', '0.0.0.0'), false);
  });

  it('refuses symlinks that lead out of the served folder; follows those that stay inside', async () => {
    assert.equal((await get(s.url, '/models/leak.txt')).status, 404);
    assert.equal((await get(s.url, '/models/up/secret.txt')).status, 404);
    const inner = await get(s.url, '/models/inner.html');
    assert.equal(inner.status, 200);
    assert.equal(inner.body, '<!doctype html><p>hi</p>');
  });

  it('404s do not echo the path; other methods get 405', async () => {
    const r = await get(s.url, '/models/%3Cscript%3Ealert(1)%3C/script%3E');
    assert.equal(r.status, 404);
    assert.doesNotMatch(r.body, /script/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal((await get(s.url, '/', { method: 'POST' })).status, 405);
    assert.equal((await get(s.url, '/index.html', { method: 'DELETE' })).status, 405);
    assert.equal((await get(s.url, '/', { method: 'HEAD' })).status, 200);
  });

  it('aborted downloads leave no file descriptor open', async () => {
    const before = openFds();
    for (let i = 0; i < 40; i++) await abortedDownload(s.url, '/models/big.bin');
    await new Promise((r) => setTimeout(r, 300));
    // before the fix every aborted download kept its ReadStream (one fd each) open for good
    assert.ok(openFds() - before < 10, `${openFds() - before} more fds open after 40 aborted downloads`);
    assert.equal((await get(s.url, '/')).status, 200, 'still serving');
  });
});
