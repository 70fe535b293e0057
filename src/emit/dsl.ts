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
 * All of the above is for fields indexed as the mapping profile assumes. Backfill passes the target
 * indices' real mappings (`Mapped`, a FieldIndex): see "Mapping-aware emission" at the end.
 */
import type { Field, Node, Predicate, Rule, WildcardPart } from "../ir/types.ts";
import { describeIndexed, keywordPathOf, type FieldIndex, type IndexedField, type KeywordPath } from "./field-index.ts";
import { wildcardShape } from "../ir/build.ts";
import { regexQuery as regexClause } from "../ir/regex/query.ts";
import { isCidr, isIp, normalizeCidr } from "../ir/ip.ts";
import { caseless, DECIMAL, foldAscii, globParams, isStringField } from "../ir/semantics.ts";
import { DOC_NUMBER_SCRIPT, DOC_STRING_SCRIPT, FIELDREF_SCRIPT } from "../ir/doc-scripts.ts";

export { isCidr, isIp } from "../ir/ip.ts";
export { DOC_NUMBER_SCRIPT, DOC_STRING_SCRIPT, FIELDREF_SCRIPT } from "../ir/doc-scripts.ts";

/** Lucene's per-bool clause limit on 7.x is 1024; stay under it. */
export const MAX_CLAUSES = 1024;

/** A rule the DSL cannot express (reported per rule by `compile`, the rest go on). */
export class EmitError extends Error {
  override name = "EmitError";
  constructor(
    message: string,
    public status: "unsupported" | "error" = "unsupported",
  ) {
    super(message);
  }
}

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
// Fixed scripts (src/ir/doc-scripts.ts: constant source, values in params) for what the query DSL
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

/** A string predicate expressed as a wildcard pattern, on any field type. */
function patternQuery(f: Field, parts: WildcardPart[], cased: boolean): Q {
  const shape = wildcardShape(parts);
  switch (shape.kind) {
    case "equals":
      return equalsQuery(f, shape.value, cased);
    case "prefix":
      return prefixQuery(f, shape.value, cased);
    case "suffix":
      return suffixQuery(f, shape.value, cased);
    case "contains":
      return containsQuery(f, shape.value, cased);
    default: {
      if (!isStringField(f)) {
        const g = globParams(parts);
        return docStringQuery(f, "glob", g.value, cased, g.mask);
      }
      return guarded(f, "glob", parts, cased, withCase(queryField(f), "wildcard", wildcardPattern(parts), cased));
    }
  }
}

function existsQuery(f: Field): Q {
  return { exists: { field: queryField(f) } };
}

function equalsQuery(f: Field, value: string, cased: boolean): Q {
  const name = queryField(f);
  if (isStringField(f)) return guarded(f, "eq", [{ lit: value }], cased, withCase(name, "term", value, cased));
  switch (f.type) {
    case "ip":
      return isIp(value) ? { term: { [name]: value } } : MATCH_NONE;
    case "long":
    case "double":
      return DECIMAL.test(value.trim()) ? { term: { [name]: Number(value) } } : MATCH_NONE;
    case "boolean": {
      const v = cased ? value : value.toLowerCase();
      return v === "true" || v === "false" ? { term: { [name]: v === "true" } } : MATCH_NONE;
    }
    default:
      return docStringQuery(f, "eq", value, cased);
  }
}

function prefixQuery(f: Field, value: string, cased: boolean): Q {
  if (value === "") return existsQuery(f);
  if (!isStringField(f)) return docStringQuery(f, "prefix", value, cased);
  return guarded(f, "prefix", [{ lit: value }, { any: true }], cased, withCase(queryField(f), "prefix", value, cased));
}

function suffixQuery(f: Field, value: string, cased: boolean): Q {
  if (value === "") return existsQuery(f);
  if (!isStringField(f)) return docStringQuery(f, "suffix", value, cased);
  return guarded(
    f,
    "suffix",
    [{ any: true }, { lit: value }],
    cased,
    withCase(queryField(f), "wildcard", "*" + escapeWildcard(value), cased),
  );
}

function containsQuery(f: Field, value: string, cased: boolean): Q {
  if (value === "") return existsQuery(f);
  if (!isStringField(f)) return docStringQuery(f, "contains", value, cased);
  return guarded(
    f,
    "contains",
    [{ any: true }, { lit: value }, { any: true }],
    cased,
    withCase(queryField(f), "wildcard", "*" + escapeWildcard(value) + "*", cased),
  );
}

function numberText(n: number): string {
  return String(n);
}

function numberQuery(p: Extract<Predicate, { kind: "number" }>): Q {
  const f = p.field;
  const name = queryField(f);
  if (!Number.isFinite(p.value)) throw new EmitError(`${f.name}: number ${p.value} is not finite`, "error");
  if (f.type === "long" || f.type === "double")
    return p.op === "eq" ? { term: { [f.name]: p.value } } : { range: { [f.name]: { [p.op]: p.value } } };
  if (isStringField(f)) {
    if (p.op === "eq") return { term: { [name]: numberText(p.value) } };
    return script(DOC_NUMBER_SCRIPT, { field: name, op: p.op, value: p.value });
  }
  switch (f.type) {
    case "boolean":
      if (p.op === "eq") return p.value === 1 || p.value === 0 ? { term: { [name]: p.value === 1 } } : MATCH_NONE;
      throw new EmitError(`${f.name}: numeric comparison on a boolean field`);
    default:
      throw new EmitError(`${f.name}: numeric comparison on a field of type ${f.type}`);
  }
}

function regexQuery(p: Extract<Predicate, { kind: "regex" }>): Q {
  if (!isStringField(p.field))
    throw new EmitError(`${p.field.name}: regular expression on a field of type ${p.field.type}`);
  const r = regexClause(queryField(p.field), p.regex, {
    docValues: !(p.field.type === "text" && !p.field.keywordSubfield),
  });
  if ("unsupported" in r) throw new EmitError(`${p.field.name}|re: ${r.unsupported}`);
  return r.query as Q;
}

function cidrQuery(p: Extract<Predicate, { kind: "cidr" }>): Q {
  if (p.field.type !== "ip")
    throw new EmitError(`${p.field.name}|cidr: the field is mapped as ${p.field.type}, not ip`);
  const network = normalizeCidr(p.cidr);
  if (!network) throw new EmitError(`${p.field.name}|cidr: '${p.cidr}' is not an IPv4 or IPv6 network`, "error");
  return { term: { [p.field.name]: network } };
}

export function predicateQuery(p: Predicate): Q {
  switch (p.kind) {
    case "equals":
      return equalsQuery(p.field, p.value, p.cased);
    case "prefix":
      return prefixQuery(p.field, p.value, p.cased);
    case "suffix":
      return suffixQuery(p.field, p.value, p.cased);
    case "contains":
      return containsQuery(p.field, p.value, p.cased);
    case "wildcard":
      return patternQuery(p.field, p.parts, p.cased);
    case "number":
      return numberQuery(p);
    case "regex":
      return regexQuery(p);
    case "cidr":
      return cidrQuery(p);
    case "exists":
      return p.exists ? existsQuery(p.field) : { bool: { must_not: [existsQuery(p.field)] } };
    case "fieldref":
      return script(FIELDREF_SCRIPT, { a: queryField(p.field), b: queryField(p.other), cased: p.cased });
    case "keyword":
      return orOf(p.fields.map((f) => patternQuery(f, p.parts, p.cased)));
  }
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
 * caseless) equals on a keyword/text/ip field, or a numeric eq on a numeric field.
 */
function mergeKey(n: Node, m?: Mapped): { field: string; value: string | number } | undefined {
  if (m) return mappedMergeKey(n, m);
  if (n.kind === "equals") {
    const f = n.field;
    if (isStringField(f) && !ci(n.cased, n.value)) return { field: queryField(f), value: n.value };
    if (f.type === "ip" && isIp(n.value)) return { field: f.name, value: n.value };
    return undefined;
  }
  if (n.kind === "number" && n.op === "eq" && Number.isFinite(n.value)) {
    const f = n.field;
    if (f.type === "long" || f.type === "double") return { field: f.name, value: n.value };
    if (isStringField(f)) return { field: queryField(f), value: numberText(n.value) };
  }
  return undefined;
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
 * The query for one node of the rule tree. Throws EmitError for what the DSL cannot express.
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
  throw new EmitError(`original query is not a query object: ${JSON.stringify(q)}`, "error");
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

// ---------------------------------------------------------------------------------------------
// Mapping-aware emission (backfill, untag, doctor)
//
// The truth is the event's `_source`: the Painless matcher decides on it, live and in backfill.
// The mapping profile only ASSUMED how fields are indexed; an index a SOC already has may say
// otherwise (ES's dynamic text + `.keyword` with ignore_above 256, Winlogbeat's keyword with
// ignore_above 1024, a field missing or typed differently in some indices). Given the indices' real
// mappings (`FieldIndex`), each predicate is compiled for its field as really indexed:
// - a string predicate runs on the field's keyword value: the field itself (keyword, wildcard) or
//   the keyword sub-field of a text (or typed) field, whatever its name;
// - where the index cannot answer exactly, the query WIDENS (m.upper) or, under a `not`, narrows
//   (so that the negation widens): text-only fields, a type other than the rules assume, objects
//   whose values are not all mapped → "the field has some value" (or everything) / nothing; a keyword
//   with an `ignore_above` (the matcher has none: it reads values of any length from `_source`) → also
//   the events whose value was too long to be indexed (the field, or the text field, without an
//   indexed keyword value);
// - a field no index maps, where every value would have been mapped, holds no value: no match;
// - indices that index a field differently each get their own clause (`_index` terms).
// The widened query only selects candidates; the script decides, so tags never change.
// Known limit: an ARRAY mixing values under and over a keyword's ignore_above has an indexed value,
// so the "too long" widening cannot see its long element (single values, which Windows event data
// always is, are exact).

/** The matcher's keyword limit (encode-nodes.ts DEFAULT_IGNORE_ABOVE): none, it sees values of any length. */
const MATCHER_IGNORE_ABOVE = Number.POSITIVE_INFINITY;

export interface Mapped {
  fields: FieldIndex;
  /** true: a superset of the events the matcher would tag; false: a subset (under a `not`). */
  upper: boolean;
  /** Told each time a predicate could not be compiled exactly for a field. */
  widened?: (field: string, why: string) => void;
}

function flip(m: Mapped): Mapped {
  return { ...m, upper: !m.upper };
}

function exists(path: string): Q {
  return { exists: { field: path } };
}

/** Some superset of the events holding a value in `f` (for widened predicates). */
function presence(f: IndexedField): Q {
  switch (f.kind) {
    case "absent":
      return MATCH_NONE;
    case "unknown":
      return MATCH_ALL;
    case "keyword":
      return Number.isFinite(f.ignoreAbove) ? MATCH_ALL : exists(f.path);
    case "text":
      return exists(f.path);
    case "typed":
      return f.ignoreMalformed ? MATCH_ALL : exists(f.path);
  }
}

/** Events whose value may be too long for the keyword path (not indexed there). */
function tooLong(f: IndexedField): Q {
  if (f.kind === "keyword") return andOf([], [exists(f.path)]);
  if ((f.kind === "text" || (f.kind === "typed" && !f.ignoreMalformed)) && f.sub)
    return andOf([exists(f.path)], [exists(f.sub.path)]);
  if (f.kind === "typed" && f.sub) return andOf([], [exists(f.sub.path)]);
  return MATCH_ALL;
}

/** The predicate cannot match a value longer than `limit` (so values cut by ignore_above do not matter). */
function lengthBounded(p: Predicate, limit: number): boolean {
  if (p.kind === "equals") return p.value.length <= limit;
  if (p.kind === "number") return p.op === "eq" && String(p.value).length <= limit;
  return false;
}

function containsScript(q: unknown): boolean {
  if (Array.isArray(q)) return q.some(containsScript);
  if (q && typeof q === "object") return Object.entries(q).some(([k, v]) => k === "script" || containsScript(v));
  return false;
}

function sameType(real: string, assumed: Field["type"]): boolean {
  return real === assumed;
}

/** The real field a predicate compiles on (with its keyword path), or why it cannot compile exactly. */
function realField(p: Predicate & { field: Field }, f: IndexedField): { field: Field; kw?: KeywordPath } | string {
  const pf = p.field;
  if (p.kind === "cidr")
    return f.kind === "typed" && f.type === "ip"
      ? { field: { name: f.path, type: "ip" } }
      : `${describeIndexed(f)}, not ip`;
  if (isStringField(pf)) {
    const kw = keywordPathOf(f);
    if (!kw) return `${describeIndexed(f)}: no keyword value to compare`;
    return { field: { name: kw.path, type: "keyword" }, kw };
  }
  if (f.kind === "typed" && sameType(f.type, pf.type)) return { field: { name: f.path, type: pf.type } };
  return `${describeIndexed(f)} where the rules assume ${pf.type}`;
}

/** One single-field predicate on one way of indexing its field. */
function onIndexed(p: Predicate & { field: Field }, f: IndexedField, m: Mapped): Q {
  const widen = (why: string, to: Q) => {
    m.widened?.(p.field.name, why);
    return m.upper ? to : MATCH_NONE;
  };
  if (f.kind === "absent") return MATCH_NONE;
  if (f.kind === "unknown") return widen(describeIndexed(f), MATCH_ALL);
  const real = realField(p, f);
  if (typeof real === "string") return widen(real, presence(f));
  const q = predicateQuery({ ...p, field: real.field } as Predicate);
  const kw = real.kw;
  if (!kw) return q;
  if (kw.wildcard && containsScript(q))
    return widen(`${kw.path} is a wildcard field (no doc-value script)`, presence(f));
  if (kw.ignoreAbove < MATCHER_IGNORE_ABOVE && !lengthBounded(p, kw.ignoreAbove)) {
    m.widened?.(p.field.name, `${kw.path} has ignore_above ${kw.ignoreAbove}`);
    return m.upper ? orOf([q, tooLong(f)]) : q;
  }
  if (kw.ignoreAbove > MATCHER_IGNORE_ABOVE && !lengthBounded(p, MATCHER_IGNORE_ABOVE) && !m.upper) {
    // The index holds values the matcher ignores (longer than 8191): a subset needs them out.
    m.widened?.(p.field.name, `${kw.path} indexes values longer than ${MATCHER_IGNORE_ABOVE}`);
    return MATCH_NONE;
  }
  return q;
}

function onFieldVariants(p: Predicate & { field: Field }, m: Mapped, one: (f: IndexedField) => Q): Q {
  const vs = m.fields.variants(p.field.name);
  if (vs.length === 1) return one(vs[0]!.field);
  return orOf(vs.map((v) => andOf([{ terms: { _index: v.indices } }, one(v.field)])));
}

/** A predicate compiled for the real mappings (a superset, or under `not` a subset, of the matcher's events). */
export function mappedPredicateQuery(p: Predicate, m: Mapped): Q {
  switch (p.kind) {
    case "keyword":
      return orOf(
        p.fields.map((f) => mappedPredicateQuery({ kind: "wildcard", field: f, parts: p.parts, cased: p.cased }, m)),
      );
    case "exists":
      if (!p.exists) return andOf([], [mappedPredicateQuery({ ...p, exists: true }, flip(m))]);
      return onFieldVariants(p, m, (f) => onIndexed(p, f, m));
    case "fieldref": {
      const a = m.fields.variants(p.field.name);
      const b = m.fields.variants(p.other.name);
      const ka = a.length === 1 ? keywordPathOf(a[0]!.field) : undefined;
      const kb = b.length === 1 ? keywordPathOf(b[0]!.field) : undefined;
      const ok = (k?: KeywordPath) => k && !k.wildcard;
      if (ka && kb && ok(ka) && ok(kb)) {
        const q = predicateQuery({
          ...p,
          field: { name: ka.path, type: "keyword" },
          other: { name: kb.path, type: "keyword" },
        });
        if (ka.ignoreAbove >= MATCHER_IGNORE_ABOVE && kb.ignoreAbove >= MATCHER_IGNORE_ABOVE) return q;
        // A value over ignore_above is in neither doc value: those events are candidates too.
        m.widened?.(p.field.name, "field reference on keyword fields with ignore_above");
        return m.upper ? orOf([q, tooLong(a[0]!.field), tooLong(b[0]!.field)]) : q;
      }
      if (a.every((v) => v.field.kind === "absent") || b.every((v) => v.field.kind === "absent")) return MATCH_NONE;
      m.widened?.(p.field.name, "field reference on fields not both keyword");
      return m.upper ? MATCH_ALL : MATCH_NONE;
    }
    default:
      return onFieldVariants(p, m, (f) => onIndexed(p, f, m));
  }
}

/** `terms` merging in mapped mode: only an equality that compiles exactly on one real field. */
function mappedMergeKey(n: Node, m: Mapped): { field: string; value: string | number } | undefined {
  if (n.kind !== "equals" && n.kind !== "number") return undefined;
  const vs = m.fields.variants(n.field.name);
  if (vs.length !== 1) return undefined;
  const f = vs[0]!.field;
  if (f.kind === "absent" || f.kind === "unknown") return undefined;
  const real = realField(n, f);
  if (typeof real === "string") return undefined;
  if (real.kw && (real.kw.wildcard || !lengthBounded(n, Math.min(real.kw.ignoreAbove, MATCHER_IGNORE_ABOVE))))
    return undefined;
  return mergeKey({ ...n, field: real.field } as Node);
}
