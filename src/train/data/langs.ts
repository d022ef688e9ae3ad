// Languages of InstructAlign/NusaX: ISO 639-3 code ↔ the English name put in prompts ↔ NusaX folder/column name.
// Names of the nine FLORES languages follow the official `lang_map` (data_utils.py); mad, nij, bbc are NusaX-only.

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

const byKey = new Map<string, LangInfo>();
for (const l of LANGS) for (const k of [l.code, l.name.toLowerCase(), l.nusax]) byKey.set(k, l);

/** Accepts a code (`sun`), a FLORES code (`sun_Latn`), a prompt name (`Sundanese`) or a NusaX name (`toba_batak`). */
export function findLang(key: string): LangInfo | undefined {
  const k = key
    .trim()
    .toLowerCase()
    .replace(/^([a-z]{3})_[a-z]{4}$/, '$1');
  return byKey.get(k) ?? byKey.get(k.replace(/ /g, '_'));
}

export function langCode(key: string): string {
  const l = findLang(key);
  if (!l) throw new Error(`unknown language "${key}" (known: ${LANGS.map((x) => x.code).join(', ')})`);
  return l.code;
}

/** The name used in prompts; an unknown code is used as given (so JSONL with other languages still works). */
export function langName(code: string): string {
  return findLang(code)?.name ?? code;
}
