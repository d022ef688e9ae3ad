// `instructalign data --preview`: deterministic for a seed (two separate processes), different for another seed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

const run = (...args: string[]) =>
  execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'data', ...args], { encoding: 'utf8' });

describe('cli data --preview', () => {
  it('prints N texts, identical for the same seed across processes', () => {
    const a = run('--preview', '5', '--seed', '1');
    const b = run('--preview', '5', '--seed', '1');
    assert.equal(a, b);
    assert.equal(a.match(/^--- \d+ \[(mlm|tlm|mt|xss|replay)\]$/gm)?.length, 5);
    assert.notEqual(run('--preview', '5', '--seed', '2'), a);
  });

  it('--json with replay and an objective list', () => {
    const out = run(
      '--preview',
      '6',
      '--seed',
      '3',
      '--json',
      '--objectives',
      'tlm,xss',
      '--replay',
      'data/replay/nusax_l1_sentiment.jsonl',
      '--replay-size',
      '100',
    );
    const rows = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(rows.length, 6);
    assert.deepEqual(
      rows.map((r) => r.kind === 'replay'),
      [true, false, true, false, true, false],
    );
    assert.ok(rows.every((r) => ['tlm', 'xss', 'replay'].includes(r.kind)));
  });
});
