// WGSL source handling: a tiny line preprocessor (//#include, //#if NAME, //#else, //#endif, //#unroll) and
// reflection of the bindings and the `struct Params` each shader declares, so host code derives layouts from the
// shader (one source of truth). Every define is listed in docs/shaders.md.
import { SHADER_LIB } from '../generated/assets.ts';

export interface BindingDecl {
  name: string;
  binding: number;
  kind: 'read' | 'read_write' | 'uniform';
}
export interface ParamField {
  name: string;
  type: 'u32' | 'i32' | 'f32';
}
export interface ShaderReflection {
  bindings: BindingDecl[];
  params: ParamField[];
}

/** Whether the first line of preprocessed code is the added prologue (enable directives, numeric defines). */
export function hasPrologue(code: string): boolean {
  return /^(enable\s|const \w+: u32 = \d+u;)/.test(code);
}

/**
 * `//#include "name.wgsl"` is replaced by shaders/lib/name.wgsl (`lib` resolves names), comments dropped and all on
 * the directive's line, so that line numbers stay true (a compile error inside a snippet points at the include).
 * Then keeps lines between //#if X ... //#else ... //#endif according to `defines`; line numbers are preserved.
 * `//#unroll V N` ... `//#endunroll` (N a number or a numeric define) repeats the body N times with every `$V`
 * replaced by 0..N−1 (so `$Vu` is a u32 literal), all on the directive's line so that line numbers stay true
 * (unrolls nest, with different variables):
 * hand-unrolled code without private arrays, which SwiftShader cannot keep in registers.
 */
export function preprocess(
  src: string,
  defines: Record<string, boolean | number>,
  file: string,
  lib: Readonly<Record<string, string>> = SHADER_LIB,
): string {
  return expandUnrolls(ifdefs(includes(src, file, lib), defines, file), defines, file);
}

function includes(src: string, file: string, lib: Readonly<Record<string, string>>): string {
  const lines = src.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*\/\/#include\b/.test(lines[i])) continue;
    const m = /^\s*\/\/#include\s+"([\w.-]+)"\s*$/.exec(lines[i]);
    if (!m) throw new Error(`${file}.wgsl:${i + 1}: write an include as //#include "name.wgsl"`);
    const text = lib[m[1]];
    if (text === undefined) {
      const known = Object.keys(lib).join(', ') || 'none';
      throw new Error(`${file}.wgsl:${i + 1}: no shaders/lib/${m[1]} (known: ${known}); run \`node build.mjs gen\``);
    }
    // a snippet is plain WGSL: directives inside it would be lost by the joining below
    if (/^\s*\/\/#/m.test(text)) throw new Error(`shaders/lib/${m[1]}: a snippet may not contain //# directives`);
    const code = text.split('\n').map((l) => l.replace(/\/\/.*$/, '').trim());
    lines[i] = code.filter(Boolean).join(' ');
  }
  return lines.join('\n');
}

function expandUnrolls(src: string, defines: Record<string, boolean | number>, file: string, lineOffset = 0): string {
  const lines = src.split('\n');
  const start = /^\s*\/\/#unroll\s+(\w+)\s+(\w+)\s*$/,
    stop = /^\s*\/\/#endunroll\b/;
  const at = (i: number) => `${file}.wgsl:${lineOffset + i + 1}`;
  for (let i = 0; i < lines.length; i++) {
    const m = start.exec(lines[i]);
    if (!m) {
      if (stop.test(lines[i])) throw new Error(`${at(i)}: //#endunroll without //#unroll`);
      continue;
    }
    const n = /^\d+$/.test(m[2]) ? Number(m[2]) : defines[m[2]];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
      throw new Error(`${at(i)}: //#unroll count "${m[2]}" is not a number or a numeric define`);
    let end = i + 1;
    for (let depth = 0; end < lines.length; end++) {
      if (start.test(lines[end])) depth++;
      else if (stop.test(lines[end]) && depth-- === 0) break;
    }
    if (end >= lines.length) throw new Error(`${at(i)}: //#unroll without //#endunroll`);
    // inner unrolls first (their variables differ), then this one over the joined body
    const inner = expandUnrolls(lines.slice(i + 1, end).join('\n'), defines, file, lineOffset + i + 1);
    const body = inner
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .join(' ');
    const re = new RegExp(`\\$${m[1]}(?![A-Za-z_])|\\$${m[1]}(?=u\\b)`, 'g');
    const reps = Array.from({ length: n }, (_, k) => body.replace(re, String(k))).join(' ');
    for (let j = i; j <= end; j++) lines[j] = '';
    lines[i] = reps;
    i = end;
  }
  return lines.join('\n');
}

function ifdefs(src: string, defines: Record<string, boolean | number>, file: string): string {
  const out: string[] = [];
  const stack: { active: boolean; parent: boolean; line: number }[] = [];
  const lines = src.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*\/\/#(ifnot|if|else|endif)\b\s*(\w*)/.exec(lines[i]);
    const active = stack.length ? stack[stack.length - 1].active : true;
    if (m) {
      if (m[1] === 'if' || m[1] === 'ifnot') {
        const v = !!defines[m[2]];
        stack.push({ active: active && (m[1] === 'if' ? v : !v), parent: active, line: i + 1 });
      } else if (m[1] === 'else') {
        const top = stack[stack.length - 1];
        if (!top) throw new Error(`${file}.wgsl:${i + 1}: //#else without //#if`);
        top.active = top.parent && !top.active;
      } else {
        if (!stack.pop()) throw new Error(`${file}.wgsl:${i + 1}: //#endif without //#if`);
      }
      out.push('');
      continue;
    }
    out.push(active ? lines[i] : '');
  }
  if (stack.length) throw new Error(`${file}.wgsl:${stack[stack.length - 1].line}: //#if without //#endif`);
  // numeric defines become WGSL constants usable in the code; `enable` directives (kept by an //#if, e.g.
  // `enable subgroups;`) must precede every declaration: both go on one extra first line (compile errors are
  // mapped back by src/gpu/runtime.ts)
  const enables: string[] = [];
  for (let i = 0; i < out.length; i++) {
    if (/^\s*enable\s+[\w\s,]+;\s*(\/\/.*)?$/.test(out[i])) {
      enables.push(out[i].replace(/\/\/.*$/, '').trim());
      out[i] = '';
    }
  }
  const consts = Object.entries(defines)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => `const ${k}: u32 = ${v}u;`);
  const prologue = [...enables, ...consts].join(' ');
  return prologue ? `${prologue}\n${out.join('\n')}` : out.join('\n');
}

const BIND_RE = /@group\(0\)\s*@binding\((\d+)\)\s*var<(storage|uniform)(?:\s*,\s*(read|read_write))?>\s*(\w+)\s*:/g;

export function reflect(src: string, file: string): ShaderReflection {
  const bindings: BindingDecl[] = [];
  for (const m of src.matchAll(BIND_RE)) {
    const kind = m[2] === 'uniform' ? 'uniform' : ((m[3] ?? 'read') as 'read' | 'read_write');
    bindings.push({ name: m[4], binding: Number(m[1]), kind });
  }
  bindings.sort((a, b) => a.binding - b.binding);
  const params: ParamField[] = [];
  const sm = /struct\s+Params\s*\{([^}]*)\}/.exec(src);
  if (sm) {
    for (const f of sm[1].replace(/\/\/[^\n]*/g, '').split(',')) {
      const fm = /^\s*(\w+)\s*:\s*(\w+)/.exec(f);
      if (!fm) continue;
      if (fm[2] !== 'u32' && fm[2] !== 'i32' && fm[2] !== 'f32') {
        throw new Error(
          `${file}.wgsl: struct Params field ${fm[1]} has type ${fm[2]}; only u32/i32/f32 scalars are supported`,
        );
      }
      params.push({ name: fm[1], type: fm[2] });
    }
  }
  return { bindings, params };
}

/** Bodies of every `fn name(...) ... { ... }` in the source, found by brace matching. */
function functionBodies(src: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /\bfn\s+(\w+)\s*\(/g;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    let i = src.indexOf('{', m.index);
    if (i < 0) break;
    const start = i;
    let depth = 0;
    for (; i < src.length; i++) {
      if (src[i] === '{') depth++;
      else if (src[i] === '}' && --depth === 0) break;
    }
    out.set(m[1], src.slice(start, i + 1));
    re.lastIndex = i;
  }
  return out;
}

/**
 * The resource variables an entry point uses, directly or through the functions it calls (as WebGPU's 'auto'
 * layout does): the bind group layout then holds only those, which keeps multi-entry shaders within the
 * per-stage storage-buffer limit (8 by default).
 */
export function usedBindings(src: string, entry: string, names: readonly string[]): Set<string> {
  const bodies = functionBodies(src.replace(/\/\/[^\n]*/g, ''));
  const seen = new Set<string>();
  const used = new Set<string>();
  const visit = (fn: string) => {
    if (seen.has(fn)) return;
    seen.add(fn);
    const body = bodies.get(fn);
    if (!body) return;
    const ids = new Set(body.match(/\b[A-Za-z_]\w*\b/g) ?? []);
    for (const n of names) if (ids.has(n)) used.add(n);
    for (const f of bodies.keys()) if (ids.has(f)) visit(f);
  };
  if (!bodies.has(entry)) throw new Error(`no entry point fn ${entry}`);
  visit(entry);
  return used;
}

/** WGSL enable-extensions and the WebGPU device feature each needs. */
const ENABLE_FEATURES: Record<string, string> = { subgroups: 'subgroups', f16: 'shader-f16' };

/**
 * The device features a preprocessed shader needs (from its `enable` directives): a variant is only built on a
 * device that has them (PipelineCache.get refuses otherwise), so a policy never selects a variant an implementation
 * cannot compile (wgpu, i.e. Firefox and Deno, offers no `subgroups`; SwiftShader no `shader-f16`).
 */
export function requiredFeatures(code: string): string[] {
  const out = new Set<string>();
  // the prologue holds every enable on one line ("enable f16; enable subgroups; const …"): each after ^ or a ';'
  for (const m of code.matchAll(/(?<=^|;)\s*enable\s+([\w\s,]+);/gm))
    for (const ext of m[1].split(',').map((x) => x.trim()))
      if (ext) out.add(ENABLE_FEATURES[ext] ?? `(unknown extension ${ext})`);
  return [...out];
}
