// Llama / Qwen3 weights on the GPU: one tensor per parameter (f32 or packed f16; matrices LLM.int8() on request),
// the token embedding and an untied LM head split into vocabulary shards that each fit one storage binding.
import type { Gpu, Tensor, TDType } from '../../gpu/runtime.ts';
import type { Int8Options, ParameterSource, ParamSpec, ParamTensor, StorageDType } from '../causal-lm.ts';
import { f32ArrayToF16 } from '../dtype.ts';
import { quantizeWeight } from '../int8.ts';
import type { Int8Weight } from '../../ops/matmul_int8.ts';
import { llamaParameters, type LlamaConfig } from './config.ts';

export const EMBED = 'model.embed_tokens.weight';
export const LM_HEAD = 'lm_head.weight';

export interface Shard {
  w: Tensor;
  lo: number;
  hi: number;
}

export class LlamaWeights {
  readonly params = new Map<string, Tensor>();
  /** row shards of the embedding and (untied) of the LM head; a tied head reads `emb` */
  readonly shards = new Map<string, Shard[]>();
  readonly int8w = new Map<string, Int8Weight>();
  readonly specs: Map<string, ParamSpec>;

  constructor(
    readonly gpu: Gpu,
    readonly cfg: LlamaConfig,
    readonly dtype: StorageDType,
    readonly int8?: Int8Options,
  ) {
    if (int8 && !(int8.threshold >= 0 && Number.isFinite(int8.threshold)))
      throw new Error(`--int8-threshold must be a finite number ≥ 0, got ${int8.threshold}`);
    this.specs = new Map(llamaParameters(cfg).map((p) => [p.name, p]));
  }

  get emb(): Shard[] {
    return this.shards.get(EMBED) ?? [];
  }
  /** the LM head's shards: lm_head.weight, or the embedding when tied */
  get head(): Shard[] {
    return this.shards.get(this.cfg.tieWordEmbeddings ? EMBED : LM_HEAD) ?? [];
  }

  get(name: string): Tensor {
    const t = this.params.get(name);
    if (!t) throw new Error(`weight ${name} is ${this.int8w.has(name) ? 'stored as int8' : 'not loaded'}`);
    return t;
  }

  int8Weight(name: string): Int8Weight | undefined {
    return this.int8w.get(name);
  }

  private spec(name: string): ParamSpec {
    const p = this.specs.get(name);
    if (!p)
      throw new Error(`"${name}" is not a parameter of this ${this.cfg.modelType} model (src/model/llama/config.ts)`);
    return p;
  }

  /** Rows per vocabulary shard so that one shard stays under the binding and buffer limits (multiples of 64). */
  shardRows(bytesPerElem: number, cap = Infinity): number {
    const limit = Math.min(this.gpu.maxBinding, this.gpu.maxBuffer, cap);
    const rows = Math.floor(limit / (this.cfg.hiddenSize * bytesPerElem));
    return Math.max(1, Math.min(this.cfg.vocabSize, rows >= 64 ? rows - (rows % 64) : rows));
  }

  kind(name: string): TDType {
    const role = this.spec(name).role;
    return this.dtype === 'f16' && (role === 'matrix' || role === 'embedding') ? 'f16p' : 'f32';
  }

  upload(name: string, data: Float32Array, shardCap?: number): void {
    const spec = this.spec(name);
    const n = spec.shape.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new Error(`${name}: ${data.length} values, shape [${spec.shape}] needs ${n}`);
    const kind = this.kind(name);
    const put = (d: Float32Array, label: string) => {
      const t = this.gpu.tensor(d.length, kind, `weight:${label}`);
      this.gpu.upload(t, kind === 'f16p' ? f32ArrayToF16(d) : d);
      return t;
    };
    if (spec.role === 'embedding') {
      const H = this.cfg.hiddenSize,
        V = this.cfg.vocabSize,
        rows = this.shardRows(kind === 'f16p' ? 2 : 4, shardCap),
        list: Shard[] = [];
      for (let lo = 0; lo < V; lo += rows) {
        const hi = Math.min(V, lo + rows);
        list.push({ w: put(data.subarray(lo * H, hi * H), `${name}[${lo}:${hi}]`), lo, hi });
      }
      this.shards.set(name, list);
    } else if (this.int8 && spec.role === 'matrix') {
      // LLM.int8(): quantized on the host, only CB and SCB reach the GPU
      const [N, K] = spec.shape;
      const q = quantizeWeight(data, N, K);
      const cb = this.gpu.tensor(q.packed.length, 'u32', `weight:${name}:int8`),
        scb = this.gpu.tensor(N, 'f32', `weight:${name}:scb`);
      this.gpu.upload(cb, q.packed);
      this.gpu.upload(scb, q.scb);
      this.int8w.set(name, { cb, scb, N, K });
    } else this.params.set(name, put(data, name));
  }

  /** Every parameter tensor with its role, in table order; vocabulary tables as their row shards. */
  tensors(): ParamTensor[] {
    const out: ParamTensor[] = [];
    const H = this.cfg.hiddenSize,
      V = this.cfg.vocabSize;
    for (const { name, role } of this.specs.values()) {
      const t = this.params.get(name);
      if (t) out.push({ key: name, name, role, tensor: t });
      for (const s of this.shards.get(name) ?? [])
        out.push({
          key: `${name}[${s.lo}:${s.hi}]`,
          name,
          role,
          tensor: s.w,
          rows: { lo: s.lo, hi: s.hi, total: V, width: H },
        });
    }
    return out;
  }

  static async fromSource(
    gpu: Gpu,
    cfg: LlamaConfig,
    source: ParameterSource,
    dtype: StorageDType,
    onProgress?: (done: number, total: number) => void,
    int8?: Int8Options,
    shardCap?: number,
  ): Promise<LlamaWeights> {
    const w = new LlamaWeights(gpu, cfg, dtype, int8);
    const specs = llamaParameters(cfg);
    try {
      for (let i = 0; i < specs.length; i++) {
        w.upload(specs[i].name, await source(specs[i].name), shardCap);
        onProgress?.(i + 1, specs.length);
      }
    } catch (e) {
      w.destroy();
      throw e;
    }
    return w;
  }

  bytes(): number {
    let n = 0;
    for (const t of this.params.values()) n += t.byteLength;
    for (const list of this.shards.values()) for (const s of list) n += s.w.byteLength;
    for (const q of this.int8w.values()) n += q.cb.byteLength + q.scb.byteLength;
    return n;
  }

  parameterCount(): number {
    let n = 0;
    for (const t of this.params.values()) n += t.numel;
    for (const list of this.shards.values()) for (const s of list) n += s.w.numel;
    for (const q of this.int8w.values()) n += q.N * q.K;
    return n;
  }

  destroy(): void {
    for (const t of this.params.values()) t.destroy();
    for (const list of this.shards.values()) for (const s of list) s.w.destroy();
    for (const q of this.int8w.values()) {
      q.cb.destroy();
      q.scb.destroy();
    }
    this.params.clear();
    this.shards.clear();
    this.int8w.clear();
  }
}
