// The bundled training data under data/ (names only, no file access: the request definitions' --help uses them).
export const DEFAULT_PAIRS = 'nusax/mt/train.csv';
/** The replay stand-in for xP3 (data/replay/README.md): L1 instructions in prompts unlike the evaluation's. */
export const DEFAULT_REPLAY = 'replay/nusax_l1_instruct.jsonl';
