// merge: the one place its options are declared (CLI `instructalign merge SHARD_DIR… --out DIR`).
// How to add an option: see core.ts.
import { cliOnly, defineRequest, text } from './core.ts';

export const MERGE = defineRequest('merge', {
  out: cliOnly(text({ arg: 'DIR', required: true, help: 'the merged evaluation folder (new or empty)' })),
});
