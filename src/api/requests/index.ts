// The request layer (issue 24): one definition per request, used by the CLI (src/cli/*), the Node API
// (src/api/node.ts) and the browser worker (src/host/worker.ts). Each command's options are declared only in:
//   evaluate  eval.ts      (EVALUATE; the worker's EVALUATE_ROWS extends it)
//   train     train.ts     (TRAIN; the worker's ALIGN picks its loop options)
//   score     score.ts     (SCORE)       generate  generate.ts  (GENERATE)
//   tokenize / decode  tokenize.ts (TOKENIZE, TOKEN_IDS)        compare  compare.ts  (COMPARE)
//   merge     merge.ts     (MERGE: the CLI's shard merge)
//   data      data.ts      (DATA: `instructalign data --preview`, train's data fields and its own)
//   loadModel model.ts     (LOAD_MODEL, and the --model/--dtype/--int8 flags of score and generate)
// How to add an option: see the comment at the top of core.ts.
export * from './core.ts';
export * from './model.ts';
export * from './eval.ts';
export * from './train.ts';
export * from './score.ts';
export * from './generate.ts';
export * from './tokenize.ts';
export * from './compare.ts';
export * from './merge.ts';
