/**
 * The one place the DSL emitter gets Lucene `regexp` syntax from: src/ir/regex's `toLuceneRegexp`.
 * Until that module lands, regex predicates are reported as unsupported (per rule, not a crash).
 */
import type { RegexValue } from "../ir/types.ts";

export type LuceneRegexp = { value: string; caseInsensitive: boolean } | { unsupported: string };

export function toLuceneRegexp(_regex: RegexValue): LuceneRegexp {
  return { unsupported: "regular expressions need src/ir/regex (not built yet)" };
}
