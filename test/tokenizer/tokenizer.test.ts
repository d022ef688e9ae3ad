// The wasm BLOOM tokenizer against HF: the fixtures' tokenizer_cases (made by HF tokenizers in Python),
// Pre-tokenizer edge cases (docs/tokenizer.md) vs @huggingface/tokenizers, lossy decode, the API and bad files.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Tokenizer as HFTokenizer } from '@huggingface/tokenizers';
import { Tokenizer } from '../../src/wasm/tokenizer.ts';
import { loadWasm } from '../../src/wasm/load.ts';
import { randInt } from '../helpers/rng.ts';
import { bloomTokenizerJSON, BYTELEVEL } from '../helpers/synthetic-tokenizer.ts';

const HF_CONFIG = { clean_up_tokenization_spaces: false }; // BLOOM's tokenizer_config.json
const read = (p: string) => readFileSync(p, 'utf8');
/**
 * A tokenizer that merges every piece of the given texts into ONE token: the vocab holds every substring of
 * each text (in byte-level chars) and the merges every way to split one, so pre-tokenizer pieces become
 * visible as tokens and can be compared one by one.
 */
async function pieceRevealingJSON(texts: string[]): Promise<any> {
  const w = await loadWasm();
  const chars = Array.from({ length: 256 }, (_, b) => String.fromCharCode(w.byteChar(b)));
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2, '<pad>': 3 };
  let next = 4;
  for (const c of chars) vocab[c] = next++;
  const merges = new Map<string, [string, string]>();
  for (const t of texts) {
    const s = Array.from(new TextEncoder().encode(t), (b) => chars[b]).join('');
    for (let len = 2; len <= s.length; len++) {
      for (let i = 0; i + len <= s.length; i++) {
        const sub = s.slice(i, i + len);
        if (!(sub in vocab)) vocab[sub] = next++;
        for (let k = 1; k < len; k++)
          merges.set(`${sub.slice(0, k)}\u0000${sub.slice(k)}`, [sub.slice(0, k), sub.slice(k)]);
      }
    }
  }
  return bloomTokenizerJSON(
    vocab,
    [...merges.values()].sort((x, y) => x[0].length + x[1].length - y[0].length - y[1].length),
  );
}

/** JSON with every non-ASCII code point escaped, so test titles show which space is which. */
const show = (x: unknown) =>
  JSON.stringify(x).replace(/[^\x20-\x7e]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);

describe('tokenizer: HF fixtures', () => {
  for (const fx of ['bloom-tiny', 'bloom-tiny-h6-f16']) {
    it(`${fx}: every tokenizer_case (ids and decode exact)`, async () => {
      const dir = `test/fixtures/${fx}`;
      const tok = await Tokenizer.fromJSON(read(`${dir}/tokenizer.json`), `${dir}/tokenizer.json`);
      const cases: { text: string; ids: number[]; decoded: string }[] = JSON.parse(
        read(`${dir}/reference.json`),
      ).tokenizer_cases;
      assert.ok(cases.length >= 60);
      for (const c of cases) {
        assert.deepEqual(tok.encode(c.text), c.ids, `encode(${JSON.stringify(c.text)})`);
        assert.equal(tok.decode(c.ids), c.decoded, `decode of ${JSON.stringify(c.text)}`);
      }
      tok.free();
    });
  }
});

describe('tokenizer: BLOOM pre-tokenizer edge cases (docs/tokenizer.md) vs @huggingface/tokenizers', () => {
  const sp = (c: number) => String.fromCodePoint(c);
  // Oniguruma \s: U+0009–000D, U+0085, Zs, Zl, Zp. U+FEFF, U+180E, U+200B and U+001C–001F are NOT \s.
  const spaces = [
    0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2005, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f,
    0x3000,
  ];
  const notSpaces = [0xfeff, 0x180e, 0x200b, 0x1c, 0x1f];
  const expected: [string, string[]][] = [
    ['a  b', ['a', ' ', ' b']],
    ['x.,y', ['x', '.,', 'y']],
    ['(a|b)[c]', ['(', 'a', '|', 'b', ')', '[c]']],
    ['…x。y，z、w', ['…', 'x', '。', 'y', '，', 'z', '、', 'w']],
    ['क।ख ۔د،ر', ['क', '।', 'ख', ' ۔', 'د', '،', 'ر']], // space + ۔ is one gap
    ['😀👍🏽 🇮🇩!', ['😀👍🏽', ' 🇮🇩', '!']],
    ['  x ', [' ', ' x', ' ']],
    ...spaces.map((c): [string, string[]] => [
      `a${sp(c)}b ${sp(c)} c`,
      c === 0x20 ? ['a', ' b', '  ', ' c'] : ['a', sp(c), 'b', ` ${sp(c)}`, ' c'],
    ]),
    ...notSpaces.map((c): [string, string[]] => [`a${sp(c)}b ${sp(c)}c`, [`a${sp(c)}b`, ` ${sp(c)}c`]]),
  ];
  let ours: Tokenizer, ref: HFTokenizer;

  before(async () => {
    const json = await pieceRevealingJSON(expected.map(([t]) => t));
    ours = await Tokenizer.fromJSON(json, 'piece-revealing tokenizer');
    ref = new HFTokenizer(json, HF_CONFIG);
  });
  after(() => ours.free());

  for (const [text, pieces] of expected) {
    it(`${show(text)} -> ${show(pieces)}`, () => {
      const got = ours.encode(text);
      assert.deepEqual(
        got.map((id) => ours.decode([id])),
        pieces,
      );
      assert.deepEqual(got, ref.encode(text).ids);
    });
  }

  it('added tokens are split out of the raw text first, leftmost then longest', async () => {
    const json = read('models/nano-bloomz/tokenizer.json');
    const tok = await Tokenizer.fromJSON(json);
    const hf = new HFTokenizer(JSON.parse(json), HF_CONFIG);
    for (const t of ['a</s>b', '<pad><pad></s >', 'x <s></s>. y', '</s></s', 'hi!</s>'])
      assert.deepEqual(tok.encode(t), hf.encode(t).ids, t);
    assert.deepEqual(tok.encode('The fox</s>').slice(-1), [2]);
    tok.free();
  });
});

describe('tokenizer: decode', () => {
  it('matches @huggingface/tokenizers on random id runs (partial UTF-8 -> U+FFFD)', async () => {
    const json = read('models/nano-bloomz/tokenizer.json');
    const tok = await Tokenizer.fromJSON(json);
    const hf = new HFTokenizer(JSON.parse(json), HF_CONFIG);
    const w = await loadWasm();
    // Half the ids are single bytes >= 0x80, so runs often end inside, or break, a UTF-8 sequence.
    const high = Array.from({ length: 128 }, (_, b) => tok.tokenToId(String.fromCharCode(w.byteChar(128 + b)))!);
    let replaced = 0;
    const rnd = randInt(7);
    for (let r = 0; r < 2000; r++) {
      const ids = Array.from({ length: 1 + rnd(12) }, () => (rnd(2) ? high[rnd(128)] : rnd(tok.vocabSize)));
      const got = tok.decode(ids);
      assert.equal(got, hf.decode(ids), JSON.stringify(ids));
      if (got.includes('\uFFFD')) replaced++;
    }
    assert.ok(replaced > 100, `only ${replaced} runs exercised invalid UTF-8`);
    assert.equal(tok.decode([tok.tokenToId('Ã')!]), '\uFFFD'); // a lone 0xC3 lead byte
    assert.equal(tok.decode([]), '');
    assert.equal(tok.decode([99999999, -1]), '', 'ids outside the vocab are skipped, as HF does');
    tok.free();
  });
});

describe('tokenizer: bytes missing from the vocab', () => {
  it('become unk (fused with fuse_unk) as in @huggingface/tokenizers; without unk they are dropped', async () => {
    const j = JSON.parse(read('test/fixtures/bloom-tiny-h6-f16/tokenizer.json'));
    for (const c of ['¿', '½', 'ï']) delete j.model.vocab[c]; // the bytes of U+FFFD; no merge uses them
    const t = ['a\uFFFD\uFFFDb', 'x \uFFFD', '\uFFFDq'];
    for (const [unk, fuse] of [
      ['<unk>', false],
      ['<unk>', true],
    ] as const) {
      Object.assign(j.model, { unk_token: unk, fuse_unk: fuse });
      const ours = await Tokenizer.fromJSON(j),
        hf = new HFTokenizer(j, HF_CONFIG);
      for (const x of t) assert.deepEqual(ours.encode(x), hf.encode(x).ids, `${show(x)} unk ${unk} fuse ${fuse}`);
    }
    // No unk: HF Rust's merge_word skips the byte, so its neighbours meet and merge ("a" "b" -> "ab").
    // (@huggingface/tokenizers 0.2 keeps them apart; the Rust library is the reference here.)
    Object.assign(j.model, { unk_token: null, fuse_unk: false });
    const ours = await Tokenizer.fromJSON(j);
    assert.deepEqual(ours.encode(t[0]), [ours.tokenToId('ab')]);
    ours.free();
  });
});

describe('tokenizer: API', () => {
  it('vocab queries, special ids, batch, no BOS/EOS added, free', async () => {
    const tok = await Tokenizer.fromJSON(JSON.parse(read('test/fixtures/bloom-tiny/tokenizer.json')));
    assert.equal(tok.vocabSize, 1024);
    assert.equal(tok.padId, 3);
    assert.equal(tok.eosId, 2);
    assert.equal(tok.tokenToId('</s>'), 2);
    assert.equal(tok.tokenToId('Ġ'), tok.encode(' ')[0]);
    assert.equal(tok.tokenToId('constructor'), undefined);
    assert.equal(tok.idToToken(tok.tokenToId('an')!), 'an');
    assert.equal(tok.idToToken(5000), undefined);
    assert.deepEqual(tok.encode(''), []);
    const texts = ['Hello world', '', 'x.,y'];
    assert.deepEqual(
      tok.encodeBatch(texts),
      texts.map((t) => tok.encode(t)),
    );
    assert.notEqual(tok.encode('Hello')[0], 1, 'no <s> in front');
    tok.free();
    assert.throws(() => tok.encode('x'), /after free/);
  });

  it('an AssemblyScript abort reaches JS as an Error naming the file and line', async () => {
    const w = await loadWasm();
    assert.throws(() => w.bpeEncode(123456, 0), /tokenizer handle is not live.* in assembly\/index\.ts:\d+:\d+/);
  });
});

describe('tokenizer: malformed tokenizer.json', () => {
  const good = () => JSON.parse(read('test/fixtures/bloom-tiny-h6-f16/tokenizer.json'));
  const cases: [string, (j: any) => unknown, RegExp][] = [
    ['not JSON', () => '{"model": ', /bad\.json: not valid JSON/],
    [
      'no model',
      (j) => {
        delete j.model;
        return j;
      },
      /bad\.json: missing "model"/,
    ],
    [
      'no vocab',
      (j) => {
        delete j.model.vocab;
        return j;
      },
      /bad\.json: missing "model\.vocab"/,
    ],
    [
      'no merges',
      (j) => {
        delete j.model.merges;
        return j;
      },
      /bad\.json: missing "model\.merges"/,
    ],
    [
      'WordPiece',
      (j) => {
        j.model.type = 'WordPiece';
        return j;
      },
      /bad\.json: model\.type is "WordPiece"/,
    ],
    [
      '3-part merge',
      (j) => {
        j.model.merges[5] = 'a n g';
        return j;
      },
      /bad\.json: model\.merges\[5\] = "a n g" is not "a b"/,
    ],
    [
      '1-part pair',
      (j) => {
        j.model.merges[7] = ['a'];
        return j;
      },
      /bad\.json: model\.merges\[7\] = \["a"\] is neither/,
    ],
    [
      'unknown left token',
      (j) => {
        j.model.merges[9] = 'zzz n';
        return j;
      },
      /merges\[9\] = "zzz n": token "zzz" is not in model\.vocab/,
    ],
    [
      'unknown merged token',
      (j) => {
        j.model.merges[3] = 'q q';
        return j;
      },
      /merges\[3\] = "q q": token "qq" is not in model\.vocab/,
    ],
    [
      'other pre-tokenizer',
      (j) => {
        j.pre_tokenizer = BYTELEVEL;
        return j;
      },
      /bad\.json: pre_tokenizer is not one of BLOOM's/,
    ],
    [
      'normalizer',
      (j) => {
        j.normalizer = { type: 'NFC' };
        return j;
      },
      /bad\.json: normalizer "NFC" is not supported/,
    ],
    [
      'bad id',
      (j) => {
        j.model.vocab.an = -4;
        return j;
      },
      /bad\.json: model\.vocab\["an"\] = -4/,
    ],
  ];
  for (const [name, make, msg] of cases) {
    it(`${name}: throws, naming the problem and the file`, async () => {
      const j = make(good());
      await assert.rejects(Tokenizer.fromJSON(typeof j === 'string' ? j : JSON.stringify(j), 'bad.json'), msg);
    });
  }
  it('accepts the pairs merges format as well as "a b" strings (same ids)', async () => {
    const j = good();
    const a = await Tokenizer.fromJSON(j);
    j.model.merges = j.model.merges.map((m: string) => m.split(' '));
    const b = await Tokenizer.fromJSON(j);
    const t = 'Nikmati cicilan 0% hingga 12 bulan untuk pemesanan tiket';
    assert.deepEqual(b.encode(t), a.encode(t));
    assert.ok(a.encode(t).length < new TextEncoder().encode(t).length, 'merges were applied');
  });
});
