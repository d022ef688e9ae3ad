// Host side of the BLOOM tokenizer (docs/tokenizer.md): validates tokenizer.json, packs vocab and merges into the wasm
// module (assembly/bpe.ts), and moves text and ids across the boundary. The tokenizing itself runs in wasm.
import { copyIn, loadWasm, type Wasm } from './load.ts';

/** BLOOM's pre-tokenizer regex, the only one assembly/pretok.ts implements. */
const BLOOM_SPLIT = ' ?[^(\\s|[.,!?…。，、।۔،])]+';

interface Model {
  vocab: Record<string, number>;
  merges: unknown[];
  unkId: number;
  fuseUnk: boolean;
  added: Added[];
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

  private constructor(
    private w: Wasm,
    h: number,
    private vocab: Record<string, number>,
    private idToTok: (string | undefined)[],
    private added: Map<string, number>,
  ) {
    this.h = h;
    this.padId = this.tokenToId('<pad>') ?? 3;
    this.eosId = this.tokenToId('</s>') ?? 2;
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
    return new Tokenizer(w, h, m.vocab, idToTok, added);
  }

  /** Token ids of `text`; no BOS/EOS is added (BLOOM's post-processor adds none). */
  encode(text: string): number[] {
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

/** Checks that the file is a byte-level BPE of the BLOOM kind, which is all that assembly/ implements. */
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
  if (model.ignore_merges) fail(src, 'model.ignore_merges is not supported');
  if (json.normalizer != null) fail(src, `normalizer "${json.normalizer.type}" is not supported (BLOOM has none)`);
  if (!isBloomPreTokenizer(json.pre_tokenizer)) {
    fail(
      src,
      `pre_tokenizer is not BLOOM's (Split "${BLOOM_SPLIT}" Isolated, then ByteLevel without prefix space or regex)`,
    );
  }
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
  return { vocab: model.vocab, merges: model.merges, unkId, fuseUnk: !!model.fuse_unk, added };
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

function isBloomPreTokenizer(p: any): boolean {
  const [split, bytes] = p?.type === 'Sequence' ? (p.pretokenizers ?? []) : [];
  return (
    split?.type === 'Split' &&
    split.pattern?.Regex === BLOOM_SPLIT &&
    split.behavior === 'Isolated' &&
    !split.invert &&
    bytes?.type === 'ByteLevel' &&
    !bytes.add_prefix_space &&
    bytes.use_regex === false &&
    p.pretokenizers.length === 2
  );
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
