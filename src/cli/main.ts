// The `instructalign` command line: dispatches to one module per subcommand (each exports `help` and `run`).
import { UsageError } from './args.ts';

interface Command {
  help: string;
  run(argv: string[]): Promise<number>;
}
type Loader = () => Promise<Command>;

const commands: Record<string, Loader> = {
  doctor: () => import('./doctor.ts'),
  tokenize: () => import('./tokenize.ts'),
  score: () => import('./score.ts'),
  generate: () => import('./generate.ts'),
  selftest: () => import('./selftest.ts'),
  eval: () => import('./eval.ts'),
  compare: () => import('./compare.ts'),
  data: () => import('./data.ts'),
  train: () => import('./train.ts'),
  bench: () => import('./bench.ts'),
  serve: () => import('./serve.ts'),
  demo: () => import('./demo.ts'),
};

function usage(): string {
  return `instructalign <command> [options]

Commands:
  demo        run the embedded default job (zero-shot NusaX evaluation of the bundled nano-bloomz)
  doctor      show the WebGPU adapter, its limits and features; run a kernel check
  tokenize    tokenize JSON strings from stdin (--tokenizer FILE [--decode])
  score       per-token log-probabilities of texts from stdin (--model DIR)
  generate    generate text (--model DIR --prompt TEXT)
  selftest    check the shaders against a HuggingFace fixture folder (--fixture DIR)
  eval        zero-shot evaluation (--model DIR --out DIR)
  compare     compare two eval result folders (A/ B/)
  train       InstructAlign continual crosslingual instruction tuning (--model DIR --out DIR)
  data        preview InstructAlign training texts (--preview N)
  bench       benchmarks (matmul, forward, training step, eval throughput) on this adapter
  serve       serve the browser page (WebGPU in a Web Worker) on http://127.0.0.1:8080

Run 'instructalign <command> --help' for the options of one command.`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    console.error(`instructalign: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const cmd = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(cmd.help);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`instructalign ${name}: ${e.message}\n\n${cmd.help}`);
      return 2;
    }
    const err = e as Error;
    console.error(`instructalign ${name}: ${err.message}`);
    if (process.env.INSTRUCTALIGN_DEBUG) console.error(err.stack);
    return 1;
  }
}

const isEntry = process.argv[1] && /(?:cli\.js|main\.ts)$/.test(process.argv[1]);
if (isEntry)
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
