// .github/workflows/ci.yml cannot run here: this parses it (yaml) and checks its structure: the three platforms,
// and on each the install, the tests and `instructalign selftest --fixture test/fixtures/bloom-tiny --json`.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const REPO = join(import.meta.dirname, '../..');

interface Step {
  run?: string;
  uses?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  'runs-on': string;
  container?: string;
  strategy?: { matrix: { os: string[] } };
  steps: Step[];
}

describe('.github/workflows/ci.yml', () => {
  const wf = parse(readFileSync(join(REPO, '.github/workflows/ci.yml'), 'utf8')) as {
    on: Record<string, unknown>;
    jobs: Record<string, Job>;
  };
  const jobs = Object.values(wf.jobs);
  const runs = (j: Job) => j.steps.map((s) => s.run ?? '').join('\n');

  it('runs on push and pull requests', () => {
    assert.ok('push' in wf.on && 'pull_request' in wf.on);
  });

  it('covers Linux (Debian chromium: SwiftShader), macOS (Metal) and Windows (D3D12)', () => {
    const oses = jobs.flatMap((j) => (j.strategy ? j.strategy.matrix.os : [j['runs-on']]));
    for (const os of ['ubuntu', 'macos', 'windows'])
      assert.ok(
        oses.some((o) => o.startsWith(os)),
        `${os} in ${oses.join(', ')}`,
      );
    const linux = jobs.find((j) => j['runs-on'].startsWith('ubuntu')) as Job;
    assert.match(linux.container ?? '', /bookworm/);
    assert.match(runs(linux), /apt-get install .*chromium.*libvulkan1/);
  });

  it('every job: checkout, npm ci, type-check, the tests and the selftest of the built CLI', () => {
    for (const j of jobs) {
      assert.equal(j.steps[0].uses?.split('@')[0], 'actions/checkout');
      const r = runs(j);
      const order = ['npm ci', 'npm run typecheck', 'selftest --fixture test/fixtures/bloom-tiny --json', 'npm test'];
      for (const cmd of order) assert.ok(r.includes(cmd), `a step runs "${cmd}"`);
      assert.match(r, /node build\.mjs/, 'the CLI is built before dist/cli.js runs');
      assert.ok(r.indexOf('npm ci') < r.indexOf('npm run typecheck'));
    }
    assert.ok(existsSync(join(REPO, 'test/fixtures/bloom-tiny/reference.json')));
  });

  it('Linux runs both Vulkan lanes of .ci/run: SwiftShader (the whole suite) and lavapipe, with a kept cache', () => {
    const linux = jobs.find((j) => j['runs-on'].startsWith('ubuntu')) as Job;
    const test = linux.steps.find((s) => s.run === 'npm test') as Step;
    assert.equal(test.env?.INSTRUCTALIGN_VULKAN, 'swiftshader');
    assert.match(runs(linux), /\.ci\/lane lavapipe/);
    assert.ok(
      linux.steps.some((s) => s.uses?.startsWith('actions/cache') && /instructalign/.test(String(s.with?.path))),
    );
    const run = readFileSync(join(REPO, '.ci/run'), 'utf8');
    assert.match(run, /swiftshader lavapipe/, '.ci/run runs both lanes by default');
    assert.match(readFileSync(join(REPO, '.ci/lane'), 'utf8'), /selftest/);
  });

  it('Linux and .ci/run run the Firefox lane, installing firefox-esr only for it', () => {
    const linux = jobs.find((j) => j['runs-on'].startsWith('ubuntu')) as Job;
    assert.match(runs(linux), /apt-get install .*firefox-esr.*\.ci\/lane firefox/);
    const run = readFileSync(join(REPO, '.ci/run'), 'utf8');
    assert.match(run, /swiftshader lavapipe firefox/, '.ci/run runs the Firefox lane by default');
    assert.match(
      run,
      /" \$lanes " == \*" firefox "\*[\s\S]*apt-get install .*firefox-esr/,
      'installed only for its lane',
    );
    assert.match(readFileSync(join(REPO, '.ci/lane'), 'utf8'), /INSTRUCTALIGN_FIREFOX=1 .*firefox-page\.test\.ts/);
  });

  it('Windows and macOS run the browser tests with an installed Chrome', () => {
    const gpu = jobs.find((j) => j.strategy) as Job;
    assert.ok(gpu.steps.some((s) => s.uses?.startsWith('browser-actions/setup-chrome')));
    const test = gpu.steps.find((s) => s.run === 'npm test') as Step;
    assert.match(test.env?.CHROMIUM_PATH ?? '', /steps\.chrome\.outputs\.chrome-path/);
  });
});
