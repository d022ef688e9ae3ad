// data: the one place its options are declared (CLI `instructalign data --preview N`). The data options it shares
// with train (pairs, languages, objectives, replay, seed, splits) are train's own fields (train.ts), so the two
// commands read, check and name them alike; the rest is data's. The API's data builder is trainingTexts (src/api/
// node.ts), which takes train's options. How to add an option: see core.ts.
import { RECIPES } from '../../train/recipe.ts';
import { OBJECTIVE_NAMES } from '../../train/data/objectives.ts';
import { DEFAULT_MAX_LENGTH } from '../../train/data/sequences.ts';
import { cliOnly, defineRequest, flag, int, text } from './core.ts';
import { TRAIN_FIELDS as T } from './train.ts';

export const DATA = defineRequest('data', {
  preview: cliOnly(int({ min: 0, required: true, help: 'how many texts' })),
  pairs: cliOnly(T.pairs),
  floresHeldOut: cliOnly(T.floresHeldOut),
  evalSplit: cliOnly({
    ...T.evalSplit,
    help: 'rows held out for validation, as train --eval-split (with --seed): the texts shown leave them out',
  }),
  l1: cliOnly(T.l1),
  l2: cliOnly(T.l2),
  langNames: cliOnly(T.langNames),
  columns: cliOnly(T.columns),
  objectives: cliOnly({
    ...T.objectives,
    help: `comma list, drawn uniformly per example (default tlm,xss); names:
${OBJECTIVE_NAMES.join(', ')}`,
  }),
  replay: cliOnly(T.replay),
  replaySize: cliOnly(T.replaySize),
  officialTlmLangSwap: cliOnly(T.officialTlmLangSwap),
  seed: cliOnly(T.seed),
  json: cliOnly(flag({ help: 'one JSON object per line instead of text blocks' })),
  // no default, unlike train's: without --recipe, no settings lines are printed
  recipe: cliOnly(
    text({
      arg: 'NAME',
      choices: RECIPES,
      help: `default or paper (as train --recipe): print the resolved training settings
first (lines starting with "#"; --json: one {"recipe","settings"} object), then
the texts with the recipe's languages and replay`,
    }),
  ),
  maxLength: cliOnly(
    int({
      min: 1,
      default: DEFAULT_MAX_LENGTH,
      help: 'report how many texts lose their target to this cut (stderr)',
    }),
  ),
  tokenizer: cliOnly(
    text({
      arg: 'DIR',
      help: 'model folder whose tokenizer.json counts tokens (default: the bundled models/nano-bloomz)',
    }),
  ),
});
