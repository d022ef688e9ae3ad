// Languages: any ISO 639-3 code (optionally with a FLORES-200 script subtag, `tgl_Latn`), local-use `qaa`–`qtz`,
// ISO 639-1 two-letter codes and the usual BCP-47 tags (`en`, `yo`, `pt-BR`, `zh-Hant`: mapped to ISO 639-3, the
// region dropped, a script subtag kept as `zho-Hant`), and the English name put in prompts ([SOURCE_LANG] …). NusaX codes keep their own names (the official `lang_map`
// of data_utils.py for the nine FLORES languages; mad, nij, bbc are NusaX-only); other names come from the ISO 639-3
// table (iso-639-3 npm package, compacted by build.mjs); `--lang-names tgl=Tagalog` overrides both. Browser-safe.
import { ISO639_1, ISO639_3 } from '../../generated/iso639-3.ts';
import { needString } from '../../api/requests/core.ts';

export interface LangInfo {
  code: string;
  name: string;
  nusax: string;
}

export const LANGS: readonly LangInfo[] = [
  { code: 'eng', name: 'English', nusax: 'english' },
  { code: 'ind', name: 'Indonesian', nusax: 'indonesian' },
  { code: 'ace', name: 'Acehnese', nusax: 'acehnese' },
  { code: 'ban', name: 'Balinese', nusax: 'balinese' },
  { code: 'bjn', name: 'Banjarese', nusax: 'banjarese' },
  { code: 'bug', name: 'Buginese', nusax: 'buginese' },
  { code: 'jav', name: 'Javanese', nusax: 'javanese' },
  { code: 'mad', name: 'Madurese', nusax: 'madurese' },
  { code: 'min', name: 'Minangkabau', nusax: 'minangkabau' },
  { code: 'nij', name: 'Ngaju', nusax: 'ngaju' },
  { code: 'sun', name: 'Sundanese', nusax: 'sundanese' },
  { code: 'bbc', name: 'Toba Batak', nusax: 'toba_batak' },
];

/** L1 pivots and L2 targets of the paper (NusaX README); the official code's latest run uses eng alone. */
export const DEFAULT_L1 = ['eng', 'ind'] as const;
export const DEFAULT_L2 = ['ace', 'ban', 'bjn', 'bug', 'jav', 'min', 'sun'] as const;

/** Prompt names chosen by the user (`--lang-names`), by base code. */
export type LangNames = Readonly<Record<string, string>>;

const byKey = new Map<string, LangInfo>();
for (const l of LANGS) for (const k of [l.code, l.name.toLowerCase(), l.nusax]) byKey.set(k, l);

let iso: { names: Map<string, string>; byName: Map<string, string | null> } | undefined;
/** The ISO table, parsed on first use. byName: lower-case name → code (null where two codes share a name). */
function isoTable() {
  if (iso) return iso;
  const names = new Map<string, string>();
  const byName = new Map<string, string | null>();
  for (const row of ISO639_3.split('\n')) {
    const tab = row.indexOf('\t');
    const code = row.slice(0, tab);
    // "Malay (macrolanguage)" → "Malay"; other parentheses tell languages apart ("Ainu (China)") and stay.
    const name = row.slice(tab + 1).replace(/ \(macrolanguage\)$/, '');
    names.set(code, name);
    const k = name.toLowerCase();
    byName.set(k, byName.has(k) ? null : code);
  }
  iso = { names, byName };
  return iso;
}

const CODE_RE = /^([a-z]{3})(?:_([A-Za-z]{4}))?$/;
/** BCP-47: a 2- or 3-letter language, then optional script (4 letters), region (2 letters or 3 digits) and other
 *  subtags (variants, extensions: ignored), separated by `-` (or `_` after a 2-letter language: `pt_BR`). */
const BCP47_RE = /^([a-z]{2,3})(?:[-_]([a-z]{4}))?(?:[-_](?:[a-z]{2}|\d{3}))?(?:-[a-z0-9]{1,8})*$/i;

let iso1: Map<string, string> | undefined;
/** ISO 639-1 two-letter code → ISO 639-3 code (a macrolanguage's own code: zh → zho, ar → ara). */
export function fromIso639_1(two: string): string | undefined {
  iso1 ??= new Map(ISO639_1.split('\n').map((r) => r.split('\t') as [string, string]));
  return iso1.get(two.toLowerCase());
}

/**
 * A BCP-47 tag (`en`, `yo`, `pt-BR`, `zh-Hant`, `sr-Latn-RS`, `yor-NG`) as an ISO 639-3 code: the two-letter
 * language mapped through ISO 639-1, the region dropped, a script subtag kept as `zho-Hant` (BCP-47 writes a script
 * only where it tells two written forms apart). Undefined when `tag` is not such a tag or its language is unknown.
 * FLORES-200's `tgl_Latn` is not handled here (langCode reads it as `tgl`: FLORES names every file with a script).
 */
export function fromBcp47(tag: string, names: LangNames = {}): string | undefined {
  const m = BCP47_RE.exec(tag.trim());
  if (!m) return undefined;
  const [lang, script] = [m[1].toLowerCase(), m[2]];
  // `tgl_Latn` is the FLORES form, and a 3-letter `_` tag without a script is not BCP-47
  if (lang.length === 3 && tag.includes('_')) return undefined;
  const code = lang.length === 2 ? fromIso639_1(lang) : lang;
  if (!code || !(isoTable().names.has(code) || isLocalUse(code) || code in names)) return undefined;
  return script ? `${code}-${script[0].toUpperCase()}${script.slice(1).toLowerCase()}` : code;
}

/** The base ISO 639-3 code of a code this module returns: `zho-Hant` → zho, `tgl_Latn` → tgl. */
export function baseCode(code: string): string {
  return code.slice(0, 3).toLowerCase();
}

/** Script names for the prompt name of a script-tagged code (`zho-Hant` → "Chinese (Traditional)"). */
const SCRIPTS: Record<string, string> = {
  Hans: 'Simplified',
  Hant: 'Traditional',
  Latn: 'Latin script',
  Cyrl: 'Cyrillic script',
  Arab: 'Arabic script',
  Deva: 'Devanagari script',
  Beng: 'Bengali script',
  Ethi: 'Ethiopic script',
  Grek: 'Greek script',
  Hebr: 'Hebrew script',
  Tfng: 'Tifinagh script',
  Olck: 'Ol Chiki script',
  Mtei: 'Meitei Mayek script',
  Tibt: 'Tibetan script',
  Geor: 'Georgian script',
  Armn: 'Armenian script',
  Guru: 'Gurmukhi script',
  Gujr: 'Gujarati script',
  Taml: 'Tamil script',
  Telu: 'Telugu script',
  Knda: 'Kannada script',
  Mlym: 'Malayalam script',
  Orya: 'Odia script',
  Sinh: 'Sinhala script',
  Thaa: 'Thaana script',
  Mymr: 'Myanmar script',
  Khmr: 'Khmer script',
  Laoo: 'Lao script',
  Thai: 'Thai script',
  Jpan: 'Japanese script',
  Kore: 'Korean script',
};

/** True for the ISO 639-3 local-use range qaa–qtz (no standard name: give one with --lang-names). */
export function isLocalUse(code: string): boolean {
  return /^q[a-t][a-z]$/.test(code);
}

/** NusaX entry by code (`sun`), FLORES code (`sun_Latn`), prompt name (`Sundanese`) or NusaX name (`toba_batak`). */
export function findLang(key: string): LangInfo | undefined {
  const k = key
    .trim()
    .toLowerCase()
    .replace(/^([a-z]{3})_[a-z]{4}$/, '$1');
  return byKey.get(k) ?? byKey.get(k.replace(/ /g, '_'));
}

/** ISO 639's codes that name no language (audit L8: prompts read "Translate … from Undetermined"). */
const SPECIAL_CODES: Record<string, string> = {
  und: '"undetermined"',
  mis: '"uncoded languages"',
  mul: '"multiple languages"',
  zxx: '"no linguistic content"',
};

/**
 * The base ISO 639-3 code of `key`: a code (`tgl`), a code with a FLORES script subtag (`tgl_Latn` → `tgl`), a NusaX
 * name (`toba_batak`) or an English name from the table (`Tagalog`, 4 letters or more). A code is accepted when the ISO table has it,
 * it is local-use (qaa–qtz), or `names` names it. `where` prefixes the error (e.g. a file:line or a flag).
 */
export function langCode(key: string, names: LangNames = {}, where = ''): string {
  needString('langCode', 'key', key);
  const nusax = findLang(key);
  if (nusax) return nusax.code;
  const k = key.trim();
  const m = CODE_RE.exec(k.toLowerCase());
  if (m && m[1] in SPECIAL_CODES && !(m[1] in names))
    throw new Error(
      `${where ? `${where}: ` : ''}"${key}" is ISO 639's special code for ${SPECIAL_CODES[m[1]]}, not a language: ` +
        "give the language's own code, or a local-use code qaa–qtz named with --lang-names (e.g. qaa=MyLanguage)",
    );
  if (m && (isoTable().names.has(m[1]) || isLocalUse(m[1]) || m[1] in names)) return m[1];
  if (k in names) return k; // a key --lang-names already normalised (e.g. zho-Hant)
  const bcp = fromBcp47(k, names);
  if (bcp) return bcp;
  // Names only from 4 letters on: short strings are codes or typos, and a few languages are named "En", "Are", ….
  const byName = k.length >= 4 ? isoTable().byName.get(k.toLowerCase().replace(/_/g, ' ')) : undefined;
  if (byName) return byName;
  const pre = where ? `${where}: ` : '';
  throw new Error(
    `${pre}unknown language "${key}": expected an ISO 639-3 code (e.g. tgl or tgl_Latn), an ISO 639-1 or BCP-47 ` +
      'tag (tl, pt-BR, zh-Hant), a local-use code qaa–qtz, or an English language name; for a code outside ISO ' +
      '639-3 give its name with --lang-names CODE=Name',
  );
}

/**
 * A language tag as a code without the ISO table (so the browser's evaluation bundle stays small): NusaX names and
 * codes (`toba_batak` → bbc), a FLORES script subtag dropped (`tgl_Latn` → tgl), a 3-letter code lower-cased; any
 * other text is kept as written (a file name such as `reviews`).
 */
export function langTag(raw: string): string {
  const nusax = findLang(raw);
  if (nusax) return nusax.code;
  const m = CODE_RE.exec(raw.trim().toLowerCase());
  return m ? m[1] : raw.trim();
}

/** The English name used in prompts: --lang-names, then the NusaX name, then the ISO 639-3 table. */
export function langName(code: string, names: LangNames = {}): string {
  needString('langName', 'code', code);
  // `zho-Hant` (a BCP-47 script kept by langCode): the script's name after the language's
  const scripted = /^([a-z]{3})-([A-Z][a-z]{3})$/.exec(code.trim());
  if (scripted) {
    if (names[code.trim()]) return names[code.trim()];
    const s = scripted[2];
    return `${langName(scripted[1], names)} (${SCRIPTS[s] ?? `${s} script`})`;
  }
  const base = code.trim().toLowerCase().replace(CODE_RE, '$1');
  const given = names[base] ?? names[code];
  if (given) return given;
  const nusax = findLang(base);
  if (nusax) return nusax.name;
  const name = isoTable().names.get(base);
  if (name) return name;
  if (isLocalUse(base))
    throw new Error(`"${base}" is a local-use code with no standard name: name it with --lang-names ${base}=Name`);
  throw new Error(`no name for language "${code}": give one with --lang-names ${base}=Name`);
}

/** `--lang-names tgl=Tagalog,qaa=Zedish` → { tgl: 'Tagalog', qaa: 'Zedish' } (codes normalised to their base). */
export function parseLangNames(spec: string | undefined, flag = '--lang-names'): Record<string, string> {
  const out: Record<string, string> = {};
  if (!spec) return out;
  for (const part of spec.split(',').map((s) => s.trim())) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const raw = part.slice(0, Math.max(eq, 0)).trim();
    const name = part.slice(eq + 1).trim();
    const m = CODE_RE.exec(raw.toLowerCase());
    // a 3-letter code (named here, so any code outside ISO 639-3 too), else an ISO 639-1/BCP-47 tag (en, zh-Hant)
    const code = m ? m[1] : eq > 0 ? fromBcp47(raw) : undefined;
    if (eq <= 0 || !code || !name)
      throw new Error(
        `${flag}: bad entry "${part}" (expected CODE=Name with an ISO 639-3 code or an ISO 639-1/BCP-47 tag, ` +
          'e.g. tgl=Tagalog,qaa=Zedish,yo=Yoruba)',
      );
    out[code] = name;
  }
  return out;
}

/** An API's `{ yo: 'Yorùbá', 'zh-Hant': … }`: the keys as --lang-names normalises them (yor, zho-Hant). */
export function normalizeLangNames(names: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(names)) {
    const m = CODE_RE.exec(k.trim().toLowerCase());
    out[m ? m[1] : (fromBcp47(k) ?? k)] = v;
  }
  return out;
}

/** Check every language has a prompt name now rather than mid-training (throws the langName error). */
export function checkLangNames(codes: Iterable<string>, names: LangNames = {}): void {
  for (const c of codes) langName(c, names);
}
