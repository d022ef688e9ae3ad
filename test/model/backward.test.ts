// Backward parity with HuggingFace on both fixtures: the loss and every parameter gradient (llm.c-style check).
import assert from 'node:assert/strict';
import { compare, FIXTURE_NAMES, getGpu, loadFixture, type Fixture } from '../helpers/gpu.ts';
import { openCheckpoint } from '../../src/model/checkpoint.ts';
import { BloomWeights } from '../../src/model/bloom/weights.ts';
import { BloomForward } from '../../src/model/bloom/forward.ts';
import type { Batch } from '../../src/model/causal-lm.ts';
import { lossAndBackward } from '../../src/model/bloom/backward.ts';
import { Grads } from '../../src/model/common/backward.ts';
import { bloomParameters } from '../../src/model/bloom/config.ts';
import type { Gpu } from '../../src/gpu/runtime.ts';

/** The fixture's reference batch and labels. */
export async function fixtureBatch(fx: Fixture): Promise<{ batch: Batch; labels: Int32Array }> {
  const i32 = async (n: string) => new Int32Array((await fx.ref.raw(n)).buffer.slice(0));
  const [B, T] = fx.ref.tensors.get('input_ids')!.shape;
  return {
    batch: { ids: await i32('input_ids'), mask: await i32('attention_mask'), B, T },
    labels: await i32('labels'),
  };
}

export async function loadF32Weights(gpu: Gpu, fx: Fixture): Promise<BloomWeights> {
  const ck = await openCheckpoint(fx.dir);
  const w = await BloomWeights.fromCheckpoint(gpu, ck, 'f32');
  await ck.close();
  return w;
}

/** Compares every parameter with `<prefix>transformer.<name>`; returns failure lines (empty = all pass). */
export async function compareParams(
  fx: Fixture,
  got: Map<string, Float32Array>,
  prefix: string,
  names: string[],
  report: (line: string) => void,
): Promise<string[]> {
  const failures: string[] = [];
  for (const name of names) {
    const want = await fx.ref.f32(`${prefix}transformer.${name}`);
    const a = got.get(name)!;
    const c = compare(a, want, 1e-4, 1e-2);
    report(
      `${name}: max abs ${c.maxAbs.toExponential(2)} (max |ref| ${want.reduce((m, x) => Math.max(m, Math.abs(x)), 0).toExponential(2)})`,
    );
    if (!c.ok) {
      const pairs: string[] = [];
      for (let i = 0; i < a.length && pairs.length < 5; i++) {
        if (!(Math.abs(a[i] - want[i]) <= 1e-4 + 1e-2 * Math.abs(want[i]))) pairs.push(`[${i}] ${a[i]} vs ${want[i]}`);
      }
      failures.push(`${name}: max abs ${c.maxAbs}, first mismatches ${pairs.join(', ')}`);
    }
  }
  return failures;
}

for (const name of FIXTURE_NAMES) {
  describe(`backward parity: ${name}`, () => {
    let gpu: Gpu;
    let fx: Fixture;
    let w: BloomWeights;
    let fwd: BloomForward;
    let grads: Grads;
    before(async () => {
      gpu = await getGpu();
      fx = await loadFixture(name);
      w = await loadF32Weights(gpu, fx);
      fwd = new BloomForward(gpu, w);
      grads = new Grads(gpu, w);
    });
    after(async () => {
      grads?.destroy();
      w?.destroy();
      fwd?.destroy();
      await fx?.ref.close();
    });

    it('loss (rel 1e-4) and every parameter gradient (atol 1e-4, rtol 1e-2) match HF', async () => {
      const { batch, labels } = await fixtureBatch(fx);
      const { loss, nTokens } = await lossAndBackward(fwd, batch, labels, grads);
      const want = fx.json.loss as number;
      assert.ok(Math.abs(loss - want) <= 1e-4 * Math.abs(want), `loss ${loss} vs HF ${want}`);
      assert.ok(nTokens > 0);
      const got = await grads.read();
      const lines: string[] = [];
      const failures = await compareParams(
        fx,
        got,
        'grad.',
        bloomParameters(w.cfg).map((p) => p.name),
        (l) => lines.push(l),
      );
      if (process.env.INSTRUCTALIGN_VERBOSE) console.log(`  loss ${loss} vs ${want}\n  ` + lines.join('\n  '));
      assert.deepEqual(failures, [], failures.join('\n'));
    });

    // training without attention probs (lse saved, scores recomputed in the backward): both kernel families, and
    // with --recompute (the block's lse is refilled with the rest of its activations)
    it('flash attention (policy attention.flash always): loss and every gradient match HF, both families and --recompute', async () => {
      for (const [label, rowwise, recompute] of [
        ['ROWWISE', true, false],
        ['workgroup', false, false],
        ['ROWWISE --recompute', true, true],
      ] as const) {
        const fwd = new BloomForward(gpu.withPolicy({ attention: { flash: 'always', rowwise } }), w);
        try {
          fwd.recompute = recompute;
          grads.zero();
          const { batch, labels } = await fixtureBatch(fx);
          const acts = await fwd.run(batch, true);
          assert.ok(acts.blocks[0].lse && !acts.blocks[0].probs, `${label}: the blocks keep lse, not probs`);
          fwd.freeActs(acts);
          const { loss } = await lossAndBackward(fwd, batch, labels, grads);
          const want = fx.json.loss as number;
          assert.ok(Math.abs(loss - want) <= 1e-4 * Math.abs(want), `${label}: loss ${loss} vs HF ${want}`);
          const failures = await compareParams(
            fx,
            await grads.read(),
            'grad.',
            bloomParameters(w.cfg).map((p) => p.name),
            () => {},
          );
          assert.deepEqual(failures, [], `${label}: ${failures.join('\n')}`);
        } finally {
          fwd.destroy();
        }
      }
    });

    it('accumulates across calls: two calls give twice the gradient; zero() resets', async () => {
      const { batch, labels } = await fixtureBatch(fx);
      grads.zero();
      await lossAndBackward(fwd, batch, labels, grads);
      const once = await grads.read();
      await lossAndBackward(fwd, batch, labels, grads, { numItems: 1e9 }); // tiny extra contribution
      await lossAndBackward(fwd, batch, labels, grads);
      const twice = await grads.read();
      for (const [n, a] of once) {
        const d = compare(
          twice.get(n)!,
          a.map((x) => 2 * x),
          1e-5,
          1e-4,
        );
        assert.ok(d.ok, `${n}: accumulated ${d.got} vs 2× ${d.want} (max abs ${d.maxAbs})`);
      }
      grads.zero();
      for (const [n, a] of await grads.read())
        assert.ok(
          a.every((x) => x === 0),
          `${n} not zeroed`,
        );
    });
  });
}
