/**
 * One entry point for emitters. The ingest side needs the NFA program (`toNfa`, run by `reMatch`);
 * the query side uses `regexQuery` (a Lucene `regexp` when cheap, else a script query running the
 * same interpreter). `compileRegex` gives the program and, when there is one, the Lucene form.
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
 * (`regexQuery`: Lucene regexp, or the script query running the same program).
 */
export function compileRegex(regex: RegexValue): CompiledRegex | Unsupported {
  const program = toNfa(regex);
  if ("unsupported" in program) return program;
  const lucene = toLuceneRegexp(regex);
  return "unsupported" in lucene ? { program } : { program, lucene };
}
