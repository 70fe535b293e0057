/**
 * Leaf queries (term, wildcard, prefix, regexp, exists, range) on one resolved field as
 * representation predicates, shared by the query DSL and the Lucene query string translators.
 * They follow what Elasticsearch does for the field's type: exact, case-sensitive matching on
 * keyword values unless `case_insensitive`; numbers compare numerically; ip terms are networks.
 * What Elasticsearch answers by analysing text, or by the cluster's state, is thrown as
 * `RuleUnsupported`; what Elasticsearch itself rejects is thrown as `RuleError` (src/ir/errors.ts).
 */
import { and, or, wildcardShape } from "../../ir/build.ts";
import { RuleError, RuleUnsupported } from "../../ir/errors.ts";
import type { Field, Node, RegexValue, WildcardPart } from "../../ir/types.ts";
import type { ResolvedField } from "./fields.ts";

export type Scalar = string | number | boolean;

/**
 * A use case's filter in the representation, or why not: `invalid` (Elasticsearch would reject it)
 * or `unsupported` (not evaluated live); `place` is where in the query (none: the query as a whole).
 */
export type Translation =
  | { ok: true; node: Node; warnings: string[] }
  | { ok: false; kind: "unsupported" | "invalid"; reason: string; place?: string };

/** Elasticsearch wildcard syntax: `*`, `?`, and `\` escaping the next character. */
export function parseWildcard(pattern: string): WildcardPart[] {
  const parts: WildcardPart[] = [];
  let buf = "";
  const flush = () => {
    if (buf) parts.push({ lit: buf });
    buf = "";
  };
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === "\\" && i + 1 < chars.length) buf += chars[++i];
    else if (c === "*") {
      flush();
      // `**` is the same as `*`
      if (!(parts.length && "any" in parts[parts.length - 1]!)) parts.push({ any: true });
    } else if (c === "?") {
      flush();
      parts.push({ one: true });
    } else buf += c;
  }
  flush();
  return parts;
}

/** A wildcard pattern as the cheapest predicate shape. */
export function wildcardNode(field: Field, parts: WildcardPart[], cased: boolean): Node {
  const shape = wildcardShape(parts);
  if (shape.kind === "wildcard") {
    // `*` alone: any value (the field exists with a value)
    if (parts.length === 1 && "any" in parts[0]!) return { kind: "exists", field, exists: true };
    return { kind: "wildcard", field, parts, cased };
  }
  return { kind: shape.kind, field, value: shape.value, cased };
}

function typeName(f: Field): string {
  return `${f.name} (${f.type})`;
}

function asNumber(v: Scalar, f: Field): number {
  const n = typeof v === "number" ? v : typeof v === "boolean" ? NaN : v.trim() === "" ? NaN : Number(v);
  if (!Number.isFinite(n)) throw new RuleError(`${JSON.stringify(v)} is not a number for numeric field ${typeName(f)}`);
  return n;
}

/** Exact value (term, match on a keyword field, query string term on a keyword field). */
export function exactNode(rf: ResolvedField, value: Scalar, cased: boolean, what: string): Node {
  const f = rf.field;
  switch (rf.asKeyword ? "keyword" : f.type) {
    case "keyword":
    case "text":
      if (!rf.exact)
        throw new RuleUnsupported(`${what} on analysed text field ${f.name} matches tokens, not the whole value`);
      return { kind: "equals", field: f, value: String(value), cased };
    case "long":
    case "double":
      return { kind: "number", field: f, op: "eq", value: asNumber(value, f) };
    case "boolean": {
      const s = String(value).toLowerCase();
      if (s !== "true" && s !== "false")
        throw new RuleError(`${JSON.stringify(value)} is not a boolean for ${typeName(f)}`);
      return { kind: "equals", field: f, value: s, cased: false };
    }
    case "ip": {
      const s = String(value);
      return { kind: "cidr", field: f, cidr: s.includes("/") ? s : s.includes(":") ? `${s}/128` : `${s}/32` };
    }
    case "date":
      throw new RuleUnsupported(`${what} on date field ${f.name} depends on date parsing and time zones`);
  }
}

function stringField(rf: ResolvedField, what: string): Field {
  const f = rf.field;
  if (rf.asKeyword) return f;
  if (f.type === "date") throw new RuleUnsupported(`${what} on date field ${f.name}`);
  if (f.type !== "keyword" && f.type !== "text")
    throw new RuleError(`${what} is only allowed on keyword and text fields, not ${typeName(f)}`);
  if (!rf.exact)
    throw new RuleUnsupported(`${what} on analysed text field ${f.name} matches tokens, not the whole value`);
  return f;
}

export function wildcardQueryNode(rf: ResolvedField, pattern: string, cased: boolean): Node {
  return wildcardNode(stringField(rf, "wildcard"), parseWildcard(pattern), cased);
}

export function prefixNode(rf: ResolvedField, value: string, cased: boolean): Node {
  const f = stringField(rf, "prefix");
  if (value === "") return { kind: "exists", field: f, exists: true };
  return { kind: "prefix", field: f, value, cased };
}

export function regexNode(rf: ResolvedField, regex: RegexValue): Node {
  return { kind: "regex", field: stringField(rf, "regexp"), regex };
}

export function existsNode(rf: ResolvedField): Node {
  return { kind: "exists", field: rf.field, exists: true };
}

export interface Bounds {
  gt?: Scalar | null;
  gte?: Scalar | null;
  lt?: Scalar | null;
  lte?: Scalar | null;
}

/** Numeric ranges; string and date ranges cannot be evaluated the same way live. */
export function rangeNode(rf: ResolvedField, b: Bounds): Node {
  const f = rf.field;
  if (rf.asKeyword) throw new RuleUnsupported(`range on the keyword sub-field of ${f.name} compares strings`);
  if (f.type === "date")
    throw new RuleUnsupported(`range on date field ${f.name} (date math and formats) is evaluated by the cluster only`);
  if (f.type !== "long" && f.type !== "double") {
    throw new RuleUnsupported(
      `range on ${f.type} field ${f.name} (term order of strings or addresses) has no live equivalent`,
    );
  }
  const parts: Node[] = [];
  for (const op of ["gt", "gte", "lt", "lte"] as const) {
    const v = b[op];
    if (v === undefined || v === null) continue;
    let n = asNumber(v, f);
    let o: "gt" | "gte" | "lt" | "lte" = op;
    // Elasticsearch rounds bounds of integer fields inward: `gt 1.5` on a long is `gte 2`.
    if (f.type === "long" && !Number.isInteger(n)) {
      if (op === "gt" || op === "gte") (n = Math.ceil(n)), (o = "gte");
      else (n = Math.floor(n)), (o = "lte");
    }
    parts.push({ kind: "number", field: f, op: o, value: n });
  }
  if (parts.length === 0) return { kind: "exists", field: f, exists: true };
  return and(parts);
}

/** `k` of `nodes` must match (bool `minimum_should_match`), as plain and/or. */
export function atLeast(k: number, nodes: Node[]): Node {
  const n = nodes.length;
  if (k <= 0) return { kind: "const", value: true };
  if (k > n) return { kind: "const", value: false };
  if (k === 1) return or(nodes);
  if (k === n) return and(nodes);
  if (binomial(n, k) > 512)
    throw new RuleUnsupported(`minimum_should_match ${k} of ${n} clauses expands to more than 512 combinations`);
  const out: Node[] = [];
  const pick = (start: number, chosen: Node[]) => {
    if (chosen.length === k) {
      out.push(and(chosen));
      return;
    }
    for (let i = start; i <= n - (k - chosen.length); i++) pick(i + 1, [...chosen, nodes[i]!]);
  };
  pick(0, []);
  return or(out);
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

/**
 * Elasticsearch's `minimum_should_match` spec for `n` optional clauses: an integer, a negative
 * integer, a percentage, a negative percentage, or conditional forms `3<90%` / `2<-25% 9<-3`.
 */
export function minimumShouldMatch(spec: Scalar, n: number): number {
  const s = String(spec).trim();
  if (s.includes("<")) {
    let result = n;
    for (const part of s.split(/\s+/)) {
      const m = /^(\d+)<(.+)$/.exec(part);
      if (!m) throw new RuleError(`minimum_should_match ${JSON.stringify(s)} is not valid`);
      if (n <= Number(m[1])) return result;
      result = simpleMsm(m[2]!, n);
    }
    return result;
  }
  return simpleMsm(s, n);
}

function simpleMsm(s: string, n: number): number {
  let r: number;
  if (/^-?\d+%$/.test(s)) {
    const pct = Number(s.slice(0, -1));
    const calc = Math.trunc((Math.abs(pct) * n) / 100);
    r = pct < 0 ? n - calc : calc;
  } else if (/^-?\d+$/.test(s)) {
    const v = Number(s);
    r = v < 0 ? n + v : v;
  } else throw new RuleError(`minimum_should_match ${JSON.stringify(s)} is not valid`);
  // Not capped at n: more required than there are clauses matches nothing, as in Elasticsearch.
  return Math.max(0, r);
}
