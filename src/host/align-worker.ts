// Alignment (InstructAlign training) inside the browser worker, on the loaded f32 model: the parallel data and
// replay come as text, and the steps are those of `instructalign train` (train/loop.ts: same stream, batches,
// loss and AdamW). The tuned weights stay on the GPU for evaluate(); export-stream.ts streams them out.
import type { Runtime } from './runtime.ts';
import { ALIGN, type AlignRequest } from '../api/requests/train.ts';
import { withScope } from '../gpu/scope.ts';
import { parseParallelText } from '../train/data/parallel.ts';
import { parseReplayJsonl } from '../train/data/replay.ts';
import { type DataSummary, evalTexts, prepareData } from '../train/data/prepare.ts';
import type { ParallelPair } from '../train/data/parallel.ts';
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
  const { pairs, evalTexts: held, summary } = alignData(req, o);
  if (!pairs.length) throw new Error(`${req.pairsName}: no pairs for L1 ${o.l1.join(',')} and L2 ${o.l2.join(',')}`);
  const replay = req.replay ? parseReplayJsonl(req.replay, req.replayName ?? 'replay.jsonl') : undefined;
  return { o, pairs, replay, evalTexts: held, summary };
}

/** The request's training pairs and validation texts (train's data rules: prepare.ts), and what they hold. */
export function alignData(
  req: AlignRequest,
  o: LoopOptions = alignOptions(req),
): { pairs: ParallelPair[]; evalTexts: string[]; summary: DataSummary } {
  const src = parseParallelText(req.pairs, req.pairsName, { names: o.langNames, columns: req.columns });
  const d = prepareData([src], {
    l1: o.l1,
    l2: o.l2,
    objectives: o.objectives,
    evalSplit: req.evalSplit,
    seed: o.seed,
  });
  if (req.evalSteps !== undefined && !(Number.isInteger(req.evalSteps) && req.evalSteps >= 1))
    throw new Error(`evalSteps must be a positive integer, got ${req.evalSteps}`);
  if (req.evalSteps !== undefined && !d.evalPairs.length)
    throw new Error('evalSteps needs a validation split: give evalSplit (rows, or a share such as "10%")');
  return { pairs: d.pairs, evalTexts: d.evalPairs.length ? evalTexts(d.evalPairs, o) : [], summary: d.summary };
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
  if (m.dtype !== 'f32' || m.int8)
    throw new Error(
      `alignment trains f32 weights; this model is loaded as ${m.int8 ? 'int8' : m.dtype}: reload it with f32 weights`,
    );
  const { o, pairs, replay, evalTexts: held } = prepareAlign(req);
  const evalEvery = held.length ? (req.evalSteps ?? o.steps) : 0;
  const logs: StepLog[] = [];
  const t0 = Date.now();
  // the gradients and optimizer state live for this call only; the weights keep the steps made
  await withScope(r.gpu, async (mem) => {
    const loop = new TrainLoop(mem, m, r.tokenizer, trainingStream(o, pairs, replay), o);
    for (let step = 1; step <= o.steps; step++) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('cancelled');
      const log = await loop.step(step);
      if (evalEvery && (step % evalEvery === 0 || step === o.steps)) {
        const ev = await loop.evalLoss(held);
        log.eval_loss = ev.loss;
        log.eval_perplexity = Math.exp(ev.loss);
      }
      logs.push(log);
      opts.onStep?.({ log, total: o.steps, etaSeconds: estimateEta(step, o.steps, 0, t0, Date.now()) });
    }
  });
  return logs;
}
