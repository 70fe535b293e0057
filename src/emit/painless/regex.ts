/**
 * The bridge to src/ir/regex: a regex predicate becomes program data (params) for the NFA
 * interpreter whose fixed Painless source src/ir/regex provides, wrapped as `oxRegex(prog, s)`.
 */
import type { RegexValue } from "../../ir/types.ts";

export type RegexProgram = { program: unknown; folded: boolean } | { unsupported: string };

export function regexProgram(_regex: RegexValue): RegexProgram {
  return { unsupported: "regular expressions need src/ir/regex (not built yet)" };
}

/** Painless: `boolean oxRegex(def prog, String s)`, unanchored search of s. */
export const REGEX_FUNCTIONS = `
boolean oxRegex(def prog, String s) { throw new IllegalArgumentException('regex engine missing'); }
`;
