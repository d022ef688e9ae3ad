// The WGSL preprocessor (src/gpu/wgsl.ts): //#if blocks and //#unroll, with line numbers kept (compile errors
// point at the shader's own lines).
import assert from 'node:assert/strict';
import { hasPrologue, preprocess } from '../../src/gpu/wgsl.ts';

describe('wgsl preprocessor', () => {
  it('//#if / //#else / //#endif keep or blank lines and keep the line count', () => {
    const src = 'a\n//#if X\nb\n//#else\nc\n//#endif\nd';
    assert.deepEqual(preprocess(src, { X: true }, 't').split('\n'), ['a', '', 'b', '', '', '', 'd']);
    assert.deepEqual(preprocess(src, {}, 't').split('\n'), ['a', '', '', '', 'c', '', 'd']);
  });

  it('//#ifnot keeps its block when the define is off (not read as //#if "not")', () => {
    const src = 'a\n//#ifnot X\nb\n//#else\nc\n//#endif\nd';
    assert.deepEqual(preprocess(src, {}, 't').split('\n'), ['a', '', 'b', '', '', '', 'd']);
    assert.deepEqual(preprocess(src, { X: true }, 't').split('\n'), ['a', '', '', '', 'c', '', 'd']);
  });

  it('moves kept `enable` directives and numeric defines to one first line (directives precede declarations)', () => {
    const src = '// header\nconst A = 1;\n//#if SG\nenable subgroups; // why\n//#endif\nfn f() {}';
    const out = preprocess(src, { SG: true, N: 2 }, 't').split('\n');
    assert.equal(out[0], 'enable subgroups; const N: u32 = 2u;');
    assert.equal(out.length, 7, 'one prologue line, the rest kept line for line');
    assert.deepEqual(out.slice(1), ['// header', 'const A = 1;', '', '', '', 'fn f() {}']);
    assert.ok(hasPrologue(out.join('\n')));
    assert.ok(!hasPrologue(preprocess(src, {}, 't')), 'no prologue without enables or numeric defines');
  });

  it('//#unroll repeats the body with $V = 0..N−1 ($Vu a u32 literal), N from a numeric define, on one line', () => {
    const src = 'a\n//#unroll d D4\n  let q$d = x[b + $du];\n  o$d += q$d * $dim;\n//#endunroll\nz';
    const out = preprocess(src, { D4: 3 }, 't').split('\n');
    assert.equal(out[0], 'const D4: u32 = 3u;');
    const body = out.slice(1);
    assert.equal(body.length, 6, 'line count kept');
    assert.equal(
      body[1],
      'let q0 = x[b + 0u]; o0 += q0 * $dim; let q1 = x[b + 1u]; o1 += q1 * $dim; let q2 = x[b + 2u]; o2 += q2 * $dim;',
    );
    assert.deepEqual([body[0], body[2], body[3], body[4], body[5]], ['a', '', '', '', 'z']);
  });

  it('//#unroll nests (inner variable first), still on one line', () => {
    const src = 'a\n//#unroll i 2\n//#unroll j 2\nc$i$j += a$i * b$ju;\n//#endunroll\n//#endunroll\nz';
    const out = preprocess(src, {}, 't').split('\n');
    assert.equal(out.length, 7);
    assert.equal(out[1], 'c00 += a0 * b0u; c01 += a0 * b1u; c10 += a1 * b0u; c11 += a1 * b1u;');
    assert.deepEqual([out[0], out[2], out[3], out[4], out[5], out[6]], ['a', '', '', '', '', 'z']);
  });

  it('names the shader line of a bad //#unroll', () => {
    assert.throws(
      () => preprocess('x\n//#unroll d K\ny\n//#endunroll', {}, 'attention'),
      /attention\.wgsl:2: \/\/#unroll count "K"/,
    );
    assert.throws(() => preprocess('//#unroll d 2\ny', {}, 'm'), /m\.wgsl:1: \/\/#unroll without \/\/#endunroll/);
    assert.throws(() => preprocess('y\n//#endunroll', {}, 'm'), /m\.wgsl:2: \/\/#endunroll without/);
  });

  it("//#include puts a shaders/lib snippet on the directive's line (comments dropped), inside //#if too", () => {
    const lib = { 'f.wgsl': '// why\nfn f(x: f32) -> f32 {\n  return x; // id\n}\n' };
    const src = 'a\n//#include "f.wgsl"\n//#if X\n//#include "f.wgsl"\n//#endif\nz';
    assert.deepEqual(preprocess(src, {}, 't', lib).split('\n'), [
      'a',
      'fn f(x: f32) -> f32 { return x; }',
      '',
      '',
      '',
      'z',
    ]);
    assert.equal(preprocess(src, { X: true }, 't', lib).split('\n')[3], 'fn f(x: f32) -> f32 { return x; }');
    // the real library: GELU is written once, in shaders/lib/gelu.wgsl
    assert.match(preprocess('//#include "gelu.wgsl"', {}, 'elementwise'), /fn gelu\(x: f32\) -> f32 \{/);
  });

  it('names the shader line of a bad //#include and refuses directives inside a snippet', () => {
    assert.throws(() => preprocess('x\n//#include "nope.wgsl"', {}, 'm', {}), /m\.wgsl:2: no shaders\/lib\/nope\.wgsl/);
    assert.throws(() => preprocess('//#include gelu', {}, 'm', {}), /m\.wgsl:1: write an include as/);
    assert.throws(
      () => preprocess('//#include "s.wgsl"', {}, 'm', { 's.wgsl': '//#if X\nfn f() {}\n//#endif' }),
      /shaders\/lib\/s\.wgsl: a snippet may not contain/,
    );
  });
});
