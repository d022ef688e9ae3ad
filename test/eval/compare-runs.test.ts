// compare like with like (issue 24 item 4) and its paired bootstrap intervals (issue 25 item 2), on eval folders made
// with the fake scorer: subsets, swapped templates, changed texts, differently scored runs.
import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate } from '../../src/eval/evaluate.ts';
import { DEFAULT_GROUPS, loadDataPath } from '../../src/eval/datasets.ts';
import { customPrompts, selectPrompts, type PromptTemplate } from '../../src/eval/tasks.ts';
import { compareRuns, type CompareRunsJson } from '../../src/eval/compare-runs.ts';
import { loadRun } from '../../src/eval/results-file.ts';
import type { ScoringRule } from '../../src/eval/scoring.ts';
import { run as compareCli } from '../../src/cli/compare.ts';
import { fakeScorer } from './fake-scorer.ts';
import { tempDir, writeTinyData } from './helpers.ts';

const LABELS = ['negative', 'neutral', 'positive'];
// right whenever the label at the end of the text is the gold one of writeTinyData's row k
const perfect = (t: string) => {
  const k = Number(/sentence (\d+)/.exec(t)![1]);
  return t.endsWith(LABELS[(k * 2) % 3]) ? -1 : -2;
};

async function run(
  o: {
    n?: number;
    limit?: number;
    prompts?: PromptTemplate[];
    score?: (t: string) => number;
    scoring?: ScoringRule;
    edit?: (root: string) => void;
  } = {},
): Promise<string> {
  const root = writeTinyData(tempDir(), o.n ?? 7);
  o.edit?.(root);
  const data = loadDataPath(root, { task: 'sentiment', labels: LABELS, limit: o.limit });
  const out = tempDir();
  await evaluate({
    scorer: fakeScorer({ score: o.score }),
    data,
    prompts: o.prompts ?? selectPrompts('sentiment', [1, 2, 3]),
    groups: DEFAULT_GROUPS,
    outDir: out,
    limit: o.limit,
    scoring: o.scoring,
  });
  return out;
}

const cmp = (a: string, b: string, allowMismatch = false) => compareRuns(loadRun(a), loadRun(b), { allowMismatch });
const allZero = (c: CompareRunsJson) =>
  c.languages.every(
    (l) =>
      l.accuracy.delta === 0 &&
      l.weightedF1.delta === 0 &&
      l.byPrompt.every((x) => x.accuracy.delta === 0 && x.weightedF1.delta === 0),
  );

describe('compare: like with like, paired intervals', () => {
  it('a --limit 2 run against a full run of the same model: Δ 0 on the 2 common examples, the rest counted', async () => {
    const [full, two] = [await run(), await run({ limit: 2 })];
    const c = cmp(full, two);
    assert.deepEqual(
      [c.examples.common, c.examples.onlyInA, c.examples.onlyInB, c.examples.changed],
      [4, 10, 0, 0], // 2 languages × 2 rows in both; 2 × 5 rows only in A
    );
    assert.ok(allZero(c));
    for (const l of c.languages) assert.deepEqual(l.accuracy.ci95, [0, 0]);
    assert.ok(c.languages.every((l) => l.accuracy.excludesZero === false));
    const printed: string[] = [];
    const out = tempDir();
    assert.equal(await compareCli([full, two, '--out', out], (s) => printed.push(s)), 0);
    assert.match(printed.join('\n'), /examples left out: 10 only in A, 0 only in B, 0 with another text or label/);
    const json = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')) as CompareRunsJson;
    assert.equal(json.examples.common, 4);
    assert.deepEqual(json.groups[0].weightedF1.ci95, [0, 0]);
  });

  it('prompts matched by template: swapped P1/P2 are refused without --allow-mismatch, equal with it', async () => {
    const [t1, t2] = selectPrompts('sentiment', [1, 2]).map((p) => p.template);
    const a = await run({ prompts: customPrompts([t1, t2]) });
    const b = await run({ prompts: customPrompts([t2, t1]) });
    assert.throws(() => cmp(a, b), /not scored the same way:\n {2}prompt 1 template: A .*--allow-mismatch/s);
    await assert.rejects(compareCli([a, b]), /prompt 2 template/);
    const c = cmp(a, b, true);
    assert.ok(allZero(c));
    assert.equal(c.settingsDiffer.length, 2);
    assert.equal(c.examples.common, 14);
  });

  it('another scoring rule is refused, naming it; --allow-mismatch compares and records it', async () => {
    const [a, b] = [await run({ n: 3 }), await run({ n: 3, scoring: 'label' })];
    assert.throws(() => cmp(a, b), /scoring: A "paper", B "label"/);
    assert.deepEqual(cmp(a, b, true).settingsDiffer, ['scoring: A "paper", B "label"']);
  });

  it('an example whose text changed (same id) is left out and counted', async () => {
    const a = await run();
    const b = await run({
      edit: (root) => {
        const f = join(root, 'english', 'test.csv');
        writeFileSync(f, readFileSync(f, 'utf8').replace('english sentence 3,', 'english sentence 3 (fixed),'));
      },
    });
    const c = cmp(a, b);
    assert.deepEqual([c.examples.common, c.examples.changed], [13, 1]);
    assert.ok(allZero(c));
  });

  it('a better model: Δ inside its interval; the interval excludes 0 exactly when it is starred', async () => {
    const [a, b] = [await run({ n: 30 }), await run({ n: 30, score: perfect })];
    const c = cmp(a, b);
    for (const l of c.languages) {
      assert.equal(l.accuracy.b, 1);
      const [lo, hi] = l.accuracy.ci95!;
      assert.ok(lo <= l.accuracy.delta && l.accuracy.delta <= hi, `${lo} ${l.accuracy.delta} ${hi}`);
      assert.equal(l.accuracy.excludesZero, lo > 0 || hi < 0);
    }
    const out = tempDir();
    await compareCli([a, b, '--out', out], () => {});
    const md = readFileSync(join(out, 'compare.md'), 'utf8');
    const star = c.groups[0].accuracy.excludesZero ? '\\*' : '';
    assert.match(md, new RegExp(`\\| L1 \\| eng \\| [0-9.]+ \\| 100\\.00 \\| \\+[0-9.]+${star} \\| \\[`));
    assert.match(md, /paired bootstrap \(1000 resamples/);
  });
});
