/**
 * One entry point for emitters. The matchers need the NFA program (`toNfa`, run by `reMatch` and its
 * JavaScript twin); the query side uses `regexQuery` of src/emit/dsl-regex.ts (a Lucene `regexp` when
 * cheap, else a script query running the same interpreter). `compileRegex` gives the program and,
 * when there is one, the Lucene form.
 */
import type { RegexValue } from "../types.ts";
import { type LuceneRegexp, toLuceneRegexp } from "./lucene.ts";
import { type Program, toNfa } from "./nfa.ts";
import type { Unsupported } from "./parse.ts";

export type { LuceneRegexp } from "./lucene.ts";
export type { Program } from "./nfa.ts";
export { toLuceneRegexp } from "./lucene.ts";
export { toNfa } from "./nfa.ts";
export { parseRegex, isUnsupported } from "./parse.ts";

export interface CompiledRegex {
  /** The NFA program for `reMatch` (ingest) and the JS VM. */
  program: Program;
  /** The Lucene regexp form, when there is one (the query side uses `regexQuery` either way). */
  lucene?: LuceneRegexp;
}

/**
 * Supported exactly when the ingest program exists: the query side then always has a clause
 * (src/emit/dsl-regex.ts: Lucene regexp, or the script query running the same program).
 */
export function compileRegex(regex: RegexValue): CompiledRegex | Unsupported {
  const program = toNfa(regex);
  if ("unsupported" in program) return program;
  const lucene = toLuceneRegexp(regex);
  return "unsupported" in lucene ? { program } : { program, lucene };
}
