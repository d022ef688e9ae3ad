// The `instructalign` command line: dispatches to one module per subcommand (each exports `help` and `run`).
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UsageError, type CommandSpec } from './args.ts';
import { RequestError } from '../api/requests/core.ts';

export interface Command {
  help: string;
  /** the option table that parses argv and generates `help` (src/cli/args.ts) */
  spec: CommandSpec;
  run(argv: string[]): Promise<number>;
}
export type Loader = () => Promise<Command>;

/** Every subcommand, loaded on use. */
export const commands: Record<string, Loader> = {
  doctor: () => import('./doctor.ts'),
  tokenize: () => import('./tokenize.ts'),
  score: () => import('./score.ts'),
  generate: () => import('./generate.ts'),
  selftest: () => import('./selftest.ts'),
  eval: () => import('./eval.ts'),
  compare: () => import('./compare.ts'),
  merge: () => import('./merge.ts'),
  data: () => import('./data.ts'),
  train: () => import('./train.ts'),
  bench: () => import('./bench.ts'),
  serve: () => import('./serve.ts'),
  demo: () => import('./demo.ts'),
};

function usage(): string {
  return `instructalign <command> [options]

Commands:
  demo        the embedded default job: InstructAlign on the bundled data and nano-bloomz, then its evaluation
  doctor      show the WebGPU adapter, its limits and features; run a kernel check
  tokenize    tokenize JSON strings from stdin (--tokenizer FILE [--decode])
  score       per-token log-probabilities of texts from stdin (--model DIR)
  generate    generate text (--model DIR --prompt TEXT)
  selftest    check the shaders against a HuggingFace fixture folder (--fixture DIR)
  eval        zero-shot evaluation (--model DIR --out DIR)
  compare     compare two eval result folders (A/ B/)
  merge       combine the folders of eval --shard i/n into one evaluation (DIR… --out DIR)
  train       InstructAlign continual crosslingual instruction tuning (--model DIR --out DIR)
  data        preview InstructAlign training texts (--preview N)
  bench       benchmarks (matmul, forward, training step, eval throughput) on this adapter
  serve       serve the browser page (WebGPU in a Web Worker) on http://127.0.0.1:8080

Run 'instructalign <command> --help' for the options of one command.`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === 'help' && rest.length === 1 && commands[rest[0]]) return main([rest[0], '--help']);
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    console.log(await version());
    return 0;
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
    // a bad request (src/api/requests/) is a usage error too: its message names the field or flag
    if (UsageError.is(e) || RequestError.is(e)) {
      console.error(`instructalign ${name}: ${e.message}\n(run 'instructalign ${name} --help' for its options)`);
      return 2;
    }
    const err = e as Error;
    console.error(`instructalign ${name}: ${err.message}`);
    if (process.env.INSTRUCTALIGN_DEBUG) console.error(err.stack);
    // errors may carry their own status (train: 3 = diverged, see docs/reliability.md)
    const code = (err as { exitCode?: unknown }).exitCode;
    return typeof code === 'number' && Number.isInteger(code) && code > 0 ? code : 1;
  }
}

async function version(): Promise<string> {
  const { readFileSync } = await import('node:fs');
  const { packageRoot } = await import('../train/data/paths.ts');
  const { join } = await import('node:path');
  return JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).version;
}

/**
 * Whether this module is the program being run. A bin link (`node_modules/.bin/instructalign`, npx, a global
 * install) is a symlink whose own name ends in neither cli.js nor main.ts, so compare the real paths of the script
 * Node was started with and of this module (dist/cli.js when bundled, src/cli/main.ts under tsx).
 */
export function isMainModule(argv1: string | undefined, moduleUrl: string): boolean {
  if (!argv1) return false;
  try {
    return realpathSync(argv1) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/**
 * stdout closed by its reader (`instructalign score ... | head`): stop quietly with status 0, as ripgrep and cat
 * do, instead of an unhandled 'error' event and a stack (EPIPE). Other write errors are reported in one line.
 */
export function onStdoutError(e: NodeJS.ErrnoException): void {
  if (e.code === 'EPIPE') process.exit(0);
  console.error(`instructalign: cannot write to stdout: ${e.message}`);
  process.exit(1);
}

if (isMainModule(process.argv[1], import.meta.url)) {
  process.stdout.on('error', onStdoutError);
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
