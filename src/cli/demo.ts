// `instructalign demo` (npm start): the embedded default job, with nothing downloaded and nothing outside the
// package: zero-shot NusaX sentiment evaluation of the bundled nano-bloomz (a 4.2M-parameter BLOOM that knows
// the task in English/Indonesian only), grouped L1/L2/L3. Training (InstructAlign) joins this job once the
// trainer CLI lands; see README "Status".
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { num, parseArgs, str } from './args.ts';
import { run as runEval } from './eval.ts';

export const help = `instructalign demo [--out DIR] [--limit N] [--langs a,b,c] [--prompts 1,2,3]

Runs the embedded default job: zero-shot evaluation of models/nano-bloomz on the NusaX sentiment test split
(bundled under data/), one language per group by default (eng = L1, jav = L2, mad = L3), --limit rows each,
and writes results.json, predictions.jsonl, report.md and chart.svg to --out (default runs/demo).
Sized to finish in a few minutes on 2 CPU cores through SwiftShader; on a GPU raise --limit and --langs.`;

/** The package root: the nearest folder above this module holding models/nano-bloomz. */
export function packageRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++, d = dirname(d)) if (existsSync(join(d, 'models', 'nano-bloomz', 'config.json'))) return d;
  throw new Error('cannot find models/nano-bloomz next to the instructalign package: reinstall it');
}

export async function run(argv: string[]): Promise<number> {
  const a = parseArgs(argv);
  const root = packageRoot();
  const out = resolve(str(a, 'out', 'runs/demo'));
  const started = Date.now();
  console.log(`instructalign demo: zero-shot NusaX sentiment with ${join(root, 'models/nano-bloomz')} → ${out}`);
  const code = await runEval([
    '--model', join(root, 'models/nano-bloomz'), '--data', 'nusax',
    '--langs', str(a, 'langs', 'eng,jav,mad'), '--limit', String(num(a, 'limit', 6)),
    '--prompts', str(a, 'prompts', '1'), '--out', out,
  ]);
  console.log(`demo finished in ${((Date.now() - started) / 1000).toFixed(0)} s: report ${join(out, 'report.md')}, chart ${join(out, 'chart.svg')}`);
  return code;
}
