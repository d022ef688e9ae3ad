// Checkpoints that would give silently wrong numbers are refused at load: a NaN/Inf weight (named), a config with
// fewer layers than the weights, a tokenizer whose ids run past the embedding; score never prints null.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime } from '../../src/host/runtime.ts';
import { openCheckpoint } from '../../src/model/checkpoint.ts';
import { fileSource, SafetensorsFile, writeSafetensors, type TensorToWrite } from '../../src/model/safetensors.ts';
import { FIXTURES, REPO } from '../helpers/gpu.ts';
import { makeTinyQwen3 } from '../helpers/tiny-qwen3.ts';

/** A copy of a fixture folder with `edit` applied to each tensor (by file name) and to config.json. */
async function variant(
  name: string,
  edit: (tensor: string, data: Float32Array, shape: number[]) => { data: Float32Array; shape: number[] } | undefined,
  config: (c: Record<string, unknown>) => void = () => {},
): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'ia-load-'));
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  const path = join(dir, 'model.safetensors');
  const f = await SafetensorsFile.open(await fileSource(path));
  const out: TensorToWrite[] = [];
  for (const [t, info] of f.tensors) {
    const data = await f.f32(t);
    const e = edit(t, data, info.shape) ?? { data, shape: info.shape };
    out.push({ name: t, dtype: 'F32', shape: e.shape, data: e.data });
  }
  await f.close();
  await writeSafetensors(path, out);
  const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  config(c);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(c));
  return dir;
}

const setAt = (match: string, i: number, x: number) => (t: string, data: Float32Array, shape: number[]) => {
  if (!t.endsWith(match)) return undefined;
  data[i] = x;
  return { data, shape };
};

describe('load checks (bloom-tiny variants)', () => {
  let rt: Runtime;
  const dirs: string[] = [];
  before(async () => {
    rt = await Runtime.create({ log: () => {} });
  });
  after(() => {
    rt?.dispose();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  for (const [where, x] of [
    ['ln_f.weight', Number.NaN],
    ['h.0.self_attention.query_key_value.weight', Number.NaN],
    ['word_embeddings.weight', Number.POSITIVE_INFINITY],
  ] as const) {
    it(`a ${x} in ${where} is refused at load, naming the tensor (f32 and --int8)`, async () => {
      const dir = await variant('bloom-tiny', setAt(where, 5, x));
      dirs.push(dir);
      for (const opts of [{}, { int8: true }]) {
        await assert.rejects(rt.loadModel({ path: dir, ...opts }), (e: Error) =>
          e.message.includes(`tensor '${where}' holds ${x} at element 5`),
        );
      }
    });
  }

  it('a config with fewer layers than the weights is refused (it scored a truncated model)', async () => {
    const dir = await variant(
      'bloom-tiny',
      () => undefined,
      (c) => {
        c.n_layer = 1;
      },
    );
    dirs.push(dir);
    await assert.rejects(rt.loadModel({ path: dir }), /belongs to layer 1, but config\.json has n_layer=1/);
  });

  it('the same refusal for a Qwen3 config names its own key (num_hidden_layers)', async () => {
    const dir = await makeTinyQwen3();
    dirs.push(dir);
    const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...c, num_hidden_layers: 1 }));
    await assert.rejects(
      openCheckpoint(dir),
      /\(vocab_size=151936, hidden_size=32, num_hidden_layers=1, num_attention_heads=4\)[\s\S]*'model\.layers\.1\.[a-z_.]+' in \S*model-00002-of-00002\.safetensors belongs to layer 1, but config\.json has num_hidden_layers=1/,
    );
  });

  it('a tokenizer with ids past vocab_size is refused (out-of-range embedding rows were scored)', async () => {
    const dir = await variant(
      'bloom-tiny',
      (t, data, shape) =>
        t.endsWith('word_embeddings.weight')
          ? { data: data.slice(0, 512 * shape[1]), shape: [512, shape[1]] }
          : undefined,
      (c) => {
        c.vocab_size = 512;
      },
    );
    dirs.push(dir);
    await assert.rejects(
      rt.loadModel({ path: dir }),
      /tokenizer\.json has ids up to 1023, but config\.json has vocab_size 512/,
    );
  });

  it('Runtime.scoreIds refuses a batch size that would loop forever', async () => {
    await rt.loadModel({ path: join(FIXTURES, 'bloom-tiny') });
    for (const b of [0, -1, 1.5])
      await assert.rejects(rt.scoreIds([[1, 2, 3]], b), /batch size must be a positive integer/);
  });

  it('generate: non-finite logits are an error, not <unk> tokens', async () => {
    await rt.loadModel({ path: join(FIXTURES, 'bloom-tiny') });
    const m = rt.loaded as unknown as { step: (...a: unknown[]) => Promise<Float32Array> };
    const real = m.step.bind(m);
    m.step = async (...a: unknown[]) => (await real(...a)).fill(Number.NaN); // a forward pass that overflowed
    await assert.rejects(rt.generate('Hello', { maxNewTokens: 3 }), /non-finite logit \(NaN\) for new token 1/);
    m.step = real;
    assert.equal((await rt.generate('Hello', { maxNewTokens: 2, stopAtEos: false })).ids.length, 2);
  });

  it('score CLI: one output line per input line (blank lines kept); a 1-token text is an error, not null', () => {
    const cli = (input: string) =>
      spawnSync(
        process.execPath,
        ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), 'score', '--model', join(FIXTURES, 'bloom-tiny')],
        { cwd: REPO, input, encoding: 'utf8' },
      );
    const r = cli('"Hello world"\n\n   \n"Apa kabar?"\n');
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines.length, 5); // 4 lines and the final newline
    assert.equal(lines[1], '');
    assert.equal(lines[2], '');
    for (const i of [0, 3]) assert.ok(Number.isFinite(JSON.parse(lines[i]).mean_logprob), lines[i]);
    const short = cli('"Hello world"\n""\n');
    assert.equal(short.status, 1);
    assert.match(short.stderr, /stdin line 2: "" is 0 token\(s\): a text needs at least 2 tokens/);
    assert.equal(short.stdout, '', 'nothing printed');
  });
});
