// Host side of the byte-level BPE tokenizers (docs/tokenizer.md): validates tokenizer.json, packs vocab and merges
// into the wasm module (assembly/bpe.ts), and moves text and ids across the boundary. BLOOM's pre-tokenizer runs in
// wasm (assembly/pretok.ts); the Qwen2/Qwen3 and Llama 3 ones (regexes over Unicode letter/number classes) split
// here with a RegExp and hand the pieces to wasm, where the merges run.
import { copyIn, loadWasm, type Wasm } from './load.ts';

/** BLOOM's pre-tokenizer regex, which assembly/pretok.ts implements by hand. */
const BLOOM_SPLIT = ' ?[^(\\s|[.,!?…。，、।۔،])]+';

// Oniguruma's \s is Unicode White_Space (JavaScript's \s adds U+FEFF and lacks U+0085); (?i:…) folds ASCII letters.
const WS = '\\p{White_Space}';
const CONTRACTIONS = "'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])";
const gptSplit = (digits: string) =>
  `${CONTRACTIONS}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}${digits}| ?[^${WS}\\p{L}\\p{N}]+[\\r\\n]*|` +
  `${WS}*[\\r\\n]+|${WS}+(?!\\P{White_Space})|${WS}+`;
const HF_GPT_SPLIT = (digits: string) =>
  `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}${digits}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|` +
  '\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+';

/** The Split regexes (tokenizer.json spelling) handled on the host, by family, with their JavaScript equivalents. */
const REGEX_SPLITS: Record<string, { family: string; js: string }> = {
  [HF_GPT_SPLIT('')]: { family: 'qwen2/qwen3', js: gptSplit('') },
  [HF_GPT_SPLIT('{1,3}')]: { family: 'llama3', js: gptSplit('{1,3}') },
};

interface Model {
  vocab: Record<string, number>;
  merges: unknown[];
  unkId: number;
  fuseUnk: boolean;
  added: Added[];
  /** the split regex when it runs on the host (null: BLOOM's, in wasm) */
  split: RegExp | null;
  nfc: boolean;
  ignoreMerges: boolean;
}
interface Added {
  id: number;
  content: string;
}
type Json = Record<string, any>;

const utf8 = new TextEncoder();
const utf16 = new TextDecoder('utf-16le');

export class Tokenizer {
  readonly padId: number;
  readonly eosId: number;
  private h: number;
  private addedRe: RegExp | null;
  private byteChars: string[];

  private constructor(
    private w: Wasm,
    h: number,
    private vocab: Record<string, number>,
    private idToTok: (string | undefined)[],
    private added: Map<string, number>,
    private m: Model,
  ) {
    this.h = h;
    // BLOOM's <pad> and </s>; Qwen's <|endoftext|> (its pad and base-model eos); Llama 3's <|end_of_text|>
    this.padId = this.tokenToId('<pad>') ?? this.tokenToId('<|endoftext|>') ?? this.tokenToId('<|end_of_text|>') ?? 3;
    this.eosId = this.tokenToId('</s>') ?? this.tokenToId('<|endoftext|>') ?? this.tokenToId('<|end_of_text|>') ?? 2;
    // added tokens, longest first: at each position the first alternative that matches is the longest
    const contents = [...added.keys()].sort((a, b) => b.length - a.length);
    this.addedRe = contents.length
      ? new RegExp(contents.map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'gu')
      : null;
    this.byteChars = Array.from({ length: 256 }, (_, b) => String.fromCharCode(w.byteChar(b)));
  }

  /** Loads a tokenizer.json (text or parsed); `sourceName` names it in error messages. */
  static async fromJSON(text: string | object, sourceName = 'tokenizer.json'): Promise<Tokenizer> {
    const w = await loadWasm();
    let json: unknown = text;
    if (typeof text === 'string') {
      try {
        json = JSON.parse(text);
      } catch (e) {
        throw new Error(`${sourceName}: not valid JSON (${(e as Error).message})`);
      }
    }
    const m = validate(json, sourceName);
    const { idToTok, added } = tokenTable(m, sourceName);
    const h = w.bpeNew(idToTok.length, m.unkId, m.fuseUnk);
    try {
      loadModel(w, h, idToTok, m.merges, sourceName);
      const byteIds = new Int32Array(256);
      for (let b = 0; b < 256; b++) byteIds[b] = idOf(m.vocab, String.fromCharCode(w.byteChar(b))) ?? -1;
      const p = copyIn(w, byteIds);
      w.bpeByteIds(h, p);
      w.dealloc(p);
      loadAdded(w, h, m.added);
    } catch (e) {
      w.bpeFree(h);
      throw e;
    }
    return new Tokenizer(w, h, m.vocab, idToTok, added, m);
  }

  /**
   * Token ids of `text`; no BOS/EOS is added (the post-processors of BLOOM, Qwen3 and the npm Llama 3
   * tokenizer.json add none; HF's `add_special_tokens: false`).
   */
  encode(text: string): number[] {
    if (this.m.split) return this.encodeSplit(text, this.m.split);
    const w = this.w,
      h = this.handle();
    const cap = text.length * 3; // UTF-8 never needs more than 3 bytes per UTF-16 unit
    const ptr = w.bpeInput(h, cap);
    const { written } = utf8.encodeInto(text, new Uint8Array(w.memory.buffer, ptr, cap));
    const n = w.bpeEncode(h, written);
    const out = new Int32Array(w.memory.buffer, w.bpeOutput(h), n);
    const ids = new Array<number>(n);
    for (let i = 0; i < n; i++) ids[i] = out[i];
    return ids;
  }

  /**
   * The host-split path: added tokens cut out of the raw text, the rest NFC-normalized (when the normalizer says so)
   * and split by the pre-tokenizer's regex ("Isolated": matches and the gaps between them are pieces); pieces go to
   * wasm as UTF-8 ranges, except that with ignore_merges a piece found whole in the vocab is that token.
   */
  private encodeSplit(text: string, split: RegExp): number[] {
    const w = this.w,
      h = this.handle();
    const parts: (string | number)[] = [];
    const pieces = (seg: string) => {
      if (this.m.nfc) seg = seg.normalize('NFC');
      let prev = 0;
      for (const mt of seg.matchAll(split)) {
        if (mt.index > prev) parts.push(seg.slice(prev, mt.index));
        if (mt[0].length) parts.push(mt[0]);
        prev = mt.index + mt[0].length;
      }
      if (prev < seg.length) parts.push(seg.slice(prev));
    };
    let prev = 0;
    if (this.addedRe)
      for (const mt of text.matchAll(this.addedRe)) {
        if (mt.index > prev) pieces(text.slice(prev, mt.index));
        parts.push(this.added.get(mt[0])!);
        prev = mt.index + mt[0].length;
      }
    if (prev < text.length) pieces(prev ? text.slice(prev) : text);
    let cap = 0;
    for (const p of parts) if (typeof p === 'string') cap += p.length * 3;
    const inPtr = w.bpeInput(h, cap),
      tPtr = w.bpePieces(h, parts.length);
    // views after both allocations (a growing memory detaches older ones)
    const bytes = new Uint8Array(w.memory.buffer, inPtr, cap),
      triples = new Int32Array(w.memory.buffer, tPtr, parts.length * 3);
    let off = 0;
    parts.forEach((p, k) => {
      let id = -1;
      const start = off;
      if (typeof p === 'number') id = p;
      else {
        off += utf8.encodeInto(p, bytes.subarray(off)).written;
        if (this.m.ignoreMerges) {
          let chars = '';
          for (let i = start; i < off; i++) chars += this.byteChars[bytes[i]];
          id = idOf(this.vocab, chars) ?? -1;
        }
      }
      triples[3 * k] = start;
      triples[3 * k + 1] = off;
      triples[3 * k + 2] = id;
    });
    const n = w.bpeEncodePieces(h, parts.length);
    const out = new Int32Array(w.memory.buffer, w.bpeOutput(h), n);
    return Array.from(out);
  }

  encodeBatch(texts: string[]): number[][] {
    return texts.map((t) => this.encode(t));
  }

  /** Text of `ids` (lossy UTF-8: broken byte sequences become U+FFFD); ids outside the vocab are skipped, as in HF. */
  decode(ids: number[]): string {
    const w = this.w,
      h = this.handle();
    const ptr = w.bpeInput(h, ids.length * 4);
    new Int32Array(w.memory.buffer, ptr, ids.length).set(ids);
    const n = w.bpeDecode(h, ids.length);
    return utf16.decode(new Uint8Array(w.memory.buffer, w.bpeOutput(h), n * 2));
  }

  /** One past the largest id (250,680 for BLOOM); embedding tables may have more rows. */
  get vocabSize(): number {
    return this.idToTok.length;
  }

  tokenToId(tok: string): number | undefined {
    return this.added.get(tok) ?? idOf(this.vocab, tok);
  }

  idToToken(id: number): string | undefined {
    return this.idToTok[id];
  }

  /** UTF-8 bytes of the text each id stands for (byte-level tokens: one character per byte; added tokens: their
   *  content); 0 for an id outside the vocab. Summed over encode(text), this is the text's UTF-8 length. */
  tokenBytes(ids: readonly number[]): number[] {
    return ids.map((id) => {
      const t = this.idToTok[id];
      if (t === undefined) return 0;
      return this.added.has(t) ? utf8.encode(t).length : t.length;
    });
  }

  /** Releases the wasm memory; the tokenizer cannot be used afterwards. */
  free(): void {
    if (this.h >= 0) this.w.bpeFree(this.h);
    this.h = -1;
  }

  private handle(): number {
    if (this.h < 0) throw new Error('Tokenizer used after free()');
    return this.h;
  }
}

function fail(src: string, msg: string): never {
  throw new Error(`${src}: ${msg}`);
}

/** Ids are numbers, so inherited members (`vocab.constructor`, a non-own `__proto__`) never pass for tokens. */
function idOf(vocab: Record<string, number>, tok: string): number | undefined {
  const id = vocab[tok];
  return typeof id === 'number' ? id : undefined;
}

function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Checks that the file is a byte-level BPE of a kind implemented here (BLOOM's, Qwen2/Qwen3's, Llama 3's). */
function validate(json: unknown, src: string): Model {
  if (!isObject(json)) fail(src, 'expected a JSON object (a HuggingFace tokenizer.json)');
  const model = json.model;
  if (!isObject(model)) fail(src, 'missing "model"');
  if (model.type !== undefined && model.type !== 'BPE')
    fail(src, `model.type is "${model.type}"; only "BPE" (byte-level, as BLOOM) is supported`);
  if (!isObject(model.vocab)) fail(src, 'missing "model.vocab" (an object token -> id)');
  if (!Array.isArray(model.merges)) fail(src, 'missing "model.merges" (an array)');
  if (model.byte_fallback) fail(src, 'model.byte_fallback is not supported (BLOOM is byte-level)');
  if (model.continuing_subword_prefix || model.end_of_word_suffix)
    fail(src, 'continuing_subword_prefix / end_of_word_suffix are not supported');
  if (model.dropout) fail(src, `model.dropout = ${model.dropout} is not supported (inference tokenizer)`);
  const pattern = splitPattern(json.pre_tokenizer);
  const host = pattern === undefined ? undefined : REGEX_SPLITS[pattern];
  if (pattern !== BLOOM_SPLIT && !host) {
    fail(
      src,
      `pre_tokenizer is not one of BLOOM's, Qwen2/Qwen3's or Llama 3's (a Split with their regex, Isolated, then ` +
        `ByteLevel without prefix space or regex); its pattern is ${JSON.stringify(pattern ?? null)}`,
    );
  }
  if (model.ignore_merges && !host)
    fail(src, "model.ignore_merges is supported with Qwen's and Llama 3's pre_tokenizer");
  const nfc = json.normalizer?.type === 'NFC';
  if (json.normalizer != null && !(nfc && host))
    fail(src, `normalizer "${json.normalizer.type}" is not supported (BLOOM and Llama 3 have none, Qwen has NFC)`);
  if (json.decoder != null && json.decoder.type !== 'ByteLevel')
    fail(src, `decoder "${json.decoder.type}" is not supported (expected ByteLevel)`);
  let unkId = -1;
  if (model.unk_token != null) {
    unkId =
      idOf(model.vocab, model.unk_token) ?? fail(src, `model.unk_token "${model.unk_token}" is not in model.vocab`);
  }
  const added: Added[] = [];
  const list = json.added_tokens ?? [];
  if (!Array.isArray(list)) fail(src, '"added_tokens" must be an array');
  list.forEach((a: Json, i: number) => {
    if (!isObject(a) || !Number.isInteger(a.id) || a.id < 0 || typeof a.content !== 'string' || a.content === '') {
      fail(src, `added_tokens[${i}] needs an integer "id" and a non-empty "content"`);
    }
    if (a.lstrip || a.rstrip || a.single_word)
      fail(src, `added_tokens[${i}] ("${a.content}"): lstrip/rstrip/single_word are not supported`);
    added.push({ id: a.id, content: a.content });
  });
  return {
    vocab: model.vocab,
    merges: model.merges,
    unkId,
    fuseUnk: !!model.fuse_unk,
    added,
    split: host ? new RegExp(host.js, 'gu') : null,
    nfc,
    ignoreMerges: !!model.ignore_merges,
  };
}

/** id -> string (added tokens over model.vocab, as HF's id_to_token) and the added tokens' ids. */
function tokenTable(m: Model, src: string): { idToTok: (string | undefined)[]; added: Map<string, number> } {
  const idToTok: (string | undefined)[] = [];
  let count = 0;
  for (const tok in m.vocab) {
    const id = m.vocab[tok];
    if (!Number.isInteger(id) || id < 0 || id >= 2 ** 31) fail(src, `model.vocab["${tok}"] = ${id} is not a valid id`);
    if (idToTok[id] !== undefined) fail(src, `model.vocab: id ${id} is given to both "${idToTok[id]}" and "${tok}"`);
    idToTok[id] = tok;
    count++;
  }
  const added = new Map<string, number>();
  m.added.forEach((a, i) => {
    // One string per id, so decode and the merge lookups in wasm can share one table.
    const t = idToTok[a.id];
    if (t !== undefined && t !== a.content)
      fail(src, `added_tokens[${i}] "${a.content}" has id ${a.id}, which model.vocab gives to "${t}"`);
    if (t === undefined) count++;
    idToTok[a.id] = a.content;
    added.set(a.content, a.id);
  });
  // Tables in wasm are sized by the largest id: refuse ids that would make them mostly holes.
  if (idToTok.length > 2 * count + 1024) fail(src, `ids go up to ${idToTok.length - 1} for only ${count} tokens`);
  return { idToTok, added };
}

/** The regex of a Sequence [Split(regex, Isolated), ByteLevel(no prefix space, no regex)], else undefined. */
function splitPattern(p: any): string | undefined {
  const [split, bytes] = p?.type === 'Sequence' ? (p.pretokenizers ?? []) : [];
  const ok =
    split?.type === 'Split' &&
    typeof split.pattern?.Regex === 'string' &&
    split.behavior === 'Isolated' &&
    !split.invert &&
    bytes?.type === 'ByteLevel' &&
    !bytes.add_prefix_space &&
    bytes.use_regex === false &&
    p.pretokenizers.length === 2;
  return ok ? split.pattern.Regex : undefined;
}

/**
 * Vocab strings and merges as two UTF-16 runs with offsets: a few copies and one call, no per-token calls
 * into wasm, where the merges are split, looked up and checked (assembly/vocab.ts).
 */
function loadModel(w: Wasm, h: number, idToTok: (string | undefined)[], merges: unknown[], src: string): void {
  const n = idToTok.length,
    nm = merges.length;
  const offs = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) offs[i + 1] = offs[i] + (idToTok[i]?.length ?? 0);
  // Per merge (start, split, end); split -1 = an "a b" string, which wasm splits on its one space.
  const moffs = new Int32Array(nm * 3);
  let total = 0;
  for (let i = 0; i < nm; i++) {
    const e = merges[i];
    moffs[3 * i] = total;
    if (typeof e === 'string') {
      moffs[3 * i + 1] = -1;
      total += e.length;
    } else if (Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && typeof e[1] === 'string') {
      moffs[3 * i + 1] = total + e[0].length;
      total += e[0].length + e[1].length;
    } else {
      fail(src, `model.merges[${i}] = ${JSON.stringify(e)} is neither "a b" nor ["a", "b"]`);
    }
    moffs[3 * i + 2] = total;
  }
  const pOffs = copyIn(w, offs),
    pMoffs = copyIn(w, moffs);
  const pChars = w.alloc(offs[n] * 2),
    pM = w.alloc(total * 2);
  let k = 0;
  const chars = new Uint16Array(w.memory.buffer, pChars, offs[n]);
  for (const t of idToTok) if (t !== undefined) k = putChars(chars, k, t);
  const mchars = new Uint16Array(w.memory.buffer, pM, total);
  k = 0;
  for (const e of merges as (string | string[])[]) {
    if (typeof e === 'string') k = putChars(mchars, k, e);
    else k = putChars(mchars, putChars(mchars, k, e[0]), e[1]);
  }
  const status = w.bpeLoad(h, pChars, pOffs, pM, pMoffs, nm);
  for (const p of [pChars, pOffs, pM, pMoffs]) w.dealloc(p);
  if (status >= 0) {
    const i = status >> 2,
      e = merges[i] as string | string[];
    const [a, b] = typeof e === 'string' ? e.split(' ') : e;
    const missing = [undefined, a, b, a + b][status & 3];
    fail(
      src,
      missing === undefined
        ? `model.merges[${i}] = ${JSON.stringify(e)} is not "a b" (exactly two parts separated by one space)`
        : `model.merges[${i}] = ${JSON.stringify(e)}: token ${JSON.stringify(missing)} is not in model.vocab`,
    );
  }
}

function putChars(dst: Uint16Array, k: number, s: string): number {
  for (let j = 0; j < s.length; j++) dst[k++] = s.charCodeAt(j);
  return k;
}

/** Added tokens as UTF-8 (matched on the raw text in wasm), longest first so the first hit is the longest. */
function loadAdded(w: Wasm, h: number, added: Added[]): void {
  const enc = added
    .map((a) => ({ id: a.id, bytes: utf8.encode(a.content) }))
    .sort((x, y) => y.bytes.length - x.bytes.length);
  const blob = new Uint8Array(enc.reduce((s, a) => s + a.bytes.length, 0));
  const meta = new Int32Array(enc.length * 3);
  let off = 0;
  enc.forEach((a, k) => {
    blob.set(a.bytes, off);
    meta.set([off, a.bytes.length, a.id], 3 * k);
    off += a.bytes.length;
  });
  const pb = copyIn(w, blob),
    pm = copyIn(w, meta);
  w.bpeAdded(h, pb, blob.length, pm, enc.length);
  w.dealloc(pb);
  w.dealloc(pm);
}
