/**
 * The bridge to src/ir/regex: a regex predicate becomes program data (params) for the fixed NFA
 * interpreter `reMatch` of src/emit/painless/regex-source.ts, called here as `oxRegex(prog, s)`. A regex is
 * live only when src/ir/regex compiles it for both engines (the query's Lucene form too), so live and
 * query agree on which regexes exist. Programs are case-closed (the `i` flag is in the sets), so the
 * matcher passes the value as indexed, unfolded.
 */
import type { RegexValue } from "../../ir/types.ts";
import { compileRegex } from "../../ir/regex/index.ts";
import { REGEX_FUNCTION_NAME, REGEX_PAINLESS } from "./regex-source.ts";

export type RegexProgram = { program: unknown; folded: boolean } | { unsupported: string };

export function regexProgram(regex: RegexValue): RegexProgram {
  const c = compileRegex(regex);
  if ("unsupported" in c) return { unsupported: c.unsupported };
  return { program: c.program, folded: false };
}

/** Painless: `boolean oxRegex(def prog, String s)`, unanchored search of s. */
export const REGEX_FUNCTIONS = `${REGEX_PAINLESS}
boolean oxRegex(def prog, String s) { return ${REGEX_FUNCTION_NAME}(prog, s); }
`;
