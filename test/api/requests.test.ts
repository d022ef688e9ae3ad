// The request layer (src/api/requests/) at the API's door: the audit's rows (reliability-2026-12-07, repro r09/r10
// and the UNCLEAR API rows) each give a RequestError naming the field, or the correct result, and never a raw
// TypeError, a NaN score or a silent run. The validation rows run before any GPU work; the others use bloom-tiny.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createRuntime,
  langCode,
  langName,
  parseClassificationText,
  parsePairsJsonl,
  parsePairsTable,
  parseParallelText,
  type InstructAlignRuntime,
} from '../../src/index.ts';
import { EVALUATE, RequestError, TRAIN } from '../../src/api/requests/index.ts';
import { FIXTURES } from '../helpers/gpu.ts';

const MODEL = join(FIXTURES, 'bloom-tiny');

/** The promise rejects with a RequestError whose message matches (and names `field`). */
async function refused(p: Promise<unknown> | (() => unknown), field: string, re: RegExp): Promise<void> {
  await assert.rejects(
    async () => (typeof p === 'function' ? p() : p),
    (e: Error) => {
      assert.ok(RequestError.is(e), `${e.name}: ${e.message}`);
      assert.equal((e as RequestError).field, field, e.message);
      assert.match(e.message, re);
      return true;
    },
  );
}

describe('request layer: definitions', () => {
  it('the exported data helpers name a non-string argument instead of a raw TypeError (A58)', async () => {
    await refused(() => parsePairsTable(null as never), 'text', /parsePairsTable: text must be a string, got null/);
    await refused(() => parsePairsJsonl(5 as never), 'text', /parsePairsJsonl: text must be a string, got 5/);
    await refused(() => parseParallelText('a\tb', null as never), 'name', /parseParallelText: name must be/);
    await refused(
      () => parseClassificationText(123 as never, 'x.csv', ['a', 'b'], { defaultLang: 'eng' }),
      'text',
      /parseClassificationText: text must be a string, got 123/,
    );
    await refused(() => langCode(null as never), 'key', /langCode: key must be a string, got null/);
    await refused(() => langName({} as never), 'code', /langName: code must be a string, got an object/);
    assert.equal(langCode('en'), 'eng');
  });

  it('train: steps 0 / -1 / 1.5 / "2", lr -1, warmupSteps -5, saveSteps 0 and unknown keys are refused (A33–A40)', async () => {
    const base = { out: '/tmp/never-written' };
    for (const [o, field, re] of [
      [{ steps: 0 }, 'steps', /train: steps must be a positive integer, got 0/],
      [{ steps: -1 }, 'steps', /steps must be a positive integer, got -1/],
      [{ steps: 1.5 }, 'steps', /steps must be a positive integer, got 1\.5/],
      [{ steps: '2' }, 'steps', /steps must be a number, got "2"/],
      [{ lr: -1 }, 'lr', /lr must be > 0, got -1/],
      [{ lr: Number.NaN }, 'lr', /lr must be a number, got NaN/],
      [{ warmupSteps: -5 }, 'warmupSteps', /warmupSteps must be a non-negative integer, got -5/],
      [{ saveSteps: 0 }, 'saveSteps', /saveSteps must be a positive integer, got 0/],
      [{ batchSize: 1.5 }, 'batchSize', /batchSize must be a positive integer/],
      [{ learningRate: 0.5 }, 'learningRate', /learningRate is not an option of train \(did you mean lr\?\)/],
      [{ l2: 42 }, 'l2', /l2 must be a list, got 42/],
      [{ model: 42 }, 'model', /model must be a string, got 42/],
      [{ batchSize: 6, gradAccum: 4 }, 'batchSize', /6 must be a multiple of gradAccum 4/],
    ] as const)
      await refused(() => TRAIN.given({ ...base, ...o }), field, re);
    await refused(() => TRAIN.given({ steps: 3 }), 'out', /train: out is required/);
    await refused(() => TRAIN.given(null), 'the request', /must be an object of options, got null/);
    assert.deepEqual(TRAIN.given({ out: 'o', l2: ['jav'], steps: 3 }), { out: 'o', l2: ['jav'], steps: 3 });
  });

  it('evaluate: defaults filled once (batch 16, prompts 1,2,3, maxLength 1024); batchSize 0, langs [] refused (A23, A26)', async () => {
    const r = EVALUATE.parse({});
    assert.equal(r.batchSize, 16);
    assert.deepEqual(r.prompts, [1, 2, 3]);
    assert.equal(r.maxLength, 1024);
    assert.equal(r.prefixSharing, true);
    assert.equal(r.data, 'nusax');
    await refused(() => EVALUATE.parse({ batchSize: 0 }), 'batchSize', /batchSize must be a positive integer, got 0/);
    await refused(() => EVALUATE.parse({ langs: [] }), 'langs', /langs needs at least one value/);
    await refused(() => EVALUATE.parse({ langs: 'eng' }), 'langs', /langs must be a list, got "eng"/);
    await refused(() => EVALUATE.parse({ prompts: '1' }), 'prompts', /prompts must be a list of prompt numbers/);
    await refused(() => EVALUATE.parse({ maxLength: 1 }), 'maxLength', /maxLength must be ≥ 2, got 1/);
    await refused(() => EVALUATE.parse({ out: 42 }), 'out', /out must be a string, got 42/);
    await refused(() => EVALUATE.parse({ templates: 'x' }), 'templates', /templates must be a list of strings/);
    await refused(() => EVALUATE.parse({ batch_size: 8 }), 'batch_size', /did you mean batchSize\?/);
  });

  it('labels: a duplicate, also in another case or Unicode form, is refused; labels are NFC (E13)', async () => {
    await refused(
      () => EVALUATE.parse({ labels: ['negative', 'negative', 'positive'] }),
      'labels',
      /labels has "negative" twice/,
    );
    await refused(
      () => EVALUATE.parse({ labels: ['negative', 'Negative', 'positive'] }),
      'labels',
      /"negative" and "Negative": labels that differ only in case are one label/,
    );
    const nfd = 'cafe\u0301',
      nfc = 'café';
    await refused(() => EVALUATE.parse({ labels: [nfc, nfd] }), 'labels', /twice/);
    assert.deepEqual(EVALUATE.parse({ labels: [nfd, 'tea'] }).labels, [nfc, 'tea']);
  });

  it('the CLI parses its flags with the same table: --labels duplicates are a usage error', async () => {
    const { parseCommand } = await import('../../src/cli/args.ts');
    const { spec } = await import('../../src/cli/eval.ts');
    assert.throws(
      () => parseCommand(['--model', 'm', '--out', 'o', '--labels', 'negative,Negative,positive'], spec),
      /--labels has "negative" and "Negative"/,
    );
    // (mocha may load the CLI module as a second copy: compare the tables, not the objects)
    const rows = (t: Record<string, { type: string; help: string }>) =>
      Object.entries(t).map(([k, o]) => `${k} ${o.type} ${o.help}`);
    assert.deepEqual(rows(spec.options), rows(EVALUATE.options));
  });
});

describe('request layer: eval prompts and labels at the CLI (before any model load)', () => {
  async function runMain(argv: string[]): Promise<{ code: number; err: string }> {
    const { main } = await import('../../src/cli/main.ts');
    const error = console.error;
    let err = '';
    console.error = (...a: unknown[]) => {
      err += `${a.join(' ')}\n`;
    };
    try {
      return { code: await main(argv), err };
    } finally {
      console.error = error;
    }
  }
  const base = ['eval', '--model', MODEL, '--out', '/tmp/never-written', '--data', 'data.csv', '--labels', 'neg,pos'];
  it('--prompt with an unknown placeholder [OPTION] exits 2 naming it (E11)', async () => {
    const r = await runMain([...base, '--prompt', 'Text: [INPUT] Options: [OPTION]. Answer: [LABELS_CHOICE]']);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /--prompt 1: unknown placeholder \[OPTION\] in the template \(the placeholders are \[INPUT\]/);
    const lower = await runMain([...base, '--prompt', '[input] [LABELS_CHOICE] [INPUT]']);
    assert.match(lower.err, /unknown placeholder \[input\]/);
  });
  it('--labels negative,negative,positive and negative,Negative,positive exit 2 (E13)', async () => {
    for (const labels of ['negative,negative,positive', 'negative,Negative,positive']) {
      const r = await runMain(['eval', '--model', MODEL, '--out', '/tmp/never-written', '--labels', labels]);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /instructalign eval: --labels has "negative"/);
    }
  });
  it('data reads its flags from DATA, sharing train’s; --objectives foo exits 2 naming the flag in both', async () => {
    const { spec } = await import('../../src/cli/data.ts');
    const { DATA } = await import('../../src/api/requests/data.ts');
    const rows = (t: Record<string, { type: string; help: string }>) =>
      Object.entries(t).map(([k, o]) => `${k} ${o.type} ${o.help}`);
    assert.deepEqual(rows(spec.options), rows(DATA.options));
    for (const f of ['pairs', 'flores-held-out', 'l1', 'l2', 'lang-names', 'columns', 'replay', 'replay-size', 'seed'])
      assert.deepEqual(DATA.options[f], TRAIN.options[f], `data --${f} is train's`);
    // an unknown objective was found after the data was read (data: exit 1, no flag named) or after the GPU was
    // opened (train); now it is a usage error of the flag, as every other bad value
    for (const cmd of [
      ['data', '--preview', '1'],
      ['train', '--model', MODEL, '--out', '/tmp/never-written'],
    ]) {
      const r = await runMain([...cmd, '--objectives', 'tlm,foo']);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, new RegExp(`instructalign ${cmd[0]}: --objectives: unknown objective "foo" \\(known: mlm,`));
    }
    await refused(
      () => TRAIN.parse({ out: 'o', objectives: 'foo' }),
      'objectives',
      /^train: objectives: unknown objective "foo"/,
    );
  });
  it('the API names the template: templates[1] (E11 through evaluate)', async () => {
    const { customPrompts } = await import('../../src/eval/tasks.ts');
    assert.throws(
      () =>
        customPrompts(
          ['[INPUT] [LABELS_CHOICE]', '[INPUT] [OPTION] [LABELS_CHOICE]'],
          ['templates[0]', 'templates[1]'],
        ),
      /templates\[1\]: unknown placeholder \[OPTION\]/,
    );
    // brackets that are not placeholders stay text: [sic], [1], [Note]
    assert.equal(customPrompts(['[INPUT] [sic] [1] [Note]: [LABELS_CHOICE]']).length, 1);
  });
});

describe('request layer: the Node runtime (bloom-tiny)', () => {
  let rt: InstructAlignRuntime;
  before(async () => {
    rt = await createRuntime({ log: () => {} });
    await rt.loadModel(MODEL);
  });
  after(async () => {
    await rt?.dispose();
  });

  it('wrong-type calls name the argument or field, before any GPU work (A1, A4, A6, A7, A10–A12, A19, A20, A32)', async () => {
    await refused(createRuntime(null as never), 'the request', /createRuntime: the request must be an object/);
    await refused(createRuntime({ log: 5 } as never), 'log', /log must be a function, got 5/);
    await refused(rt.loadModel(123 as never), 'path', /loadModel: path must be a model folder path/);
    await refused(rt.loadModel(MODEL, null as never), 'the request', /must be an object/);
    await refused(rt.loadModel(MODEL, { dtype: 'f64' } as never), 'dtype', /dtype must be f32 or f16, got "f64"/);
    await refused(rt.loadModel(MODEL, { onProgress: 5 } as never), 'onProgress', /must be a function/);
    await refused(rt.score('Hello world' as never), 'texts', /texts must be an array of strings, got string/);
    await refused(rt.score([null] as never), 'texts[0]', /must be a string, got null/);
    await refused(rt.score(['a b c'], null as never), 'the request', /score: the request must be an object/);
    await refused(rt.score(['a b c'], { batchSize: '8' } as never), 'batchSize', /must be a number, got "8"/);
    await refused(
      rt.score(['a b c'], { batchsize: 2 } as never),
      'batchsize',
      /not an option of score \(did you mean batchSize\?\)/,
    );
    await refused(rt.score(['a b c'], { groupSize: 0 }), 'groupSize', /must be a positive integer, got 0/);
    await refused(rt.generate(null as never), 'prompt', /generate: prompt must be a non-empty text/);
    await refused(rt.generate('Hello', null as never), 'the request', /must be an object/);
    await refused(rt.generate('Hello', { maxNewTokens: Number.NaN }), 'maxNewTokens', /must be a number, got NaN/);
    await refused(rt.generate('Hello', { maxNewTokens: 1.5 }), 'maxNewTokens', /must be a positive integer/);
    await refused(rt.evaluate(null as never), 'the request', /evaluate: the request must be an object/);
    await refused(rt.evaluate({ limit: 1 }, null as never), 'the request', /evaluate: the request must be an object/);
    await refused(rt.train(null as never), 'the request', /train: the request must be an object/);
    await refused(rt.train({} as never), 'out', /train: out is required/);
    // the model is still loaded: nothing above unloaded it
    assert.equal((await rt.info()).config.vocabSize > 0, true);
  });

  it('score: a one-token text is an error naming it, never NaN (A13)', async () => {
    await refused(rt.score(['Hello world', 'a']), 'texts[1]', /is 1 token\(s\): a text needs at least 2 tokens/);
    await refused(rt.score(['']), 'texts[0]', /is 0 token\(s\)/);
    await refused(rt.score(['Hello world'], { maxLength: 1 }), 'maxLength', /maxLength must be ≥ 2, got 1/);
    const [r] = await rt.score(['Hello world']);
    assert.ok(Number.isFinite(r.mean_logprob));
  });

  it('decode / generate refuse ids past the vocabulary, negative, fractional or not numbers (A14, A15)', async () => {
    const V = (await rt.info()).config.vocabSize;
    await refused(rt.decode([99999]), 'ids[0]', /= 99999 is past the vocabulary/);
    await refused(rt.decode([5, -1]), 'ids[1]', /is not a token id: -1/);
    await refused(rt.decode([1.5]), 'ids[0]', /is not a token id: 1\.5/);
    await refused(rt.decode(['a'] as never), 'ids[0]', /is not a token id: "a"/);
    await refused(rt.decode('abc' as never), 'ids', /must be an array of token ids/);
    await refused(rt.generate([V] as never, { maxNewTokens: 2 }), 'prompt[0]', /past the vocabulary/);
    const ids = (await rt.tokenize(['Hello world']))[0];
    assert.equal(await rt.decode(ids), 'Hello world');
  });

  it('generate: a maxNewTokens whose KV cache cannot fit names maxNewTokens (A17: it named only a tensor)', async () => {
    await refused(rt.generate('Hello', { maxNewTokens: 1e9 }), 'maxNewTokens', /needs a KV cache larger than/);
  });

  it('evaluate / train refuse bad options before loading or writing anything (A23, A26, A33–A40)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ia-req-'));
    try {
      await refused(rt.evaluate({ langs: [], limit: 1 }), 'langs', /needs at least one value/);
      await refused(rt.evaluate({ batchSize: 0, limit: 1 }), 'batchSize', /positive integer, got 0/);
      await refused(rt.evaluate({ maxLength: 0 }), 'maxLength', /≥ 2, got 0/);
      await refused(rt.evaluate({ templates: [] }), 'templates', /needs at least one value/);
      for (const [o, field] of [
        [{ steps: 0 }, 'steps'],
        [{ steps: 1.5 }, 'steps'],
        [{ steps: 1, lr: -1 }, 'lr'],
        [{ steps: 1, warmupSteps: -5 }, 'warmupSteps'],
        [{ steps: 1, saveSteps: 0 }, 'saveSteps'],
        [{ steps: 1, learningRate: 0.5 }, 'learningRate'],
      ] as const)
        await refused(rt.train({ model: MODEL, out: join(dir, field), ...o } as never), field, new RegExp(field));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('after dispose() every call says the runtime was disposed (A44, A45); dispose twice resolves (A46)', async () => {
    const r2 = await createRuntime({ log: () => {} });
    await r2.loadModel(MODEL);
    await r2.dispose();
    await r2.dispose();
    const calls: [string, () => Promise<unknown>][] = [
      ['loadModel', () => r2.loadModel(MODEL)],
      ['score', () => r2.score(['Hello world'])],
      ['generate', () => r2.generate('Hello')],
      ['tokenize', () => r2.tokenize(['Hello'])],
      ['decode', () => r2.decode([1])],
      ['info', () => r2.info()],
      ['evaluate', () => r2.evaluate({ limit: 1 })],
      ['train', () => r2.train({ out: '/tmp/never' })],
    ];
    for (const [name, call] of calls)
      await assert.rejects(
        call(),
        new RegExp(`^Error: ${name}: this runtime was disposed \\(dispose\\(\\) was called\\)`),
      );
  });
});
