/**
 * The one place the DSL emitter gets Lucene `regexp` syntax from: src/ir/regex's `toLuceneRegexp`
 * (unanchored search compiled to a whole-term Lucene regexp, operators escaped, `flags` given).
 */
export { toLuceneRegexp } from "../ir/regex/lucene.ts";
