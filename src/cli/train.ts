// `instructalign train`: InstructAlign continual crosslingual instruction tuning with experience replay.
import { resolve } from 'node:path';
import { bool, list, num, parseArgs, required, str } from './args.ts';
import { Runtime } from '../host/runtime.ts';
import { train, TRAIN_DEFAULTS, type TrainOptions } from '../train/trainer.ts';
import { dataPath, DEFAULT_PAIRS } from '../train/data/paths.ts';
import { langCode } from '../train/data/langs.ts';

const D = TRAIN_DEFAULTS;
export const help = `instructalign train --model DIR --out DIR [options]

Continual crosslingual instruction tuning (InstructAlign): crosslingual instructions built from parallel data
(L1 pivot ↔ each L2, both directions), interleaved 1:1 with replayed instruction data, full fine-tuning with AdamW
(f32 master weights). Logs one JSON line per step to OUT/log.jsonl; checkpoints (HF-loadable model.safetensors +
config.json + tokenizer.json, optimizer state, data position) go to OUT/checkpoint atomically every --save-steps,
at the end and on Ctrl-C. --resume continues exactly where the checkpoint left off.

Options:
  --model DIR            starting checkpoint (an instruction-tuned BLOOM, e.g. models/nano-bloomz)
  --out DIR              run folder
  --pairs SRC            NusaX-MT CSV, FLORES-200 folder or JSONL pairs (default: bundled data/${DEFAULT_PAIRS})
  --l1 CODES             pivot languages (default ${D.l1.join(',')})
  --l2 CODES             languages to align (default ${D.l2.join(',')})
  --objectives LIST      tlm, xss, mlm, mt (or the official names: bilingual, pair, pair-xss, ...) (default ${D.objectives})
  --replay FILE          past instruction data, JSONL {"inputs","targets"} (xP3 format); none = no replay
  --replay-size N        replay rows sampled with the seed (default all)
  --steps N              optimizer steps (default ${D.steps})
  --lr X                 peak learning rate, linear decay to 0 (default ${D.lr}, the paper's)
  --warmup-steps N       linear warmup (default 0)
  --batch-size N         sequences per step (default ${D.batchSize}, the paper's effective batch)
  --grad-accum K         micro-batches per step (default 1)
  --max-length N         tokens per sequence, right truncation (default ${D.maxLength})
  --weight-decay X       AdamW weight decay (default 0, HF Trainer's)
  --max-grad-norm X      gradient clipping (default 1.0)
  --save-steps N         checkpoint interval (default ${D.saveSteps})
  --seed S               data order, objectives and noise (default ${D.seed})
  --fp16                 mixed precision: f16 matrices for forward/backward, f32 master weights for AdamW
  --loss-scale MODE      dynamic (GradScaler: 2^16, halve and skip on overflow, double after 2000 clean steps),
                         none, or a fixed number (default: dynamic with --fp16, none otherwise)
  --recompute            activation recomputation per block: keep only block inputs, less GPU memory, ~1 extra forward
  --resume               continue from OUT/checkpoint
  --official-tlm-lang-swap  reproduce the official code's swapped TLM language names`;

export function trainOptions(argv: string[]): { o: TrainOptions; resume: boolean } {
  const a = parseArgs(argv, ['resume', 'official-tlm-lang-swap', 'fp16', 'recompute']);
  const resume = bool(a, 'resume');
  const o: TrainOptions = {
    model: resume ? str(a, 'model', '') : required(a, 'model'),
    out: resolve(required(a, 'out')),
    pairs: str(a, 'pairs') ?? dataPath(DEFAULT_PAIRS),
    l1: list(a, 'l1', D.l1)!.map(langCode),
    l2: list(a, 'l2', D.l2)!.map(langCode),
    objectives: str(a, 'objectives', D.objectives),
    replay: str(a, 'replay'),
    replaySize: num(a, 'replay-size'),
    steps: num(a, 'steps', D.steps),
    lr: num(a, 'lr', D.lr),
    warmupSteps: num(a, 'warmup-steps', D.warmupSteps),
    batchSize: num(a, 'batch-size', D.batchSize),
    gradAccum: num(a, 'grad-accum', D.gradAccum),
    maxLength: num(a, 'max-length', D.maxLength),
    weightDecay: num(a, 'weight-decay', D.weightDecay),
    maxGradNorm: num(a, 'max-grad-norm', D.maxGradNorm),
    decayAll: false,
    seed: num(a, 'seed', D.seed),
    saveSteps: num(a, 'save-steps', D.saveSteps),
    officialTlmLangSwap: bool(a, 'official-tlm-lang-swap'),
    fp16: bool(a, 'fp16'),
    recompute: bool(a, 'recompute'),
    lossScale: lossScaleFlag(str(a, 'loss-scale')),
  };
  return { o, resume };
}

/** --loss-scale dynamic|none|N (undefined: the default for the precision) */
function lossScaleFlag(v: string | undefined): TrainOptions['lossScale'] {
  if (v === undefined || v === 'dynamic' || v === 'none') return v;
  const n = Number(v);
  if (!(n > 0 && Number.isFinite(n)))
    throw new Error(`--loss-scale must be dynamic, none or a positive number, got "${v}"`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const { o, resume } = trainOptions(argv);
  const rt = await Runtime.create();
  let stop = false;
  const onSigint = () => {
    if (stop) process.exit(130);
    stop = true;
    console.error('\nCtrl-C: finishing this step and saving a checkpoint (Ctrl-C again to quit without saving)');
  };
  process.on('SIGINT', onSigint);
  try {
    console.error(
      `train: ${o.objectives} on ${o.l1.join(',')} ↔ ${o.l2.join(',')}${o.replay ? ` + replay ${o.replay}` : ''}, ${o.steps} steps × ${o.batchSize} on ${rt.adapterInfo} → ${o.out}`,
    );
    const logs = await train(rt.gpu, o, resume, { progress: true, shouldStop: () => stop });
    if (logs.length) {
      const f = logs[0],
        l = logs[logs.length - 1];
      console.error(
        `train: steps ${f.step}..${l.step}, loss ${f.loss.toFixed(4)} → ${l.loss.toFixed(4)}; checkpoint ${o.out}/checkpoint, log ${o.out}/log.jsonl`,
      );
    }
    return stop ? 130 : 0;
  } finally {
    process.off('SIGINT', onSigint);
    rt.dispose();
  }
}
