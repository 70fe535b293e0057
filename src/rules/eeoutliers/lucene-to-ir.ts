/**
 * Lucene query strings (ee-outliers `es_query_filter`, run by ee-outliers as a `query_string`
 * query) into the rule representation.
 *
 * Parsing follows Lucene's classic query parser as Elasticsearch's `query_string` uses it:
 * clauses with `+`/`-`/`NOT`/`!` modifiers and `AND`/`&&`/`OR`/`||` conjunctions are combined
 * the way Lucene does (`a AND b OR c` is `+a +b c`, so `c` is optional), the default operator is
 * OR, a purely negative group matches everything else (Elasticsearch adds `*:*`), and
 * `field:*` / `_exists_:field` test presence.
 *
 * Matching follows the field's type (src/rules/eeoutliers/predicates.ts): keyword values exactly
 * and case-sensitively, numbers numerically. Analysed `text` fields and bare terms are where
 * live matching differs from the query; the rule the live side follows is (docs/ee-outliers.md):
 * - `field:term`, `field:"a phrase"` on a text field: the value contains the term or phrase as
 *   written, ignoring case (the query matches analysed tokens);
 * - `field:pat*tern` on a text field: some part of the value matches the pattern, ignoring case;
 * - a bare term (no field, the cluster's default `*`): one of the profile's keyword fields
 *   contains the term, ignoring case.
 */
import { and, not, or } from "../../ir/build.ts";
import type { Field, Node, WildcardPart } from "../../ir/types.ts";
import type { Profile } from "../../mapping/profile.ts";
import { isMetadataField, resolveField, searchFields, type ResolvedField } from "./fields.ts";
import { luceneRegexToIr } from "./lucene-regexp.ts";
import { RuleError, RuleUnsupported } from "../../ir/errors.ts";
import {
  exactNode,
  existsNode,
  rangeNode,
  regexNode,
  wildcardNode,
  type Bounds,
  type Translation,
} from "./predicates.ts";

export interface LuceneOptions {
  profile: Profile;
  defaultOperator?: "AND" | "OR";
  /** Fields a bare term searches; undefined = the cluster default `*` (see the module comment). */
  defaultFields?: string[];
}

export function luceneToIr(query: string, opts: LuceneOptions): Translation {
  try {
    return { ok: true, ...luceneToIrNode(query, opts) };
  } catch (e) {
    if (e instanceof RuleUnsupported) return { ok: false, kind: "unsupported", reason: e.message };
    if (e instanceof RuleError) return { ok: false, kind: "invalid", reason: e.message };
    throw e;
  }
}

/** Throws RuleUnsupported / RuleError. */
export function luceneToIrNode(query: string, opts: LuceneOptions): { node: Node; warnings: string[] } {
  const tokens = tokenize(query);
  const p = new Parser(tokens, opts, query);
  const node = p.top();
  return { node, warnings: [...p.warnings] };
}

// ---- tokens ----

type Ch = { c: string; esc: boolean };
type Token =
  | { t: "AND" | "OR" | "NOT" | "PLUS" | "MINUS" | "LP" | "RP" | "COLON"; pos: number }
  | { t: "CARAT"; pos: number; value: string }
  | { t: "TILDE"; pos: number; value: string }
  | { t: "TERM"; pos: number; chars: Ch[] }
  | { t: "QUOTED"; pos: number; text: string }
  | { t: "REGEX"; pos: number; text: string }
  | { t: "RANGE"; pos: number; lowIncl: boolean; low: string | null; high: string | null; highIncl: boolean };

const WS = /[\s\u3000]/;
const NOT_TERM_START = new Set([...'+-!():^[]"{}~\\/']);
const NOT_TERM_CHAR = new Set([...'!():^[]"{}~/']);

function tokenize(q: string): Token[] {
  const s = [...q];
  const out: Token[] = [];
  let i = 0;
  const err = (msg: string) => new RuleError(`query string ${JSON.stringify(q)}: ${msg} at position ${i}`);
  while (i < s.length) {
    const c = s[i]!;
    if (WS.test(c)) {
      i++;
      continue;
    }
    const pos = i;
    if (c === "(") out.push({ t: "LP", pos }), i++;
    else if (c === ")") out.push({ t: "RP", pos }), i++;
    else if (c === ":") out.push({ t: "COLON", pos }), i++;
    else if (c === "+") out.push({ t: "PLUS", pos }), i++;
    else if (c === "-") out.push({ t: "MINUS", pos }), i++;
    else if (c === "!") out.push({ t: "NOT", pos }), i++;
    else if (c === "&" && s[i + 1] === "&") out.push({ t: "AND", pos }), (i += 2);
    else if (c === "|" && s[i + 1] === "|") out.push({ t: "OR", pos }), (i += 2);
    else if (c === "^" || c === "~") {
      i++;
      let v = "";
      while (i < s.length && /[0-9.]/.test(s[i]!)) v += s[i++];
      out.push({ t: c === "^" ? "CARAT" : "TILDE", pos, value: v });
    } else if (c === '"') {
      i++;
      let text = "";
      while (i < s.length && s[i] !== '"') {
        if (s[i] === "\\" && i + 1 < s.length) i++;
        text += s[i++];
      }
      if (i >= s.length) throw err("unterminated quoted phrase");
      i++;
      out.push({ t: "QUOTED", pos, text });
    } else if (c === "/") {
      i++;
      let text = "";
      while (i < s.length && s[i] !== "/") {
        // `\/` is a slash inside the regexp; other escapes stay for the regexp parser.
        if (s[i] === "\\" && s[i + 1] === "/") {
          text += "\\/";
          i += 2;
          continue;
        }
        if (s[i] === "\\" && i + 1 < s.length) text += s[i++];
        text += s[i++];
      }
      if (i >= s.length) throw err("unterminated /regexp/");
      i++;
      out.push({ t: "REGEX", pos, text });
    } else if (c === "[" || c === "{") {
      i++;
      const bound = (): string | null => {
        while (i < s.length && WS.test(s[i]!)) i++;
        let v = "";
        if (s[i] === '"') {
          i++;
          while (i < s.length && s[i] !== '"') {
            if (s[i] === "\\" && i + 1 < s.length) i++;
            v += s[i++];
          }
          i++;
          return v;
        }
        while (i < s.length && !WS.test(s[i]!) && s[i] !== "]" && s[i] !== "}") {
          if (s[i] === "\\" && i + 1 < s.length) i++;
          v += s[i++];
        }
        return v === "*" ? null : v;
      };
      const low = bound();
      while (i < s.length && WS.test(s[i]!)) i++;
      if (s.slice(i, i + 2).join("") !== "TO") throw err("range needs 'TO'");
      i += 2;
      const high = bound();
      while (i < s.length && WS.test(s[i]!)) i++;
      const close = s[i];
      if (close !== "]" && close !== "}") throw err("unterminated range");
      i++;
      out.push({ t: "RANGE", pos, lowIncl: c === "[", low, high, highIncl: close === "]" });
    } else {
      if (NOT_TERM_START.has(c) && c !== "\\") throw err(`unexpected '${c}'`);
      const chars: Ch[] = [];
      while (i < s.length && !WS.test(s[i]!) && !NOT_TERM_CHAR.has(s[i]!)) {
        if (s[i] === "\\") {
          if (i + 1 >= s.length) throw err("trailing backslash");
          chars.push({ c: s[i + 1]!, esc: true });
          i += 2;
          continue;
        }
        // `&&` / `||` end a term only where they stand alone; inside a term they are text.
        chars.push({ c: s[i]!, esc: false });
        i++;
      }
      const word = chars.map((x) => (x.esc ? "\\" + x.c : x.c)).join("");
      if (word === "AND") out.push({ t: "AND", pos });
      else if (word === "OR") out.push({ t: "OR", pos });
      else if (word === "NOT") out.push({ t: "NOT", pos });
      else out.push({ t: "TERM", pos, chars });
    }
  }
  return out;
}

// ---- parser ----

type Occur = "MUST" | "SHOULD" | "MUST_NOT";
interface Clause {
  occur: Occur;
  node: Node;
}

const text = (chars: Ch[]) => chars.map((x) => x.c).join("");
const hasWildcard = (chars: Ch[]) => chars.some((x) => !x.esc && (x.c === "*" || x.c === "?"));

function wildcardParts(chars: Ch[]): WildcardPart[] {
  const parts: WildcardPart[] = [];
  let buf = "";
  for (const x of chars) {
    if (!x.esc && x.c === "*") {
      if (buf) parts.push({ lit: buf });
      buf = "";
      if (!(parts.length && "any" in parts[parts.length - 1]!)) parts.push({ any: true });
    } else if (!x.esc && x.c === "?") {
      if (buf) parts.push({ lit: buf });
      buf = "";
      parts.push({ one: true });
    } else buf += x.c;
  }
  if (buf) parts.push({ lit: buf });
  return parts;
}

/** `*…*` around a pattern: "some part of the value matches". */
function padded(parts: WildcardPart[]): WildcardPart[] {
  const out = [...parts];
  if (!(out.length && "any" in out[0]!)) out.unshift({ any: true });
  if (!("any" in out[out.length - 1]!)) out.push({ any: true });
  return out;
}

type Value =
  | { kind: "term"; chars: Ch[]; fuzzy: boolean }
  | { kind: "phrase"; text: string; slop: number }
  | { kind: "regex"; text: string }
  | { kind: "range"; lowIncl: boolean; low: string | null; high: string | null; highIncl: boolean };

class Parser {
  private i = 0;
  readonly warnings = new Set<string>();
  constructor(
    private tokens: Token[],
    private opts: LuceneOptions,
    private source: string,
  ) {}

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }
  private err(msg: string): RuleError {
    const t = this.peek();
    return new RuleError(
      `query string ${JSON.stringify(this.source)}: ${msg}${t ? ` at position ${t.pos}` : " at the end"}`,
    );
  }

  top(): Node {
    if (this.tokens.length === 0) return { kind: "const", value: true }; // empty query string: Elasticsearch matches all
    const n = this.query(undefined);
    if (this.i < this.tokens.length) throw this.err("unexpected ')'");
    return n;
  }

  /** Query(field) ::= ( [Conj] [Mods] Clause(field) )* */
  private query(field: string | undefined): Node {
    const clauses: Clause[] = [];
    let first = true;
    while (this.i < this.tokens.length && this.peek()!.t !== "RP") {
      let conj: "AND" | "OR" | undefined;
      const t = this.peek()!;
      if (!first && (t.t === "AND" || t.t === "OR")) {
        conj = t.t;
        this.i++;
      }
      let mod: "REQ" | "NOT" | undefined;
      const m = this.peek();
      if (m && (m.t === "PLUS" || m.t === "MINUS" || m.t === "NOT")) {
        mod = m.t === "PLUS" ? "REQ" : "NOT";
        this.i++;
      }
      const node = this.clause(field);
      this.addClause(clauses, conj, mod, node);
      first = false;
    }
    if (clauses.length === 0) throw this.err("empty query");
    return this.combine(clauses);
  }

  /** Lucene QueryParserBase.addClause. */
  private addClause(clauses: Clause[], conj: "AND" | "OR" | undefined, mod: "REQ" | "NOT" | undefined, node: Node) {
    const andOp = this.opts.defaultOperator === "AND";
    const last = clauses[clauses.length - 1];
    if (last && conj === "AND" && last.occur !== "MUST_NOT") last.occur = "MUST";
    if (last && andOp && conj === "OR" && last.occur !== "MUST_NOT") last.occur = "SHOULD";
    let required: boolean;
    let prohibited: boolean;
    if (!andOp) {
      prohibited = mod === "NOT";
      required = mod === "REQ";
      if (conj === "AND" && !prohibited) required = true;
    } else {
      prohibited = mod === "NOT";
      required = !prohibited && conj !== "OR";
    }
    clauses.push({ node, occur: prohibited ? "MUST_NOT" : required ? "MUST" : "SHOULD" });
  }

  private combine(clauses: Clause[]): Node {
    if (clauses.length === 1 && clauses[0]!.occur !== "MUST_NOT") return clauses[0]!.node;
    const must = clauses.filter((c) => c.occur === "MUST").map((c) => c.node);
    const should = clauses.filter((c) => c.occur === "SHOULD").map((c) => c.node);
    const mustNot = clauses.filter((c) => c.occur === "MUST_NOT").map((c) => c.node);
    const parts: Node[] = [...must];
    // Optional clauses only count when nothing is required; a purely negative query matches the rest.
    if (must.length === 0 && should.length > 0) parts.push(or(should));
    if (mustNot.length) parts.push(not(or(mustNot)));
    return and(parts);
  }

  private clause(field: string | undefined): Node {
    const t = this.peek();
    if (!t) throw this.err("expected a term");
    let f = field;
    const next = this.tokens[this.i + 1];
    if (t.t === "TERM" && next?.t === "COLON") {
      f = text(t.chars);
      this.i += 2;
    }
    const v = this.peek();
    if (!v) throw this.err("expected a value");
    if (v.t === "LP") {
      this.i++;
      const inner = this.query(f);
      if (this.peek()?.t !== "RP") throw this.err("missing ')'");
      this.i++;
      this.skipBoost();
      return inner;
    }
    const value = this.value();
    return this.fieldValue(f, value);
  }

  private skipBoost() {
    if (this.peek()?.t === "CARAT") this.i++;
  }

  private value(): Value {
    const t = this.peek()!;
    this.i++;
    let value: Value;
    switch (t.t) {
      case "TERM":
        value = { kind: "term", chars: t.chars, fuzzy: false };
        break;
      case "QUOTED":
        value = { kind: "phrase", text: t.text, slop: 0 };
        break;
      case "REGEX":
        value = { kind: "regex", text: t.text };
        break;
      case "RANGE":
        value = { kind: "range", lowIncl: t.lowIncl, low: t.low, high: t.high, highIncl: t.highIncl };
        break;
      default:
        this.i--;
        throw this.err(`unexpected ${t.t}`);
    }
    // `~` after a term is fuzzy, after a phrase a slop; `^` is a boost (no effect on matching).
    for (;;) {
      const p = this.peek();
      if (p?.t === "CARAT") this.i++;
      else if (p?.t === "TILDE") {
        this.i++;
        if (value.kind === "term") value.fuzzy = true;
        else if (value.kind === "phrase") value.slop = p.value === "" ? 0 : Number(p.value);
      } else break;
    }
    return value;
  }

  private fieldValue(f: string | undefined, v: Value): Node {
    if (f === "_exists_") {
      if (v.kind !== "term") throw this.err("_exists_ needs a field name");
      return this.onFields(text(v.chars), (rf) => existsNode(rf));
    }
    if (f === undefined || f === "*") return this.bare(v);
    return this.onFields(f, (rf) => this.match(rf, v));
  }

  /** A field name, which may be a pattern (then it needs the mapping, which live matching lacks). */
  private onFields(name: string, fn: (rf: ResolvedField) => Node): Node {
    if (name.includes("*") || name.includes("?")) {
      throw new RuleUnsupported(`field pattern ${name} depends on the index mapping`);
    }
    if (isMetadataField(name))
      throw new RuleUnsupported(`${name} is assigned by the cluster and cannot be evaluated at ingest time`);
    return fn(resolveField(this.opts.profile, name));
  }

  private bare(v: Value): Node {
    if (v.kind === "term" && text(v.chars) === "*" && !v.chars[0]!.esc) return { kind: "const", value: true };
    if (this.opts.defaultFields && !this.opts.defaultFields.includes("*")) {
      return or(
        this.opts.defaultFields.map((name) => this.onFields(name.replace(/\^[\d.]+$/, ""), (rf) => this.match(rf, v))),
      );
    }
    const fields = searchFields(this.opts.profile);
    if (fields.length === 0)
      throw new RuleUnsupported("a term without a field, and the profile names no keyword fields");
    this.warnings.add(
      "a term without a field searches every field in the query; live, it is matched as a case-insensitive substring of the profile's keyword fields",
    );
    switch (v.kind) {
      case "term":
        if (v.fuzzy) throw new RuleUnsupported("fuzzy term");
        return { kind: "keyword", fields, parts: padded(wildcardParts(v.chars)), cased: false };
      case "phrase":
        if (v.slop > 0) throw new RuleUnsupported("phrase with slop");
        return { kind: "keyword", fields, parts: [{ any: true }, { lit: v.text }, { any: true }], cased: false };
      case "regex":
        throw new RuleUnsupported("a /regexp/ without a field");
      case "range":
        throw new RuleUnsupported("a range without a field");
    }
  }

  private match(rf: ResolvedField, v: Value): Node {
    const f = rf.field;
    if (f.type === "text" && !rf.exact) return this.analysed(f, v);
    switch (v.kind) {
      case "term": {
        if (v.fuzzy) throw new RuleUnsupported(`fuzzy term on ${f.name}`);
        const t = text(v.chars);
        if (t === "*" && !v.chars[0]!.esc) return existsNode(rf);
        const cmp = /^(>=|<=|>|<)(.+)$/.exec(t);
        if (cmp && !v.chars[0]!.esc) {
          const op = ({ ">=": "gte", "<=": "lte", ">": "gt", "<": "lt" } as const)[cmp[1] as ">=" | "<=" | ">" | "<"];
          return rangeNode(rf, { [op]: cmp[2]! } as Bounds);
        }
        if (hasWildcard(v.chars)) {
          if (!rf.asKeyword && f.type !== "keyword" && f.type !== "text") {
            throw new RuleError(`wildcard ${JSON.stringify(t)} on ${f.type} field ${f.name}`);
          }
          return wildcardNode(f, wildcardParts(v.chars), true);
        }
        return exactNode(rf, t, true, "term");
      }
      case "phrase":
        if (v.slop > 0) throw new RuleUnsupported(`phrase with slop on ${f.name}`);
        return exactNode(rf, v.text, true, "phrase");
      case "regex": {
        const r = luceneRegexToIr(v.text, {});
        if (!r.ok) throw r.invalid ? new RuleError(r.unsupported) : new RuleUnsupported(r.unsupported);
        r.warnings.forEach((w) => this.warnings.add(w));
        return regexNode(rf, r.regex);
      }
      case "range": {
        const b: Bounds = {};
        if (v.low !== null) b[v.lowIncl ? "gte" : "gt"] = v.low;
        if (v.high !== null) b[v.highIncl ? "lte" : "lt"] = v.high;
        return rangeNode(rf, b);
      }
    }
  }

  /** The documented live rule for analysed text fields (see the module comment). */
  private analysed(f: Field, v: Value): Node {
    this.warnings.add(
      `${f.name} is an analysed text field: the query matches its tokens, live matching uses a case-insensitive substring of the whole value`,
    );
    switch (v.kind) {
      case "term": {
        if (v.fuzzy) throw new RuleUnsupported(`fuzzy term on text field ${f.name}`);
        if (text(v.chars) === "*" && !v.chars[0]!.esc) return { kind: "exists", field: f, exists: true };
        const parts = padded(wildcardParts(v.chars));
        return wildcardNode(f, parts, false);
      }
      case "phrase":
        if (v.slop > 0) throw new RuleUnsupported(`phrase with slop on text field ${f.name}`);
        return { kind: "contains", field: f, value: v.text, cased: false };
      case "regex":
        throw new RuleUnsupported(`/regexp/ on analysed text field ${f.name} matches tokens`);
      case "range":
        throw new RuleUnsupported(`range on analysed text field ${f.name} compares tokens`);
    }
  }
}
