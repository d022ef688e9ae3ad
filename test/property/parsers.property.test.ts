// Property-based tests (fast-check) of the readers that take outside bytes: the safetensors header parser, the
// CSV reader, the JSONL replay reader and the tokenizer. Each: valid data round-trips; arbitrary or damaged input
// gives the reader's own error (naming the source) or a result, never a stray TypeError/RangeError or a hang.
// numRuns stays small: these run in CI with the rest of the suite.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  bufferSource,
  encodeSafetensors,
  SafetensorsError,
  SafetensorsFile,
  type TensorToWrite,
} from '../../src/model/safetensors.ts';
import { CsvError, parseCsv } from '../../src/util/csv-parse.ts';
import { parseReplayJsonl } from '../../src/train/data/replay.ts';
import { Tokenizer } from '../../src/wasm/tokenizer.ts';
import { FIXTURES } from '../helpers/gpu.ts';

const tensorArb = fc.record({
  name: fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s !== '__metadata__'),
  dtype: fc.constantFrom('F32', 'F16', 'I8', 'U8'),
  shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
});
const SIZE: Record<string, number> = { F32: 4, F16: 2, I8: 1, U8: 1 };

function tensorsOf(specs: { name: string; dtype: string; shape: number[] }[], seed: number): TensorToWrite[] {
  const seen = new Set<string>();
  return specs
    .filter((s) => !seen.has(s.name) && seen.add(s.name))
    .map((s) => {
      const n = s.shape.reduce((a, b) => a * b, 1) * SIZE[s.dtype];
      const data = new Uint8Array(n).map((_, i) => (i * 31 + seed) & 0xff);
      return { name: s.name, dtype: s.dtype as TensorToWrite['dtype'], shape: s.shape, data };
    });
}

async function openBytes(b: Uint8Array): Promise<SafetensorsFile> {
  return SafetensorsFile.open(bufferSource(b, 'prop.safetensors'));
}

describe('property: safetensors header parser', () => {
  it('round-trips any set of tensors (names, dtypes, shapes incl. empty ones) and metadata', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(tensorArb, { maxLength: 6 }),
        fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 3 }),
        fc.nat(255),
        async (specs, meta, seed) => {
          const tensors = tensorsOf(specs, seed);
          const f = await openBytes(encodeSafetensors(tensors, meta));
          assert.deepEqual([...f.tensors.keys()].sort(), tensors.map((t) => t.name).sort());
          for (const t of tensors) {
            assert.deepEqual(f.tensors.get(t.name)?.shape, t.shape);
            assert.deepEqual(await f.raw(t.name), t.data);
          }
          assert.deepEqual(f.metadata, { ...meta }); // fast-check's dictionaries have no prototype
          await f.close();
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a damaged file (bytes changed, truncated, extended) opens or fails with a SafetensorsError', async () => {
    const base = encodeSafetensors(
      tensorsOf(
        [
          { name: 'a.weight', dtype: 'F32', shape: [3, 2] },
          { name: 'b', dtype: 'F16', shape: [5] },
        ],
        7,
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.nat(255)), { maxLength: 4 }),
        fc.integer({ min: -base.length, max: 16 }),
        async (edits, cut) => {
          let b: Uint8Array = base.slice();
          for (const [i, v] of edits) b[i] = v;
          b = cut < 0 ? b.slice(0, b.length + cut) : new Uint8Array([...b, ...new Uint8Array(cut)]);
          try {
            const f = await openBytes(b);
            for (const name of f.tensors.keys()) await f.raw(name);
            await f.close();
          } catch (e) {
            assert.ok(e instanceof SafetensorsError, `${(e as Error).name}: ${(e as Error).message}`);
            assert.match((e as Error).message, /prop\.safetensors/);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('arbitrary bytes open or fail with a SafetensorsError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), async (b) => {
        try {
          await (await openBytes(b)).close();
        } catch (e) {
          assert.ok(e instanceof SafetensorsError, `${(e as Error).name}: ${(e as Error).message}`);
        }
      }),
      { numRuns: 200 },
    );
  });
});

/** RFC 4180 writer: quote every field, double the quotes. */
const toCsv = (rows: string[][]) =>
  rows.map((r) => r.map((f) => `"${f.replaceAll('"', '""')}"`).join(',')).join('\r\n');

describe('property: CSV reader', () => {
  it('round-trips any table (commas, quotes, line breaks and any characters inside fields)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }).chain((w) =>
          fc.array(fc.array(fc.string({ unit: 'binary', maxLength: 8 }), { minLength: w, maxLength: w }), {
            minLength: 1,
            maxLength: 5,
          }),
        ),
        (rows) => {
          assert.deepEqual(parseCsv(toCsv(rows) + '\r\n', 'prop.csv'), rows);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('arbitrary text parses or fails with a CsvError naming the file and line', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r', ' ', '\t', 'é'), maxLength: 30 }),
        (t) => {
          try {
            parseCsv(t, 'prop.csv');
          } catch (e) {
            assert.ok(e instanceof CsvError, `${(e as Error).name}: ${(e as Error).message}`);
            assert.match((e as Error).message, /^prop\.csv:\d+: /);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('property: JSONL replay reader', () => {
  it('round-trips any rows; arbitrary lines fail naming the file and line', () => {
    const row = fc.record({ inputs: fc.string({ unit: 'binary' }), targets: fc.string({ unit: 'binary' }) });
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 5 }), (rows) => {
        const plain = rows.map((r) => ({ inputs: r.inputs, targets: r.targets }));
        assert.deepEqual(parseReplayJsonl(rows.map((r) => JSON.stringify(r)).join('\n'), 'r.jsonl'), plain);
      }),
      { numRuns: 100 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (t) => {
        try {
          parseReplayJsonl(t, 'r.jsonl');
        } catch (e) {
          assert.match((e as Error).message, /^r\.jsonl:\d+: /);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('property: tokenizer (bloom-tiny tokenizer.json)', () => {
  let tok: Tokenizer;
  before(async () => {
    const path = join(FIXTURES, 'bloom-tiny', 'tokenizer.json');
    tok = await Tokenizer.fromJSON(readFileSync(path, 'utf8'), path);
  });
  after(() => tok?.free());

  it('decode(encode(s)) === s for any Unicode text (byte-level BPE is lossless)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
        assert.equal(tok.decode(tok.encode(s)), s);
      }),
      { numRuns: 300 },
    );
  });

  it('arbitrary bytes (decoded lossily) encode without a crash; any valid ids decode', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.array(fc.nat(tok.vocabSize - 1), { maxLength: 20 }),
        (b, ids) => {
          const s = new TextDecoder().decode(b);
          const enc = tok.encode(s);
          assert.ok(enc.every((i) => Number.isInteger(i) && i >= 0 && i < tok.vocabSize));
          assert.equal(typeof tok.decode(ids), 'string');
        },
      ),
      { numRuns: 300 },
    );
  });
});
