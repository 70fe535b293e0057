/**
 * Query DSL out of the rule representation: the query `_search`, `_count` and `_update_by_query` run.
 *
 * This header is the REFERENCE for what every predicate matches on an indexed document; the
 * Painless emitter (src/emit/painless) and any local evaluator copy it. "Value" below means one
 * value of the field as Elasticsearch indexed it:
 *
 * Fields and values
 * - String predicates query a field's `keywordSubfield` when it has one (text fields, and ip fields
 *   in our templates: `winlog.event_data.DestinationIp.keyword` holds the text as written, even
 *   when it is not a valid address), else the field itself (keyword fields).
 * - keyword values are the source text; JSON numbers and booleans in the source are indexed as
 *   their JSON text ("4688", "true"). A field holding an array matches when ANY element matches.
 *   Values longer than the mapping's `ignore_above` are not indexed and match nothing (not even
 *   `exists`). A missing field, `null`, `[]` and `[null]` have no value.
 * - Case-insensitive comparison folds ASCII letters only (A-Z = a-z), exactly as Elasticsearch's
 *   `case_insensitive` does (Lucene AutomatonQueries: "for now we only work with ASCII
 *   characters"); `É` and `é` stay different. `cased: true` compares code units exactly.
 *
 * Predicates on keyword/text fields
 * - equals:   some value == value. `term` (+ `case_insensitive`); case-sensitive equals on one field
 *             inside an OR are merged into one `terms`. A value with no letter at all is compared
 *             case-sensitively (identical result, and mergeable).
 * - prefix:   some value starts with value (`prefix` query). suffix / contains: ends with / contains
 *             value (`wildcard` `*v` / `*v*`). An empty value matches any field that has a value.
 * - wildcard: some value matches the whole pattern; `*` = any run of characters (also empty),
 *             `?` = exactly one character (one code point). Literal `*`, `?` and `\` are escaped
 *             with `\` in the ES wildcard syntax (Lucene WildcardQuery), so the pattern is exact.
 * - keyword:  (value with no field) the wildcard pattern matches some value of ANY listed field.
 * - regex:    some value contains a match of the regex (unanchored search), via src/ir/regex's
 *             `regexQuery`: a `regexp` (flags NONE, case folding compiled in) when Lucene builds it
 *             cheaply, else a script query running the ingest side's own NFA interpreter on the
 *             doc values (word boundaries, `.{1,64}` windows that take Lucene minutes to build).
 * - number:   eq → the value's text (JS shortest form, "4688", "1.5") equals a value, i.e.
 *             string equality; gt/gte/lt/lte → some value parses as a decimal number (Java
 *             Double.parseDouble after trim) and compares true; unparseable values never match.
 * - exists:   true → the field has at least one value ("" counts); false → it has none.
 * - fieldref: some value of `field` equals some value of `other` (case-(in)sensitive per
 *             `cased`, ASCII folding). For the usual single-valued fields this is plain equality;
 *             both fields missing/null → no match. Done by a `script` query with a FIXED source;
 *             the field names arrive in `params` (doc values of the keyword fields).
 * - cidr:     see ip fields; on a keyword field cidr is unsupported (the profile must type it ip).
 *
 * Predicates on other field types (the profile decides a field's type)
 * - ip:       cidr → some address is in the network (`term` with CIDR notation on the ip field
 *             itself, IPv4 and IPv6; IPv4-mapped IPv6 addresses equal their IPv4 form; values that
 *             are not addresses never match). String predicates use the keyword sub-field (above).
 *             Without a keyword sub-field: equals → address equality ("::1" == "0:0::1"), an
 *             invalid IP matches nothing; other string predicates compare the address's canonical
 *             text (doc value: "10.1.2.3", "2001:db8::1") by a fixed script.
 * - long/double: number → numeric term/range. equals with a decimal numeric text → numeric
 *             equality ("01" == 1); non-numeric text matches nothing. Other string predicates
 *             compare the canonical text of the doc value (Long → "4688", Double → "1.5") by
 *             a fixed script.
 * - boolean:  equals "true"/"false" (ASCII case-insensitive unless cased), number 1/0 → term;
 *             anything else matches nothing.
 * - date:     string predicates compare the doc value's ISO text by a fixed script.
 *
 * Long values: an automaton-backed query (case-insensitive `term`, `prefix`, `wildcard`) whose
 *   literal is over MAX_AUTOMATON_BYTES becomes a short necessary prefilter AND a fixed script that
 *   compares the whole doc value (same semantics, except that the script's `?` is one UTF-16 unit).
 *
 * Conditions
 * - and → bool.filter (+ must_not for negated children); or → bool.should with
 *   minimum_should_match 1; not → bool.must_not (true when the inner query does not match,
 *   including on documents that lack the field); const → match_all / match_none.
 * - No bool holds more than MAX_CLAUSES clauses (`indices.query.bool.max_clause_count`, 1024 on
 *   7.x): larger ones are nested.
 *
 * Rule values never reach script source: every script here is a constant, values go in params.
 *
 * All of the above is for fields indexed as the mapping profile assumes. Each predicate is lowered
 * once (src/emit/match-plan/lower.ts) and its match op becomes the exact query here (`opQuery`).
 * Backfill passes the target indices' real mappings (`Mapped`, a FieldIndex): src/emit/dsl-mapped.ts.
 */
import type { Field, Node, Predicate, Rule, WildcardPart } from "../ir/types.ts";
import { regexQuery as regexClause } from "./dsl-regex.ts";
import { isIp } from "../ir/ip.ts";
import { caseless, foldAscii, globParams } from "../ir/semantics.ts";
import { DOC_NUMBER_SCRIPT, DOC_STRING_SCRIPT, FIELDREF_SCRIPT } from "../shared-scripts/dsl-scripts.ts";
import { RuleError, RuleUnsupported } from "../ir/errors.ts";
import { lowerPredicate } from "./match-plan/lower.ts";
import {
  type GlobMatch,
  type MatchOp,
  type NumberMatch,
  type RegexMatch,
  type StringMatch,
  type StringTest,
  unhandledOp,
} from "./match-plan/ops.ts";
import { flip, mappedMergeKey, mappedPredicateQuery, type Mapped } from "./dsl-mapped.ts";

export { isCidr, isIp } from "../ir/ip.ts";
export { mappedPredicateQuery, type Mapped } from "./dsl-mapped.ts";
/** A rule the DSL cannot express (reported per rule by `compile`): src/ir/errors.ts RuleError. */
export { RuleError as EmitError } from "../ir/errors.ts";

/** Lucene's per-bool clause limit on 7.x is 1024; stay under it. */
export const MAX_CLAUSES = 1024;

type Q = Record<string, unknown>;

export const MATCH_ALL: Q = { match_all: {} };
export const MATCH_NONE: Q = { match_none: {} };

/**
 * The index field string predicates query: the field's keyword sub-field when it has one (text and
 * ip fields in our templates), else the field itself.
 */
export function queryField(f: Field): string {
  return f.keywordSubfield ? `${f.name}.${f.keywordSubfield}` : f.name;
}

/** ES wildcard syntax: `*`, `?` and `\` are special; `\` escapes the next character. */
export function escapeWildcard(lit: string): string {
  return lit.replace(/[\\*?]/g, (c) => "\\" + c);
}

export function wildcardPattern(parts: WildcardPart[]): string {
  let out = "";
  for (const p of parts) out += "lit" in p ? escapeWildcard(p.lit) : "any" in p ? "*" : "?";
  return out;
}

function ci(cased: boolean, value: string): boolean {
  return !cased && !caseless(value);
}

function withCase(field: string, kind: "term" | "prefix" | "wildcard", value: string, cased: boolean): Q {
  if (!ci(cased, value)) return kind === "term" ? { term: { [field]: value } } : { [kind]: { [field]: { value } } };
  return { [kind]: { [field]: { value, case_insensitive: true } } };
}

// ---------------------------------------------------------------------------------------------
// Fixed scripts (src/shared-scripts/dsl-scripts.ts: constant source, values in params) for what the query DSL
// has no query for.

function script(source: string, params: Record<string, unknown>): Q {
  return { script: { script: { lang: "painless", source, params } } };
}

function docStringQuery(
  f: Field,
  op: "eq" | "prefix" | "suffix" | "contains" | "glob",
  value: string,
  cased: boolean,
  mask = "",
): Q {
  return script(DOC_STRING_SCRIPT, { field: queryField(f), op, value: cased ? value : foldAscii(value), mask, cased });
}

// ---------------------------------------------------------------------------------------------
// Long values

/**
 * Longest literal (UTF-8 bytes) an automaton-backed query (`term` with case_insensitive, `prefix`,
 * `wildcard`) may carry. Measured on 7.10: at 1,001 characters `term`+case_insensitive, `prefix`
 * and `x*` fail with "input automaton is too large", and a 3,000-character `*x*` wildcard took the
 * node down (the automaton code recurses once per character). Case-sensitive `term` has no limit.
 */
export const MAX_AUTOMATON_BYTES = 900;

function utf8Length(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

/** The first code points of `s` that fit in `bytes` UTF-8 bytes (never splits a surrogate pair). */
function headBytes(s: string, bytes: number): string {
  let out = "";
  let used = 0;
  for (const ch of s) {
    const n = utf8Length(ch);
    if (used + n > bytes) break;
    out += ch;
    used += n;
  }
  return out;
}

function tailBytes(s: string, bytes: number): string {
  return [...headBytes([...s].reverse().join(""), bytes)].reverse().join("");
}

/**
 * `query` when its literal is short enough for an automaton; else an exact fixed script over the
 * keyword doc values, behind a cheap necessary condition (a short prefix / suffix / infix of the
 * value) so the script only runs on candidates.
 */
function guarded(
  f: Field,
  op: "eq" | "prefix" | "suffix" | "contains" | "glob",
  parts: WildcardPart[],
  cased: boolean,
  query: Q,
): Q {
  const lits = parts.filter((p): p is { lit: string } => "lit" in p).map((p) => p.lit);
  if (op === "eq" && !ci(cased, lits[0]!)) return query; // plain term: no automaton
  if (utf8Length(wildcardPattern(parts)) <= MAX_AUTOMATON_BYTES) return query;
  const name = queryField(f);
  const half = MAX_AUTOMATON_BYTES / 2;
  let pre: Q;
  if (op === "eq" || op === "prefix") pre = withCase(name, "prefix", headBytes(lits[0]!, half), cased);
  else if (op === "suffix") pre = withCase(name, "wildcard", "*" + escapeWildcard(tailBytes(lits[0]!, half)), cased);
  else if (op === "contains")
    pre = withCase(name, "wildcard", "*" + escapeWildcard(headBytes(lits[0]!, half)) + "*", cased);
  else {
    const longest = lits.reduce((a, b) => (b.length > a.length ? b : a), "");
    pre = longest
      ? withCase(name, "wildcard", "*" + escapeWildcard(headBytes(longest, half)) + "*", cased)
      : existsQuery(f);
  }
  const g = globParams(parts);
  const exact =
    op === "glob" ? docStringQuery(f, "glob", g.value, cased, g.mask) : docStringQuery(f, op, lits[0]!, cased);
  return { bool: { filter: [pre, exact] } };
}

// ---------------------------------------------------------------------------------------------
// Predicates

const AFFIX_PARTS: Record<StringTest, (v: string) => WildcardPart[]> = {
  eq: (v) => [{ lit: v }],
  prefix: (v) => [{ lit: v }, { any: true }],
  suffix: (v) => [{ any: true }, { lit: v }],
  contains: (v) => [{ any: true }, { lit: v }, { any: true }],
};

function stringQuery(m: StringMatch): Q {
  const { field: f, value, cased } = m;
  if (m.view !== "keyword") return docStringQuery(f, m.test, value, cased);
  const name = queryField(f);
  const query =
    m.test === "eq"
      ? withCase(name, "term", value, cased)
      : m.test === "prefix"
        ? withCase(name, "prefix", value, cased)
        : withCase(name, "wildcard", `*${escapeWildcard(value)}${m.test === "contains" ? "*" : ""}`, cased);
  return guarded(f, m.test, AFFIX_PARTS[m.test](value), cased, query);
}

function globQuery(m: GlobMatch): Q {
  if (m.view !== "keyword") return docStringQuery(m.field, "glob", globParams(m.parts).value, m.cased, m.mask);
  const query = withCase(queryField(m.field), "wildcard", wildcardPattern(m.parts), m.cased);
  return guarded(m.field, "glob", m.parts, m.cased, query);
}

function existsQuery(f: Field): Q {
  return { exists: { field: queryField(f) } };
}

function numberQuery(m: NumberMatch): Q {
  const name = m.field.name;
  if (m.view === "keyword") return script(DOC_NUMBER_SCRIPT, { field: queryField(m.field), op: m.cmp, value: m.value });
  return m.cmp === "eq" ? { term: { [name]: m.value } } : { range: { [name]: { [m.cmp]: m.value } } };
}

function regexQuery(m: RegexMatch): Q {
  const r = regexClause(queryField(m.field), m.regex, {
    docValues: !(m.field.type === "text" && !m.field.keywordSubfield),
  });
  if ("unsupported" in r) throw new RuleUnsupported(`${m.field.name}|re: ${r.unsupported}`);
  return r.query as Q;
}

/** The exact query of one match op (the leaves of every DSL query; src/emit/match-plan/ops.ts). */
export function opQuery(m: MatchOp): Q {
  switch (m.kind) {
    case "string":
      return stringQuery(m);
    case "glob":
      return globQuery(m);
    case "number":
      return numberQuery(m);
    case "bool":
      return { term: { [queryField(m.field)]: m.value } };
    case "cidr":
      return { term: { [m.field.name]: m.text } };
    case "regex":
      return regexQuery(m);
    case "exists":
      return m.exists ? existsQuery(m.field) : { bool: { must_not: [existsQuery(m.field)] } };
    case "const":
      return m.value ? MATCH_ALL : MATCH_NONE;
    case "fieldref":
      return script(FIELDREF_SCRIPT, { a: queryField(m.field), b: queryField(m.other), cased: m.cased });
    case "anyField":
      return orOf(m.fields.map((x) => opQuery(x.op)));
    default:
      return unhandledOp(m);
  }
}

/** The exact query of one predicate, as assumed mapped (throws RuleError when none can be built). */
export function predicateQuery(p: Predicate): Q {
  return opQuery(lowerPredicate(p));
}

// ---------------------------------------------------------------------------------------------
// Boolean structure

/** bool.should over clauses with minimum_should_match 1, nested below MAX_CLAUSES. */
export function orOf(clauses: Q[]): Q {
  const kept = clauses.filter((c) => !isMatchNone(c));
  if (kept.some(isMatchAll)) return MATCH_ALL;
  if (kept.length === 0) return MATCH_NONE;
  if (kept.length === 1) return kept[0]!;
  if (kept.length <= MAX_CLAUSES) return { bool: { should: kept, minimum_should_match: 1 } };
  const groups: Q[] = [];
  for (let i = 0; i < kept.length; i += MAX_CLAUSES) groups.push(orOf(kept.slice(i, i + MAX_CLAUSES)));
  return orOf(groups);
}

/** bool with filter and must_not clauses, nested below MAX_CLAUSES. */
export function andOf(filter: Q[], mustNot: Q[] = []): Q {
  if (filter.some(isMatchNone) || mustNot.some(isMatchAll)) return MATCH_NONE;
  const f = filter.filter((c) => !isMatchAll(c));
  const n = mustNot.filter((c) => !isMatchNone(c));
  if (n.length === 0 && f.length === 0) return MATCH_ALL;
  if (n.length === 0 && f.length === 1) return f[0]!;
  if (f.length + n.length <= MAX_CLAUSES) {
    const bool: Q = {};
    if (f.length) bool.filter = f;
    if (n.length) bool.must_not = n;
    return { bool };
  }
  // Too many: AND of chunks; a chunk of negations is NOT(OR(chunk)).
  const chunks: Q[] = [];
  for (let i = 0; i < f.length; i += MAX_CLAUSES) chunks.push(andOf(f.slice(i, i + MAX_CLAUSES)));
  for (let i = 0; i < n.length; i += MAX_CLAUSES) chunks.push(andOf([], n.slice(i, i + MAX_CLAUSES)));
  return andOf(chunks);
}

function isMatchAll(q: Q): boolean {
  return "match_all" in q;
}
function isMatchNone(q: Q): boolean {
  return "match_none" in q;
}

/**
 * The `terms` key for an OR child that can be merged with its siblings: a case-sensitive (or
 * caseless) equals on a keyword/text field, an equals on an ip field, or a numeric eq (on a numeric
 * field, or as its text on a keyword field).
 */
export function mergeKey(n: Node, m?: Mapped): { field: string; value: string | number } | undefined {
  if (m) return mappedMergeKey(n, m);
  if (n.kind !== "equals" && !(n.kind === "number" && n.op === "eq")) return undefined;
  let op: MatchOp;
  try {
    op = lowerPredicate(n);
  } catch (e) {
    if (e instanceof RuleError) return undefined;
    throw e;
  }
  switch (op.kind) {
    case "string":
      if (op.test === "eq" && op.view === "keyword" && op.exact)
        return { field: queryField(op.field), value: op.value };
      // A case-insensitive address on an ip field with a keyword sub-field: the ip field's term.
      return op.field.type === "ip" && isIp(op.value) ? { field: op.field.name, value: op.value } : undefined;
    case "cidr":
      return { field: op.field.name, value: op.text };
    case "number":
      return n.kind === "number" && op.view !== "keyword" ? { field: op.field.name, value: op.value } : undefined;
    default:
      return undefined;
  }
}

function orQuery(children: Node[], mapped?: Mapped): Q {
  const clauses: Q[] = [];
  const merged = new Map<string, { values: Array<string | number>; seen: Set<string>; at: number }>();
  for (const c of children) {
    const k = mergeKey(c, mapped);
    if (!k) {
      clauses.push(nodeToQuery(c, mapped));
      continue;
    }
    let m = merged.get(k.field);
    if (!m) {
      m = { values: [], seen: new Set(), at: clauses.length };
      merged.set(k.field, m);
      clauses.push(MATCH_NONE); // placeholder, replaced below
    }
    const key = `${typeof k.value}:${k.value}`;
    if (!m.seen.has(key)) {
      m.seen.add(key);
      m.values.push(k.value);
    }
  }
  for (const [field, m] of merged) {
    clauses[m.at] = m.values.length === 1 ? { term: { [field]: m.values[0] } } : { terms: { [field]: m.values } };
  }
  return orOf(clauses);
}

/**
 * The query for one node of the rule tree. Throws RuleError (src/ir/errors.ts) for what the DSL cannot express.
 * With `m` (the indices' real mappings), each predicate is compiled for its field as really
 * indexed (see "Mapping-aware emission" below).
 */
export function nodeToQuery(node: Node, m?: Mapped): Q {
  switch (node.kind) {
    case "const":
      return node.value ? MATCH_ALL : MATCH_NONE;
    case "and": {
      const filter: Q[] = [];
      const mustNot: Q[] = [];
      for (const c of node.children) {
        if (c.kind === "not") mustNot.push(nodeToQuery(c.child, m && flip(m)));
        else filter.push(nodeToQuery(c, m));
      }
      return andOf(filter, mustNot);
    }
    case "or":
      return orQuery(node.children, m);
    case "not":
      return andOf([], [nodeToQuery(node.child, m && flip(m))]);
    default:
      return m ? mappedPredicateQuery(node, m) : predicateQuery(node);
  }
}

/**
 * An ee-outliers original query (`backfillOnlyQuery`) as a query clause: `{"query": X}` is
 * unwrapped, a list of those is their AND (as ee-outliers' filter_by_dsl_query does), a string is
 * an `es_query_filter` query string.
 */
export function originalQuery(q: unknown): Q {
  if (typeof q === "string") return { query_string: { query: q } };
  if (Array.isArray(q)) return andOf(q.map(originalQuery));
  if (q && typeof q === "object") {
    const o = q as Q;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === "query") return originalQuery(o.query);
    return o;
  }
  throw new RuleError(`original query is not a query object: ${JSON.stringify(q)}`);
}

/**
 * The rule's query: condition (or its original query when it has one) AND NOT whitelist. With `m`,
 * compiled for the indices' real mappings (an original query runs as written).
 */
export function ruleQuery(rule: Rule, m?: Mapped): Q {
  const base =
    rule.backfillOnlyQuery !== undefined ? originalQuery(rule.backfillOnlyQuery) : nodeToQuery(rule.condition, m);
  if (!rule.whitelist) return base;
  return andOf([base], [nodeToQuery(rule.whitelist, m && flip(m))]);
}
