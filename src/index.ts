// The package's Node entry (`import { createRuntime } from 'instructalign'`): the runtime, the data builder, compare,
// and the types. The browser entry is `instructalign/web` (src/host/web.ts).
export { createRuntime, compare, trainingTexts, evaluationData, resolveModelPath } from './api/node.ts';
export type { CreateRuntimeOptions } from './api/node.ts';
export type * from './api/types.ts';
export { TRAIN_DEFAULTS, ResumeConflictError } from './train/trainer.ts';
export { TrainingStream } from './train/data/stream.ts';
export type { TrainingStreamOptions, TrainingText } from './train/data/stream.ts';
export type { CompareJson } from './eval/compare.ts';
