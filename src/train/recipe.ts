// Training recipes: named sets of `train` settings. `paper` is the official InstructAlign setup in one switch
// (HLTCHKUST/InstructAlign run_t2t_finetuning.sh + data_utils.py, docs/instructalign.md); `default` is this
// package's own defaults (TRAIN_DEFAULTS), kept for the nano testbed. Flags given on the command line win over a
// recipe, and the trainer logs which ones did (docs/paper-recipe.md).
import type { TrainOptions } from './trainer.ts';

export const RECIPES = ['default', 'paper'] as const;
export type RecipeName = (typeof RECIPES)[number];

/** What a recipe may fix: TrainOptions fields, plus the FLORES split it applies when --pairs is a FLORES folder. */
export type RecipeSettings = Partial<
  Pick<
    TrainOptions,
    | 'l1'
    | 'l2'
    | 'objectives'
    | 'replay'
    | 'lr'
    | 'warmupSteps'
    | 'batchSize'
    | 'gradAccum'
    | 'maxLength'
    | 'weightDecay'
    | 'maxGradNorm'
    | 'seed'
    | 'fp16'
    | 'floresHeldOut'
  >
>;

/** The `train` flag that sets each recipe field (to tell explicit flags from recipe values). */
export const FLAG_OF: Readonly<Record<keyof RecipeSettings, string>> = {
  l1: 'l1',
  l2: 'l2',
  objectives: 'objectives',
  replay: 'replay',
  lr: 'lr',
  warmupSteps: 'warmup-steps',
  batchSize: 'batch-size',
  gradAccum: 'grad-accum',
  maxLength: 'max-length',
  weightDecay: 'weight-decay',
  maxGradNorm: 'max-grad-norm',
  seed: 'seed',
  fp16: 'fp16',
  floresHeldOut: 'flores-held-out',
};

/**
 * The official setup. Pivot: eng_Latn ↔ {ind, sun, jav, bug, ace, bjn, ban, min} (data_utils.load_flores_datasets),
 * both directions = 16 directions; lr 1e-5, effective batch 32, max source length 128, --fp16 (run_t2t_finetuning.sh);
 * HF defaults where the script sets nothing (linear decay, no warmup, no weight decay, clipping 1.0, seed 42);
 * replay interleaved 1:1 (interleave_datasets, all_exhausted) — here with the bundled stand-in for xP3 (`replay`:
 * 'default' = DEFAULT_REPLAY); FLORES-200 dev+devtest with 1,000 rows held out (train_test_split(test_size=1000,
 * seed=0)). Not part of the recipe: --steps (the official runs use max_steps 50,000, far beyond the nano testbed)
 * and --objectives (the paper compares several; TLM+XSS, this package's default, is the one it recommends).
 */
export const PAPER_RECIPE: Readonly<Required<Omit<RecipeSettings, 'objectives'>>> = {
  l1: ['eng'],
  l2: ['ind', 'sun', 'jav', 'bug', 'ace', 'bjn', 'ban', 'min'],
  replay: 'default',
  lr: 1e-5,
  warmupSteps: 0,
  batchSize: 32,
  gradAccum: 1,
  maxLength: 128,
  weightDecay: 0,
  maxGradNorm: 1,
  seed: 42,
  fp16: true,
  floresHeldOut: 1000,
};

export function recipeSettings(name: RecipeName): RecipeSettings {
  return name === 'paper' ? { ...PAPER_RECIPE, l1: [...PAPER_RECIPE.l1], l2: [...PAPER_RECIPE.l2] } : {};
}

export interface ResolvedRecipe<T> {
  options: T;
  recipe: RecipeName;
  applied: (keyof RecipeSettings)[]; // fields the recipe set
  overridden: { field: keyof RecipeSettings; flag: string; recipe: unknown; given: unknown }[]; // explicit flags won
}

/** Applies a recipe to options parsed from flags: a field takes the recipe's value unless its flag was given. */
export function applyRecipe<T extends Partial<TrainOptions>>(
  o: T,
  name: RecipeName,
  given: ReadonlySet<string>,
): ResolvedRecipe<T> {
  const settings = recipeSettings(name);
  const out = { ...o } as Record<string, unknown>;
  const applied: (keyof RecipeSettings)[] = [];
  const overridden: ResolvedRecipe<T>['overridden'] = [];
  for (const [field, value] of Object.entries(settings) as [keyof RecipeSettings, unknown][]) {
    const flag = FLAG_OF[field];
    if (given.has(flag)) {
      if (JSON.stringify(out[field]) !== JSON.stringify(value))
        overridden.push({ field, flag, recipe: value, given: out[field] });
    } else {
      out[field] = value;
      applied.push(field);
    }
  }
  return { options: out as T, recipe: name, applied, overridden };
}

/** The log lines of a resolved recipe: what it set, and each explicit flag that overrode it. */
export function describeRecipe(r: ResolvedRecipe<Partial<TrainOptions>>): string[] {
  if (r.recipe === 'default') return [];
  const v = (x: unknown) => (Array.isArray(x) ? x.join(',') : String(x));
  const o = r.options as Record<string, unknown>;
  return [
    `recipe ${r.recipe}: ${r.applied.map((f) => `${FLAG_OF[f]} ${v(o[f])}`).join('; ')}`,
    ...r.overridden.map(
      (x) => `recipe ${r.recipe}: --${x.flag} ${v(x.given)} given explicitly, overrides the recipe's ${v(x.recipe)}`,
    ),
  ];
}

/** The resolved settings, one `name: value` line each (data --preview prints them; the log of train too). */
export function settingsLines(o: Partial<TrainOptions>): string[] {
  const l1 = o.l1 ?? [],
    l2 = o.l2 ?? [];
  const directions = 2 * l1.reduce((n, p) => n + l2.filter((x) => x !== p).length, 0);
  return [
    `pivots (L1): ${l1.join(',')} ↔ aligned (L2): ${l2.join(',')} — both directions, ${directions} directions`,
    `objectives: ${o.objectives}`,
    `replay: ${o.replay ?? 'none'}${o.replay ? ' (interleaved 1:1)' : ''}`,
    `lr: ${o.lr} (linear decay to 0, warmup ${o.warmupSteps ?? 0})`,
    `batch: ${o.batchSize} per step (effective) = ${(o.batchSize ?? 0) / (o.gradAccum ?? 1)} × ${o.gradAccum} accumulation`,
    `max length: ${o.maxLength} tokens (right truncation)`,
    `weight decay: ${o.weightDecay}; gradient clipping: ${o.maxGradNorm}; seed: ${o.seed}`,
    `precision: ${o.fp16 ? 'fp16 (dynamic loss scaling, f32 master weights)' : 'f32'}`,
    `FLORES-200 folder: ${o.floresHeldOut ? `dev+devtest, ${o.floresHeldOut} rows held out` : 'all of dev+devtest'}`,
  ];
}
