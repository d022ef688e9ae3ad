// The run folder's safety rules: no training over an existing run without --resume/--overwrite, numbered
// checkpoints kept to --save-total-limit, a torn log line tolerated on --resume, divergence stops training without
// writing NaN, a NaN in the optimizer state is refused on --resume, and output folders fail with the real reason.
import assert from 'node:assert/strict';
import { Runtime } from '../../src/host/runtime.ts';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, getGpu, REPO } from '../helpers/gpu.ts';
import { train, TRAIN_DEFAULTS, type TrainOptions } from '../../src/train/trainer.ts';
import {
  DIVERGED_EXIT_CODE,
  firstNonFinite,
  MAX_CONSECUTIVE_SKIPPED,
  numberedCheckpoints,
  prepareRunFolder,
  TrainingDivergedError,
  truncateLog,
} from '../../src/train/run-folder.ts';
import { makeDir } from '../../src/util/mkdir.ts';
import { fileSource, SafetensorsFile, writeSafetensors, type TensorToWrite } from '../../src/model/safetensors.ts';
import type { Gradients } from '../../src/model/causal-lm.ts';

function options(out: string, steps: number, extra: Partial<TrainOptions> = {}): TrainOptions {
  return {
    ...TRAIN_DEFAULTS,
    model: join(FIXTURES, 'bloom-tiny'),
    out,
    pairs: join(REPO, 'data/nusax/mt/train.csv'),
    l1: ['eng'],
    l2: ['jav'],
    objectives: 'tlm',
    steps,
    lr: 2e-3,
    batchSize: 2,
    maxLength: 16,
    saveSteps: 1,
    seed: 3,
    ...extra,
  };
}

/** A NaN gradient from step `from` on (what a diverging loss produces). */
const nanFrom = (from: number) => (grads: Gradients, step: number) => {
  const t = grads.tensors.find((p) => p.name === 'ln_f.bias')!.tensor;
  if (step >= from) t.gpu.upload(t, new Float32Array(t.numel).fill(Number.NaN));
};

describe('train: run folders, divergence and resume checks', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'ia-run-'));
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('an existing non-empty --out is refused without --overwrite; --overwrite deletes only the run files', () => {
    const out = tmp();
    writeFileSync(join(out, 'log.jsonl'), '{"step":1}\n');
    mkdirSync(join(out, 'checkpoint'));
    mkdirSync(join(out, 'checkpoint-3'));
    writeFileSync(join(out, 'notes.txt'), 'mine');
    assert.throws(() => prepareRunFolder(out, false), /already exists and is not empty.*--resume.*--overwrite/);
    assert.ok(existsSync(join(out, 'log.jsonl')), 'nothing touched');
    prepareRunFolder(out, true);
    assert.deepEqual(readdirSync(out), ['notes.txt']);
    prepareRunFolder(join(out, 'new'), false); // a missing folder is fine
  });

  it('--resume drops a torn last line of log.jsonl; a bad line elsewhere names the file and line', () => {
    const out = tmp();
    const log = join(out, 'log.jsonl');
    writeFileSync(log, '{"step":1,"loss":2}\n{"step":2,"loss":1}\n{"step":3,"lo');
    const said: string[] = [];
    truncateLog(log, 2, (m) => said.push(m));
    assert.equal(readFileSync(log, 'utf8'), '{"step":1,"loss":2}\n{"step":2,"loss":1}\n');
    assert.match(said.join(), /log\.jsonl:3: dropping a torn last line/);
    writeFileSync(log, '{"step":1}\n{"ste\n{"step":3}\n');
    assert.throws(() => truncateLog(log, 3, () => {}), /log\.jsonl:2: not JSON/);
  });

  it('--resume says when log.jsonl is missing or lacks steps before the checkpoint (audit R6)', () => {
    const out = tmp();
    const log = join(out, 'log.jsonl');
    const said: string[] = [];
    truncateLog(log, 4, (m) => said.push(m));
    assert.match(said.join(), /log\.jsonl is missing: steps 1–4 of this run are not in the log/);
    said.length = 0;
    writeFileSync(log, '{"step":1}\n{"step":4}\n{"step":5}\n');
    truncateLog(log, 4, (m) => said.push(m));
    assert.equal(readFileSync(log, 'utf8'), '{"step":1}\n{"step":4}\n');
    assert.match(said.join(), /log\.jsonl lacks 2 of the 4 steps before the checkpoint \(steps 2–3\)/);
    said.length = 0;
    writeFileSync(log, '{"step":1}\n{"step":2}\n');
    truncateLog(log, 2, (m) => said.push(m));
    assert.deepEqual(said, [], 'a complete log: nothing to say');
  });

  it('output folders fail with the real cause (EROFS/EACCES, not ENOENT), naming the flag', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'file.txt'), 'x');
    assert.throws(
      () => makeDir(join(dir, 'file.txt'), '--out'),
      /--out .*file\.txt exists and is not a folder \(EEXIST\)/,
    );
    assert.throws(() => makeDir(join(dir, 'file.txt', 'a', 'b'), '--out'), /file\.txt is not a folder \(ENOTDIR\)/);
    // Node's recursive mkdir says ENOENT on a read-only mount (audit rows 162-164); the single mkdir says EROFS.
    // Simulated: as root in a container there is no read-only mount to try.
    const fake = ((p: string, o?: { recursive?: boolean }) => {
      throw Object.assign(new Error(`${o?.recursive ? 'ENOENT' : 'EROFS'}: ${p}`), {
        code: o?.recursive ? 'ENOENT' : 'EROFS',
      });
    }) as unknown as typeof mkdirSync;
    assert.throws(() => makeDir(join(dir, 'ro', 'run'), '--out', fake), /on a read-only file system \(EROFS\)/);
    makeDir(join(dir, 'a', 'b'), '--out');
    assert.ok(existsSync(join(dir, 'a', 'b')));
  });

  it('firstNonFinite names the tensor and element', () => {
    assert.equal(firstNonFinite([['a', new Float32Array([1, 2])]]), undefined);
    assert.equal(
      firstNonFinite([
        ['a', [1]],
        ['b', [0, Number.NEGATIVE_INFINITY]],
      ]),
      'b (element 1 is -Infinity)',
    );
    assert.equal(firstNonFinite([['c', new Float32Array([Number.NaN])]]), 'c (element 0 is NaN)');
  });

  it('--save-total-limit 2 keeps checkpoint-<step> for the last 2 saves beside checkpoint/', async () => {
    const out = tmp();
    await train(Runtime.onGpu(await getGpu()), options(out, 4, { saveTotalLimit: 2 }), false, { log: () => {} });
    assert.deepEqual(numberedCheckpoints(out), [3, 4]);
    for (const d of ['checkpoint', 'checkpoint-3', 'checkpoint-4'])
      assert.deepEqual(readdirSync(join(out, d)).sort(), [
        'config.json',
        'languages.json',
        'model.safetensors',
        'optimizer.safetensors',
        'tokenizer.json',
        'trainer_state.json',
      ]);
    assert.equal(JSON.parse(readFileSync(join(out, 'checkpoint-3', 'trainer_state.json'), 'utf8')).step, 3);
    assert.ok(!readdirSync(out).some((e) => e.endsWith('-tmp')), 'no temporary folder left');
    // the same --out again without --resume is refused (it truncated the log and replaced the checkpoint before)
    await assert.rejects(train(Runtime.onGpu(await getGpu()), options(out, 1), false, { log: () => {} }), /not empty/);
  });

  it('a NaN gradient without loss scaling stops training (exit code 3) and leaves the last finite checkpoint', async () => {
    const out = tmp();
    const err = await train(Runtime.onGpu(await getGpu()), options(out, 5), false, {
      log: () => {},
      afterBackward: nanFrom(3),
    }).then(
      () => undefined,
      (e) => e,
    );
    assert.ok(err instanceof TrainingDivergedError, String(err));
    assert.equal(err.exitCode, DIVERGED_EXIT_CODE);
    assert.match(err.message, /diverged at step 3: loss .*gradient norm NaN/);
    // advice that can be followed (audit R12: --resume --lr was refused, a plain --resume diverged again)
    assert.match(
      err.message,
      /start again \(--overwrite, or a new --out\): --resume continues with the run's own --lr/,
    );
    const st = JSON.parse(readFileSync(join(out, 'checkpoint', 'trainer_state.json'), 'utf8'));
    assert.equal(st.step, 2, 'the step-2 checkpoint is kept');
  });

  it(`with dynamic loss scaling, more than ${MAX_CONSECUTIVE_SKIPPED} skipped steps in a row stop training`, async () => {
    const out = tmp();
    const o = options(out, MAX_CONSECUTIVE_SKIPPED + 5, { lossScale: 'dynamic', saveSteps: 1000 });
    const said: number[] = [];
    await assert.rejects(
      train(Runtime.onGpu(await getGpu()), o, false, {
        log: () => {},
        afterBackward: nanFrom(2),
        onStep: (s) => said.push(s.step),
      }),
      (e: Error) => e instanceof TrainingDivergedError && /26 steps in a row up to step 27 overflowed/.test(e.message),
    );
    assert.equal(said.length, MAX_CONSECUTIVE_SKIPPED + 1, 'steps 1..26 ran on');
    const logged = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n');
    assert.equal(logged.length, MAX_CONSECUTIVE_SKIPPED + 3, 'the start line, steps 1..26 and the stopping step');
  });

  it('--resume refuses an optimizer state holding a NaN, naming the file and tensor', async () => {
    const out = tmp();
    await train(Runtime.onGpu(await getGpu()), options(out, 2), false, { log: () => {}, shouldStop: () => true }); // saved at 1
    const path = join(out, 'checkpoint', 'optimizer.safetensors');
    const f = await SafetensorsFile.open(await fileSource(path));
    const tensors: TensorToWrite[] = [];
    for (const name of f.tensors.keys()) {
      const data = await f.f32(name);
      if (name === 'v.ln_f.bias') data[1] = Number.NaN;
      tensors.push({ name, dtype: 'F32', shape: [data.length], data });
    }
    const meta = f.metadata;
    await f.close();
    await writeSafetensors(path, tensors, meta);
    await assert.rejects(
      train(Runtime.onGpu(await getGpu()), options(out, 2), true, { log: () => {} }),
      /optimizer\.safetensors: v\.ln_f\.bias \(element 1 is NaN\) is not finite/,
    );
  });
});
