/**
 * What a predicate means, as every emitter needs it: which fields string predicates treat as text,
 * ASCII case folding, the numeric text Elasticsearch accepts for a number field, and the value/mask
 * form of a wildcard pattern. The lowering pass (src/emit/match-plan/lower.ts) applies them once for
 * the three matchers, and the index keys (src/emit/match-plan/index-keys.ts) and the mapping-aware DSL
 * (src/emit/dsl-mapped.ts) use them too. Addresses and networks are in ./ip.ts.
 */
import type { Field, WildcardPart } from "./types.ts";

/** Whether string predicates run as keyword queries (keyword, text, or any field with a keyword sub-field). */
export function isStringField(f: Field): boolean {
  return f.type === "keyword" || f.type === "text" || Boolean(f.keywordSubfield);
}

/** True when ASCII case folding cannot change the value (no ASCII letter in it). */
export function caseless(s: string): boolean {
  return !/[A-Za-z]/.test(s);
}

/** ASCII-only case folding, as Elasticsearch's `case_insensitive` (`É` and `é` stay different). */
export function foldAscii(s: string): string {
  // Runs of ASCII capitals, each lower-cased at once (toLowerCase of A-Z alone is ASCII folding).
  return UPPER.test(s) ? s.replace(UPPER_RUNS, (run) => run.toLowerCase()) : s;
}
const UPPER = /[A-Z]/;
const UPPER_RUNS = /[A-Z]+/g;

/** Decimal numeric text an equals on a long/double field compares numerically ("01" == 1); else no match. */
export const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * A wildcard pattern as value + mask, one mask character per value character: `0` literal, `1` any
 * run (`*` in the value), `2` exactly one code point (`*` in the value too).
 */
export function globParams(parts: WildcardPart[]): { value: string; mask: string } {
  let value = "";
  let mask = "";
  for (const p of parts) {
    if ("lit" in p) {
      value += p.lit;
      mask += "0".repeat(p.lit.length);
    } else {
      value += "*";
      mask += "any" in p ? "1" : "2";
    }
  }
  return { value, mask };
}
