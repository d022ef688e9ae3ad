// The package as a user gets it: `npm pack`, the tarball installed into an empty project (offline, from the npm
// cache that `npm ci` filled), then `npx --no-install instructalign doctor --json`, `import('instructalign')`, a
// strict nodenext TypeScript consumer of both entries, and the README's "Use from code" examples run/type-checked
// against the installed package. Also what ships: declarations, the default model and data, nothing twice.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { packPackage } from '../helpers/package.ts';

const REPO = join(import.meta.dirname, '../..');
const TSC = join(REPO, 'node_modules/typescript/bin/tsc');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';

interface PackFile {
  path: string;
  size: number;
}

/**
 * An empty project whose package-lock.json pins the tarball and its dependency closure (versions and integrity from
 * the repository's lock, registry tarball URLs): `npm ci --offline` then needs only tarballs, which the repository's
 * own `npm ci` put in the npm cache (a plain `npm install --offline x.tgz` would need registry metadata, which a
 * lockfile install never caches).
 */
function consumerProject(dir: string, tgz: string): void {
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8'));
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  copyFileSync(tgz, join(dir, basename(tgz)));
  const spec = `file:${basename(tgz)}`;
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tgz)).digest('base64')}`;
  const packages: Record<string, unknown> = {
    '': { name: 'consumer', version: '1.0.0', dependencies: { instructalign: spec } },
    'node_modules/instructalign': {
      version: pkg.version,
      resolved: spec,
      integrity,
      license: pkg.license,
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  };
  const queue = Object.keys(pkg.dependencies);
  while (queue.length) {
    const name = queue.shift() as string;
    const key = `node_modules/${name}`;
    if (packages[key]) continue;
    const e = lock.packages[key];
    assert.ok(e, `${name} is not at the top level of package-lock.json`);
    const file = `${name.split('/').pop()}-${e.version}.tgz`;
    packages[key] = { resolved: `https://registry.npmjs.org/${name}/-/${file}`, ...e };
    queue.push(...Object.keys(e.dependencies ?? {}));
  }
  const manifest = {
    name: 'consumer',
    version: '1.0.0',
    private: true,
    type: 'module',
    dependencies: { instructalign: spec },
  };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 1));
  writeFileSync(
    join(dir, 'package-lock.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 1),
  );
}

function run(cmd: string, args: string[], cwd: string, timeout = 240000) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, shell: process.platform === 'win32' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The fenced code block of `lang` in README's "Use from code" section, number `k`. */
function readmeBlock(lang: string): string {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Use from code'));
  const m = new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``).exec(section.slice(0, section.indexOf('\n## ', 5)));
  assert.ok(m, `a \`\`\`${lang} block in README's "Use from code"`);
  return m[1];
}

describe('the npm package (pack, install into an empty project, use)', function () {
  this.timeout(900000);
  let dir = '';
  let files: PackFile[] = [];
  let tgzBytes = 0;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ia-pack-'));
    const info = packPackage();
    files = info.files;
    tgzBytes = info.size;
    const project = join(dir, 'consumer');
    mkdirSync(project);
    consumerProject(project, info.tgz);
    const r = run(NPM, ['ci', '--offline', '--no-audit', '--no-fund'], project);
    assert.equal(r.code, 0, `npm ci --offline of the tarball failed:\n${r.err}`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('ships dist with declarations, the default model, data, fixture, README, LICENSE; no sources, maps or copies', () => {
    const paths = files.map((f) => f.path);
    for (const p of [
      'package.json',
      'README.md',
      'LICENSE',
      'dist/cli.js',
      'dist/index.js',
      'dist/types/index.d.ts',
      'dist/types/host/web.d.ts',
      'dist/web/web.js',
      'dist/web/worker.js',
      'models/nano-bloomz/model.safetensors',
      'models/nano-bloomz/tokenizer.json',
      'data/nusax/mt/train.csv',
      'test/fixtures/bloom-tiny/reference.json',
    ])
      assert.ok(paths.includes(p), `${p} is in the package`);
    // README links into docs/ work in the installed package
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\((docs\/[^)#\s]+)/g)].map((m) => m[1]);
    assert.ok(links.length > 0);
    assert.deepEqual(
      links.filter((l) => !paths.includes(l)),
      [],
      'README links to docs/ files that are not in the package',
    );
    // the repository URL is real or absent (no placeholder such as OWNER)
    const repo = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).repository;
    assert.ok(repo === undefined || /^git\+https:\/\/(?!.*OWNER)/.test(repo.url), JSON.stringify(repo));
    const bad = paths.filter((p) => /^(src|shaders|assembly|build|bench|web|docs\/results)\/|\.map$|\.tmp$/.test(p));
    assert.deepEqual(bad, [], 'sources (inlined in dist), source maps and run results stay out');
    // the CLI and the API share their code through dist/chunks instead of each bundling it
    const big = files.filter((f) => /^dist\/(cli|index)\.js$/.test(f.path)).map((f) => f.size);
    assert.ok(Math.max(...big) < 50000, `dist/cli.js and dist/index.js are thin entries (${big.join(', ')} bytes)`);
    const mb = (n: number) => (n / 1e6).toFixed(1);
    const unpacked = files.reduce((s, f) => s + f.size, 0);
    console.log(`      package: ${mb(tgzBytes)} MB packed, ${mb(unpacked)} MB unpacked, ${files.length} files`);
  });

  it('npx --no-install instructalign doctor --json: exit 0 and one JSON object (the bin link runs main)', () => {
    const r = run(NPX, ['--no-install', 'instructalign', 'doctor', '--json'], join(dir, 'consumer'));
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(typeof j, 'object');
    assert.equal(j.kernelCheck.pass, true);
    const bad = run(
      NPX,
      ['--no-install', 'instructalign', 'eval', '--model', 'm', '--out', 'X', '--limt', '2'],
      join(dir, 'consumer'),
    );
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--limt \(did you mean --limit\?\)/);
  });

  it("import('instructalign') and 'instructalign/web' from the installed package", () => {
    const code = `import * as m from 'instructalign'; import * as w from 'instructalign/web';
      console.log(JSON.stringify([typeof m.createRuntime, typeof m.compare, typeof m.trainingTexts, typeof w.startRuntime]));`;
    const r = run(process.execPath, ['--input-type=module', '-e', code], join(dir, 'consumer'));
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out), ['function', 'function', 'function', 'function']);
  });

  it('a strict nodenext TypeScript consumer type-checks (the contract snippet and the README browser example)', () => {
    const project = join(dir, 'consumer');
    writeFileSync(
      join(project, 'contract.ts'),
      `import { createRuntime } from 'instructalign';
const rt = await createRuntime();
const r: { mean_logprob: number }[] = await rt.score(['a b']);
`,
    );
    writeFileSync(join(project, 'browser.ts'), readmeBlock('ts'));
    const args = ['--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--noEmit'];
    const r = run(process.execPath, [TSC, ...args, 'contract.ts', 'browser.ts'], project);
    assert.equal(r.code, 0, `${r.out}${r.err}`);
    // and a wrong type is an error: the declarations are real, not `any`
    writeFileSync(
      join(project, 'wrong.ts'),
      `import { createRuntime } from 'instructalign';\nconst rt = await createRuntime();\nconst n: number = await rt.score(['a']);\n`,
    );
    const wrong = run(process.execPath, [TSC, ...args, 'wrong.ts'], project);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.out, /TS2322/);
  });

  it("README's Node example runs as written against the installed package (bundled nano-bloomz)", () => {
    const project = join(dir, 'consumer');
    writeFileSync(join(project, 'example.mjs'), readmeBlock('js'));
    const r = run(process.execPath, ['example.mjs'], project, 600000);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /mean log-prob -\d+\.\d{3}/);
    assert.match(r.out, /NusaX eng accuracy (0|1|0\.\d+)\n/);
    assert.match(r.out, /step 2\/2, loss \d+\.\d{3}, ETA 0 s/);
    assert.match(r.out, /checkpoint .*checkpoint\n/);
  });
});
