// The strict CLI: every command rejects unknown flags (naming the nearest valid one) and bad numbers with exit 2
// before any model or GPU work, and its --help comes from the same option table that parses its argv.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { helpText, parseCommand, suggest, UsageError, type CommandSpec } from '../../src/cli/args.ts';
import { commands, isMainModule, main } from '../../src/cli/main.ts';

const REPO = join(import.meta.dirname, '../..');

/** main(argv) in this process, with stdout and stderr captured. */
async function runMain(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const log = console.log,
    error = console.error;
  let out = '',
    err = '';
  console.log = (...a: unknown[]) => {
    out += `${a.join(' ')}\n`;
  };
  console.error = (...a: unknown[]) => {
    err += `${a.join(' ')}\n`;
  };
  try {
    return { code: await main(argv), out, err };
  } finally {
    console.log = log;
    console.error = error;
  }
}

/** Per command: an argv whose only fault is one bad number (null where the command takes no numbers). */
const BAD_NUMBER: Record<string, [string[], RegExp] | null> = {
  doctor: null,
  tokenize: null,
  selftest: null,
  compare: null,
  merge: null,
  score: [['--model', 'm', '--batch-size', '0'], /--batch-size must be a positive integer, got 0/],
  generate: [['--model', 'm', '--prompt', 'x', '--max-new-tokens', '-5'], /--max-new-tokens must be a positive/],
  eval: [['--model', 'm', '--out', 'o', '--limit', '2.5'], /--limit must be a positive integer, got 2\.5/],
  data: [['--preview', '1.5'], /--preview must be a non-negative integer, got 1\.5/],
  train: [['--model', 'm', '--out', 'o', '--steps', '1.5'], /--steps must be a positive integer, got 1\.5/],
  bench: [['--runs', '2'], /--runs must be ≥ 5, got 2/],
  serve: [['--port', '99999'], /--port must be ≤ 65535/],
  demo: [['--steps', '0'], /--steps must be a positive integer, got 0/],
};

describe('strict CLI', () => {
  it('covers every command', () => {
    assert.deepEqual(Object.keys(BAD_NUMBER).sort(), Object.keys(commands).sort());
  });

  for (const name of Object.keys(BAD_NUMBER)) {
    it(`${name}: an unknown flag exits 2, naming it and the nearest valid one`, async () => {
      const cmd = await commands[name]();
      const first = Object.keys(cmd.spec.options)[0];
      const typo = `--${first.slice(0, -1)}x${first.slice(-1)}`; // one letter inserted: distance 1
      const r = await runMain([name, typo, '1']);
      assert.equal(r.code, 2, r.err);
      assert.ok(r.err.includes(`unknown option ${typo} (did you mean --${first}?)`), r.err);
      const bogus = await runMain([name, '--bogus-flag-zz']);
      assert.equal(bogus.code, 2);
      assert.match(bogus.err, /unknown option --bogus-flag-zz/);
    });

    const bad = BAD_NUMBER[name];
    if (bad)
      it(`${name}: a bad number exits 2 naming the flag`, async () => {
        const r = await runMain([name, ...bad[0]]);
        assert.equal(r.code, 2, r.err);
        assert.match(r.err, bad[1]);
      });

    it(`${name} --help: generated from its option table, every option listed`, async () => {
      const cmd = await commands[name]();
      const r = await runMain([name, '--help']);
      assert.equal(r.code, 0);
      assert.equal(r.out.trim(), helpText(cmd.spec).trim());
      for (const opt of Object.keys(cmd.spec.options)) assert.match(r.out, new RegExp(`--${opt}\\b`));
    });
  }

  it('train: every range the audit found unchecked is a usage error', async () => {
    const base = ['train', '--model', 'm', '--out', 'o'];
    for (const [flag, v, msg] of [
      ['--steps', '0', /--steps must be a positive integer/],
      ['--steps', '-1', /--steps must be a positive integer/],
      ['--lr', '-1', /--lr must be > 0/],
      ['--lr', 'NaN', /--lr must be a number/],
      ['--grad-accum', '0', /--grad-accum must be a positive integer/],
      ['--save-steps', '0', /--save-steps must be a positive integer/],
      ['--batch-size', '0', /--batch-size must be a positive integer/],
      ['--batch-size', '1.5', /--batch-size must be a positive integer/],
      ['--warmup-steps', '-5', /--warmup-steps must be a non-negative integer/],
      ['--max-length', '0', /--max-length must be/],
      ['--loss-scale', '-2', /--loss-scale must be dynamic, none or a positive number/],
    ] as const) {
      const r = await runMain([...base, flag, v]);
      assert.equal(r.code, 2, `${flag} ${v}: ${r.err}`);
      assert.match(r.err, msg);
    }
    const r = await runMain([...base, '--stpes', '5']);
    assert.match(r.err, /unknown option --stpes \(did you mean --steps\?\)/);
    assert.match((await runMain([...base, '--learning_rate', '1e-3'])).err, /did you mean --lr\?/);
  });

  it('selftest: a folder that is not a fixture is named before any GPU work (exit 1)', async () => {
    const r = await runMain(['selftest', '--fixture', join(REPO, 'models/nano-bloomz')]);
    assert.equal(r.code, 1);
    assert.match(r.err, /nano-bloomz: not a fixture folder \(no reference\.json/);
  });

  it('generate --temperature -1 names the range, not the type (audit row 158: "must be a number, got -1")', async () => {
    const r = await runMain(['generate', '--model', 'm', '--prompt', 'x', '--temperature', '-1']);
    assert.equal(r.code, 2);
    assert.match(r.err, /--temperature must be ≥ 0, got -1/);
  });

  it('serve --models a missing folder: exit 2 naming the flag (audit S17: it served 404s without a word)', async () => {
    const r = await runMain(['serve', '--models', join(tmpdir(), 'instructalign-no-such-models'), '--port', '0']);
    assert.equal(r.code, 2);
    assert.match(r.err, /--models .*instructalign-no-such-models is not a folder/);
  });

  it('help <command> prints that command’s help; --version prints the version', async () => {
    const r = await runMain(['help', 'train']);
    assert.equal(r.code, 0);
    assert.match(r.out, /^instructalign train --model DIR --out DIR/);
    assert.match((await runMain(['--version'])).out, /^\d+\.\d+\.\d+/);
  });
});

describe('parseCommand', () => {
  const spec: CommandSpec = {
    name: 't',
    usage: 't',
    options: {
      n: { type: 'int', min: 1, default: 3, help: 'n' },
      x: { type: 'number', gt: 0, help: 'x' },
      s: { type: 'string', choices: ['a', 'b'], help: 's' },
      l: { type: 'list', help: 'l' },
      f: { type: 'boolean', help: 'f' },
      r: { type: 'string', required: true, help: 'r' },
    },
    positionals: [0, 1],
  };
  it('values, defaults, --flag=value, negative values, given flags', () => {
    const a = parseCommand(
      ['--r', 'q', '--n=4', '--x', '-0.5e-3'.replace('-', ''), '--l', 'a, b,', '--f', 'pos'],
      spec,
    );
    assert.deepEqual(Object.fromEntries(a.values), { r: 'q', n: 4, x: 0.0005, l: ['a', 'b'], f: true });
    assert.deepEqual([...a.given].sort(), ['f', 'l', 'n', 'r', 'x']);
    assert.deepEqual(a.positional, ['pos']);
    assert.throws(() => parseCommand(['--r', 'q', '--x', '-1'], spec), /--x must be > 0, got -1/);
  });
  it('usage errors: missing value, value on a boolean, bad choice, required, extra positional', () => {
    const err = (argv: string[], re: RegExp) =>
      assert.throws(
        () => parseCommand(argv, spec),
        (e) => e instanceof UsageError && re.test(e.message),
      );
    err(['--r', 'q', '--n'], /--n needs a value/);
    err(['--r', 'q', '--n', '--f'], /--n needs a value/);
    err(['--r', 'q', '--f=1'], /--f takes no value/);
    err(['--r', 'q', '--s', 'c'], /--s must be a or b, got "c"/);
    err([], /missing --r/);
    err(['--r', 'q', 'a', 'b'], /at most 1 arguments/);
    err(['--r', 'q', '-n', '3'], /unknown option -n/);
  });
  it('suggest: typos, prefixes, initials; nothing for far-off names', () => {
    assert.equal(suggest('limt', ['limit', 'langs']), 'limit');
    assert.equal(suggest('step', ['steps', 'seed']), 'steps');
    assert.equal(suggest('learning_rate', ['lr', 'steps']), 'lr');
    assert.equal(suggest('zzzzzz', ['lr', 'steps']), undefined);
  });
});

describe('CLI entry check', () => {
  it('main runs when started through a symlink with another name (a bin link, npx, a global install)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ia-bin-'));
    try {
      const link = join(dir, 'instructalign');
      symlinkSync(join(REPO, 'src/cli/main.ts'), link);
      assert.equal(isMainModule(link, new URL('../../src/cli/main.ts', import.meta.url).href), true);
      assert.equal(
        isMainModule(join(dir, 'other-cli.js'), new URL('../../src/cli/main.ts', import.meta.url).href),
        false,
      );
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', link, 'eval', '--model', 'm', '--out', 'X', '--limt', '2'],
        {
          cwd: REPO,
          encoding: 'utf8',
          timeout: 60000,
        },
      );
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /--limt/);
      const h = spawnSync(process.execPath, ['--import', 'tsx', link, 'train', '--help'], { encoding: 'utf8' });
      assert.equal(h.status, 0);
      assert.match(h.stdout, /--steps N/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
