// `instructalign bench`: the flags, then src/perf/bench.ts runs the benchmarks; progress goes to stderr with --json
// (one JSON object on stdout), and --out rewrites the report atomically after every section.
import { bool, helpText, list, num, parseCommand, str, UsageError, type CommandSpec } from './args.ts';
import { runBench } from '../perf/bench.ts';
import type { KernelFamily } from '../gpu/policy.ts';

export { againstPytorch, memoryPlan, timeIt, timeMany, type Timing } from '../perf/bench.ts';

export const spec: CommandSpec = {
  name: 'bench',
  usage: `instructalign bench [--json] [--quick] [--full] [--runs N] [--out FILE] [--against FILE]
                  [--models a,b] [--matmul 1024,4096] [--memory] [--ablate] [--family gpu|swiftshader]`,
  about: `Benchmarks on this adapter (random weights, nothing downloaded):
  matmul n³ for the three training layouts (X·Wᵀ, dY·W, dYᵀ·X) with the kernel this adapter gets, and the other
    kernels on X·Wᵀ in the same run (scalar = the first kernel, the baseline of every ratio)
  GPU wait (Node): the first matmul size and a nano-bloomz forward (B=2 T=64), each waiting for the GPU without
    busy polling (the default) and with dawn.node's own polling (INSTRUCTALIGN_BUSY_WAIT=1), interleaved: the ratio
  per model: forward tokens/s (nano-bloomz also with the scalar matmul), the same forward with attention probs
    materialized (policy attention.flash 'never'), training step tokens/s (forward + backward + AdamW) with and
    without --recompute, peak GPU memory, eval sequences/s (forward + log-probs), and eval of real NusaX label texts
    (nano-bloomz tokenizer) with and without prompt-prefix sharing
  memory plan: the exact peak of one training step (f32, f32 --recompute, --fp16 --recompute) for nano-bloomz,
    BLOOMZ-560M and BLOOMZ-1B1 at B=4 T=256, from a dry run (allocations counted, no kernel run): seconds anywhere
Default sizes: a real GPU gets matmul 1024,4096 and nano-bloomz, bloomz-560m, bloomz-1b1; SwiftShader gets
matmul 1024 and nano-bloomz (--full: everything; --quick: matmul 512, nano-bloomz at B=2).
Every timing is the median of --runs (default 5, at least 5) runs after one warm-up, with min, max and the
coefficient of variation (cv = standard deviation / mean).`,
  options: {
    json: { type: 'boolean', help: 'print one JSON object (progress goes to stderr)' },
    quick: { type: 'boolean', help: 'matmul 512, nano-bloomz at B=2' },
    full: { type: 'boolean', help: 'every size and model, also on SwiftShader' },
    runs: { type: 'int', min: 5, default: 5, help: 'timed runs per figure (at least 5)' },
    out: {
      type: 'string',
      arg: 'FILE',
      help: `also write the JSON to FILE, rewritten (atomically) after every section: a run cut short keeps
what it measured`,
    },
    against: {
      type: 'string',
      arg: 'FILE',
      help: 'the JSON of bench/pytorch/bench.py on the same GPU: adds the ratio to PyTorch for each figure',
    },
    models: { type: 'list', arg: 'a,b', choices: ['nano-bloomz', 'bloomz-560m', 'bloomz-1b1'], help: 'models to time' },
    matmul: {
      type: 'list',
      arg: 'n,n',
      help: 'matmul sizes n (n³), positive multiples of 4',
      check: (v) =>
        (v as string[]).every((x) => Number.isInteger(Number(x)) && Number(x) > 0 && Number(x) % 4 === 0)
          ? undefined
          : `sizes must be positive multiples of 4, got ${(v as string[]).join(',')}`,
    },
    memory: { type: 'boolean', help: 'only the memory plans' },
    ablate: {
      type: 'boolean',
      help: `per model, also the training step with each of the runtime's choices undone, interleaved with
the default: buffer pool off, subgroups off, flash attention forced (lse + recomputed scores
instead of the saved probabilities), and on a GPU the matmul tuner's choice undone`,
    },
    family: {
      type: 'string',
      arg: 'F',
      choices: ['gpu', 'swiftshader'],
      help: `run the kernels of family F whatever the adapter (gpu: the tiled matmul and the workgroup
attention, LayerNorm and cross-entropy kernels; with INSTRUCTALIGN_MATMUL_TUNE=on the tuner too):
to measure the GPU path on SwiftShader, slowly`,
    },
  },
};
export const help = helpText(spec);

export async function run(argv: string[]): Promise<number> {
  const a = parseCommand(argv, spec);
  const json = bool(a, 'json');
  const outFile = str(a, 'out'),
    againstFile = str(a, 'against');
  let torch: unknown;
  if (againstFile) {
    const { readFileSync } = await import('node:fs');
    try {
      torch = JSON.parse(readFileSync(againstFile, 'utf8'));
    } catch (e) {
      throw new UsageError(
        `--against ${againstFile}: cannot read the PyTorch results (${(e as Error).message}); produce them with \`python3 bench/pytorch/bench.py --json > ${againstFile}\` on the same GPU`,
      );
    }
  }
  const report = await runBench({
    quick: bool(a, 'quick'),
    full: bool(a, 'full'),
    memoryOnly: bool(a, 'memory'),
    ablate: bool(a, 'ablate'),
    runs: num(a, 'runs') as number,
    matmul: list(a, 'matmul')?.map(Number),
    models: list(a, 'models'),
    family: str(a, 'family') as KernelFamily | undefined,
    torch,
    say: (m) => (json ? console.error(m) : console.log(m)),
    save: async (r) => {
      if (!outFile) return;
      const { atomicWriteFile } = await import('../util/atomic.ts');
      await atomicWriteFile(outFile, JSON.stringify(r, null, 1) + '\n');
    },
  });
  if (json) console.log(JSON.stringify(report));
  return 0;
}
