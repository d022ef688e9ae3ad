// Alignment (InstructAlign training) inside the browser worker, on the loaded f32 model: the parallel data and
// replay come as text, and the steps are those of `instructalign train` (train/loop.ts: same stream, batches,
// loss and AdamW). The tuned weights stay on the GPU for evaluate(); export-stream.ts streams them out.
import type { Runtime } from './runtime.ts';
import { ALIGN, type AlignRequest } from '../api/requests/train.ts';
import { parseParallelText } from '../train/data/parallel.ts';
import { parseReplayJsonl } from '../train/data/replay.ts';
import { pairsForObjectives } from '../train/data/stream.ts';
import { LOOP_DEFAULTS, TrainLoop, trainingStream, type LoopOptions, type StepLog } from '../train/loop.ts';
import { estimateEta } from '../util/progress.ts';

/** The worker's align request: train's loop options (src/api/requests/train.ts, their one definition), with the
 *  parallel data (and replay) as text. */
export type { AlignRequest };

export interface AlignProgress {
  log: StepLog;
  total: number;
  etaSeconds: number;
}

/** The request checked by train's definitions (types, ranges, unknown keys), with the CLI's defaults filled in. */
export function alignOptions(request: AlignRequest): LoopOptions {
  const { pairs: _p, pairsName: _n, replay: _r, replayName: _rn, columns: _c, ...loop } = ALIGN.parse(request);
  return { ...LOOP_DEFAULTS, ...loop };
}

/** Reads and checks the request's data without the GPU (a page checks it before any evaluation starts). */
export function prepareAlign(req: AlignRequest) {
  const o = alignOptions(req);
  const src = parseParallelText(req.pairs, req.pairsName, { names: o.langNames, columns: req.columns });
  const pairs = pairsForObjectives(src, o.l1, o.l2, o.objectives);
  if (!pairs.length) throw new Error(`${req.pairsName}: no pairs for L1 ${o.l1.join(',')} and L2 ${o.l2.join(',')}`);
  const replay = req.replay ? parseReplayJsonl(req.replay, req.replayName ?? 'replay.jsonl') : undefined;
  return { o, pairs, replay };
}

/**
 * Trains the runtime's loaded model for `steps` optimizer steps; onStep after each. The signal stops it between
 * steps (the steps made so far stay in the weights). Returns every step's log line (log.jsonl's fields).
 */
export async function alignModel(
  r: Runtime,
  req: AlignRequest,
  opts: { signal?: AbortSignal; onStep?: (p: AlignProgress) => void } = {},
): Promise<StepLog[]> {
  const m = r.loaded;
  if (m.dtype !== 'f32')
    throw new Error(`alignment trains f32 weights; this model is loaded as ${m.dtype}: reload it with f32 weights`);
  const { o, pairs, replay } = prepareAlign(req);
  const loop = new TrainLoop(r.gpu, m.weights, m.fwd, r.tokenizer, trainingStream(o, pairs, replay), o);
  const logs: StepLog[] = [];
  const t0 = Date.now();
  try {
    for (let step = 1; step <= o.steps; step++) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('cancelled');
      const log = await loop.step(step);
      logs.push(log);
      opts.onStep?.({ log, total: o.steps, etaSeconds: estimateEta(step, o.steps, 0, t0, Date.now()) });
    }
  } finally {
    loop.destroy();
  }
  return logs;
}
