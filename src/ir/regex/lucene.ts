/**
 * Regex AST → Lucene RegExp for Elasticsearch's `regexp` query.
 *
 * Lucene regexps match the WHOLE term, so the unanchored search `R` becomes `.*R.*`; `^`/`$` are
 * eliminated by translating every node under two facts about where it sits: `s` = "the node starts at
 * the beginning of the value", `e` = "it ends at the end of the value" (see `tr`). Every Lucene
 * operator character is escaped and the query must be sent with `"flags": "NONE"`, so the optional
 * operators (`# @ & ~ < >`) can never be switched on by a rule value even if an escape were missed.
 * Case-insensitivity is NOT left to Lucene: ES 7.10's `case_insensitive` folds ASCII single characters
 * only (not ranges, not `é`), later versions fold more. The parser already closed every set under case
 * folding, so `caseInsensitive` is always false and the result is the same on every ES version.
 *
 * Limits: the value must fit Elasticsearch's `index.max_regex_length` (default 1000, checked here),
 * and the automaton must stay under `max_determinized_states` (10,000 by default); `cost` estimates
 * the determinization so that expensive regexps are never sent (see query.ts).
 * Word boundaries and multi-line anchors are not translated (they would need the neighbouring
 * character's class carried through the translation): such rules are reported unsupported.
 */
import { RuleUnsupported } from "../errors.ts";
import type { RegexValue } from "../types.ts";
import { ALL, complement, intersect, type CharSet } from "./charset.ts";
import { type ReNode, isUnsupported, parseRegex, type Unsupported } from "./parse.ts";
import { determinizeCost } from "./dfa.ts";

export interface LuceneRegexp {
  /** The `value` of the `regexp` query. */
  value: string;
  /** Always false: case folding is compiled into `value` (see above). */
  caseInsensitive: boolean;
  /** The `flags` of the `regexp` query: always "NONE" (only core syntax is emitted). */
  flags: "NONE";
  /**
   * Estimated cost of Lucene's determinization (dfa.ts), capped: over `LUCENE_COST_LIMIT` the query
   * is slow to build (seconds to minutes on ES 7.10, or refused past 10,000 states): use the script
   * query of query.ts instead.
   */
  cost: { states: number; work: number; expensive: boolean };
}

/**
 * Above these estimates a regexp goes to the script query (query.ts). Measured on ES 7.10 (1 node):
 * ~300 states / 23k work built in ~0.1 s; 1,900 states took 2 s, `.{1000,}` (2,000 states, 1M work)
 * 5-11 s, 6,600 states 112 s; over 10,000 the engine refuses the query.
 */
export const LUCENE_COST_LIMIT = { states: 500, work: 30_000 };

/** Elasticsearch's default `index.max_regex_length`. */
export const LUCENE_MAX_REGEX_LENGTH = 1000;

// Memo: rule sets repeat the same regex many times (see nfa.ts), and determinizing costs milliseconds.
const luceneCache = new Map<string, LuceneRegexp | Unsupported>();

export function toLuceneRegexp(regex: RegexValue): LuceneRegexp | Unsupported {
  const key = JSON.stringify([regex.pattern, regex.flags]);
  const hit = luceneCache.get(key);
  if (hit) return hit;
  const out = toLuceneRegexpUncached(regex);
  if (luceneCache.size > 10_000) luceneCache.clear();
  luceneCache.set(key, out);
  return out;
}

function toLuceneRegexpUncached(regex: RegexValue): LuceneRegexp | Unsupported {
  const parsed = parseRegex(regex);
  if (isUnsupported(parsed)) return parsed;
  try {
    const out = searchLanguage(parsed.ast);
    const value = out ? print(out) : NEVER;
    if (value.length > LUCENE_MAX_REGEX_LENGTH)
      return {
        unsupported: `regex: Lucene form is ${value.length} characters, over index.max_regex_length ${LUCENE_MAX_REGEX_LENGTH}`,
      };
    const c = out ? determinizeCost(out, LUCENE_COST_LIMIT) : { states: 0, work: 0, capped: false };
    const cost = { states: c.states, work: c.work, expensive: c.capped };
    return { value, caseInsensitive: false, flags: "NONE", cost };
  } catch (e) {
    if (e instanceof RuleUnsupported) return { unsupported: e.message };
    throw e;
  }
}

/** A class that matches only surrogate code points, which never occur in an indexed (UTF-8) term. */
const NEVER = "[^\u0000-\ud7ff\ue000-\u{10ffff}]";

const EPS: ReNode = { t: "seq", items: [] };
const ANY_STAR: ReNode = { t: "rep", node: { t: "set", set: ALL }, min: 0, max: -1 };
const ANY_PLUS: ReNode = { t: "rep", node: { t: "set", set: ALL }, min: 1, max: -1 };

// ---- building assertion-free trees, `null` = the empty language ----

function seq(...items: (ReNode | null)[]): ReNode | null {
  const out: ReNode[] = [];
  for (const x of items) {
    if (x === null) return null;
    if (x.t === "seq") out.push(...x.items);
    else out.push(x);
  }
  return out.length === 1 ? out[0]! : { t: "seq", items: out };
}

function alt(...alts: (ReNode | null)[]): ReNode | null {
  const out: ReNode[] = [];
  let eps = false;
  for (const x of alts) {
    if (x === null) continue;
    if (x.t === "seq" && x.items.length === 0) eps = true;
    else if (x.t === "alt") out.push(...x.alts);
    else out.push(x);
  }
  if (out.length === 0) return eps ? EPS : null;
  const a: ReNode = out.length === 1 ? out[0]! : { t: "alt", alts: out };
  return eps ? opt(a) : a;
}

function opt(x: ReNode): ReNode {
  return nullable(x) ? x : { t: "rep", node: x, min: 0, max: 1 };
}

function nullable(n: ReNode): boolean {
  switch (n.t) {
    case "set":
      return false;
    case "seq":
      return n.items.every(nullable);
    case "alt":
      return n.alts.some(nullable);
    case "rep":
      return n.min === 0 || nullable(n.node);
    case "assert":
      throw new Error("nullable() on an assertion");
  }
}

/** The non-empty strings of an assertion-free tree. */
function nonEmpty(n: ReNode): ReNode | null {
  if (n.t === "set") return n.set.length ? n : null;
  if (!nullable(n)) return n;
  switch (n.t) {
    case "alt":
      return alt(...n.alts.map(nonEmpty));
    case "seq": {
      // all items nullable: the first non-empty item decides
      const parts: (ReNode | null)[] = [];
      for (let i = 0; i < n.items.length; i++) parts.push(seq(nonEmpty(n.items[i]!), ...n.items.slice(i + 1)));
      return alt(...parts);
    }
    case "rep": {
      const first = nonEmpty(n.node);
      if (n.max === 1) return first;
      return seq(first, { t: "rep", node: n.node, min: 0, max: n.max === -1 ? -1 : n.max - 1 });
    }
    default:
      throw new Error("unreachable");
  }
}

// ---- anchor elimination ----

interface Tr {
  /** Does the node match the empty string here? */
  eps: boolean;
  /** Its non-empty strings (assertion-free), or null. */
  ne: ReNode | null;
}

function full(t: Tr): ReNode | null {
  return t.eps ? (t.ne ? opt(t.ne) : EPS) : t.ne;
}

function pure(n: ReNode): boolean {
  switch (n.t) {
    case "assert":
      return false;
    case "set":
      return true;
    case "seq":
      return n.items.every(pure);
    case "alt":
      return n.alts.every(pure);
    case "rep":
      return pure(n.node);
  }
}

const memo = new WeakMap<ReNode, Map<string, Tr>>();

/**
 * The strings node `n` can match when it starts at the beginning of the value iff `s`, and ends at the
 * end of the value iff `e`. Inside a concatenation `ab` matching `uv`, `b` starts at the beginning iff
 * `s` and `u` is empty, `a` ends at the end iff `e` and `v` is empty: hence the case split below.
 */
/** An assertion-free tree with empty sets propagated (null = matches nothing). */
function prune(n: ReNode): ReNode | null {
  switch (n.t) {
    case "set":
      return n.set.length ? n : null;
    case "seq":
      return seq(...n.items.map(prune));
    case "alt":
      return alt(...n.alts.map(prune));
    case "rep": {
      const x = prune(n.node);
      if (x === null || n.max === 0) return n.min === 0 ? EPS : null;
      return x === n.node ? n : { ...n, node: x };
    }
    case "assert":
      throw new Error("prune() on an assertion");
  }
}

function tr(n: ReNode, s: boolean, e: boolean): Tr {
  if (pure(n)) {
    const x = prune(n);
    return x === null ? { eps: false, ne: null } : { eps: nullable(x), ne: nonEmpty(x) };
  }
  const key = `${+s}${+e}`;
  let m = memo.get(n);
  if (!m) memo.set(n, (m = new Map()));
  const hit = m.get(key);
  if (hit) return hit;
  const r = trUncached(n, s, e);
  m.set(key, r);
  return r;
}

function trUncached(n: ReNode, s: boolean, e: boolean): Tr {
  switch (n.t) {
    case "assert":
      if (n.kind === "bos") return { eps: s, ne: null };
      if (n.kind === "eos") return { eps: e, ne: null };
      throw new RuleUnsupported(
        `regex: ${n.kind === "wordb" || n.kind === "nwordb" ? "word boundary" : "multi-line anchor"} has no Lucene translation`,
      );
    case "alt": {
      const ts = n.alts.map((a) => tr(a, s, e));
      return { eps: ts.some((t) => t.eps), ne: alt(...ts.map((t) => t.ne)) };
    }
    case "seq": {
      if (n.items.length === 0) return { eps: true, ne: null };
      if (n.items.length === 1) return tr(n.items[0]!, s, e);
      return concat(n.items[0]!, { t: "seq", items: n.items.slice(1) }, s, e);
    }
    case "rep": {
      const { node, min, max } = n;
      // Expand small counts; an unbounded tail uses non-empty pieces only (an empty iteration
      // consumes nothing, so leaving it out never changes which values match).
      if (min > 16 || (max !== -1 && max > 16)) throw new RuleUnsupported("regex: repetition over 16 around an anchor");
      if (min > 0) {
        const rest: ReNode = { t: "rep", node, min: 0, max: max === -1 ? -1 : max - min };
        const items: ReNode[] = Array.from({ length: min }, () => node);
        return tr({ t: "seq", items: [...items, rest] }, s, e);
      }
      if (max === 0) return { eps: true, ne: null };
      if (max !== -1) {
        // x{0,k} = (x x{0,k-1})?
        const inner: ReNode = {
          t: "alt",
          alts: [{ t: "seq", items: [node, { t: "rep", node, min: 0, max: max - 1 }] }, EPS],
        };
        return tr(inner, s, e);
      }
      const one = tr(node, s, e).ne;
      const mid = tr(node, false, false).ne;
      const many = seq(
        tr(node, s, false).ne,
        mid ? { t: "rep", node: mid, min: 0, max: -1 } : EPS,
        tr(node, false, e).ne,
      );
      return { eps: true, ne: alt(one, many) };
    }
    case "set":
      return { eps: false, ne: n.set.length ? n : null };
  }
}

function concat(a: ReNode, b: ReNode, s: boolean, e: boolean): Tr {
  const aSF = tr(a, s, false);
  const aSE = tr(a, s, e);
  const bFE = tr(b, false, e);
  const bSE = tr(b, s, e);
  if (same(aSF, aSE) && same(bFE, bSE)) {
    // The middle position's context changes nothing: a plain concatenation (shorter output).
    const both = seq(full(aSE), full(bSE));
    return { eps: aSE.eps && bSE.eps, ne: both && nonEmpty(both) };
  }
  const ne = alt(
    seq(aSF.ne, bFE.ne), // both non-empty
    aSF.eps ? bSE.ne : null, // a empty
    bFE.eps ? aSE.ne : null, // b empty
  );
  return { eps: aSE.eps && bSE.eps, ne };
}

const printed = new WeakMap<ReNode, string>();
function printCached(n: ReNode): string {
  let p = printed.get(n);
  if (p === undefined) printed.set(n, (p = print(n)));
  return p;
}

function same(x: Tr, y: Tr): boolean {
  return (
    x.eps === y.eps && (x.ne === y.ne || (x.ne !== null && y.ne !== null && printCached(x.ne) === printCached(y.ne)))
  );
}

/** The whole-value language of the unanchored search for `ast`: `.*ast.*` with anchors resolved. */
export function searchLanguage(ast: ReNode): ReNode | null {
  if (pure(ast)) {
    const x = prune(ast);
    return x === null ? null : nullable(x) ? ANY_STAR : seq(ANY_STAR, x, ANY_STAR);
  }
  // Where the translation does not depend on being at the start (end), the empty and non-empty
  // prefix (suffix) cases merge into one `.*`.
  const sFree = same(tr(ast, true, true), tr(ast, false, true)) && same(tr(ast, true, false), tr(ast, false, false));
  const eFree = same(tr(ast, true, true), tr(ast, true, false)) && same(tr(ast, false, true), tr(ast, false, false));
  const parts: (ReNode | null)[] = [];
  for (const s of sFree ? [false] : [true, false]) {
    for (const e of eFree ? [false] : [true, false]) {
      const pre = sFree ? ANY_STAR : s ? EPS : ANY_PLUS;
      const post = eFree ? ANY_STAR : e ? EPS : ANY_PLUS;
      parts.push(seq(pre, full(tr(ast, s, e)), post));
    }
  }
  return alt(...parts);
}

// ---- printing ----

const SURROGATES: CharSet = [0xd800, 0xdfff];

function isPlainAscii(cp: number): boolean {
  return (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a);
}

/** A character for Lucene: ASCII punctuation is escaped (`\` + char is always that char). */
function ch(cp: number): string {
  if (cp >= 0x21 && cp <= 0x7e && !isPlainAscii(cp)) return "\\" + String.fromCharCode(cp);
  return String.fromCodePoint(cp);
}

/**
 * A class range. Its start is never an escaped character: Lucene 10 (OpenSearch 3) reads `[\[-\]]` as
 * the three characters `[`, `-`, `]` (Lucene 9 as the range 0x5B-0x5D), so escaped starts are listed one
 * by one (at most the 32 ASCII punctuation characters) and the range goes on from the first plain one.
 * An escaped end (`[Z-\\]`) reads the same on both.
 */
function range(lo: number, hi: number): string {
  let out = "";
  while (lo < hi && lo >= 0x21 && lo <= 0x7e && !isPlainAscii(lo)) out += ch(lo++);
  return out + (lo === hi ? ch(lo) : hi === lo + 1 ? ch(lo) + ch(hi) : `${ch(lo)}-${ch(hi)}`);
}

function ranges(set: CharSet): string {
  let out = "";
  for (let i = 0; i < set.length; i += 2) out += range(set[i]!, set[i + 1]!);
  return out;
}

function printSet(set0: CharSet): string {
  // Surrogate code points never occur in an indexed term (it is UTF-8): leave them out.
  const set = intersect(set0, complement(SURROGATES));
  if (set.length === 0) return NEVER;
  const comp = intersect(complement(set), complement(SURROGATES));
  if (comp.length === 0) return ".";
  if (set.length === 2 && set[0] === set[1]) return ch(set[0]!);
  const pos = `[${ranges(set)}]`;
  const neg = `[^${ranges(comp)}]`;
  return neg.length < pos.length ? neg : pos;
}

function print(n: ReNode): string {
  switch (n.t) {
    case "set":
      return printSet(n.set);
    case "seq":
      if (n.items.length === 0) return "()";
      return n.items.map((x) => (x.t === "alt" ? `(${print(x)})` : print(x))).join("");
    case "alt":
      return n.alts.map(print).join("|");
    case "rep": {
      if (n.max === 0) return "()";
      const inner = n.node;
      const base = inner.t === "set" ? print(inner) : `(${print(inner)})`;
      const { min, max } = n;
      if (min === 0 && max === -1) return base + "*";
      if (min === 1 && max === -1) return base + "+";
      if (min === 0 && max === 1) return base + "?";
      if (min === 1 && max === 1) return base;
      if (max === -1) return `${base}{${min},}`;
      if (min === max) return `${base}{${min}}`;
      return `${base}{${min},${max}}`;
    }
    case "assert":
      throw new Error("assertion left after translation");
  }
}
