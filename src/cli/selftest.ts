// `instructalign selftest`: checks the shaders on this adapter against a HuggingFace fixture folder
// (the checks live in host/selftest.ts, shared with the browser worker).
import { bool, helpText, parseCommand, required, type CommandSpec } from './args.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Runtime } from '../host/runtime.ts';
import { packageRoot } from '../train/data/paths.ts';
import { selftest, trainSelftest } from '../host/selftest.ts';

export const spec: CommandSpec = {
  name: 'selftest',
  usage: 'instructalign selftest --fixture DIR [--json] [--no-train]',
  about: `DIR is a folder in the format of test/fixtures/* (config.json, tokenizer.json, model.safetensors,
reference.safetensors, reference.json). Prints one row per check (max abs error, max rel error, tolerance,
pass) and exits 0 only if all pass. --json prints one JSON summary as the last line.
Also checks training: the loss, the gradient of every parameter, and every parameter after two AdamW steps
(the fixture's settings) unless --no-train.
Tolerances (fixture README): logits/hidden |a−b| ≤ 1e-3 + 1e-3·|b|; gradients and updated parameters
|a−b| ≤ 1e-4 + 1e-2·|b|; loss and grad norms 1e-4 relative; token ids exact.`,
  options: {
    fixture: {
      type: 'string',
      arg: 'DIR',
      required: true,
      help: `a fixture folder, e.g. test/fixtures/bloom-tiny, or the name of one shipped with the package
(bloom-tiny: \`instructalign selftest --fixture bloom-tiny\` works from an installed package)`,
    },
    json: { type: 'boolean', help: 'print one JSON summary as the last line' },
    'no-train': { type: 'boolean', help: 'skip the training checks (loss, gradients, AdamW)' },
  },
};
export const help = helpText(spec);

/** A fixture folder, or the name of one shipped in the package's test/fixtures/. */
function fixtureDir(p: string): string {
  if (existsSync(p)) return p;
  const shipped = join(packageRoot(), 'test/fixtures', p);
  return existsSync(join(shipped, 'reference.json')) ? shipped : p;
}

export async function run(argv: string[]): Promise<number> {
  const a = parseCommand(argv, spec);
  const dir = fixtureDir(required(a, 'fixture'));
  if (!existsSync(join(dir, 'reference.json')))
    throw new Error(
      `--fixture ${dir}: not a fixture folder (no reference.json; a model folder is not one): give a folder like ` +
        'test/fixtures/bloom-tiny, or the name bloom-tiny (shipped with the package)',
    );
  const rt = await Runtime.create({ log: bool(a, 'json') ? () => {} : undefined });
  try {
    await rt.loadModel({ path: dir, dtype: 'f32' });
    const checks = await selftest(rt, dir);
    if (!bool(a, 'no-train')) checks.push(...(await trainSelftest(rt, dir)));
    const pass = checks.every((c) => c.pass);
    if (!bool(a, 'json')) {
      console.log(`selftest ${dir} on ${rt.adapterInfo}`);
      console.log(
        `${'check'.padEnd(44)} ${'max abs'.padStart(10)} ${'max rel'.padStart(10)}  ${'tolerance'.padEnd(18)} pass`,
      );
      for (const c of checks)
        console.log(
          `${c.check.padEnd(44)} ${c.maxAbs.toExponential(2).padStart(10)} ${c.maxRel.toExponential(2).padStart(10)}  ${c.tolerance.padEnd(18)} ${c.pass ? 'PASS' : 'FAIL'}`,
        );
      console.log(pass ? 'all checks passed' : `${checks.filter((c) => !c.pass).length} check(s) FAILED`);
    } else console.log(JSON.stringify({ fixture: dir, adapter: rt.adapterInfo, pass, checks }));
    return pass ? 0 : 1;
  } finally {
    rt.dispose();
  }
}
