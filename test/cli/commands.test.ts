// The model commands end to end as a user runs them: doctor, selftest (both fixtures), score, generate, train/resume.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, FIXTURE_NAMES, REPO, loadFixture } from '../helpers/gpu.ts';

function cli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), ...args], {
    cwd: REPO,
    input,
    encoding: 'utf8',
    timeout: 280000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('CLI model commands', () => {
  it('doctor: exit 0 and a passing kernel check', () => {
    const r = cli(['doctor', '--json']);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out.trim().split('\n').pop()!);
    assert.equal(j.kernelCheck.pass, true);
    assert.ok(j.limits.maxStorageBufferBindingSize > 0);
    assert.ok(j.driver?.reason, 'doctor says which Vulkan driver and why');
    // a CPU adapter (SwiftShader, lavapipe) gets the CPU kernels, whose choice is fixed (the tuner is for GPU
    // kernels), sharing A across 4-wide subgroups only where the device has them; a GPU tunes
    if (j.info.swiftshader || j.info.fallback)
      assert.deepEqual(j.kernels, {
        family: 'swiftshader',
        matmul: j.subgroupSizes?.join() === '4,4' && j.features.includes('subgroups') ? 'vec4x16sg' : 'vec4x16',
        tuning: 'off (SwiftShader kernels are fixed; it tunes GPU kernels)',
      });
    else assert.ok(j.kernels.family === 'gpu' && j.kernels.tuning.startsWith('on:'), JSON.stringify(j.kernels));
  });

  for (const name of FIXTURE_NAMES) {
    it(`selftest --fixture ${name} --json: every check passes (forward, generation, gradients, AdamW)`, () => {
      const r = cli(['selftest', '--fixture', join(FIXTURES, name), '--json']);
      const j = JSON.parse(r.out.trim().split('\n').pop()!);
      assert.equal(r.code, 0, JSON.stringify(j.checks.filter((c: { pass: boolean }) => !c.pass)));
      assert.equal(j.pass, true);
      assert.ok(j.checks.length >= 12);
    });
  }

  it('score: one JSON object per input line, mean_logprob = mean of token_logprobs', async () => {
    const r = cli(['score', '--model', join(FIXTURES, 'bloom-tiny')], '"Hello world"\n"a bear in the woods."\n');
    assert.equal(r.code, 0, r.err);
    const rows = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(rows.length, 2);
    for (const x of rows) {
      assert.equal(x.token_logprobs.length, x.ids.length - 1);
      const m = x.token_logprobs.reduce((a: number, b: number) => a + b, 0) / x.token_logprobs.length;
      assert.ok(Math.abs(m - x.mean_logprob) < 1e-9);
    }
    const bad = cli(['score', '--model', join(FIXTURES, 'bloom-tiny')], 'not json\n');
    assert.equal(bad.code, 1);
    assert.match(bad.err, /stdin line 1: not JSON/);
  });

  it("generate --json: greedy equals the fixture's HF greedy ids", async () => {
    const fx = await loadFixture('bloom-tiny');
    const gen = fx.json.generation;
    await fx.ref.close();
    const r = cli([
      'generate',
      '--model',
      join(FIXTURES, 'bloom-tiny'),
      '--prompt',
      gen.prompt,
      '--max-new-tokens',
      String(gen.greedy_ids.length),
      '--no-stop',
      '--json',
    ]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out).ids, gen.greedy_ids);
  });

  it('a bad --dtype is a usage error (exit 2) naming the flag', () => {
    const r = cli(['score', '--model', join(FIXTURES, 'bloom-tiny'), '--dtype', 'f64'], '"x"\n');
    assert.equal(r.code, 2);
    assert.match(r.err, /--dtype must be f32 or f16/);
  });

  it('train stopped by Ctrl-C after step 1, then --resume alone (--out only) finishes the 4 steps', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ia-cli-train-'));
    try {
      const args = [
        'train',
        '--model',
        join(FIXTURES, 'bloom-tiny'),
        '--out',
        out,
        '--l1',
        'eng',
        '--l2',
        'sun',
        '--batch-size',
        '2',
        '--max-length',
        '16',
        '--save-steps',
        '3',
        '--lr',
        '1e-3',
        '--steps',
        '4',
      ];
      const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), ...args], {
        cwd: REPO,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (d) => {
        err += d;
      });
      const log = join(out, 'log.jsonl');
      const code = await new Promise<number | null>((done) => {
        const poll = setInterval(() => {
          if (existsSync(log) && readFileSync(log, 'utf8').includes('"step":1,')) {
            clearInterval(poll);
            child.kill('SIGINT');
          }
        }, 50);
        child.on('exit', (c) => {
          clearInterval(poll);
          done(c);
        });
      });
      assert.equal(code, 130, err);
      // a flag that changes the run is refused (exit 2, named); --resume alone continues with the saved options
      const bad = cli(['train', '--out', out, '--resume', '--steps', '5']);
      assert.equal(bad.code, 2, bad.err);
      assert.match(bad.err, /--steps 5 \(the run has 4\)/);
      const r = cli(['train', '--out', out, '--resume']);
      assert.equal(r.code, 0, r.err);
      assert.match(r.err, /4 steps × 2/);
      const lines = readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      // the first line states the data (step 0, event start); the resume neither repeats it nor any step
      assert.deepEqual(
        lines.map((l) => l.event ?? l.step),
        ['start', 1, 2, 3, 4],
      );
      assert.ok(JSON.parse(readFileSync(join(out, 'checkpoint', 'config.json'), 'utf8')).model_type === 'bloom');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
