// perturb.ts: the set table's frequencies, per-token rates of infill/delete, permute keeps the multiset.
import assert from 'node:assert/strict';
import {
  PERTURB_TABLE,
  applyOps,
  deleteTokens,
  drawPerturbSet,
  infill,
  permute,
} from '../../../src/train/data/perturb.ts';
import { wordTokenize } from '../../../src/train/data/wordtok.ts';
import { Rng } from '../../../src/train/rng.ts';

/** |count − N·p| ≤ 4σ with σ = √(N·p·(1−p)) (binomial); a 4σ miss has probability ≈ 6e-5 per check. */
function within4Sigma(count: number, N: number, p: number, what: string) {
  const sigma = Math.sqrt(N * p * (1 - p));
  assert.ok(
    Math.abs(count - N * p) <= 4 * sigma,
    `${what}: ${count}/${N}, expected ${N * p} ± ${(4 * sigma).toFixed(1)}`,
  );
}

const SENT = 'Kue-kue yang disajikan bikin saya bernostalgia, semuanya tipikal kue zaman dulu dan harganya juga murah.';

describe('train/data/perturb', () => {
  it("the set boundaries are exactly .24/.48/.72/.80/.88/.96 (u just below and at each, InstructAlign's table)", () => {
    // a stub draw: the u of each case, so the table is pinned without sampling noise
    const at = (u: number) => drawPerturbSet({ next: () => u } as unknown as Rng).join('+');
    const cases: [number, string][] = [
      [0, 'infill'],
      [0.2399999, 'infill'],
      [0.24, 'delete'],
      [0.4799999, 'delete'],
      [0.48, 'permute'],
      [0.7199999, 'permute'],
      [0.72, 'infill+delete'],
      [0.7999999, 'infill+delete'],
      [0.8, 'infill+permute'],
      [0.8799999, 'infill+permute'],
      [0.88, 'delete+permute'],
      [0.9599999, 'delete+permute'],
      [0.96, 'infill+delete+permute'],
      [0.9999999, 'infill+delete+permute'],
    ];
    assert.deepEqual(
      cases.map(([u]) => [u, at(u)]),
      cases,
    );
  });

  it('set frequencies follow the official table (.24/.24/.24/.08/.08/.08/.04), N=20000, 4σ', () => {
    const expected: [string, number][] = [
      ['infill', 0.24],
      ['delete', 0.24],
      ['permute', 0.24],
      ['infill+delete', 0.08],
      ['infill+permute', 0.08],
      ['delete+permute', 0.08],
      ['infill+delete+permute', 0.04],
    ];
    assert.deepEqual(
      PERTURB_TABLE.map((r) => r.ops.join('+')),
      expected.map(([k]) => k),
    ); // also the order of application
    const rng = Rng.fromSeed(1);
    const N = 20000;
    const counts = new Map<string, number>();
    for (let i = 0; i < N; i++) {
      const k = drawPerturbSet(rng).join('+');
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    for (const [k, p] of expected) within4Sigma(counts.get(k) ?? 0, N, p, k);
  });

  it('infill masks ≈20% of tokens and keeps the rest in place (N=20000 tokens, 4σ)', () => {
    const rng = Rng.fromSeed(2);
    const toks = wordTokenize(SENT);
    let masked = 0,
      total = 0;
    while (total < 20000) {
      const out = infill(SENT, rng).split(' ');
      assert.equal(out.length, toks.length);
      out.forEach((t, i) => {
        if (t === '___') masked++;
        else assert.equal(t, toks[i]);
      });
      total += toks.length;
    }
    within4Sigma(masked, total, 0.2, 'masked');
  });

  it('delete drops ≈20% of tokens, keeping order (N=20000 tokens, 4σ)', () => {
    const rng = Rng.fromSeed(3);
    const toks = wordTokenize(SENT);
    let kept = 0,
      total = 0;
    while (total < 20000) {
      const out = deleteTokens(SENT, rng);
      const o = out === '' ? [] : out.split(' ');
      let j = 0;
      for (const t of toks) if (j < o.length && o[j] === t) j++;
      assert.equal(j, o.length, 'kept tokens are a subsequence');
      kept += o.length;
      total += toks.length;
    }
    within4Sigma(total - kept, total, 0.2, 'deleted');
  });

  it('permute is a full shuffle: same multiset, every token reaches the first position', () => {
    const rng = Rng.fromSeed(4);
    const toks = wordTokenize('a b c d e');
    const firsts = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const out = permute('a b c d e', rng).split(' ');
      assert.deepEqual([...out].sort(), [...toks].sort());
      firsts.add(out[0]);
    }
    assert.equal(firsts.size, 5);
  });

  it('combined ops apply in the listed order (infill before delete: a deleted mask is possible, masks never exceed tokens)', () => {
    const rng = Rng.fromSeed(5);
    for (let i = 0; i < 200; i++) {
      const out = applyOps(SENT, ['infill', 'delete', 'permute'], rng).split(' ').filter(Boolean);
      assert.ok(out.length <= wordTokenize(SENT).length);
    }
  });
});
