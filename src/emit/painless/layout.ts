/**
 * The one table of every code shared by the params (encode.ts writes them) and the fixed Painless
 * source (src/emit/painless/matcher.painless and tagger.painless read them). The Painless files name each
 * code as `GROUP_NAME` (`OP_EQ`, `S_RAW`, `P_DIMS`, …) and src/shared-scripts/load.ts puts in the value
 * from here, so the two sides cannot drift (test/unit/painless-source.test.ts checks that every
 * name is known and every op is handled).
 */
import type { Field } from "../../ir/types.ts";
import type { Params } from "./encode.ts";

/** Node op codes: a node is a list headed by one (see encode-nodes.ts for each node's layout). */
export const OP = {
  AND: 0,
  OR: 1,
  NOT: 2,
  TRUE: 3,
  FALSE: 4,
  MEMO: 5,
  EQ: 10,
  CONTAINS: 11,
  PREFIX: 12,
  SUFFIX: 13,
  GLOB: 14,
  REGEX: 15,
  CIDR: 16,
  EXISTS: 17,
  FIELDREF: 18,
  NUM: 19,
  KNUM: 20,
  BOOL: 21,
  ANYSTR: 22,
  KEYWORD: 23,
} as const;

/** Value views of a field (`f[i][1]`): how the matcher reads its values. */
export const VIEW = { KEYWORD: 0, LONG: 1, DOUBLE: 2, BOOLEAN: 3, IP: 4, DATE: 5 } as const;

/** The view of each index type (text fields are read as their keyword text). */
export const TYPE: Record<Field["type"], number> = {
  keyword: VIEW.KEYWORD,
  text: VIEW.KEYWORD,
  long: VIEW.LONG,
  double: VIEW.DOUBLE,
  boolean: VIEW.BOOLEAN,
  ip: VIEW.IP,
  date: VIEW.DATE,
};

/** Numeric comparisons of NUM / KNUM nodes. */
export const CMP = { EQ: 0, GT: 1, GTE: 2, LT: 3, LTE: 4 } as const;

/**
 * Index dimension modes (`dk[d][1]`): VALUE the folded value equals the key, BASENAME the folded base
 * name after the last `\` equals it, LONG the integer value of a long field equals it, GRAM the folded
 * value contains the key.
 */
export const MODE = { VALUE: 0, BASENAME: 1, LONG: 2, GRAM: 3 } as const;

/**
 * The params keys (short on the wire: the SigmaHQ set's params are megabytes). `Params` in encode.ts
 * has exactly these keys (checked below at compile time and by the drift test).
 */
export const PARAM = {
  FIELDS: "f",
  RULES: "r",
  META: "m",
  EXTRA_KEYS: "xk",
  ALWAYS: "a",
  DIMS: "dk",
  DIM_KEYS: "dm",
  DIM_GRAMS: "dg",
  DIM_PATHS: "dp",
  GRAM_FILTER: "gf",
  GRAM_LIMIT: "gl",
  REGEXES: "x",
  MEMO_SLOTS: "mc",
} as const;

/**
 * Positions in an index dimension `dk[d]`: [fieldIdx, mode] or, for GRAM, [fieldIdx, mode, gram
 * length] plus a 4th entry (1) when every key of the dimension holds a non-ASCII character.
 */
export const DIM = { FIELD: 0, MODE: 1, GRAM_LENGTH: 2, NON_ASCII: 3 } as const;

/** Positions in a field entry `f[i]`: [sourcePath, view, ignoreAbove]. */
export const FIELD = { PATH: 0, VIEW: 1, IGNORE_ABOVE: 2 } as const;

/** Positions in a rule's metadata `m[i]` (src/emit/match-plan/rule-meta.ts ruleMeta writes them in this order). */
export const META = {
  ID: 0,
  TYPES: 1,
  REASON: 2,
  SUMMARY: 3,
  MODEL_NAME: 4,
  MODEL_TYPE: 5,
  TECHNIQUES: 6,
  EXTRAS: 7,
  LEVEL: 8,
} as const;

/**
 * Slots of the matcher's per-event state `S` (oxState): the document, the params, four per-field
 * caches of value views (each computed at most once per event), the memo slots of shared subtrees (0
 * unknown, 1 true, 2 false), the document's leaves by dotted path, and the empty list absent fields
 * read (never written). SIZE is the array length.
 */
export const STATE = {
  DOC: 0,
  PARAMS: 1,
  RAW: 2,
  TXT: 3,
  LOW: 4,
  NUM: 5,
  MEMO: 6,
  FLAT: 7,
  EMPTY: 8,
  SIZE: 9,
} as const;

/** Every table the matcher and tagger sources use, under the prefix their names carry there. */
export const PAINLESS_CONSTANTS = {
  OP,
  VIEW,
  CMP,
  MODE,
  DIM,
  P: PARAM,
  F: FIELD,
  M: META,
  S: STATE,
} as const;

// Compile-time drift check: PARAM's values are exactly the keys of Params.
type SameKeys<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const paramsKeysMatch: SameKeys<keyof Params, (typeof PARAM)[keyof typeof PARAM]> = true;
void paramsKeysMatch;
