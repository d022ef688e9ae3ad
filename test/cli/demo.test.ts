// `instructalign demo` (npm start) tells the story: the base model's evaluation, the training, the tuned model's
// evaluation and their compare (issue 25 item 7). Tiny settings: one step, two rows of one language.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('demo: base vs tuned (nano-bloomz, tiny settings)', function () {
  this.timeout(600000);
  it('evaluates the base model and the tuned checkpoint the same way and compares them', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'ia-demo-')), 'd');
    try {
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--out', out, '--steps', '1', '--batch-size', '2'].concat([
          '--limit',
          '2',
          '--langs',
          'eng,jav',
        ]),
        { encoding: 'utf8' },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /\[1\/4\] zero-shot NusaX sentiment evaluation of the base model/);
      assert.match(r.stdout, /\[4\/4\] base → tuned/);
      const base = JSON.parse(readFileSync(join(out, 'base', 'results.json'), 'utf8'));
      const tuned = JSON.parse(readFileSync(join(out, 'eval', 'results.json'), 'utf8'));
      assert.match(base.model?.path ?? JSON.stringify(base), /nano-bloomz/);
      assert.deepEqual(Object.keys(base.languages).sort(), Object.keys(tuned.languages).sort());
      const cmp = JSON.parse(readFileSync(join(out, 'compare', 'compare.json'), 'utf8'));
      assert.ok(existsSync(join(out, 'compare', 'compare.md')));
      // the compare's Δ is tuned − base, per language
      const jav = JSON.stringify(cmp);
      assert.match(jav, /jav/);
    } finally {
      rmSync(join(out, '..'), { recursive: true, force: true });
    }
  });
});
