// Browser-safe entry to the InstructAlign data pipeline (Node-only file readers: node-io.ts, paths.ts).
export { DEFAULT_L1, DEFAULT_L2, LANGS, findLang, langCode, langName } from './langs.ts';
export { buildPairs, parseFlores, parseNusaxMT, parsePairsJsonl } from './parallel.ts';
export type { AlignedCorpus, PairOptions, ParallelPair } from './parallel.ts';
export { PERTURB_TABLE, applyOps, drawPerturbSet } from './perturb.ts';
export type { PerturbOp } from './perturb.ts';
export { OBJECTIVE_NAMES, makeExample, parseObjectives } from './objectives.ts';
export type { ExampleOptions, Objective, ObjectiveMix } from './objectives.ts';
export { interleaveAllExhausted, parseReplayJsonl, replayText, sampleReplay } from './replay.ts';
export type { ReplayRow } from './replay.ts';
export { DEFAULT_MAX_LENGTH, IGNORE_INDEX, collate, encodeText } from './sequences.ts';
export type { Batch, TextTokenizer } from './sequences.ts';
export { TrainingStream, pairsForObjectives } from './stream.ts';
export type { TrainingStreamOptions, TrainingStreamState, TrainingText } from './stream.ts';
