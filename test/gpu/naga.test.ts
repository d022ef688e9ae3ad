// Every shader variant the runtime can build (VARIANTS of test/gpu/shader-variants.test.ts, which this imports, so
// running this file alone also runs that one) checked by Naga, the WGSL compiler of wgpu (Firefox, Deno), as the
// npm package naga-wasm (no driver needed): parse, validate, write SPIR-V. Tint (Dawn) accepting a variant says
// nothing about Naga. Variants that need a device feature wgpu does not offer (`enable subgroups;`: Naga 30 has
// no subgroups enable-extension yet) are expected to fail and are only ever built where the device has the feature
// (PipelineCache.get refuses otherwise; wgpu adapters never offer `subgroups`); every other variant must pass.
import assert from 'node:assert/strict';
import { parseWgsl, validate, writeSpirv, nagaVersion } from 'naga-wasm';
import { preprocess, requiredFeatures } from '../../src/gpu/wgsl.ts';
import { SHADERS } from '../../src/generated/assets.ts';
import { VARIANTS } from './shader-variants.test.ts';

/** Device features wgpu (Firefox ESR 153, Deno 2.9, naga 29/30) does not offer, hence variants Naga may reject. */
const WGPU_LACKS = new Set(['subgroups']);

interface Verdict {
  shader: string;
  defines: Record<string, boolean | number>;
  needs: string[];
  stage: 'ok' | 'parse' | 'validation' | 'spirv';
  error?: string;
}

function check(shader: string, defines: Record<string, boolean | number>): Verdict {
  const code = preprocess(SHADERS[shader], defines, shader);
  const v: Verdict = { shader, defines, needs: requiredFeatures(code), stage: 'ok' };
  const err = (e: unknown) => String((e as { formatted?: string }).formatted ?? e);
  let module: ReturnType<typeof parseWgsl>;
  try {
    module = parseWgsl(code);
  } catch (e) {
    return { ...v, stage: 'parse', error: err(e) };
  }
  try {
    let info: ReturnType<typeof validate>;
    try {
      info = validate(module);
    } catch (e) {
      return { ...v, stage: 'validation', error: err(e) };
    }
    try {
      const words = writeSpirv(module, info);
      assert.equal(words[0], 0x07230203, 'SPIR-V magic number');
    } catch (e) {
      return { ...v, stage: 'spirv', error: err(e) };
    } finally {
      (info as { free?: () => void }).free?.();
    }
  } finally {
    (module as { free?: () => void }).free?.();
  }
  return v;
}

describe(`Naga (naga-wasm ${nagaVersion}): every shader variant`, function () {
  this.timeout(300000);
  const verdicts: Verdict[] = [];
  before(() => {
    for (const [shader, list] of Object.entries(VARIANTS)) for (const d of list) verdicts.push(check(shader, d));
  });

  it('every variant that needs no feature wgpu lacks parses, validates and writes SPIR-V', () => {
    const portable = verdicts.filter((v) => !v.needs.some((f) => WGPU_LACKS.has(f)));
    const bad = portable.filter((v) => v.stage !== 'ok');
    assert.ok(portable.length > 200, `${portable.length} portable variants`);
    assert.deepEqual(
      bad.map((v) => `${v.shader} ${JSON.stringify(v.defines)}: ${v.stage}: ${v.error?.split('\n')[0]}`),
      [],
    );
  });

  it('the variants Naga rejects all need subgroups (recorded with the reason)', () => {
    const rejected = verdicts.filter((v) => v.stage !== 'ok');
    for (const v of rejected) assert.ok(v.needs.includes('subgroups'), `${v.shader} ${JSON.stringify(v.defines)}`);
    const reasons = new Map<string, number>();
    for (const v of rejected) {
      const line = (v.error ?? '').split('\n').find((l) => /error/.test(l)) ?? v.stage;
      const key = `${v.stage}: ${line.trim()}`;
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
    }
    const n = verdicts.length;
    console.log(
      `      naga ${nagaVersion}: ${n - rejected.length} of ${n} variants pass; rejected ${rejected.length}:`,
    );
    for (const [r, k] of reasons) console.log(`        ${k} × ${r}`);
  });

  it('requiredFeatures reads the enable directives', () => {
    assert.deepEqual(requiredFeatures('enable subgroups; const BLK: u32 = 2u;\nfn f() {}'), ['subgroups']);
    assert.deepEqual(requiredFeatures('enable f16, subgroups;\n'), ['shader-f16', 'subgroups']);
    assert.deepEqual(requiredFeatures('// enable f16;\nfn f() {}'), []);
    // two hoisted enables share the prologue line (a layernorm variant with F16 and SUBGROUPS)
    assert.deepEqual(requiredFeatures('enable f16; enable subgroups; const D4: u32 = 2u;\n'), [
      'shader-f16',
      'subgroups',
    ]);
  });
});
