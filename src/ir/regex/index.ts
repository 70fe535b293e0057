/**
 * One entry point for emitters. The ingest side needs the NFA program (`toNfa`, run by `reMatch`);
 * the query side uses `regexQuery` (a Lucene `regexp` when cheap, else a script query running the
 * same interpreter). `compileRegex` is the stricter pairing "Lucene regexp AND program".
 */
import type { RegexValue } from "../types.ts";
import { type LuceneRegexp, toLuceneRegexp } from "./lucene.ts";
import { type Program, toNfa } from "./nfa.ts";
import type { Unsupported } from "./parse.ts";

export type { LuceneRegexp } from "./lucene.ts";
export type { Program } from "./nfa.ts";
export { toLuceneRegexp } from "./lucene.ts";
export { toNfa } from "./nfa.ts";
export { runProgram, RegexBudgetError } from "./vm.ts";
export { REGEX_PAINLESS, REGEX_FUNCTION_NAME } from "./painless.ts";
export { parseRegex, isUnsupported } from "./parse.ts";
export { regexQuery, REGEX_QUERY_SCRIPT, type RegexQuery } from "./query.ts";

export interface CompiledRegex {
  lucene: LuceneRegexp;
  program: Program;
}

export function compileRegex(regex: RegexValue): CompiledRegex | Unsupported {
  const lucene = toLuceneRegexp(regex);
  if ("unsupported" in lucene) return lucene;
  const program = toNfa(regex);
  if ("unsupported" in program) return program;
  return { lucene, program };
}
