// eval --shard i/n + instructalign merge = one run, exactly (fake scorer); and merge's refusals, each naming the cause.
import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runWith, type ScorerFactory } from '../../src/cli/eval.ts';
import { run as mergeCli } from '../../src/cli/merge.ts';
import { parseShard, shardItems } from '../../src/eval/shard.ts';
import { fakeScorer } from './fake-scorer.ts';
import { tempDir, writeTinyData } from './helpers.ts';

const factory: ScorerFactory = async () => ({ scorer: fakeScorer(), dispose: () => {} });
const quiet = () => {};
const DATA = writeTinyData(tempDir(), 7); // eng + mad, 7 rows each: 2 × 3 prompts × 7 = 42 items
const base = ['--model', 'fake-model', '--data', DATA];

async function evalRun(extra: string[] = []): Promise<string> {
  const out = tempDir();
  assert.equal(await runWith([...base, '--out', out, ...extra], factory, quiet), 0);
  return out;
}
const read = (dir: string, f: string) => readFileSync(join(dir, f), 'utf8');
const withoutCreated = (dir: string) => ({ ...JSON.parse(read(dir, 'results.json')), created: undefined });

describe('eval --shard i/n and merge', () => {
  it('parseShard and the round-robin split', () => {
    assert.deepEqual(parseShard('2/4'), { index: 2, count: 4 });
    for (const bad of ['0/2', '3/2', 'a/b', '1', '1/0'])
      assert.throws(() => parseShard(bad), /--shard must be i\/n with 1 ≤ i ≤ n/);
    const items = Array.from({ length: 10 }, (_, k) => k);
    assert.deepEqual(shardItems(items, { index: 2, count: 3 }), [1, 4, 7]);
    assert.deepEqual(
      [1, 2, 3].flatMap((i) => shardItems(items, { index: i, count: 3 })).sort((a, b) => a - b),
      items,
    );
  });

  it('shard 1/2 + 2/2 + merge equals one run exactly (and 3 shards too)', async () => {
    const one = await evalRun(['--scoring', 'label']);
    for (const n of [2, 3]) {
      const shards: string[] = [];
      for (let i = 1; i <= n; i++) shards.push(await evalRun(['--scoring', 'label', '--shard', `${i}/${n}`]));
      const lines = shards.map((d) => read(d, 'predictions.jsonl').trim().split('\n').length);
      assert.equal(
        lines.reduce((a, b) => a + b),
        42,
      );
      const merged = join(tempDir(), 'merged');
      const printed: string[] = [];
      assert.equal(await mergeCli([...shards.reverse(), '--out', merged], (s) => printed.push(s)), 0);
      assert.match(printed.join('\n'), new RegExp(`merged ${n} shards \\(42 items\\)`));
      for (const f of ['predictions.jsonl', 'fingerprint.json', 'chart.svg'])
        assert.equal(read(merged, f), read(one, f), `${f} (${n} shards)`);
      assert.deepEqual(withoutCreated(merged), withoutCreated(one));
      const md = (d: string) => read(d, 'report.md').replace(/- created: .*\n/, '');
      assert.equal(md(merged), md(one));
    }
  });

  it('merge refuses: a missing shard, one given twice, another run, an incomplete shard, a non-empty --out', async () => {
    const [s1, s2] = [await evalRun(['--shard', '1/2']), await evalRun(['--shard', '2/2'])];
    const out = () => join(tempDir(), 'm');
    await assert.rejects(mergeCli([s1, '--out', out()]), /missing shard\(s\) 2\/2 of 2 \(given: 1\/2\)/);
    await assert.rejects(mergeCli([s1, s1, s2, '--out', out()]), /shard 1\/2 is given twice/);
    const other = await evalRun(['--shard', '2/2', '--limit', '5']);
    await assert.rejects(mergeCli([s1, other, '--out', out()]), /is a shard of another run .*:\n {2}.*limit/s);
    const label = await evalRun(['--shard', '2/2', '--scoring', 'label']);
    await assert.rejects(mergeCli([s1, label, '--out', out()]), /scoring/);
    const three = await evalRun(['--shard', '2/3']);
    await assert.rejects(mergeCli([s1, three, '--out', out()]), /shard count: 2 vs 3/);
    await assert.rejects(mergeCli([s1, DATA, '--out', out()]), /is not a shard folder \(no shard\.json\)/);
    const full = tempDir();
    await assert.rejects(mergeCli([s1, s2, '--out', full + '/..']), /is not empty/);
    // incomplete: the last prediction of shard 2 lost
    const p = join(s2, 'predictions.jsonl');
    const lines = readFileSync(p, 'utf8').trim().split('\n');
    writeFileSync(p, lines.slice(0, -1).join('\n') + '\n');
    await assert.rejects(mergeCli([s1, s2, '--out', out()]), /shard 2\/2 is incomplete: 20 of 21 items scored/);
    // overlap: shard 1's predictions copied into shard 2's file
    writeFileSync(p, lines.join('\n') + '\n' + readFileSync(join(s1, 'predictions.jsonl'), 'utf8'));
    await assert.rejects(mergeCli([s1, s2, '--out', out()]), /holds 21 prediction\(s\) outside shard 2\/2/);
  });
});
