/**
 * The FIXED Painless source of the regex interpreter, `boolean reMatch(def prog, String s)`:
 * src/shared-scripts/regex.painless (its header documents the algorithm, the loop limit and the step
 * budget), with the codes of nfa.ts put in for their names. Rule regexes never reach script source,
 * only their compiled programs (nfa.ts) do, through params. Paste `REGEX_PAINLESS` among a script's
 * function declarations (before any statement); `reIn`, `reWord`, `reClose` are declared too.
 */
import { loadPainless } from "./load.ts";
import regexText from "./regex.painless" with { type: "text" };
import { ASSERT_CODE, OP, RUN_FIELD } from "../ir/regex/nfa.ts";

export const REGEX_FUNCTION_NAME = "reMatch";

/**
 * Slots of the interpreter's shared int state `v` (reMatch hands it to reClose): the closure's size,
 * the steps taken, the position in UTF-16 units, the code point index, the previous and current
 * code points, the value's length, the generation mark, the step budget; SIZE is the array length.
 */
export const VM_STATE = {
  NCL: 0,
  STEPS: 1,
  POS: 2,
  INDEX: 3,
  PREV: 4,
  CUR: 5,
  LEN: 6,
  GEN: 7,
  LIMIT: 8,
  SIZE: 9,
} as const;

/** Every table regex.painless uses, under the prefix its names carry there. */
export const REGEX_CONSTANTS = {
  RE: OP,
  AT: {
    BOS: ASSERT_CODE.bos,
    EOS: ASSERT_CODE.eos,
    BOL: ASSERT_CODE.bol,
    EOL: ASSERT_CODE.eol,
    WORDB: ASSERT_CODE.wordb,
    NWORDB: ASSERT_CODE.nwordb,
  },
  RUN: RUN_FIELD,
  V: VM_STATE,
} as const;

export const REGEX_PAINLESS = loadPainless("regex.painless", regexText, REGEX_CONSTANTS);
