/**
 * The third emitter: rules into JavaScript closures that match events locally (`outliers scan`,
 * `outliers test`), with the semantics the header of src/emit/dsl.ts states and the Painless matcher
 * (src/emit/painless/source.ts) implements. Each predicate is lowered once (src/emit/match-plan/lower.ts,
 * the same match op the Painless encoder serialises) and its op becomes a closure here; the
 * differential test holds the three emitters to the same answers.
 *
 * Each IR node is compiled once: a subtree that occurs in more than one rule (the logsource guards
 * shared by hundreds of rules) becomes one closure evaluated at most once per event. Rules are
 * filed under index keys (`indexKeys` of the lowered rule, the same keys the live pipeline uses), so an
 * event only runs the rules one of whose keys it holds.
 */
import { inNetwork, parseIp } from "../../ir/ip.ts";
import { runProgram } from "./regex.ts";
import type { Field, Node, Rule } from "../../ir/types.ts";
import { RuleError } from "../../ir/errors.ts";
import { lowerNode, lowerPredicate, type PlanNode, stringView } from "../match-plan/lower.ts";
import {
  type AnyFieldMatch,
  type Comparison,
  DEFAULT_IGNORE_ABOVE,
  type MatchOp,
  type StringTest,
  unhandledOp,
  type View,
} from "../match-plan/ops.ts";
import { countGrams, GRAM_SCAN_LIMIT, gramHash, indexKeys, type GuardCosts } from "../match-plan/index-keys.ts";
import { EventValues, javaParseDouble, type View as ValueView, type ViewType } from "./values.ts";

type Test = (ev: EventValues) => boolean;

const FALSE: Test = () => false;
const TRUE: Test = () => true;

function compare(cmp: Comparison, d: number, q: number): boolean {
  return cmp === "eq" ? d === q : cmp === "gt" ? d > q : cmp === "gte" ? d >= q : cmp === "lt" ? d < q : d <= q;
}

/** Whole-value wildcard match (oxGlob): mask `0` literal, `1` any run, `2` one code point. */
export function globMatch(s: string, p: string, m: string): boolean {
  const n = s.length;
  const pn = p.length;
  let si = 0;
  let pi = 0;
  let star = -1;
  let mark = 0;
  while (si < n) {
    if (pi < pn) {
      const k = m.charCodeAt(pi);
      if (k === 50) {
        const hc = s.charCodeAt(si);
        if (
          hc >= 0xd800 &&
          hc <= 0xdbff &&
          si + 1 < n &&
          s.charCodeAt(si + 1) >= 0xdc00 &&
          s.charCodeAt(si + 1) <= 0xdfff
        )
          si += 2;
        else si++;
        pi++;
        continue;
      }
      if (k === 49) {
        star = pi;
        mark = si;
        pi++;
        continue;
      }
      if (p.charCodeAt(pi) === s.charCodeAt(si)) {
        si++;
        pi++;
        continue;
      }
    }
    if (star < 0) return false;
    pi = star + 1;
    mark++;
    si = mark;
  }
  while (pi < pn && m.charCodeAt(pi) === 49) pi++;
  return pi === pn;
}

/** A pattern with only `*` as its literal segments (oxSegs): first a prefix, last a suffix, the rest in order. */
export function segmentsMatch(s: string, segs: string[]): boolean {
  const k = segs.length - 1;
  const first = segs[0]!;
  const last = segs[k]!;
  const end = s.length - last.length;
  if (end < first.length || !s.startsWith(first) || !s.endsWith(last)) return false;
  let pos = first.length;
  for (let i = 1; i < k; i++) {
    const g = segs[i]!;
    const j = s.indexOf(g, pos);
    if (j < 0 || j + g.length > end) return false;
    pos = j + g.length;
  }
  return true;
}

function strTest(op: StringTest, q: string): (s: string) => boolean {
  switch (op) {
    case "eq":
      return (s) => s === q;
    case "contains":
      return (s) => s.includes(q);
    case "prefix":
      return (s) => s.startsWith(q);
    case "suffix":
      return (s) => s.endsWith(q);
  }
}

function anyValue(vals: (ev: EventValues) => string[], test: (s: string) => boolean): Test {
  return (ev) => {
    const vs = vals(ev);
    for (let i = 0; i < vs.length; i++) if (test(vs[i]!)) return true;
    return false;
  };
}

/** The compiled rule set. */
export interface CompiledRule {
  rule: Rule;
  cond: Test;
  whitelist: Test | null;
}

interface Dimension {
  view: number;
  mode: 0 | 1 | 2 | 3;
  gram: number;
  keys: Map<string, number[]>;
  /** Mode 3: every rule of the dimension (values longer than GRAM_SCAN_LIMIT select them all). */
  all: number[];
  /** Mode 3: a bit per gramHash of its keys, so most positions cost no substring (as the Painless `gf`). */
  filter?: Uint8Array;
}

/** gramHash of s[i, i+n) for the gram lengths the keys use (4, 2, 1), without a substring. */
function hashAt(s: string, i: number, n: number): number {
  if (n === 4)
    return (
      ((((s.charCodeAt(i) * 31 + s.charCodeAt(i + 1)) | 0) * 31 + s.charCodeAt(i + 2)) * 31 + s.charCodeAt(i + 3)) &
      0xffff
    );
  if (n === 2) return (s.charCodeAt(i) * 31 + s.charCodeAt(i + 1)) & 0xffff;
  return n === 1 ? s.charCodeAt(i) & 0xffff : gramHash(s.substr(i, n));
}

export class Compiler {
  readonly views: ValueView[] = [];
  private readonly viewIdx = new Map<string, number>();
  private readonly shared = new Map<string, Test>();
  private counts = new Map<string, number>();
  memoSlots = 0;
  private memoGen = new Int32Array(0);
  private memoVal = new Uint8Array(0);
  private gen = 0;

  constructor(private readonly ignoreAbove = DEFAULT_IGNORE_ABOVE) {}

  /** The view string predicates (and exists, fieldref) compare for `f`: keyword text or the typed text. */
  stringView(f: Field): number {
    return this.view(f.name, stringView(f));
  }

  view(path: string, type: ViewType): number {
    const key = `${path}\u0000${type}`;
    let i = this.viewIdx.get(key);
    if (i === undefined) {
      i = this.views.length;
      this.views.push({ path, type, ignoreAbove: type === "keyword" || type === "date" ? this.ignoreAbove : -1 });
      this.viewIdx.set(key, i);
    }
    return i;
  }

  private readonly keys = new WeakMap<Node, string>();

  /** A node's structural key (equal subtrees, equal keys), computed once per node object. */
  private keyOf(n: Node): string {
    let k = this.keys.get(n);
    if (k === undefined) {
      if (n.kind !== "and" && n.kind !== "or" && n.kind !== "not") k = JSON.stringify(n);
      else k = `${n.kind}(${(n.kind === "not" ? [n.child] : n.children).map((c) => this.keyOf(c)).join(",")})`;
      this.keys.set(n, k);
    }
    return k;
  }

  /** Counts compound subtrees over the whole rule set (those seen twice are evaluated once per event). */
  count(nodes: Node[]): void {
    const visit = (n: Node): void => {
      if (n.kind !== "and" && n.kind !== "or" && n.kind !== "not") return;
      const key = this.keyOf(n);
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
      (n.kind === "not" ? [n.child] : n.children).forEach(visit);
    };
    for (const n of nodes) visit(n);
  }

  /** Starts a new event: memo slots forget their answers. */
  newEvent(): void {
    if (this.memoGen.length < this.memoSlots) {
      this.memoGen = new Int32Array(this.memoSlots);
      this.memoVal = new Uint8Array(this.memoSlots);
    }
    this.gen++;
  }

  node(n: Node): { test: Test; key: string } {
    if (n.kind !== "and" && n.kind !== "or" && n.kind !== "not") {
      const key = this.keyOf(n);
      let t = this.shared.get(key);
      if (!t) this.shared.set(key, (t = n.kind === "const" ? (n.value ? TRUE : FALSE) : this.op(lowerPredicate(n))));
      return { test: t, key };
    }
    const key = this.keyOf(n);
    const cached = this.shared.get(key);
    if (cached) return { test: cached, key };
    const children = n.kind === "not" ? [n.child] : n.children;
    // An OR's keyword searches become one: per field path of the event, the patterns on that path.
    const keywords =
      n.kind === "or" ? children.filter((c): c is Extract<Node, { kind: "keyword" }> => c.kind === "keyword") : [];
    const merged =
      keywords.length > 1 ? this.keywordTest(keywords.map((k) => lowerPredicate(k) as AnyFieldMatch)) : undefined;
    const ts = children.filter((c) => !merged || c.kind !== "keyword").map((c) => this.node(c).test);
    if (merged) ts.push(merged);
    let t: Test;
    if (n.kind === "not") {
      const c = ts[0]!;
      t = (ev) => !c(ev);
    } else if (n.kind === "and") {
      t =
        ts.length === 2
          ? (
              (a, b) => (ev: EventValues) =>
                a(ev) && b(ev)
            )(ts[0]!, ts[1]!)
          : (ev) => {
              for (let i = 0; i < ts.length; i++) if (!ts[i]!(ev)) return false;
              return true;
            };
    } else {
      t =
        ts.length === 2
          ? (
              (a, b) => (ev: EventValues) =>
                a(ev) || b(ev)
            )(ts[0]!, ts[1]!)
          : (ev) => {
              for (let i = 0; i < ts.length; i++) if (ts[i]!(ev)) return true;
              return false;
            };
    }
    if ((this.counts.get(key) ?? 0) >= 2) {
      const slot = this.memoSlots++;
      const inner = t;
      t = (ev) => {
        if (this.memoGen[slot] === this.gen) return this.memoVal[slot] === 1;
        const v = inner(ev);
        this.memoGen[slot] = this.gen;
        this.memoVal[slot] = v ? 1 : 2;
        return v;
      };
    }
    this.shared.set(key, t);
    return { test: t, key };
  }

  private values(m: { field: Field; view: View; exact: boolean }): (ev: EventValues) => string[] {
    const vi = this.view(m.field.name, m.view);
    return m.exact ? (ev) => ev.txt(vi) : (ev) => ev.low(vi);
  }

  private exists(f: Field, view: View): Test {
    const vi = this.view(f.name, view);
    return (ev) => ev.txt(vi).length > 0;
  }

  /**
   * Keyword searches (one, or an OR's several): per field path, looked up from the fields the event
   * holds (absent fields never match), as the Painless KEYWORD node.
   */
  private keywordTest(ms: AnyFieldMatch[]): Test {
    const byPath = new Map<string, Test[]>();
    for (const m of ms)
      for (const { field, op } of m.fields) {
        const list = byPath.get(field.name) ?? [];
        list.push(this.op(op));
        byPath.set(field.name, list);
      }
    if (byPath.size === 0) return FALSE;
    return (ev) => {
      for (const path of ev.flat.keys()) {
        const ts = byPath.get(path);
        if (ts) for (let i = 0; i < ts.length; i++) if (ts[i]!(ev)) return true;
      }
      return false;
    };
  }

  /** One match op as a closure (src/emit/match-plan/ops.ts names each). */
  private op(m: MatchOp): Test {
    switch (m.kind) {
      case "string":
        return anyValue(this.values(m), strTest(m.test, m.compare));
      case "glob": {
        const vals = this.values(m);
        const { segments, pattern, mask } = m;
        if (segments) return anyValue(vals, (s) => segmentsMatch(s, segments));
        return anyValue(vals, (s) => globMatch(s, pattern, mask));
      }
      case "number": {
        const vi = this.view(m.field.name, m.view);
        const { cmp, value } = m;
        if (m.view !== "keyword")
          return (ev) => {
            for (const d of ev.num(vi)) if (compare(cmp, d, value)) return true;
            return false;
          };
        return (ev) => {
          for (const s of ev.txt(vi)) {
            const d = javaParseDouble(s);
            if (!Number.isNaN(d) && compare(cmp, d, value)) return true;
          }
          return false;
        };
      }
      case "bool": {
        const vi = this.view(m.field.name, m.view);
        const w = m.value ? "true" : "false";
        return (ev) => ev.txt(vi).includes(w);
      }
      case "cidr": {
        const vi = this.view(m.field.name, "ip");
        const { bytes, bits } = m;
        return (ev) => {
          for (const x of ev.raw(vi)) {
            if (typeof x !== "string") continue;
            const r = parseIp(x);
            if (r && inNetwork(r, bytes, bits)) return true;
          }
          return false;
        };
      }
      case "regex": {
        const vi = this.view(m.field.name, m.view);
        const program = m.program;
        return anyValue(
          (ev) => ev.txt(vi),
          (s) => runProgram(program, s),
        );
      }
      case "exists": {
        const t = this.exists(m.field, m.view);
        return m.exists ? t : (ev) => !t(ev);
      }
      case "const":
        return m.value ? TRUE : FALSE;
      case "fieldref": {
        const a = this.view(m.field.name, m.view);
        const b = this.view(m.other.name, m.otherView);
        const vals = m.cased
          ? (ev: EventValues, vi: number) => ev.txt(vi)
          : (ev: EventValues, vi: number) => ev.low(vi);
        return (ev) => {
          const xs = vals(ev, a);
          if (xs.length === 0) return false;
          const ys = vals(ev, b);
          for (const x of xs) if (ys.includes(x)) return true;
          return false;
        };
      }
      case "anyField":
        return this.keywordTest([m]);
      default:
        return unhandledOp(m);
    }
  }
}

/** What one event got: the rules that matched (in rule-set order) and the rules that failed. */
export interface EventMatch {
  hits: number[];
  errors: { rule: number; message: string }[];
}

/** A compiled rule set: candidates by index key, then each candidate's closures. */
export class Matcher {
  readonly rules: CompiledRule[] = [];
  readonly skipped: { id: string; reason: string }[] = [];
  private readonly compiler: Compiler;
  private readonly always: number[] = [];
  private readonly dims: Dimension[] = [];
  private readonly dimsByPath = new Map<string, number[]>();
  private readonly ev: EventValues;
  private readonly seen: Int32Array;
  private gen = 0;

  constructor(rules: Rule[], opts: { ignoreAbove?: number; guardCosts?: GuardCosts } = {}) {
    const c = (this.compiler = new Compiler(opts.ignoreAbove));
    const live = rules.filter((r) => !r.liveUnsupported);
    c.count(live.flatMap((r) => (r.whitelist ? [r.condition, r.whitelist] : [r.condition])));
    const plans = rules.map((r): PlanNode | Node => {
      try {
        return lowerNode(r.condition);
      } catch (e) {
        if (!(e instanceof RuleError)) throw e;
        return r.condition;
      }
    });
    const grams = countGrams(plans);
    const dimIdx = new Map<string, number>();
    const ids = new Set<string>();
    for (const [i, rule] of rules.entries()) {
      if (rule.liveUnsupported) {
        this.skipped.push({ id: rule.id, reason: rule.liveUnsupported });
        continue;
      }
      if (ids.has(rule.id)) {
        this.skipped.push({ id: rule.id, reason: "duplicate rule id" });
        continue;
      }
      let compiled: CompiledRule;
      try {
        compiled = {
          rule,
          cond: c.node(rule.condition).test,
          whitelist: rule.whitelist ? c.node(rule.whitelist).test : null,
        };
      } catch (e) {
        if (!(e instanceof RuleError)) throw e;
        this.skipped.push({ id: rule.id, reason: e.message });
        continue;
      }
      ids.add(rule.id);
      const ri = this.rules.length;
      this.rules.push(compiled);
      const keys = indexKeys(plans[i] as PlanNode, grams, opts.guardCosts); // the condition compiled, so it lowered
      if (keys === null) {
        this.always.push(ri);
        continue;
      }
      for (const k of keys) {
        const view = k.mode === 2 ? c.view(k.field.name, "long") : c.stringView(k.field);
        const dk = k.mode === 3 ? `${view}:3:${k.key.length}` : `${view}:${k.mode}`;
        let d = dimIdx.get(dk);
        if (d === undefined) {
          d = this.dims.length;
          this.dims.push({ view, mode: k.mode, gram: k.mode === 3 ? k.key.length : 0, keys: new Map(), all: [] });
          dimIdx.set(dk, d);
          const path = k.field.name;
          const list = this.dimsByPath.get(path) ?? [];
          list.push(d);
          this.dimsByPath.set(path, list);
        }
        const dim = this.dims[d]!;
        const list = dim.keys.get(k.key) ?? [];
        if (list[list.length - 1] !== ri) list.push(ri);
        dim.keys.set(k.key, list);
        if (k.mode === 3 && dim.all[dim.all.length - 1] !== ri) dim.all.push(ri);
        if (k.mode === 3) (dim.filter ??= new Uint8Array(65536))[gramHash(k.key)] = 1;
      }
    }
    this.ev = new EventValues(c.views);
    this.seen = new Int32Array(this.rules.length);
  }

  private addAll(out: number[], list: number[]): void {
    for (const ri of list) {
      if (this.seen[ri] !== this.gen) {
        this.seen[ri] = this.gen;
        out.push(ri);
      }
    }
  }

  private candidates(): number[] {
    const out: number[] = [];
    this.addAll(out, this.always);
    const ev = this.ev;
    for (const path of ev.flat.keys()) {
      const ds = this.dimsByPath.get(path);
      if (!ds) continue;
      for (const d of ds) {
        const dim = this.dims[d]!;
        if (dim.mode === 2) {
          for (const x of ev.num(dim.view)) {
            const hit = dim.keys.get(String(x));
            if (hit) this.addAll(out, hit);
          }
        } else if (dim.mode === 3) {
          const n = dim.gram;
          for (const s of ev.low(dim.view)) {
            if (s.length > GRAM_SCAN_LIMIT) {
              this.addAll(out, dim.all);
              continue;
            }
            const filter = dim.filter!;
            for (let i = 0; i + n <= s.length; i++) {
              if (filter[hashAt(s, i, n)] === 0) continue;
              const hit = dim.keys.get(s.substr(i, n));
              if (hit) this.addAll(out, hit);
            }
          }
        } else {
          for (const v of ev.low(dim.view)) {
            let key = v;
            if (dim.mode === 1) {
              const p = v.lastIndexOf("\\");
              if (p < 0) continue;
              key = v.slice(p + 1);
            }
            const hit = dim.keys.get(key);
            if (hit) this.addAll(out, hit);
          }
        }
      }
    }
    return out.sort((a, b) => a - b);
  }

  /** The rules `doc` matches, in rule-set order; a rule that throws is reported and the others go on. */
  match(doc: unknown): EventMatch {
    this.gen++;
    this.ev.reset(doc);
    this.compiler.newEvent();
    const hits: number[] = [];
    const errors: { rule: number; message: string }[] = [];
    for (const ri of this.candidates()) {
      const r = this.rules[ri]!;
      try {
        if (r.cond(this.ev) && !(r.whitelist && r.whitelist(this.ev))) hits.push(ri);
      } catch (e) {
        errors.push({ rule: ri, message: (e as Error).message });
      }
    }
    return { hits, errors };
  }
}
