// embedding.wgsl host side: gather per vocabulary shard; gradient grouped by id on the host (deterministic).
import type { Gpu, Tensor } from '../gpu/runtime.ts';
import { grid } from './grid.ts';

export interface Shard {
  w: Tensor;
  lo: number;
  hi: number;
}

export function embeddingForward(gpu: Gpu, ids: Tensor, shards: Shard[], out: Tensor, T: number, H: number): void {
  for (const s of shards) {
    gpu.run('embedding', 'embedding_forward', { ids, w: s.w, out }, { T, H, lo: s.lo, hi: s.hi, U: 0 }, grid(T), {
      W_F16: s.w.dtype === 'f16p',
    });
  }
}

/** dW_shard[id − lo] += Σ dY[t] for tokens t with that id; `idsHost` are the batch's ids (−1 or <0 = skip). */
export function embeddingBackward(
  gpu: Gpu,
  idsHost: Int32Array,
  dy: Tensor,
  shards: { dw: Tensor; lo: number; hi: number }[],
  H: number,
): void {
  for (const s of shards) {
    const groups = new Map<number, number[]>();
    idsHost.forEach((id, t) => {
      if (id >= s.lo && id < s.hi) {
        let g = groups.get(id);
        if (!g) groups.set(id, (g = []));
        g.push(t);
      }
    });
    if (!groups.size) continue;
    const keys = [...groups.keys()].sort((a, b) => a - b);
    const uniq = new Uint32Array(keys.map((k) => k - s.lo));
    const starts = new Uint32Array(keys.length + 1);
    const positions = new Uint32Array(idsHost.length);
    let p = 0;
    keys.forEach((k, u) => {
      starts[u] = p;
      for (const t of groups.get(k)!) positions[p++] = t;
    });
    starts[keys.length] = p;
    const tu = gpu.fromU32(uniq, 'embedding:uniq'),
      ts = gpu.fromU32(starts, 'embedding:starts'),
      tp = gpu.fromU32(positions, 'embedding:positions');
    gpu.run(
      'embedding',
      'embedding_backward',
      { uniq: tu, starts: ts, positions: tp, dy, dw: s.dw },
      { T: idsHost.length, H, lo: s.lo, hi: s.hi, U: keys.length },
      grid(keys.length),
    );
    tu.destroy();
    ts.destroy();
    tp.destroy();
  }
}
