// `instructalign tokenize`: a line filter over the wasm BLOOM tokenizer, JSON strings in, JSON id arrays out
// (or back with --decode), one per line, so it composes with jq and with HF's tokenizer in other languages.
import { TOKENIZE } from '../api/requests/tokenize.ts';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Tokenizer } from '../wasm/tokenizer.ts';
import { bool, helpText, parseCommand, required, type CommandSpec } from './args.ts';

export const spec: CommandSpec = {
  name: 'tokenize',
  usage: 'instructalign tokenize --tokenizer FILE [--decode]',
  about: `Reads one JSON value per line on stdin, writes one per line on stdout:
  (default)   "a JSON string"   ->  [ids]            no BOS/EOS is added
  --decode    [ids]             ->  "a JSON string"`,
  options: TOKENIZE.options,
  footer: `Example:
  echo '"Hello world"' | instructalign tokenize --tokenizer models/nano-bloomz`,
};
export const help = helpText(spec);

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand(argv, spec);
  let file = required(args, 'tokenizer');
  let text: string;
  try {
    if (statSync(file).isDirectory()) file = join(file, 'tokenizer.json');
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read --tokenizer ${file}: ${(e as Error).message}`);
  }
  const tok = await Tokenizer.fromJSON(text, file);
  const convert = bool(args, 'decode') ? (v: unknown) => decodeLine(tok, v) : (v: unknown) => encodeLine(tok, v);
  let out: string[] = [];
  const flush = () => {
    if (out.length) process.stdout.write(out.join(''));
    out = [];
  };
  let n = 0;
  try {
    for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
      n++;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new Error(`stdin line ${n}: not JSON: ${line.slice(0, 80)}`);
      }
      try {
        out.push(convert(value) + '\n');
      } catch (e) {
        throw new Error(`stdin line ${n}: ${(e as Error).message}`);
      }
      if (out.length >= 1024) flush();
    }
  } finally {
    flush(); // lines before a bad one still come out, in order
    tok.free();
  }
  return 0;
}

function encodeLine(tok: Tokenizer, v: unknown): string {
  if (typeof v !== 'string') throw new Error(`expected a JSON string, got ${JSON.stringify(v)?.slice(0, 80)}`);
  return JSON.stringify(tok.encode(v));
}

function decodeLine(tok: Tokenizer, v: unknown): string {
  if (!Array.isArray(v)) throw new Error(`expected a JSON array of token ids, got ${JSON.stringify(v)?.slice(0, 80)}`);
  const bad = v.findIndex((x) => !Number.isInteger(x) || x < 0 || x >= tok.vocabSize);
  if (bad >= 0)
    throw new Error(`element ${bad} (${JSON.stringify(v[bad])}) is not a token id in [0, ${tok.vocabSize})`);
  return JSON.stringify(tok.decode(v));
}
