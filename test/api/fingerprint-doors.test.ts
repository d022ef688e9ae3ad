// The evaluation fingerprint through the real doors (Node API and CLI, bloom-tiny on the GPU): the files' content
// hashes are taken when the model is loaded, so a folder changed between loadModel and evaluate cannot lend its name
// to the scores of the weights on the GPU (audit A56), and the int8 threshold given to loadModel is recorded
// (audit A57). The fake-scorer cases (data texts, same size and time, schema) are in test/eval/fingerprint.test.ts.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, openSync, readFileSync, writeFileSync, writeSync, closeSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime } from '../../src/index.ts';
import { loadRuntimeScorer, runWith } from '../../src/cli/eval.ts';
import { openCheckpoint } from '../../src/model/checkpoint.ts';
import { FIXTURES } from '../helpers/gpu.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ia-fp-doors-'));

/** A copy of bloom-tiny and a two-row data file. */
function setup() {
  const T = tmp();
  cpSync(join(FIXTURES, 'bloom-tiny'), join(T, 'm'), { recursive: true });
  writeFileSync(join(T, 'd.csv'), 'id,text,label\n1,I love this,positive\n2,I hate this,negative\n');
  return T;
}

/** Changes the last 4 bytes of the weight file (the last element of the last tensor): same size, other weights. */
function otherWeights(file: string): void {
  const size = statSync(file).size,
    fd = openSync(file, 'r+');
  try {
    writeSync(fd, new Uint8Array(new Float32Array([0.123]).buffer), 0, 4, size - 4);
  } finally {
    closeSync(fd);
  }
}

describe('eval fingerprint through the API and the CLI (bloom-tiny)', function () {
  this.timeout(120_000);

  it('loadModel keeps the content hashes of the files it loaded; openCheckpoint gives the same ones', async () => {
    const T = setup();
    const rt = await createRuntime({ log: () => {} });
    try {
      const info = await rt.loadModel(join(T, 'm'));
      assert.deepEqual(Object.keys(info.files).sort(), ['config.json', 'model.safetensors', 'tokenizer.json']);
      for (const h of Object.values(info.files)) assert.match(h, /^xxh64:[0-9a-f]{16}$/);
      const ck = await openCheckpoint(join(T, 'm'));
      await ck.close();
      assert.deepEqual(ck.contentHashes, info.files);
      otherWeights(join(T, 'm', 'model.safetensors'));
      const ck2 = await openCheckpoint(join(T, 'm'));
      await ck2.close();
      assert.notEqual(ck2.contentHashes['model.safetensors'], info.files['model.safetensors']);
      assert.equal(ck2.contentHashes['config.json'], info.files['config.json']);
      assert.deepEqual((await rt.info()).files, info.files, 'the loaded model keeps the hashes it was loaded with');
    } finally {
      await rt.dispose();
    }
  });

  it('weights changed after loadModel: the API records what it scored and the CLI then refuses (A56)', async () => {
    const T = setup();
    const req = { data: join(T, 'd.csv'), task: 'sentiment', prompts: [1], out: join(T, 'ev') };
    const rt = await createRuntime({ log: () => {} });
    let loaded: Record<string, string>;
    try {
      loaded = (await rt.loadModel(join(T, 'm'))).files;
      otherWeights(join(T, 'm', 'model.safetensors')); // the folder now holds B; A is on the GPU
      await rt.evaluate(req);
    } finally {
      await rt.dispose();
    }
    const fp = JSON.parse(readFileSync(join(T, 'ev', 'fingerprint.json'), 'utf8'));
    assert.deepEqual(fp.modelFiles, loaded, 'the fingerprint names the weights that were scored');
    const argv = ['--model', join(T, 'm'), '--data', join(T, 'd.csv'), '--prompts', '1', '--out', join(T, 'ev')];
    await assert.rejects(
      runWith(argv, loadRuntimeScorer, () => {}),
      (e: Error) => {
        assert.match(e.message, /holds predictions made with another model or setting/);
        assert.match(e.message, /model file model\.safetensors: xxh64:[0-9a-f]{16} → xxh64:[0-9a-f]{16}/);
        return true;
      },
    );
  });

  it('the int8 threshold given to loadModel is in the fingerprint and results.json (A57)', async () => {
    const T = setup();
    const req = { data: join(T, 'd.csv'), task: 'sentiment', prompts: [1], out: join(T, 'ev') };
    const rt = await createRuntime({ log: () => {} });
    try {
      await rt.loadModel(join(T, 'm'), { int8: true, int8Threshold: 6 });
      const r = await rt.evaluate(req);
      assert.equal(r.model.int8Threshold, 6);
      await rt.loadModel(join(T, 'm'), { int8: true, int8Threshold: 0.05 });
      await assert.rejects(rt.evaluate(req), /int8Threshold: 6 → 0\.05/);
    } finally {
      await rt.dispose();
    }
  });
});
