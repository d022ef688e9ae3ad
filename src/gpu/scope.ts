// Ownership of GPU memory above the ops: a scope (an arena) hands out tensors and adopts owners (a model, a training
// set-up), and frees all of them in one call, newest first. Code above src/model makes its tensors through a scope
// or asks a model for them, so it never frees tensors one by one (docs/architecture.md, "Who frees what").
import type { Gpu } from './runtime.ts';
import type { Tensor, TDType } from './tensor.ts';

/** Anything that frees what it holds with destroy() (a Tensor, a CausalLM, a Trainable, a Scope). */
export interface Owner {
  destroy(): void;
}

export class Scope implements Owner {
  private owned: Owner[] = [];
  private closed = false;
  constructor(readonly gpu: Gpu) {}

  /** A tensor freed with the scope. */
  tensor(numel: number, dtype: TDType, label: string): Tensor {
    return this.own(this.gpu.tensor(numel, dtype, label));
  }
  fromF32(data: Float32Array, label: string): Tensor {
    return this.own(this.gpu.fromF32(data, label));
  }
  fromI32(data: Int32Array, label: string): Tensor {
    return this.own(this.gpu.fromI32(data, label));
  }

  /** Adopts an owner: it is destroyed with the scope (after everything adopted later). Returns it. */
  own<T extends Owner>(x: T): T {
    if (this.closed) throw new Error('this GPU scope has been destroyed: nothing more can be made in it');
    this.owned.push(x);
    return x;
  }

  /** Frees everything owned, newest first; a second call does nothing. The first error is rethrown after the rest. */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    let first: unknown;
    for (const x of this.owned.reverse()) {
      try {
        x.destroy();
      } catch (e) {
        first ??= e;
      }
    }
    this.owned = [];
    if (first !== undefined) throw first;
  }
}

/** Runs fn with a fresh scope on `gpu` and frees the scope when fn settles (returned or thrown). */
export async function withScope<T>(gpu: Gpu, fn: (s: Scope) => Promise<T> | T): Promise<T> {
  const s = new Scope(gpu);
  try {
    return await fn(s);
  } finally {
    s.destroy();
  }
}

/** Runs fn on a device opened for it (`open`: e.g. Gpu.open()) and destroys the device when fn settles. */
export async function withDevice<T>(open: Promise<Gpu>, fn: (gpu: Gpu) => Promise<T>): Promise<T> {
  const gpu = await open;
  try {
    return await fn(gpu);
  } finally {
    gpu.destroy();
  }
}
