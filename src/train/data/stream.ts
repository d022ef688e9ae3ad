// TrainingStream: the deterministic, resumable sequence of InstructAlign training texts (new data + replay).
// Per epoch e the pair order and the replay order are shuffled with Rng(seed).fork(`epoch:e`) and mixed by
// interleaveAllExhausted; each new-data item then draws objective, noise and template from one running example Rng.
// State = (epoch, position, example Rng state): JSON, so a trainer resumes on exactly the same texts.
import { Rng } from '../rng.ts';
import { drawObjective, isMonolingualOnly, makeExample, parseObjectives } from './objectives.ts';
import type { Objective, ObjectiveMix } from './objectives.ts';
import { checkLangNames, type LangNames } from './langs.ts';
import { pairsFromSource } from './parallel.ts';
import type { AlignedCorpus, PairsSource, ParallelPair } from './parallel.ts';
import { interleaveAllExhausted, replayText, sampleReplay } from './replay.ts';
import type { ReplayRow } from './replay.ts';

export interface TrainingStreamOptions {
  pairs: readonly ParallelPair[]; // the new (parallel) data, directional
  objectives: string | readonly string[]; // e.g. 'tlm,xss' or ['pair-xss']
  replay?: readonly (ReplayRow | string)[]; // replay pool (rows or ready texts); none → no replay
  replaySize?: number; // rows sampled once from the pool with the seed (default: the whole pool)
  seed: number;
  replayFirst?: boolean; // default true: the official interleave_datasets([xp3, flores]) puts replay first
  officialTlmLangSwap?: boolean; // see objectives.ts
  shuffle?: boolean; // default true: reshuffle the orders each epoch (HF Trainer's RandomSampler does too)
  langNames?: LangNames; // prompt names overriding the built-in ones (--lang-names)
}

export interface TrainingText {
  text: string;
  kind: Objective | 'replay';
}

export interface TrainingStreamState {
  version: 1;
  seed: number;
  epoch: number;
  pos: number;
  rng: number[];
}

export class TrainingStream {
  readonly mix: ObjectiveMix;
  readonly replayTexts: readonly string[];
  private readonly root: Rng;
  private rng: Rng;
  private epoch = 0;
  private pos = 0;
  private order: number[] = []; // ≥ 0: pair index; < 0: replay index -(i+1)
  private orderEpoch = -1;

  constructor(private readonly opts: TrainingStreamOptions) {
    if (opts.pairs.length === 0) throw new Error('TrainingStream: no pairs (check --pairs, --l1 and --l2)');
    this.mix = parseObjectives(opts.objectives);
    checkLangNames(new Set(opts.pairs.flatMap((p) => [p.lang1, p.lang2])), opts.langNames);
    this.root = Rng.fromSeed(opts.seed);
    this.rng = this.root.fork('examples');
    const pool = (opts.replay ?? []).map((r) => (typeof r === 'string' ? r : replayText(r)));
    this.replayTexts = sampleReplay(pool, opts.replaySize ?? pool.length, this.root.fork('replay-sample'));
  }

  /** Items per epoch: the pair count, or 2·max(pairs, replay) with replay. */
  get epochLength(): number {
    const n = this.opts.pairs.length,
      r = this.replayTexts.length;
    return r ? 2 * Math.max(n, r) : n;
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  next(): TrainingText {
    if (this.pos >= this.epochLength) {
      this.epoch++;
      this.pos = 0;
    }
    const item = this.orderOf(this.epoch)[this.pos++];
    if (item < 0) return { text: this.replayTexts[-item - 1], kind: 'replay' };
    const objective = drawObjective(this.mix, this.rng);
    return { text: makeExample(this.opts.pairs[item], objective, this.rng, this.opts), kind: objective };
  }

  take(n: number): TrainingText[] {
    return Array.from({ length: n }, () => this.next());
  }

  getState(): TrainingStreamState {
    return { version: 1, seed: this.opts.seed, epoch: this.epoch, pos: this.pos, rng: this.rng.getState() };
  }

  setState(s: TrainingStreamState): void {
    if (s?.version !== 1) throw new Error(`TrainingStream.setState: unknown state version ${s?.version}`);
    if (s.seed !== this.opts.seed)
      throw new Error(
        `TrainingStream.setState: state has seed ${s.seed}, this stream ${this.opts.seed} (pass the same --seed)`,
      );
    if (
      !Number.isInteger(s.epoch) ||
      s.epoch < 0 ||
      !Number.isInteger(s.pos) ||
      s.pos < 0 ||
      s.pos > this.epochLength
    ) {
      throw new Error(
        `TrainingStream.setState: bad position epoch=${s.epoch} pos=${s.pos} (epoch length ${this.epochLength}; was the data changed?)`,
      );
    }
    this.rng.setState(s.rng);
    this.epoch = s.epoch;
    this.pos = s.pos;
  }

  private orderOf(epoch: number): number[] {
    if (this.orderEpoch === epoch) return this.order;
    const r = this.root.fork(`epoch:${epoch}`);
    const shuffle = this.opts.shuffle ?? true;
    const idx = (n: number) => Array.from({ length: n }, (_, i) => i);
    const pairs = shuffle ? r.shuffle(idx(this.opts.pairs.length)) : idx(this.opts.pairs.length);
    const replay = (shuffle ? r.shuffle(idx(this.replayTexts.length)) : idx(this.replayTexts.length)).map(
      (i) => -i - 1,
    );
    const firstReplay = this.opts.replayFirst ?? true;
    this.order = replay.length ? interleaveAllExhausted(firstReplay ? [replay, pairs] : [pairs, replay]) : pairs;
    this.orderEpoch = epoch;
    return this.order;
  }
}

/** The pairs a stream should use: the official `monolingual` pairing when only MLM can be drawn, else both directions. */
export function pairsForObjectives(
  data: AlignedCorpus | PairsSource,
  l1: readonly string[],
  l2: readonly string[],
  objectives: string | readonly string[],
): ParallelPair[] {
  const src: PairsSource = 'kind' in data ? data : { kind: 'aligned', corpus: data };
  return pairsFromSource(src, { l1, l2, monolingual: isMonolingualOnly(parseObjectives(objectives)) });
}
