/**
 * Match ops: the closed set of small tests every predicate of the representation lowers to
 * (lower.ts), once, before any emitter sees it. The Painless encoder serialises them to op codes
 * (src/emit/painless/encode-nodes.ts), the JavaScript matcher builds closures from them
 * (src/emit/js/matcher.ts), and the query DSL takes its exact leaves from them (src/emit/dsl.ts).
 * Each of those dispatches with a `switch` ending in `unhandledOp`, so a new op fails to compile in
 * every emitter until each handles it.
 *
 * A view is how the matcher reads a field's values: `keyword` the text as a keyword field indexes it
 * (source text; JSON numbers and booleans as their text; values over `ignore_above` left out), or the
 * canonical text / value of a typed doc value (long, double, boolean, ip, date).
 */
import type { Program } from "../../ir/regex/nfa.ts";
import type { Field, FieldType, RegexValue, WildcardPart } from "../../ir/types.ts";

export type View = Exclude<FieldType, "text">;

/**
 * The matchers' keyword length limit: none (-1). Live, backfill and scan decide on `_source`, so a value
 * of any length is seen (an attacker cannot pad a command line past the index's `ignore_above`); the
 * backfill's candidate query widens where the index kept no keyword (src/emit/dsl-mapped.ts).
 */
export const DEFAULT_IGNORE_ABOVE = -1;
export type StringTest = "eq" | "contains" | "prefix" | "suffix";
export type Comparison = "eq" | "gt" | "gte" | "lt" | "lte";

/** Some value of the view equals / contains / starts / ends with the value. */
export interface StringMatch {
  kind: "string";
  test: StringTest;
  field: Field;
  view: View;
  /** The value as the rule wrote it. */
  value: string;
  /** The rule's case mode. */
  cased: boolean;
  /** Compared without folding: cased, or no ASCII letter in the value. */
  exact: boolean;
  /** What the matcher compares the (folded, when not exact) value with: `value`, ASCII-folded unless exact. */
  compare: string;
}

/** Some value of the view matches the whole wildcard pattern. */
export interface GlobMatch {
  kind: "glob";
  field: Field;
  view: View;
  parts: WildcardPart[];
  cased: boolean;
  /** Compared without folding: cased, or no ASCII letter in the literals. */
  exact: boolean;
  /** The pattern as value text (`*` for each wildcard), ASCII-folded unless exact. */
  pattern: string;
  /** One character per pattern character: `0` literal, `1` any run, `2` one code point. */
  mask: string;
  /** Only `*` wildcards: the literal segments between them (folded unless exact); else absent. */
  segments?: string[];
}

/** Some value of the view, read as a number, compares true (keyword view: Java's parseDouble of the text). */
export interface NumberMatch {
  kind: "number";
  field: Field;
  view: "long" | "double" | "keyword";
  cmp: Comparison;
  value: number;
}

/** Some value of a boolean field is `value`. */
export interface BoolMatch {
  kind: "bool";
  field: Field;
  view: View;
  value: boolean;
}

/** Some value of an ip field lies in the network (an address is its /128). */
export interface CidrMatch {
  kind: "cidr";
  field: Field;
  /** The address or network as the query DSL's `term` on the ip field takes it. */
  text: string;
  /** 16 bytes, IPv4 as ::ffff:a.b.c.d. */
  bytes: number[];
  bits: number;
}

/** Some keyword value contains a match of the regex (its program runs on Painless and in JS alike). */
export interface RegexMatch {
  kind: "regex";
  field: Field;
  view: "keyword";
  regex: RegexValue;
  program: Program;
}

/** The field has a value in its view (`exists: false`: it has none). */
export interface ExistsMatch {
  kind: "exists";
  field: Field;
  view: View;
  exists: boolean;
}

/** Always or never. */
export interface ConstMatch {
  kind: "const";
  value: boolean;
}

/** Some value of `field` equals some value of `other` (ASCII folding unless cased). */
export interface FieldRefMatch {
  kind: "fieldref";
  field: Field;
  view: View;
  other: Field;
  otherView: View;
  cased: boolean;
}

/** A value with no field name: true when one of the listed fields the event holds satisfies its op. */
export interface AnyFieldMatch {
  kind: "anyField";
  fields: { field: Field; op: MatchOp }[];
}

export type MatchOp =
  | StringMatch
  | GlobMatch
  | NumberMatch
  | BoolMatch
  | CidrMatch
  | RegexMatch
  | ExistsMatch
  | ConstMatch
  | FieldRefMatch
  | AnyFieldMatch;

/** The `default` of every emitter's switch over MatchOp: a compile error when an op is not handled. */
export function unhandledOp(op: never): never {
  throw new Error(`match op not handled: ${JSON.stringify(op)}`);
}
