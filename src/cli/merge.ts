// `instructalign merge DIR… --out DIR`: the --out folders of `eval --shard i/n` (all n of one run) → the folder one
// unsharded run writes (src/eval/merge.ts).
import { MERGE } from '../api/requests/merge.ts';
import { helpText, parseCommand, required, type CommandSpec } from './args.ts';
import { mergeShards } from '../eval/merge.ts';
import { summaryText } from '../eval/report.ts';

export const spec: CommandSpec = {
  name: 'merge',
  usage: 'instructalign merge SHARD_DIR… --out DIR',
  positionals: [1, 100000],
  about: `Combines the --out folders of 'instructalign eval --shard i/n' (one per shard, all n of the same eval
command) into one evaluation folder: predictions.jsonl, results.json, report.md, chart.svg and fingerprint.json, the
same as one unsharded run gives (only results.json's "created" differs). Refuses folders of different runs (naming
what differs), a shard given twice, missing shards, incomplete shards and predictions outside a folder's shard.`,
  options: MERGE.options,
};
export const help = helpText(spec);

export async function run(argv: string[], print: (s: string) => void = console.log): Promise<number> {
  const a = parseCommand(argv, spec);
  const r = await mergeShards(a.positional, required(a, 'out'));
  print(`\n${summaryText(r.results)}\n`);
  for (const w of r.results.warnings ?? []) print(`warning: ${w}`);
  print(`merged ${r.shards} shards (${r.items} items); wrote ${Object.values(r.paths).join(', ')}`);
  return 0;
}
