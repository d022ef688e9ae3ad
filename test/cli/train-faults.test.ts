// `instructalign train` as a child process under signals: SIGTERM and SIGHUP save like Ctrl-C (exit 143, 129);
// SIGKILL at random moments while checkpoints are being written (every step) never leaves a checkpoint that fails to
// load or resume.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, REPO } from '../helpers/gpu.ts';
import { openCheckpoint } from '../../src/model/checkpoint.ts';
import { fileSource, SafetensorsFile } from '../../src/model/safetensors.ts';

const ARGS = (out: string, steps: number) => [
  ...['train', '--model', join(FIXTURES, 'bloom-tiny'), '--out', out, '--steps', String(steps)],
  ...['--save-steps', '1', '--batch-size', '2', '--max-length', '16', '--objectives', 'tlm', '--l1', 'eng'],
  ...['--l2', 'jav', '--seed', '5'],
];

function start(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), ...args], {
    cwd: REPO,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (c) => {
    err += c;
  });
  const done = new Promise<{ code: number | null; signal: string | null; err: string }>((ok) =>
    child.on('exit', (code, signal) => ok({ code, signal, err })),
  );
  return { child, done };
}

async function until(cond: () => boolean, child: { exitCode: number | null }, ms = 120_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (child.exitCode !== null) throw new Error(`train exited ${child.exitCode} early`);
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The checkpoint --resume would pick (checkpoint/, or .checkpoint-old after a crash between the renames). */
function lastCheckpoint(out: string): string | undefined {
  return ['checkpoint', '.checkpoint-old']
    .map((d) => join(out, d))
    .find((d) => existsSync(join(d, 'trainer_state.json')));
}

describe('train under signals (child process)', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'ia-faults-'));
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('SIGTERM finishes the step, saves a checkpoint and exits 143', async () => {
    const out = tmp();
    const { child, done } = start([...ARGS(out, 10_000), '--save-steps', '10000']);
    await until(
      () => existsSync(join(out, 'log.jsonl')) && readFileSync(join(out, 'log.jsonl'), 'utf8').length > 0,
      child,
    );
    child.kill('SIGTERM');
    const r = await done;
    assert.equal(r.code, 143, r.err);
    assert.match(r.err, /SIGTERM: finishing this step and saving a checkpoint/);
    const st = JSON.parse(readFileSync(join(out, 'checkpoint', 'trainer_state.json'), 'utf8'));
    assert.ok(st.step >= 1 && st.step < 10_000, `saved at step ${st.step}`);
  });

  it('SIGHUP (the terminal or ssh session closed) saves like SIGTERM and exits 129 (audit F10)', async () => {
    const out = tmp();
    const { child, done } = start([...ARGS(out, 10_000), '--save-steps', '10000']);
    await until(
      () => existsSync(join(out, 'log.jsonl')) && readFileSync(join(out, 'log.jsonl'), 'utf8').length > 0,
      child,
    );
    child.kill('SIGHUP');
    const r = await done;
    assert.equal(r.code, 129, r.err);
    assert.match(r.err, /SIGHUP: finishing this step and saving a checkpoint/);
    const st = JSON.parse(readFileSync(join(out, 'checkpoint', 'trainer_state.json'), 'utf8'));
    const logged = readFileSync(join(out, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .filter((l) => !l.includes('"event":"start"')).length; // the first line states the data, not a step
    assert.equal(st.step, logged, 'every logged step is in the checkpoint');
  });

  it('SIGKILL at random moments during saves: the last checkpoint always loads, and the next run resumes from it', async () => {
    const out = tmp();
    let lastStep = 0;
    for (let trial = 0; trial < 3; trial++) {
      const { child, done } = start(trial === 0 ? ARGS(out, 10_000) : [...ARGS(out, 10_000), '--resume']);
      // wait for a fresh save, then kill somewhere inside the next ones (each step writes a checkpoint)
      await until(() => {
        const d = lastCheckpoint(out);
        try {
          return !!d && JSON.parse(readFileSync(join(d, 'trainer_state.json'), 'utf8')).step > lastStep;
        } catch {
          return false; // read while being renamed
        }
      }, child);
      await new Promise((r) => setTimeout(r, Math.random() * 1500));
      child.kill('SIGKILL');
      await done;
      const dir = lastCheckpoint(out);
      assert.ok(dir, `trial ${trial}: no checkpoint left`);
      const st = JSON.parse(readFileSync(join(dir, 'trainer_state.json'), 'utf8'));
      assert.ok(st.step > lastStep, `trial ${trial}: step ${st.step} after ${lastStep}`);
      lastStep = st.step;
      const ck = await openCheckpoint(dir);
      await ck.f32('ln_f.weight');
      await ck.close();
      const opt = await SafetensorsFile.open(await fileSource(join(dir, 'optimizer.safetensors')));
      await opt.close();
    }
  });
});
