// `instructalign tokenize` end to end: spawns the real CLI entry (src/cli/main.ts) and checks its output
// against the HF-made ids of the bloom-tiny fixture.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const DIR = 'test/fixtures/bloom-tiny';
const cases: { text: string; ids: number[]; decoded: string }[] = JSON.parse(
  readFileSync(`${DIR}/reference.json`, 'utf8'),
).tokenizer_cases;

function cli(args: string[], input: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'tokenize', ...args], {
    input,
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('cli: instructalign tokenize', () => {
  it('encodes one JSON string per line to one JSON id array per line', () => {
    const r = cli(['--tokenizer', `${DIR}/tokenizer.json`], cases.map((c) => JSON.stringify(c.text) + '\n').join(''));
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(
      r.out
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l)),
      cases.map((c) => c.ids),
    );
  });

  it('--decode turns id arrays back into strings (a model folder works as --tokenizer)', () => {
    const r = cli(['--tokenizer', DIR, '--decode'], cases.map((c) => JSON.stringify(c.ids) + '\n').join(''));
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(
      r.out
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l)),
      cases.map((c) => c.decoded),
    );
  });

  it('a bad line fails with its line number, after writing the lines before it', () => {
    const r = cli(['--tokenizer', DIR], '"ok"\n"fine"\n[1, 2]\n"never"\n');
    assert.equal(r.code, 1);
    assert.match(r.err, /line 3: expected a JSON string/);
    assert.equal(r.out.trimEnd().split('\n').length, 2);
    const d = cli(['--tokenizer', DIR, '--decode'], '[1]\nnot json\n');
    assert.equal(d.code, 1);
    assert.match(d.err, /line 2: not JSON/);
  });

  it('missing --tokenizer is a usage error (exit 2); a missing file is named', () => {
    const r = cli([], '');
    assert.equal(r.code, 2);
    assert.match(r.err, /missing --tokenizer/);
    const m = cli(['--tokenizer', 'no/such/tokenizer.json'], '');
    assert.equal(m.code, 1);
    assert.match(m.err, /no\/such\/tokenizer\.json/);
  });
});
