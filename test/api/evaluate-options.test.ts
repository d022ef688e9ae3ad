// Issue 25 item 6: evaluate({ task: 'translation' }) and the scoring / shard options through the Node API
// (bloom-tiny on the GPU, a few rows), with the CLI's results; and their refusals, each naming the field.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime } from '../../src/index.ts';
import { runWith } from '../../src/cli/eval.ts';
import { run as mergeCli } from '../../src/cli/merge.ts';
import { FIXTURES } from '../helpers/gpu.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ia-api-eval-'));
const MODEL = join(FIXTURES, 'bloom-tiny');
const PAIRS = 'data/examples/tagalog/pairs.tsv';

describe('API evaluate: task translation, scoring, shard (bloom-tiny)', function () {
  this.timeout(300_000);

  it('translation: the results the CLI writes; classification-only and missing fields are named', async () => {
    const rt = await createRuntime({ log: () => {} });
    try {
      await rt.loadModel(MODEL);
      const req = { task: 'translation' as const, data: PAIRS, l1: ['eng'], l2: ['tgl'], limit: 1, maxNewTokens: 2 };
      const seen: number[] = [];
      const api = await rt.evaluate(req, { onProgress: (p) => seen.push(p.done) });
      assert.equal(api.schema, 'instructalign.eval.translation/1');
      assert.deepEqual(
        api.directions.map((d) => [d.src, d.tgt, d.n]),
        [
          ['eng', 'tgl', 1],
          ['tgl', 'eng', 1],
        ],
      );
      assert.equal(seen.at(-1), 2);
      const out = join(tmp(), 'cli');
      const code = await runWith(
        ['--model', MODEL, '--task', 'translation', '--data', PAIRS, '--l1', 'eng', '--l2', 'tgl'].concat([
          '--limit',
          '1',
          '--max-new-tokens',
          '2',
          '--out',
          out,
        ]),
        async () => {
          throw new Error('no scorer for translation');
        },
        () => {},
      );
      assert.equal(code, 0);
      const cli = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
      assert.deepEqual({ ...api, created: 0, model: 0 }, { ...cli, created: 0, model: 0 });
      await assert.rejects(rt.evaluate({ task: 'translation', data: PAIRS, l1: ['eng'] }), /evaluate: l2 is needed/);
      await assert.rejects(
        rt.evaluate({ ...req, scoring: 'label' }),
        /evaluate: scoring is for classification, not task: 'translation'/,
      );
      await assert.rejects(rt.evaluate({ limit: 1, l1: ['eng'] }), /evaluate: l1 is for task: 'translation'/);
    } finally {
      await rt.dispose();
    }
  });

  it('scoring and shard through the API: every rule reported; API shards merge into exactly the API run', async () => {
    const T = tmp();
    writeFileSync(
      join(T, 'd.csv'),
      'id,text,label\n1,I love this,positive\n2,I hate this,negative\n3,It is ok,neutral\n',
    );
    const base = { data: join(T, 'd.csv'), labels: ['negative', 'neutral', 'positive'], prompts: [1, 2] };
    const rt = await createRuntime({ log: () => {} });
    try {
      await rt.loadModel(MODEL);
      const one = await rt.evaluate({ ...base, scoring: 'label-norm', out: join(T, 'one') });
      assert.equal(one.scoring, 'label-norm');
      assert.deepEqual(
        one.scorings!.map((s) => [s.rule, !!s.overall]),
        [
          ['label-norm', true],
          ['paper', true],
          ['label', true],
        ],
      );
      assert.ok(one.languages[0].mean.ci95);
      const shards = [1, 2].map((i) => join(T, `s${i}`));
      for (const [i, out] of shards.entries()) {
        const r = await rt.evaluate({ ...base, scoring: 'label-norm', shard: `${i + 1}/2`, out });
        assert.deepEqual(r.shard, { index: i + 1, count: 2, items: 3 });
      }
      await mergeCli([...shards, '--out', join(T, 'merged')], () => {});
      const read = (d: string, f: string) => readFileSync(join(T, d, f), 'utf8');
      assert.equal(read('merged', 'predictions.jsonl'), read('one', 'predictions.jsonl'));
      assert.deepEqual(
        { ...JSON.parse(read('merged', 'results.json')), created: 0 },
        { ...JSON.parse(read('one', 'results.json')), created: 0 },
      );
      await assert.rejects(rt.evaluate({ ...base, shard: '3/2', out: join(T, 'x') }), /shard must be i\/n/);
      await assert.rejects(rt.evaluate({ ...base, shard: '1/2' }), /evaluate: shard needs out/);
      await assert.rejects(rt.evaluate({ ...base, scoring: 'acc' as never }), /scoring/);
    } finally {
      await rt.dispose();
    }
  });
});
