// Browser-safe entry to the InstructAlign data pipeline (Node-only file readers: node-io.ts, paths.ts).
export {
  DEFAULT_L1,
  DEFAULT_L2,
  LANGS,
  checkLangNames,
  findLang,
  isLocalUse,
  langCode,
  langName,
  parseLangNames,
} from './langs.ts';
export type { LangNames } from './langs.ts';
export {
  buildPairs,
  floresSplit,
  pairsFromSource,
  parseAlignedTexts,
  parseColumnsSpec,
  parseFlores,
  parseNusaxMT,
  parsePairsJsonl,
  parsePairsTable,
  parseParallelText,
} from './parallel.ts';
export type { AlignedCorpus, PairOptions, PairsSource, ParallelPair, ParseOptions } from './parallel.ts';
export { PERTURB_TABLE, applyOps, drawPerturbSet } from './perturb.ts';
export type { PerturbOp } from './perturb.ts';
export { OBJECTIVE_NAMES, makeExample, parseObjectives } from './objectives.ts';
export type { ExampleOptions, Objective, ObjectiveMix } from './objectives.ts';
export { interleaveAllExhausted, parseReplayJsonl, replayText, sampleReplay } from './replay.ts';
export type { ReplayRow } from './replay.ts';
export { DEFAULT_MAX_LENGTH, IGNORE_INDEX, collate, encodeText, truncationReport } from './sequences.ts';
export type { Batch, TextTokenizer, TruncationReport } from './sequences.ts';
export { TrainingStream, pairsForObjectives } from './stream.ts';
export type { TrainingStreamOptions, TrainingStreamState, TrainingText } from './stream.ts';
