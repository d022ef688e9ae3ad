// `instructalign compare A/ B/`: Δ (B − A) per language and group, and the L2 → L3 transfer correlation.
import { join } from 'node:path';
import { helpText, parseCommand, str, type CommandSpec } from './args.ts';
import { compareResults, loadResults } from '../eval/compare.ts';
import {
  DELTA_HEADER,
  distributionHeader,
  distributionRows,
  groupRows,
  l2l3Line,
  mismatchLines,
  renderCompare,
} from '../eval/compare-report.ts';
import { textTable } from '../eval/report.ts';
import { writeFileAtomic } from '../eval/output.ts';

export const spec: CommandSpec = {
  name: 'compare',
  usage: 'instructalign compare A/ B/ [--out DIR]',
  positionals: [2, 2],
  about: `Reads A/results.json (before, e.g. the base model) and B/results.json (after, e.g. InstructAlign) and prints
Δ = B − A in percentage points for accuracy and weighted F1 per group and language, each language's
predicted-label shares A → B (⚠ = one label above 80 %), and the correlation of Δ weighted F1 between L2 (aligned)
and L3 (unseen) languages across prompts (this package's statistic, not the paper's; definition in compare.md).
Languages or prompts present in only one run are reported and left out.`,
  options: {
    out: { type: 'string', arg: 'DIR', help: 'also write compare.md and compare.json there (default: print only)' },
  },
};
export const help = helpText(spec);

export async function run(argv: string[], print: (s: string) => void = console.log): Promise<number> {
  const a = parseCommand(argv, spec);
  const [dirA, dirB] = a.positional;
  const c = compareResults(loadResults(dirA), loadResults(dirB), { a: dirA, b: dirB });
  for (const m of mismatchLines(c)) print(`warning: ${m}`);
  print(textTable(['group', 'languages', ...DELTA_HEADER], groupRows(c)));
  if (c.distribution.length) {
    print('');
    print('predicted labels, A → B:');
    print(textTable(distributionHeader(c), distributionRows(c)));
  }
  print('');
  print(l2l3Line(c));
  const out = str(a, 'out');
  if (out) {
    await writeFileAtomic(join(out, 'compare.json'), JSON.stringify(c, null, 1) + '\n');
    await writeFileAtomic(join(out, 'compare.md'), renderCompare(c));
    print(`wrote ${join(out, 'compare.md')}, ${join(out, 'compare.json')}`);
  }
  return 0;
}
