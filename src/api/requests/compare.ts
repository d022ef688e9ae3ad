// compare: the one place its options are declared (CLI `instructalign compare A/ B/`, API `compare(a, b, options)`).
// How to add an option: see core.ts.
import { cliOnly, defineRequest, flag, text } from './core.ts';

export const COMPARE = defineRequest('compare', {
  allowMismatch: flag({
    help: 'compare runs scored in different ways (what differs is printed and recorded in compare.json)',
  }),
  out: cliOnly(text({ arg: 'DIR', help: 'also write compare.md and compare.json there (default: print only)' })),
});
