// The model families this runtime loads, by config.json `model_type` (src/model/causal-lm.ts describes the seam).
// A new family adds its folder under src/model/ and one line here.
import type { Gpu } from '../gpu/runtime.ts';
import {
  randomArrays,
  type CausalLM,
  type LoadModelOptions,
  type ModelConfig,
  type ModelFamily,
  type ParameterSource,
} from './causal-lm.ts';
import { bloomFamily } from './bloom/family.ts';
import { llamaFamily } from './llama/family.ts';

const FAMILIES: readonly ModelFamily[] = Object.freeze([bloomFamily, llamaFamily]);

/** The family that reads a config.json's `model_type` (absent: BLOOM, whose older configs omit it). */
export function familyForType(modelType: unknown, source = 'config.json'): ModelFamily {
  const type = modelType ?? 'bloom';
  const f = FAMILIES.find((x) => x.modelTypes.includes(type as string));
  if (!f)
    throw new Error(
      `${source}: model_type is ${JSON.stringify(modelType)}; this runtime loads ` +
        `${FAMILIES.flatMap((x) => x.modelTypes.map((t) => `"${t}"`)).join(', ')}`,
    );
  return f;
}

/** The family of a parsed config (ModelConfig.family). */
export function familyOf(cfg: ModelConfig): ModelFamily {
  const f = FAMILIES.find((x) => x.name === cfg.family);
  if (!f) throw new Error(`no model family named "${cfg.family}"`);
  return f;
}

/** Parses a config.json object with the family its `model_type` names. */
export function parseModelConfig(json: unknown, source = 'config.json'): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new Error(`${source}: expected a JSON object, got ${JSON.stringify(json)?.slice(0, 80)}`);
  return familyForType((json as Record<string, unknown>).model_type, source).parseConfig(json, source);
}

/** The config of a model size known by name to one of the families ('nano-bloomz', 'bloomz-560m', …). */
export function namedConfig(name: string): ModelConfig {
  for (const f of FAMILIES) {
    const c = f.namedConfig?.(name);
    if (c) return c;
  }
  throw new Error(`unknown model size '${name}'`);
}

/** Builds the model of `cfg`'s family, reading each parameter from `source`. */
export function buildModel(
  gpu: Gpu,
  cfg: ModelConfig,
  source: ParameterSource,
  opts?: LoadModelOptions,
): Promise<CausalLM> {
  return familyOf(cfg).load(gpu, cfg, source, opts);
}

/** Random weights in the shape of `cfg` (normal(0, std) matrices and embeddings, norms 1 and 0, zero biases). */
export function randomParameters(cfg: ModelConfig, seed = 1, std = 0.02): ParameterSource {
  const made = randomArrays(familyOf(cfg).parameters(cfg), seed, std);
  return async (name) => {
    const a = made.get(name);
    if (!a) throw new Error(`no parameter ${name} in the ${cfg.family} table`);
    return a;
  };
}

/** Zero weights in the shape of `cfg`, made one parameter at a time when asked for (a dry run uploads none). */
export function zeroParameters(cfg: ModelConfig): ParameterSource {
  const shapes = new Map(
    familyOf(cfg)
      .parameters(cfg)
      .map((p) => [p.name, p.shape]),
  );
  return async (name) => new Float32Array(shapes.get(name)!.reduce((x, y) => x * y, 1));
}
