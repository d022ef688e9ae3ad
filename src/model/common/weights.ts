// A family's weights on the GPU, whatever the family: one tensor per parameter of its table (f32, or packed f16 for
// the `matrix` and `embedding` roles), each `embedding`-role table split into vocabulary row shards that fit one
// storage binding, and LLM.int8() for the `matrix` role on request. The role decides everything; names are only keys.
// A family subclasses Weights with its table and the accessors its graph reads (src/model/bloom/weights.ts …).
import type { Gpu, Tensor, TDType } from '../../gpu/runtime.ts';
import type { Int8Options, ModelConfig, ParameterSource, ParamSpec, ParamTensor, StorageDType } from '../causal-lm.ts';
import { f32ArrayToF16 } from '../dtype.ts';
import { quantizeWeight } from '../int8.ts';
import type { Int8Weight } from '../../ops/matmul_int8.ts';
import { castF16 } from '../../ops/elementwise.ts';

/** Rows [lo, hi) of a vocabulary table, in one tensor. */
export interface Shard {
  w: Tensor;
  lo: number;
  hi: number;
}

/** An f16 compute copy of f32 master weights (Weights.f16Copy). */
export interface F16Copy<W> {
  /** the weights the forward and backward read */
  readonly w: W;
  /** copy ← f16(master); call after every optimizer step that changed the master */
  sync(): void;
  /** frees the f16 tensors (the shared ones belong to the master) */
  destroy(): void;
}

export abstract class Weights<C extends ModelConfig = ModelConfig> {
  readonly params = new Map<string, Tensor>();
  /** the row shards of each `embedding`-role parameter, by name */
  readonly shards = new Map<string, Shard[]>();
  /** quantized Linear weights (with int8), by parameter name; these names are absent from `params` */
  readonly int8w = new Map<string, Int8Weight>();
  /** the parameter table by name: each tensor's shape and role */
  readonly specs: Map<string, ParamSpec>;

  /** `table`: the family's parameters in checkpoint order (what fromSource loads) */
  constructor(
    readonly gpu: Gpu,
    readonly cfg: C,
    readonly dtype: StorageDType,
    readonly int8: Int8Options | undefined,
    readonly table: readonly ParamSpec[],
  ) {
    if (int8 && !(int8.threshold >= 0 && Number.isFinite(int8.threshold)))
      throw new Error(`--int8-threshold must be a finite number ≥ 0, got ${int8.threshold}`);
    this.specs = new Map(table.map((p) => [p.name, p]));
  }

  /** the error for a name that is not in the table (the family names its table's source) */
  protected abstract unknownParameter(name: string): string;
  /** empty weights of this family and config in another storage dtype (the fp16 compute copy) */
  protected abstract blank(dtype: StorageDType): this;

  protected spec(name: string): ParamSpec {
    const p = this.specs.get(name);
    if (!p) throw new Error(this.unknownParameter(name));
    return p;
  }

  get(name: string): Tensor {
    const t = this.params.get(name);
    if (!t)
      throw new Error(
        this.int8w.has(name)
          ? `weight ${name} is stored as int8 (LLM.int8()): use int8Weight()`
          : `weight ${name} is not loaded`,
      );
    return t;
  }

  /** The quantized weight of a Linear stored as int8, else undefined. */
  int8Weight(name: string): Int8Weight | undefined {
    return this.int8w.get(name);
  }

  /** Rows per vocabulary shard so that one shard stays under the binding and buffer limits. */
  shardRows(bytesPerElem: number, cap = Infinity): number {
    const limit = Math.min(this.gpu.maxBinding, this.gpu.maxBuffer, cap);
    const rows = Math.floor(limit / (this.cfg.hiddenSize * bytesPerElem));
    // multiples of 64 rows keep LM-head chunks aligned; never more than the vocabulary
    return Math.max(1, Math.min(this.cfg.vocabSize, rows >= 64 ? rows - (rows % 64) : rows));
  }

  /** Matrices and vocabulary tables use the storage dtype; norms and biases stay f32 (tiny, precision-sensitive). */
  kind(name: string): TDType {
    const role = this.spec(name).role;
    return this.dtype === 'f16' && (role === 'matrix' || role === 'embedding') ? 'f16p' : 'f32';
  }

  /** Uploads one parameter of the table (`shardCap`: a smaller shard limit in bytes, for tests). */
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

  /** Loads every parameter of the table from `source` (a checkpoint, host arrays), one tensor at a time. */
  async load(
    source: ParameterSource,
    onProgress?: (done: number, total: number) => void,
    shardCap?: number,
  ): Promise<this> {
    try {
      for (let i = 0; i < this.table.length; i++) {
        this.upload(this.table[i].name, await source(this.table[i].name), shardCap);
        onProgress?.(i + 1, this.table.length);
      }
    } catch (e) {
      this.destroy();
      throw e;
    }
    return this;
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

  bytes(): number {
    let n = 0;
    for (const t of this.params.values()) n += t.byteLength;
    for (const list of this.shards.values()) for (const s of list) n += s.w.byteLength;
    for (const q of this.int8w.values()) n += q.cb.byteLength + q.scb.byteLength;
    return n;
  }

  /** Parameter count (a quantized matrix counts its N·K weights). */
  parameterCount(): number {
    let n = 0;
    for (const t of this.params.values()) n += t.numel;
    for (const list of this.shards.values()) for (const s of list) n += s.w.numel;
    for (const q of this.int8w.values()) n += q.N * q.K;
    return n;
  }

  /**
   * Mixed precision (--fp16): a compute copy of these f32 master weights whose matrices and vocabulary shards (same
   * row ranges, so gradients laid out on the master line up with the head chunks) are packed f16; norms and biases
   * are the master's tensors, shared. sync() refreshes the copy from the master on the GPU (after each optimizer
   * step); destroy() frees the f16 tensors only.
   */
  f16Copy(): F16Copy<this> {
    if (this.dtype !== 'f32' || this.int8w.size)
      throw new Error(`--fp16 needs f32 master weights (got ${this.dtype}${this.int8w.size ? ', int8' : ''})`);
    const g = this.gpu,
      w = this.blank('f16'),
      pairs: { src: Tensor; dst: Tensor }[] = [];
    const copy = (src: Tensor, label: string) => {
      const dst = g.tensor(src.numel, 'f16p', `weight16:${label}`);
      pairs.push({ src, dst });
      return dst;
    };
    for (const [name, t] of this.params) w.params.set(name, w.kind(name) === 'f16p' ? copy(t, name) : t);
    for (const [name, list] of this.shards)
      w.shards.set(
        name,
        list.map((s) => ({ ...s, w: copy(s.w, `${name}[${s.lo}:${s.hi}]`) })),
      );
    const sync = () => {
      for (const { src, dst } of pairs) castF16(g, src, dst);
    };
    sync();
    return {
      w,
      sync,
      destroy: () => {
        for (const { dst } of pairs) dst.destroy();
        pairs.length = 0;
        w.params.clear();
        w.shards.clear();
      },
    };
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
