// `instructalign data --preview`: deterministic for a seed (two separate processes), different for another seed.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

describe('cli data --preview with your own data', () => {
  const data = (...args: string[]) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'data', ...args], {
      encoding: 'utf8',
    });
    return { out: r.stdout, err: r.stderr, status: r.status };
  };
  const tsv = 'data/examples/tagalog/pairs.tsv';

  it('a TSV of eng/tgl pairs: texts name Tagalog; replay is on by default and the log says so', () => {
    const r = data('--preview', '8', '--pairs', tsv, '--l1', 'eng', '--l2', 'tgl', '--objectives', 'mt', '--seed', '1');
    assert.equal(r.status, 0, r.err);
    assert.match(r.out, /Tagalog/);
    assert.equal(r.out.match(/^--- \d+ \[replay\]$/gm)?.length, 4);
    assert.match(r.err, /replay: bundled data\/replay\/nusax_l1_instruct\.jsonl \(the default; --replay none/);
    assert.match(r.err, /truncation: 0 of 8 texts \(0\.0 %\)/);
    // no row skipped: no "0 skipped (no sentence pair …)", which read as if there were no pairs
    assert.match(r.err, /^data: \d+ rows read from \S*pairs\.tsv → \d+ training pairs \(directional\)$/m);
  });

  it('--replay none: no replay, said in the log; --max-length reports the texts that lose their target', () => {
    const r = data('--preview', '6', '--pairs', tsv, '--l1', 'eng', '--l2', 'tgl', '--replay', 'none');
    assert.equal(r.status, 0, r.err);
    assert.doesNotMatch(r.out, /\[replay\]/);
    assert.match(r.err, /replay: none \(--replay none\)/);
    const cut = data('--preview', '6', '--pairs', tsv, '--l1', 'eng', '--l2', 'tgl', '--max-length', '8');
    assert.match(cut.err, /warning: truncation: 6 of 6 texts \(100\.0 %\) are longer than --max-length 8 tokens/);
  });

  it('HF translation JSONL with a local-use code and --lang-names; a missing name is a clear error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ia-cli-'));
    const f = join(dir, 'pairs.jsonl');
    writeFileSync(f, '{"translation":{"eng":"Good morning.","qaa":"Zeda morn."}}\n');
    const args = [
      '--preview',
      '2',
      '--pairs',
      f,
      '--l1',
      'eng',
      '--l2',
      'qaa',
      '--objectives',
      'mt',
      '--replay',
      'none',
    ];
    const ok = data(...args, '--lang-names', 'qaa=Zedish');
    assert.equal(ok.status, 0, ok.err);
    assert.match(ok.out, /Zedish/);
    const bad = data(...args);
    assert.notEqual(bad.status, 0);
    assert.match(bad.err, /"qaa" is a local-use code with no standard name: name it with --lang-names qaa=Name/);
  });
});
