// Checkpoint folders: the HF-written fixtures and nano-bloomz (prefix / no prefix, F32 / F16), browser file maps,
// sharded folders, mismatch errors, and save -> open round trips (an F16 re-save must reproduce the HF file).
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCheckpoint, saveCheckpoint } from '../../src/model/checkpoint.ts';
import { bloomParameters, countParameters, parseBloomConfig, type BloomConfig } from '../../src/model/bloom/config.ts';
import { f32ArrayToBf16 } from '../../src/model/dtype.ts';
import { fileSource, SafetensorsFile, writeSafetensors, type TensorToWrite } from '../../src/model/safetensors.ts';

const TINY = fileURLToPath(new URL('../fixtures/bloom-tiny', import.meta.url));
const H6 = fileURLToPath(new URL('../fixtures/bloom-tiny-h6-f16', import.meta.url));
const NANO = fileURLToPath(new URL('../../models/nano-bloomz', import.meta.url));

/** The fixture's tensors exactly as stored (original names, raw bytes), read without the checkpoint module. */
async function fixtureTensors(dir: string): Promise<TensorToWrite[]> {
  const f = await SafetensorsFile.open(await fileSource(join(dir, 'model.safetensors')));
  const out: TensorToWrite[] = [];
  for (const t of f.tensors.values())
    out.push({ name: t.name, dtype: t.dtype, shape: t.shape, data: await f.raw(t.name) });
  await f.close();
  return out;
}

/** A temp folder with the fixture's config/tokenizer and the given tensors written as model.safetensors. */
async function folderWith(src: string, tensors: TensorToWrite[], config?: object): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ckpt-'));
  await copyFile(join(src, 'tokenizer.json'), join(dir, 'tokenizer.json'));
  if (config) await writeFile(join(dir, 'config.json'), JSON.stringify(config));
  else await copyFile(join(src, 'config.json'), join(dir, 'config.json'));
  await writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  return dir;
}

const temps: string[] = [];
const tmp = async (d: Promise<string>) => {
  const x = await d;
  temps.push(x);
  return x;
};
after(async () => {
  for (const d of temps) await rm(d, { recursive: true, force: true });
});

describe('openCheckpoint', () => {
  it('bloom-tiny (F32, transformer. prefix): canonical names, config, values as stored', async () => {
    const ck = await openCheckpoint(TINY);
    assert.equal(ck.config.hiddenSize, 64);
    assert.deepEqual(
      [...ck.tensors.keys()].sort(),
      bloomParameters(ck.config as BloomConfig)
        .map((p) => p.name)
        .sort(),
    );
    assert.deepEqual(ck.warnings, []);
    assert.equal(ck.lmHeadUntied, false);
    assert.match(ck.tokenizerJSON, /"model"/);
    const ref = (await fixtureTensors(TINY)).find((t) => t.name === 'transformer.h.1.mlp.dense_4h_to_h.weight')!;
    const got = await ck.f32('h.1.mlp.dense_4h_to_h.weight');
    assert.deepEqual(new Uint8Array(got.buffer), ref.data);
    assert.deepEqual(await ck.f32('transformer.ln_f.bias'), await ck.f32('ln_f.bias'));
    await assert.rejects(ck.f32('h.9.nope'), /no tensor 'h\.9\.nope'/);
    await ck.close();
  });

  it('bloom-tiny-h6-f16 (F16, no prefix): raw keeps F16 bytes, f32 converts them', async () => {
    const ck = await openCheckpoint(H6);
    const r = await ck.raw('word_embeddings.weight');
    assert.equal(r.dtype, 'F16');
    assert.deepEqual(r.shape, [700, 48]);
    const f = await ck.f32('word_embeddings.weight');
    assert.equal(f.length, 700 * 48);
    // 0x3c00 is 1.0 in half precision: spot-check the conversion on the stored bits.
    const bits = new Uint16Array(r.bytes.buffer, r.bytes.byteOffset, f.length);
    const i = bits.findIndex((b) => (b & 0x7c00) !== 0);
    const sign = bits[i] & 0x8000 ? -1 : 1,
      exp = (bits[i] >> 10) & 31,
      man = bits[i] & 0x3ff;
    assert.equal(f[i], sign * 2 ** (exp - 15) * (1 + man / 1024));
    await ck.close();
  });

  it('nano-bloomz: all 4,208,640 parameters present', async () => {
    const ck = await openCheckpoint(NANO);
    let n = 0;
    for (const { info } of ck.tensors.values()) n += info.shape.reduce((a, b) => a * b, 1);
    assert.equal(n, 4_208_640);
    assert.equal(n, countParameters(ck.config as BloomConfig));
    assert.equal(ck.config.torchDtype, 'float16');
    await ck.close();
  });

  it('opens a browser-style Map<string, Blob> (webkitdirectory paths) with the same tensors', async () => {
    const files = new Map<string, Blob>();
    for (const f of await readdir(TINY)) files.set(`bloom-tiny/${f}`, new Blob([await readFile(join(TINY, f))]));
    const ck = await openCheckpoint(files);
    const disk = await openCheckpoint(TINY);
    assert.equal(ck.dir, 'bloom-tiny');
    assert.deepEqual([...ck.tensors.keys()], [...disk.tensors.keys()]);
    assert.deepEqual(
      await ck.f32('h.0.self_attention.query_key_value.weight'),
      await disk.f32('h.0.self_attention.query_key_value.weight'),
    );
    await disk.close();
    files.delete('bloom-tiny/tokenizer.json');
    await assert.rejects(openCheckpoint(files), /checkpoint folder bloom-tiny has no tokenizer\.json/);
  });

  it('loads a sharded checkpoint through model.safetensors.index.json (prefixed and bare names mixed)', async () => {
    const ts = await fixtureTensors(TINY);
    const dir = await tmp(mkdtemp(join(tmpdir(), 'ckpt-shard-')));
    for (const f of ['config.json', 'tokenizer.json']) await copyFile(join(TINY, f), join(dir, f));
    const half = Math.floor(ts.length / 2);
    const shards = [
      ts.slice(0, half),
      ts.slice(half).map((t) => ({ ...t, name: t.name.replace(/^transformer\./, '') })),
    ];
    const weightMap: Record<string, string> = {};
    for (const [i, part] of shards.entries()) {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      await writeSafetensors(join(dir, file), part, { format: 'pt' });
      for (const t of part) weightMap[t.name] = file;
    }
    await writeFile(
      join(dir, 'model.safetensors.index.json'),
      JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }),
    );
    const ck = await openCheckpoint(dir);
    const ref = await openCheckpoint(TINY);
    assert.equal(ck.tensors.size, ref.tensors.size);
    for (const name of ref.tensors.keys())
      assert.deepEqual((await ck.raw(name)).bytes, (await ref.raw(name)).bytes, name);
    await ck.close();
    await ref.close();
    await rm(join(dir, 'model-00002-of-00002.safetensors'));
    await assert.rejects(
      openCheckpoint(dir),
      /model\.safetensors\.index\.json lists shard\(s\) model-00002-of-00002\.safetensors that are not in the folder/,
    );
  });

  it('a missing tensor names it, the expected shape and the file', async () => {
    const ts = (await fixtureTensors(H6)).filter((t) => t.name !== 'h.1.mlp.dense_4h_to_h.bias');
    const dir = await tmp(folderWith(H6, ts));
    await assert.rejects(openCheckpoint(dir), (e: Error) => {
      assert.match(
        e.message,
        /does not match its config\.json \(vocab_size=700, hidden_size=48, n_layer=2, n_head=6\)/,
      );
      assert.match(
        e.message,
        /tensor 'h\.1\.mlp\.dense_4h_to_h\.bias' is missing: config\.json expects shape \[48\], found no such tensor in .*model\.safetensors/,
      );
      return true;
    });
  });

  it('a wrong shape names the tensor, both shapes and the file', async () => {
    const ts = (await fixtureTensors(H6)).map((t) =>
      t.name === 'h.0.self_attention.dense.weight' ? { ...t, shape: [24, 96] } : t,
    );
    const dir = await tmp(folderWith(H6, ts));
    await assert.rejects(
      openCheckpoint(dir),
      /tensor 'h\.0\.self_attention\.dense\.weight' has the wrong shape: config\.json expects \[48,48\], .*model\.safetensors has \[24,96\]/,
    );
  });

  it('a config from another model size lists every mismatch', async () => {
    const dir = await tmp(
      folderWith(H6, await fixtureTensors(H6), {
        ...JSON.parse(await readFile(join(H6, 'config.json'), 'utf8')),
        n_layer: 3,
      }),
    );
    await assert.rejects(
      openCheckpoint(dir),
      /n_layer=3[\s\S]*'h\.2\.input_layernorm\.weight' is missing[\s\S]*'h\.2\.mlp\.dense_4h_to_h\.bias' is missing/,
    );
  });

  it('extra tensors become warnings; a tied lm_head is dropped; an untied one is kept and flagged', async () => {
    const ts = await fixtureTensors(H6);
    const emb = ts.find((t) => t.name === 'word_embeddings.weight')!;
    const extra = { name: 'rotary.inv_freq', dtype: 'F32' as const, shape: [2], data: new Float32Array(2) };
    const dir = await tmp(folderWith(H6, [...ts, { ...emb, name: 'lm_head.weight' }, extra]));
    const ck = await openCheckpoint(dir);
    assert.equal(ck.lmHeadUntied, false);
    assert.ok(!ck.tensors.has('lm_head.weight'));
    assert.deepEqual(ck.warnings, [
      `unexpected tensor 'rotary.inv_freq' in ${join(dir, 'model.safetensors')} (ignored)`,
    ]);
    await ck.close();
    const cfg = { ...JSON.parse(await readFile(join(H6, 'config.json'), 'utf8')), tie_word_embeddings: false };
    const untied = await openCheckpoint(await tmp(folderWith(H6, [...ts, { ...emb, name: 'lm_head.weight' }], cfg)));
    assert.equal(untied.lmHeadUntied, true);
    assert.deepEqual((await untied.raw('lm_head.weight')).shape, [700, 48]);
    await untied.close();
  });

  it('missing config.json / tokenizer.json / weights name the folder and the file expected', async () => {
    const dir = await tmp(mkdtemp(join(tmpdir(), 'ckpt-empty-')));
    await assert.rejects(openCheckpoint(dir), new RegExp(`checkpoint folder ${dir} has no config\\.json`));
    await copyFile(join(H6, 'config.json'), join(dir, 'config.json'));
    await assert.rejects(openCheckpoint(dir), new RegExp(`checkpoint folder ${dir} has no tokenizer\\.json`));
    await copyFile(join(H6, 'tokenizer.json'), join(dir, 'tokenizer.json'));
    await writeFile(join(dir, 'pytorch_model.bin'), '');
    await assert.rejects(openCheckpoint(dir), /has no model\.safetensors.*pytorch \.bin weights are not supported/);
    await assert.rejects(openCheckpoint(join(dir, 'nope')), /checkpoint folder .*nope cannot be read/);
  });
});

describe('saveCheckpoint', () => {
  async function params(dir: string): Promise<Map<string, Float32Array>> {
    const ck = await openCheckpoint(dir);
    const m = new Map<string, Float32Array>();
    for (const n of ck.tensors.keys()) m.set(n, await ck.f32(n));
    await ck.close();
    return m;
  }

  it('F16 re-save of the HF F16 fixture reproduces its model.safetensors byte for byte', async () => {
    const src = await openCheckpoint(H6);
    const out = await tmp(mkdtemp(join(tmpdir(), 'ckpt-save-')));
    await saveCheckpoint(out, src.config, src.tokenizerJSON, await params(H6), { dtype: 'F16' });
    await src.close();
    assert.ok((await readFile(join(out, 'model.safetensors'))).equals(await readFile(join(H6, 'model.safetensors'))));
    assert.equal(
      await readFile(join(out, 'tokenizer.json'), 'utf8'),
      await readFile(join(H6, 'tokenizer.json'), 'utf8'),
    );
    assert.deepEqual((await readdir(out)).sort(), ['config.json', 'model.safetensors', 'tokenizer.json']);
  });

  it('F32 save -> open round-trips exactly, without the prefix, and config.json parses back', async () => {
    const src = await openCheckpoint(TINY);
    const p = await params(TINY);
    const out = await tmp(mkdtemp(join(tmpdir(), 'ckpt-save-')));
    await saveCheckpoint(out, src.config, src.tokenizerJSON, p);
    const back = await openCheckpoint(out);
    assert.deepEqual({ ...back.config, raw: 0 }, { ...src.config, raw: 0 });
    for (const [n, v] of p) assert.deepEqual(await back.f32(n), v, n);
    const f = await SafetensorsFile.open(await fileSource(join(out, 'model.safetensors')));
    assert.ok([...f.tensors.keys()].every((k) => !k.startsWith('transformer.') && k !== 'lm_head.weight'));
    assert.deepEqual(f.metadata, { format: 'pt' });
    await f.close();
    await back.close();
    await src.close();
  });

  it('BF16 save rounds each value to nearest even and records torch_dtype bfloat16', async () => {
    const src = await openCheckpoint(TINY);
    const p = await params(TINY);
    const out = await tmp(mkdtemp(join(tmpdir(), 'ckpt-save-')));
    await saveCheckpoint(out, src.config, src.tokenizerJSON, p, { dtype: 'BF16' });
    const back = await openCheckpoint(out);
    assert.equal(back.config.torchDtype, 'bfloat16');
    const r = await back.raw('h.0.mlp.dense_h_to_4h.weight');
    assert.equal(r.dtype, 'BF16');
    assert.deepEqual(new Uint16Array(r.bytes.buffer), f32ArrayToBf16(p.get('h.0.mlp.dense_h_to_4h.weight')!));
    await back.close();
    await src.close();
  });

  it('refuses missing, mis-sized and unknown parameters before writing anything', async () => {
    const cfg = parseBloomConfig(JSON.parse(await readFile(join(TINY, 'config.json'), 'utf8')));
    const p = await params(TINY);
    p.delete('ln_f.bias');
    p.set('h.0.input_layernorm.weight', new Float32Array(3));
    p.set('h.7.foo', new Float32Array(1));
    const out = await tmp(mkdtemp(join(tmpdir(), 'ckpt-save-')));
    await assert.rejects(
      saveCheckpoint(out, cfg, '{}', p),
      /unexpected parameter 'h\.7\.foo'[\s\S]*'h\.0\.input_layernorm\.weight' has 3 values, shape \[64\] needs 64[\s\S]*'ln_f\.bias' is missing/,
    );
    assert.deepEqual(await readdir(out), []);
  });
});
