// The selftest checks, shared by `instructalign selftest` (Node) and the browser worker: a fixture folder in the
// format of test/fixtures/* (HF-computed references) against this adapter: tokenizer, logits, hidden states,
// log-probs, greedy generation (KV cache), the loss, every gradient, and two AdamW steps.
import type { Runtime } from './runtime.ts';
import { blobSource, fileSource, SafetensorsFile } from '../model/safetensors.ts';
import { checkpointSource, openCheckpoint } from '../model/checkpoint.ts';
import type { Gradients, ModelConfig, Trainable } from '../model/causal-lm.ts';
import { buildModel, familyOf } from '../model/families.ts';
import { withScope } from '../gpu/scope.ts';
import { AdamW } from '../train/optimizer.ts';
import { trainStep } from '../train/step.ts';

/** A fixture folder: a Node path, or its files by name (browser). */
export type FixtureSource = string | Map<string, Blob>;

function fileOf(files: Map<string, Blob>, name: string): Blob {
  const hit = [...files].find(([k]) => k === name || k.endsWith('/' + name));
  if (!hit) throw new Error(`the fixture has no ${name}`);
  return hit[1];
}

async function openReference(src: FixtureSource): Promise<{ json: any; ref: SafetensorsFile }> {
  if (typeof src === 'string') {
    const { readFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const json = JSON.parse(await readFile(join(src, 'reference.json'), 'utf8'));
    return { json, ref: await SafetensorsFile.open(await fileSource(join(src, 'reference.safetensors'))) };
  }
  const json = JSON.parse(await fileOf(src, 'reference.json').text());
  return {
    json,
    ref: await SafetensorsFile.open(blobSource(fileOf(src, 'reference.safetensors'), 'reference.safetensors')),
  };
}

export interface Check {
  check: string;
  maxAbs: number;
  maxRel: number;
  tolerance: string;
  pass: boolean;
}

function cmp(
  name: string,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  atol: number,
  rtol: number,
  use: (i: number) => boolean,
): Check {
  let maxAbs = 0,
    maxRel = 0,
    pass = a.length === b.length;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (!use(i)) continue;
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= atol + rtol * Math.abs(b[i]))) pass = false;
    maxAbs = Math.max(maxAbs, d);
    maxRel = Math.max(maxRel, d / Math.max(Math.abs(b[i]), 1e-12));
  }
  return { check: name, maxAbs, maxRel, tolerance: `${atol} + ${rtol}·|ref|`, pass };
}

const exact = (name: string, pass: boolean, wrong: number): Check => ({
  check: name,
  maxAbs: wrong,
  maxRel: 0,
  tolerance: 'exact',
  pass,
});

export async function selftest(rt: Runtime, dir: FixtureSource): Promise<Check[]> {
  const { json, ref } = await openReference(dir);
  const checks: Check[] = [];
  try {
    const cases = json.tokenizer_cases as { text: string; ids: number[]; decoded: string }[];
    const badTok = cases.filter(
      (c) => JSON.stringify(rt.tokenizer.encode(c.text)) !== JSON.stringify(c.ids) || rt.decode(c.ids) !== c.decoded,
    ).length;
    checks.push(exact(`tokenizer (${cases.length} cases)`, badTok === 0, badTok));
    const i32 = async (n: string) => new Int32Array((await ref.raw(n)).slice().buffer);
    const ids = await i32('input_ids'),
      mask = await i32('attention_mask');
    const [B, T] = ref.tensors.get('input_ids')!.shape;
    const m = rt.loaded,
      V = m.config.vocabSize,
      H = m.config.hiddenSize;
    const out = await m.forward({ ids, mask, B, T }, { logits: true, hidden: true });
    checks.push(cmp('logits', out.logits!, await ref.f32('logits'), 1e-3, 1e-3, (i) => mask[Math.floor(i / V)] === 1));
    for (let l = 0; l < out.hidden!.length; l++) {
      checks.push(
        cmp(
          `hidden_states.${l}`,
          out.hidden![l],
          await ref.f32(`hidden_states.${l}`),
          1e-3,
          1e-3,
          (i) => mask[Math.floor(i / H)] === 1,
        ),
      );
    }
    const lp = new Float32Array(B * (T - 1));
    for (let b = 0; b < B; b++) lp.set(out.logprobs.subarray(b * T, b * T + T - 1), b * (T - 1));
    checks.push(cmp('token_logprobs', lp, await ref.f32('token_logprobs'), 1e-3, 1e-3, () => true));
    const mean = new Float32Array(B);
    for (let b = 0; b < B; b++) {
      let s = 0,
        n = 0;
      for (let t = 0; t + 1 < T; t++)
        if (mask[b * T + t + 1]) {
          s += lp[b * (T - 1) + t];
          n++;
        }
      mean[b] = s / n;
    }
    checks.push(cmp('mean_logprob', mean, await ref.f32('mean_logprob'), 1e-3, 1e-3, () => true));
    const gen = json.generation as { prompt_ids: number[]; greedy_ids: number[] };
    const g = await rt.generate(gen.prompt_ids, { maxNewTokens: gen.greedy_ids.length, stopAtEos: false });
    const wrong =
      g.ids.filter((x, i) => x !== gen.greedy_ids[i]).length + Math.abs(g.ids.length - gen.greedy_ids.length);
    checks.push(exact(`greedy generation (${gen.greedy_ids.length} tokens, KV cache)`, wrong === 0, wrong));
  } finally {
    await ref.close();
  }
  return checks;
}

/** Gradients of every parameter, then two AdamW steps, against the fixture (HF Trainer's numbers). */
export async function trainSelftest(rt: Runtime, dir: FixtureSource): Promise<Check[]> {
  const { json, ref } = await openReference(dir);
  const ck = await openCheckpoint(dir);
  const g = rt.gpu;
  try {
    return await withScope(g, async (mem) => {
      const lm = mem.own(await buildModel(g, ck.config, checkpointSource(ck), { dtype: 'f32' }));
      const model = mem.own(lm.training());
      const ad = json.adamw;
      const opt = new AdamW(mem, model.params, {
        lr: ad.lr,
        betas: ad.betas,
        eps: ad.eps,
        weightDecay: ad.weight_decay,
        maxGradNorm: ad.max_grad_norm,
        decayAll: true,
        totalSteps: ad.steps,
      });
      return trainChecks(json, ref, lm.config, model, opt, () => lm.readParameters());
    });
  } finally {
    await ck.close();
    await ref.close();
  }
}

async function trainChecks(
  json: any,
  ref: SafetensorsFile,
  cfg: ModelConfig,
  model: Trainable,
  opt: AdamW,
  readParameters: () => Promise<Map<string, Float32Array>>,
): Promise<Check[]> {
  const family = familyOf(cfg);
  const checks: Check[] = [];
  const i32 = async (n: string) => new Int32Array((await ref.raw(n)).slice().buffer);
  const [B, T] = ref.tensors.get('input_ids')!.shape;
  const batch = { ids: await i32('input_ids'), mask: await i32('attention_mask'), B, T },
    labels = await i32('labels');
  const names = family.parameters(cfg).map((p) => p.name);
  // the reference's tensors under `<prefix><HF module name>`, by canonical parameter name
  const refName = (prefix: string) => {
    const out = new Map<string, string>();
    for (const k of ref.tensors.keys())
      if (k.startsWith(prefix)) out.set(family.canonicalName(k.slice(prefix.length)), k);
    return out;
  };
  const worst = async (got: Map<string, Float32Array>, prefix: string, label: string) => {
    let agg: Check = { check: label, maxAbs: 0, maxRel: 0, tolerance: '0.0001 + 0.01·|ref|', pass: true };
    const names2 = refName(prefix);
    for (const n of names) {
      const want = names2.get(n);
      if (!want) throw new Error(`the fixture has no ${prefix}… tensor for parameter ${n}`);
      const c = cmp(n, got.get(n)!, await ref.f32(want), 1e-4, 1e-2, () => true);
      agg = {
        ...agg,
        maxAbs: Math.max(agg.maxAbs, c.maxAbs),
        maxRel: Math.max(agg.maxRel, c.maxRel),
        pass: agg.pass && c.pass,
      };
      if (!c.pass) agg.check = `${label} (first failing: ${n})`;
    }
    return agg;
  };
  const rel = (name: string, got: number, want: number): Check => ({
    check: name,
    maxAbs: Math.abs(got - want),
    maxRel: Math.abs(got - want) / Math.abs(want),
    tolerance: '1e-4 relative',
    pass: Math.abs(got - want) <= 1e-4 * Math.abs(want),
  });
  for (let step = 0; step < 2; step++) {
    const gradsCheck = async (g: Gradients) => {
      if (step === 0) checks.push(await worst(await g.read(), 'grad.', `gradients (${names.length} parameters)`));
    };
    const { loss, gradNorm } = await trainStep({ model, opt }, [{ batch, labels }], opt.lrAt(step), gradsCheck);
    checks.push(rel(`loss, step ${step + 1}`, loss, json.losses_per_step[step]));
    checks.push(rel(`grad norm before clipping, step ${step + 1}`, gradNorm, json.grad_norms_before_clip[step]));
  }
  checks.push(await worst(await readParameters(), 'after_adamw_2_steps.', 'parameters after 2 AdamW steps'));
  return checks;
}
