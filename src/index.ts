// The package's Node entry (`import { createRuntime } from 'instructalign'`): the runtime, the data builder, compare,
// and the types. The browser entry is `instructalign/web` (src/host/web.ts).
export { createRuntime, compare, trainingTexts, evaluationData, resolveModelPath } from './api/node.ts';
export type { CreateRuntimeOptions } from './api/node.ts';
export type * from './api/types.ts';
export { RequestError } from './api/requests/core.ts';
export { TRAIN_DEFAULTS, ResumeConflictError } from './train/trainer.ts';
export { TrainingStream } from './train/data/stream.ts';
export type { TrainingStreamOptions, TrainingText } from './train/data/stream.ts';
export type { CompareJson } from './eval/compare.ts';
export type { CompareOptions, CompareRunsJson } from './eval/compare-runs.ts';
// Your own data (issue 15): languages, the parallel formats (text in), the FLORES split, translation metrics.
export { langCode, langName, parseLangNames } from './train/data/langs.ts';
export {
  floresSplit,
  pairsFromSource,
  parseAlignedTexts,
  parseFlores,
  parsePairsJsonl,
  parsePairsTable,
  parseParallelText,
} from './train/data/parallel.ts';
export type { AlignedCorpus, PairsSource, ParallelPair, ParseOptions } from './train/data/parallel.ts';
export { readParallel } from './train/data/node-io.ts';
export { parseClassificationText } from './eval/data-core.ts';
export { corpusBleu, corpusChrf } from './eval/mt-metrics.ts';
export { runTranslation, compareTranslation } from './eval/translation.ts';
export type { Generator, TranslationResults } from './eval/translation.ts';
