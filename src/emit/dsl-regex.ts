/**
 * The query DSL clause for a regex predicate on one keyword field, chosen by cost:
 * - `regexp` (Lucene, uses the terms index) when the Lucene form exists and is cheap to build;
 * - otherwise a `script` query running the SAME fixed Painless interpreter as the ingest pipeline
 *   (`reMatch`, program in params) on the field's doc values. This covers what Lucene cannot say
 *   (word boundaries, multi-line anchors) and what it says too expensively (`.{1000,}`,
 *   `.{1,64}` windows between literals: determinization takes seconds to minutes on ES 7.10, or
 *   fails past 10,000 states). Doc values hold exactly the indexed terms, so both clauses see the
 *   same values (values over `ignore_above` are in neither).
 * The script query is exact but evaluates every candidate document: put it under a `filter` with
 * the rule's other, indexed clauses so Elasticsearch only runs it on their matches.
 * A value whose interpretation exceeds the program's step budget counts as not matching (the
 * ingest side records that error and does not tag either).
 */
import type { RegexValue } from "../ir/types.ts";
import { toLuceneRegexp } from "../ir/regex/lucene.ts";
import { toNfa } from "../ir/regex/nfa.ts";
import { REGEX_QUERY_SCRIPT } from "../shared-scripts/dsl-scripts.ts";
import type { Unsupported } from "../ir/regex/parse.ts";

export type RegexQuery = { engine: "regexp" | "script"; query: Record<string, unknown> } | Unsupported;

/**
 * `field`: the keyword field (for `text` fields, their keyword sub-field). `docValues: false` says
 * the field cannot be read by a script (a `text` field without keyword sub-field): a regex that
 * needs the script query is then unsupported.
 */
export function regexQuery(
  field: string,
  regex: RegexValue,
  opts: { forceScript?: boolean; docValues?: boolean } = {},
): RegexQuery {
  const program = toNfa(regex);
  if ("unsupported" in program) return program;
  const lucene = toLuceneRegexp(regex);
  if (!opts.forceScript && !("unsupported" in lucene) && !lucene.cost.expensive) {
    return { engine: "regexp", query: { regexp: { [field]: { value: lucene.value, flags: lucene.flags } } } };
  }
  if (opts.docValues === false) {
    const why =
      "unsupported" in lucene
        ? lucene.unsupported
        : `Lucene regexp too costly to build (~${lucene.cost.states}+ states)`;
    return { unsupported: `${why}, and ${field} has no doc values for the script query` };
  }
  return {
    engine: "script",
    // `re` (unused by the script) keeps the regex readable: ee-outliers files written by
    // `compile --target ee-outliers` are read back into the representation from it.
    query: {
      script: {
        script: {
          lang: "painless",
          source: REGEX_QUERY_SCRIPT,
          params: { f: field, p: program, re: { pattern: regex.pattern, flags: regex.flags } },
        },
      },
    },
  };
}
