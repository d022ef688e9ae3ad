// Run identity (issue 24 item 3): a run id and the base model's content hashes in train_config.json and every
// trainer_state.json; --resume refuses a checkpoint copied in from another run (audit R9) and a --model that is not
// the run's base model (audit R3); a save that fails for lack of space (ENOSPC, injected into the file writes)
// removes its temporary folder and names it, the space a checkpoint needs and the space free (audit F3/F4, row 187).
import assert from 'node:assert/strict';
import { Runtime } from '../../src/host/runtime.ts';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getGpu, FIXTURES, REPO } from '../helpers/gpu.ts';
import { BaseModelMismatchError, train, TRAIN_DEFAULTS, type TrainOptions } from '../../src/train/trainer.ts';
import { newRunId } from '../../src/train/run-identity.ts';

function options(out: string, extra: Partial<TrainOptions> = {}): TrainOptions {
  return {
    ...TRAIN_DEFAULTS,
    model: join(FIXTURES, 'bloom-tiny'),
    out,
    pairs: join(REPO, 'data/nusax/mt/train.csv'),
    l1: ['eng'],
    l2: ['sun'],
    objectives: 'tlm',
    replay: 'none',
    steps: 2,
    batchSize: 2,
    gradAccum: 1,
    maxLength: 16,
    saveSteps: 1,
    ...extra,
  };
}

const json = (f: string) => JSON.parse(readFileSync(f, 'utf8'));

describe('run identity (bloom-tiny fixture)', function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'ia-runid-'));
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const quiet = { log: () => {} };

  it('a run id and the base model hashes are in train_config.json and trainer_state.json, kept on resume', async () => {
    const gpu = await getGpu();
    const out = tmp();
    await train(Runtime.onGpu(gpu), options(out), false, { ...quiet, shouldStop: () => true }); // saved after step 1, as Ctrl-C
    const cfg = json(join(out, 'train_config.json')),
      st = json(join(out, 'checkpoint', 'trainer_state.json'));
    assert.match(cfg.run_id, /^\d{8}T\d{6}Z-[0-9a-f]{8}$/);
    assert.equal(st.run_id, cfg.run_id);
    assert.deepEqual(Object.keys(cfg.base_model.files).sort(), ['config.json', 'model.safetensors', 'tokenizer.json']);
    for (const h of Object.values(cfg.base_model.files)) assert.match(h as string, /^xxh64:[0-9a-f]{16}$/);
    assert.deepEqual(st.base_model, cfg.base_model);
    assert.equal(cfg.base_model.path, join(FIXTURES, 'bloom-tiny'));
    await train(Runtime.onGpu(gpu), { out } as TrainOptions, true, quiet);
    const st2 = json(join(out, 'checkpoint', 'trainer_state.json'));
    assert.equal(st2.step, 2);
    assert.equal(st2.run_id, cfg.run_id, 'a resumed run keeps its id');
    assert.equal(json(join(out, 'train_config.json')).run_id, cfg.run_id);
    assert.deepEqual(st2.base_model, cfg.base_model);
  });

  it('--resume refuses a checkpoint copied in from another run (R9)', async () => {
    const gpu = await getGpu();
    const a = tmp(),
      b = tmp();
    await train(Runtime.onGpu(gpu), options(a, { steps: 1 }), false, quiet);
    await train(Runtime.onGpu(gpu), options(b, { steps: 2, lr: 1e-3, seed: 7 }), false, quiet);
    const logBefore = readFileSync(join(a, 'log.jsonl'), 'utf8');
    rmSync(join(a, 'checkpoint'), { recursive: true });
    cpSync(join(b, 'checkpoint'), join(a, 'checkpoint'), { recursive: true });
    await assert.rejects(train(Runtime.onGpu(gpu), { out: a } as TrainOptions, true, quiet), (e: Error) => {
      assert.match(e.message, /belongs to another run: its trainer_state\.json has run_id \S+ \(its run folder was /);
      assert.match(e.message, /train_config\.json has run_id \S+: the checkpoint was copied in from another run/);
      return true;
    });
    assert.equal(readFileSync(join(a, 'log.jsonl'), 'utf8'), logBefore, 'the log is untouched');
  });

  it('--resume --model OTHER is refused unless it holds the same model (R3)', async () => {
    const gpu = await getGpu();
    const out = tmp();
    await train(Runtime.onGpu(gpu), options(out, { steps: 2 }), false, {
      ...quiet,
      shouldStop: () => true, // stop (and save) after step 1, as Ctrl-C
    });
    await assert.rejects(
      train(Runtime.onGpu(gpu), { out, model: join(FIXTURES, 'bloom-tiny-h6-f16') } as TrainOptions, true, quiet),
      (e: Error) => {
        assert.ok(e instanceof BaseModelMismatchError);
        assert.match(
          e.message,
          /not the model this run started from \(.*bloom-tiny\): config\.json, model\.safetensors/,
        );
        return true;
      },
    );
    const cfg = json(join(out, 'train_config.json'));
    assert.equal(cfg.model, join(FIXTURES, 'bloom-tiny'), 'the records still name the base model');
    // a moved copy of the same model is the same base model
    const moved = join(tmp(), 'copy');
    cpSync(join(FIXTURES, 'bloom-tiny'), moved, { recursive: true });
    await train(Runtime.onGpu(gpu), { out, model: moved } as TrainOptions, true, quiet);
    assert.equal(json(join(out, 'checkpoint', 'trainer_state.json')).step, 2);
    assert.equal(json(join(out, 'train_config.json')).base_model.path, moved);
  });

  it('a save that runs out of space removes its temporary folder and names it and the space needed', async () => {
    const gpu = await getGpu();
    const out = tmp();
    // from step 2 on, every file opened in the checkpoint's temporary folder fails its first write with ENOSPC
    let armed = false;
    const open = fsp.open;
    fsp.open = (async (...args: Parameters<typeof open>) => {
      const fh = await open(...args);
      if (armed && String(args[0]).includes('.checkpoint-tmp')) {
        fh.write = (async () => {
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        }) as typeof fh.write;
      }
      return fh;
    }) as typeof open;
    syncBuiltinESMExports();
    try {
      await assert.rejects(
        train(Runtime.onGpu(gpu), options(out, { steps: 3 }), false, {
          ...quiet,
          onStep: (s) => void (armed = s.step === 2),
        }),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'ENOSPC');
          const tmpDir = join(out, '.checkpoint-tmp').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          assert.match(
            e.message,
            new RegExp(`cannot save the checkpoint of step 2 in ${tmpDir}: no space left on the device \\(ENOSPC\\)`),
          );
          assert.match(
            e.message,
            /a checkpoint needs about \d+\.\d MiB beside the last one; the file system of .* has/,
          );
          assert.match(e.message, /MiB free\. The partial folder was removed .*checkpoint \(the last save\) is intact/);
          return true;
        },
      );
    } finally {
      fsp.open = open;
      syncBuiltinESMExports();
    }
    assert.ok(!existsSync(join(out, '.checkpoint-tmp')), 'no partial hidden folder is left');
    assert.equal(json(join(out, 'checkpoint', 'trainer_state.json')).step, 1, 'the step-1 checkpoint is intact');
  });

  it('--resume without checkpoint/ points at the numbered checkpoints (audit R11)', async () => {
    const out = tmp();
    for (const n of [5, 6]) mkdirSync(join(out, `checkpoint-${n}`));
    await assert.rejects(train(undefined as never, { out } as TrainOptions, true, quiet), (e: Error) => {
      assert.match(e.message, /no checkpoint in .* but it holds checkpoint-5, checkpoint-6: to resume from the latest/);
      assert.match(e.message, /copy it \(cp -r .*checkpoint-6 .*checkpoint\) and --resume again \(--overwrite would/);
      return true;
    });
  });

  it('run ids are unique and sortable by start time', () => {
    const a = newRunId(new Date('2026-12-07T14:15:02.123Z')),
      b = newRunId(new Date('2026-12-07T14:15:02.123Z'));
    assert.match(a, /^20261207T141502Z-[0-9a-f]{8}$/);
    assert.notEqual(a, b);
  });
});
