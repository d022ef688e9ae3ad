"""PyTorch baseline for `instructalign bench`: the same shapes on the same GPU, f32 without TF32 and fp16 autocast.

matmul n³ (X·Wᵀ), and for BLOOM shapes (random init, transformers' BloomForCausalLM) forward tokens/s, training
step tokens/s (forward + backward + AdamW) and peak memory. Median of --runs timed runs after one warm-up, min/max.
    python bench/pytorch/bench.py [--json] [--out FILE] [--runs 5] [--models nano-bloomz,bloomz-560m,bloomz-1b1]
With --out the JSON is rewritten (atomically) after every figure, so a run cut short keeps what it measured; each
figure is also printed as it is measured (stderr with --json). Timings carry min, max, mean and cv (stdev / mean).
Training also runs with gradient checkpointing (HF's, the counterpart of instructalign's --recompute) for the peak.
"""
import argparse, json, os, statistics, sys, time

import torch

SIZES = {  # mirrors BLOOM_SIZES in src/model/bloom/config.ts
    "nano-bloomz": dict(hidden_size=256, n_layer=4, n_head=8, vocab_size=4096),
    "bloomz-560m": dict(hidden_size=1024, n_layer=24, n_head=16, vocab_size=250880),
    "bloomz-1b1": dict(hidden_size=1536, n_layer=24, n_head=16, vocab_size=250880),
}
SHAPES = {"nano-bloomz": (8, 64), "bloomz-560m": (4, 256), "bloomz-1b1": (4, 256)}  # (B, T) as the Node bench


def timed(fn, runs):
    fn()
    sync()
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        sync()
        ts.append(time.perf_counter() - t0)
    mean = statistics.mean(ts)
    sd = statistics.stdev(ts) if len(ts) > 1 else 0.0
    return dict(median=statistics.median(ts), min=min(ts), max=max(ts), mean=mean, cv=sd / mean, runs=runs)


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def matmul(n, dev, runs, amp):
    a = torch.randn(n, n, device=dev)
    w = torch.randn(n, n, device=dev)
    def f():
        with torch.autocast(dev, dtype=torch.float16, enabled=amp):
            (a @ w.t())
    t = timed(f, runs)
    return dict(shape=f"{n}x{n}x{n}", amp=amp, gflops=2 * n ** 3 / t["median"] / 1e9, time=t)


def model(name, dev, runs, amp, recompute=False):
    from transformers import BloomConfig, BloomForCausalLM
    B, T = SHAPES[name]
    cfg = BloomConfig(**SIZES[name], layer_norm_epsilon=1e-5)
    m = BloomForCausalLM(cfg).to(dev)
    if recompute:
        m.gradient_checkpointing_enable()
    m.train()  # dropout is 0 in BloomConfig's defaults, as in instructalign
    ids = torch.randint(5, cfg.vocab_size, (B, T), device=dev)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-5, weight_decay=0.0)
    scaler = torch.amp.GradScaler(dev, enabled=amp)
    def fwd():
        with torch.no_grad(), torch.autocast(dev, dtype=torch.float16, enabled=amp):
            m(ids).logits.float().log_softmax(-1)
    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast(dev, dtype=torch.float16, enabled=amp):
            loss = m(ids, labels=ids).loss
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        scaler.step(opt)
        scaler.update()
    f = timed(fwd, runs)
    del_cache()
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    s = timed(step, runs)
    peak = torch.cuda.max_memory_allocated() if torch.cuda.is_available() else None
    del m, opt
    del_cache()
    return dict(model=name, B=B, T=T, amp=amp, recompute=recompute, forward_tokens_per_s=B * T / f["median"], forward=f,
                train_tokens_per_s=B * T / s["median"], train=s, peak_train_bytes=peak, eval_sequences_per_s=B / f["median"])


def del_cache():
    import gc
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--json", action="store_true")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--models", default="nano-bloomz,bloomz-560m,bloomz-1b1")
    p.add_argument("--matmul", default="1024,4096")
    p.add_argument("--out", help="rewrite the JSON here after every figure")
    a = p.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False  # honest f32 baseline: no tensor-core TF32
    torch.backends.cudnn.allow_tf32 = False
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    out = dict(device=torch.cuda.get_device_name() if dev == "cuda" else "cpu", torch=torch.__version__, runs=a.runs,
               matmul=[], models=[])
    log = (lambda m: print(m, file=sys.stderr, flush=True)) if a.json else (lambda m: print(m, flush=True))
    log(f"device {out['device']}, torch {out['torch']}")

    def save():
        if a.out:
            tmp = f"{a.out}.tmp-{os.getpid()}"
            with open(tmp, "w") as fh:
                json.dump(out, fh, indent=1)
            os.replace(tmp, a.out)

    amps = (False, True) if dev == "cuda" else (False,)
    for amp in amps:  # matmuls first: they are quick
        for n in map(int, a.matmul.split(",")):
            r = matmul(n, dev, max(5, a.runs), amp)
            out["matmul"].append(r)
            save()
            log(f"matmul {r['shape']} {'fp16 autocast' if amp else 'f32 (no TF32)'}: {r['gflops']:.1f} GFLOP/s (cv {100 * r['time']['cv']:.1f}%)")
    for name in a.models.split(","):
        for amp in amps:
            for recompute in (False, True) if name != "nano-bloomz" else (False,):
                r = model(name, dev, max(5, a.runs), amp, recompute)
                out["models"].append(r)
                save()
                log(f"{name} B={r['B']} T={r['T']} {'fp16 AMP' if amp else 'f32'}{' recompute' if recompute else ''}: "
                    f"forward {r['forward_tokens_per_s']:.0f} tok/s, train {r['train_tokens_per_s']:.0f} tok/s "
                    f"(cv {100 * r['train']['cv']:.1f}%), peak {(r['peak_train_bytes'] or 0) / 2**30:.2f} GiB")
    if a.json:
        print(json.dumps(out))


if __name__ == "__main__":
    main()
