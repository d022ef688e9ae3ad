// End to end, as the README guide "Teach a model your language" does it: train nano-bloomz two steps on the committed
// English–Tagalog TSV, then evaluate the checkpoint on the Tagalog sentiment CSV (no id column) with a custom prompt.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `instructalign ${args.join(' ')} failed:\n${r.stderr}`);
  return r;
};

describe('your language end to end (nano-bloomz, English–Tagalog sample)', function () {
  this.timeout(600000);

  it('train two steps from pairs.tsv, then eval with a custom prompt: predictions and results for tgl', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ia-tgl-'));
    const [T, E] = [join(dir, 'T'), join(dir, 'E')];
    const D = 'data/examples/tagalog';
    const t = cli(
      'train',
      '--model',
      'models/nano-bloomz',
      '--pairs',
      `${D}/pairs.tsv`,
      '--l1',
      'eng',
      '--l2',
      'tgl',
      '--steps',
      '2',
      '--batch-size',
      '2',
      '--save-steps',
      '2',
      '--out',
      T,
    );
    assert.ok(existsSync(join(T, 'checkpoint', 'model.safetensors')));
    assert.match(t.stderr, /replay: bundled data\/replay\//);
    assert.match(t.stderr, /truncation: \d+ of 4 texts/);
    const checks = JSON.parse(readFileSync(join(T, 'train_config.json'), 'utf8')).data_checks;
    assert.match(checks.replay, /data\/replay\/nusax_l1_instruct\.jsonl$/);
    assert.deepEqual([checks.truncation.texts, checks.truncation.maxLength], [4, 128]);
    const steps = readFileSync(join(T, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => l.event === undefined); // step lines (the first line states the data)
    assert.deepEqual(
      steps.map((s) => s.step),
      [1, 2],
    );
    assert.ok(steps.every((s) => Number.isFinite(s.loss) && s.loss > 0));
    cli(
      'eval',
      '--model',
      join(T, 'checkpoint'),
      '--data',
      `${D}/senti.csv`,
      '--labels',
      'negatibo,positibo',
      '--prompt',
      'Teksto: [INPUT]\\nAno ang damdamin ng teksto? [OPTIONS]: [LABELS_CHOICE]',
      '--groups',
      'L2=tgl',
      '--out',
      E,
    );
    const preds = readFileSync(join(E, 'predictions.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(preds.length, 20);
    assert.ok(preds.every((p) => p.lang === 'tgl' && ['negatibo', 'positibo'].includes(p.pred)));
    assert.ok(preds.every((p) => p.scores.every((s: number) => Number.isFinite(s))));
    const r = JSON.parse(readFileSync(join(E, 'results.json'), 'utf8'));
    assert.deepEqual(
      r.languages.map((l: { lang: string; group: string }) => [l.lang, l.group]),
      [['tgl', 'L2']],
    );
    assert.equal(r.prompts[0].template, 'Teksto: [INPUT]\nAno ang damdamin ng teksto? [OPTIONS]: [LABELS_CHOICE]');
    assert.ok(r.overall.accuracy >= 0 && r.overall.accuracy <= 1);
  });
});
