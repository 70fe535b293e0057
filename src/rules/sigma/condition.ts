/**
 * The Sigma condition grammar. Precedence, least to most binding: `or`, `and`, `not`,
 * `x of pattern`, parentheses. `1 of them` / `all of them` cover every search identifier that
 * does not start with `_`; `x of sel*` matches names with `*` wildcards (also leaving out `_`
 * names unless the pattern starts with `_`). `any of` is `1 of` (pySigma). Keywords are
 * case-insensitive. Aggregations (`| count() …`) and `near` are reported as unsupported.
 */
import { and, or, not, FALSE, TRUE } from "../../ir/build.ts";
import { RuleError, RuleUnsupported } from "../../ir/errors.ts";
import type { Node } from "../../ir/types.ts";

export type CondAst =
  | { k: "id"; name: string }
  | { k: "and" | "or"; items: CondAst[] }
  | { k: "not"; item: CondAst }
  /** `1 of x`, `all of x`, `N of x`; `pattern` undefined means `them`. */
  | { k: "of"; quant: "all" | number; pattern?: string };

type Tok = {
  t: "(" | ")" | "and" | "or" | "not" | "of" | "them" | "all" | "num" | "id" | "pipe" | "near";
  v: string;
  at: number;
};

const WORD = /[A-Za-z0-9_.*\-$@:]+/y;
const KEYWORDS = new Set(["and", "or", "not", "of", "them", "all", "near"]);

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let pos = 0;
  while (pos < src.length) {
    const c = src[pos]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      pos++;
      continue;
    }
    if (c === "(" || c === ")") {
      out.push({ t: c, v: c, at: pos++ });
      continue;
    }
    if (c === "|") {
      out.push({ t: "pipe", v: c, at: pos++ });
      continue;
    }
    WORD.lastIndex = pos;
    const m = WORD.exec(src);
    if (!m) throw new RuleError(`unexpected '${c}' at column ${pos + 1}`);
    const w = m[0];
    const lw = w.toLowerCase();
    if (KEYWORDS.has(lw)) out.push({ t: lw as Tok["t"], v: w, at: pos });
    else if (/^\d+$/.test(w)) out.push({ t: "num", v: w, at: pos });
    else out.push({ t: "id", v: w, at: pos });
    pos += w.length;
  }
  return out;
}

export function parseCondition(src: string): CondAst {
  const pipe = src.indexOf("|");
  if (pipe >= 0) {
    throw new RuleUnsupported(
      `aggregation '| ${src.slice(pipe + 1).trim()}' is not supported (it needs several events)`,
    );
  }
  const agg = /\b(count|sum|min|max|avg)\s*\(/i.exec(src);
  if (agg) throw new RuleUnsupported(`aggregation '${agg[1]}(…)' is not supported (it needs several events)`);
  const toks = tokenize(src);
  if (toks.some((t) => t.t === "near")) throw new RuleUnsupported("'near' is not supported (it needs several events)");
  let i = 0;
  const peek = () => toks[i];
  const fail = (what: string): never => {
    const t = toks[i];
    throw new RuleError(t ? `${what}, found '${t.v}' at column ${t.at + 1}` : `${what}, found end of condition`);
  };
  const parseOr = (): CondAst => {
    const items = [parseAnd()];
    while (peek()?.t === "or") {
      i++;
      items.push(parseAnd());
    }
    return items.length === 1 ? items[0]! : { k: "or", items };
  };
  const parseAnd = (): CondAst => {
    const items = [parseNot()];
    while (peek()?.t === "and") {
      i++;
      items.push(parseNot());
    }
    return items.length === 1 ? items[0]! : { k: "and", items };
  };
  const parseNot = (): CondAst => {
    if (peek()?.t === "not") {
      i++;
      return { k: "not", item: parseNot() };
    }
    return parseAtom();
  };
  const parseAtom = (): CondAst => {
    const t = peek();
    if (!t) return fail("expected a search identifier");
    if (t.t === "(") {
      i++;
      const e = parseOr();
      if (peek()?.t !== ")") fail("expected ')'");
      i++;
      return e;
    }
    if (t.t === "all" || t.t === "num" || (t.t === "id" && t.v.toLowerCase() === "any" && toks[i + 1]?.t === "of")) {
      i++;
      if (peek()?.t !== "of") fail(`expected 'of' after '${t.v}'`);
      i++;
      const target = peek();
      let pattern: string | undefined;
      if (target?.t === "them") pattern = undefined;
      else if (target?.t === "id") pattern = target.v;
      else fail("expected a search identifier pattern or 'them' after 'of'");
      i++;
      const quant = t.t === "all" ? "all" : t.t === "id" ? 1 : Number(t.v);
      if (quant === 0) throw new RuleError("'0 of' matches nothing; write the condition without it");
      return { k: "of", quant, pattern };
    }
    if (t.t === "id") {
      i++;
      return { k: "id", name: t.v };
    }
    return fail("expected a search identifier");
  };
  if (toks.length === 0) throw new RuleError("empty condition");
  const ast = parseOr();
  if (i < toks.length) fail("expected 'and', 'or' or the end");
  return ast;
}

const patternCache = new Map<string, RegExp>();

function patternRegex(p: string): RegExp {
  let rx = patternCache.get(p);
  if (!rx) {
    rx = new RegExp("^" + p.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*") + "$");
    patternCache.set(p, rx);
  }
  return rx;
}

const MAX_OF_COMBINATIONS = 256;

/**
 * Evaluates a condition over search identifiers. `search(name)` gives the node of one identifier;
 * `names` are all identifiers in file order.
 */
export function evalCondition(ast: CondAst, names: readonly string[], search: (name: string) => Node): Node {
  switch (ast.k) {
    case "id":
      if (!names.includes(ast.name)) throw new RuleError(`unknown search identifier '${ast.name}'`);
      return search(ast.name);
    case "and":
      return and(ast.items.map((x) => evalCondition(x, names, search)));
    case "or":
      return or(ast.items.map((x) => evalCondition(x, names, search)));
    case "not":
      return not(evalCondition(ast.item, names, search));
    case "of": {
      // Identifiers starting with `_` are left out of `them` and of patterns that do not start
      // with `_` themselves (specification: "same as them"; pySigma does the same).
      const pattern = ast.pattern;
      const visible = (n: string) => !n.startsWith("_") || (pattern !== undefined && pattern.startsWith("_"));
      let matched: string[];
      if (pattern === undefined) matched = names.filter(visible);
      else if (!pattern.includes("*")) matched = names.filter((n) => n === pattern && visible(n));
      else {
        const rx = patternRegex(pattern);
        matched = names.filter((n) => rx.test(n) && visible(n));
      }
      const what = ast.pattern === undefined ? "them" : ast.pattern;
      if (matched.length === 0) throw new RuleError(`'${ast.quant} of ${what}' matches no search identifier`);
      const nodes = matched.map(search);
      if (ast.quant === "all") return and(nodes);
      if (ast.quant === 1) return or(nodes);
      const k = ast.quant;
      if (k > nodes.length) return FALSE;
      if (k === nodes.length) return and(nodes);
      // At least k of n: OR over the k-subsets.
      if (binomial(nodes.length, k) > MAX_OF_COMBINATIONS) {
        throw new RuleUnsupported(`'${k} of ${what}' over ${nodes.length} identifiers has too many combinations`);
      }
      const alts: Node[] = [];
      const pick = (start: number, chosen: Node[]) => {
        if (chosen.length === k) {
          alts.push(and(chosen));
          return;
        }
        for (let j = start; j < nodes.length; j++) pick(j + 1, [...chosen, nodes[j]!]);
      };
      pick(0, []);
      return alts.length ? or(alts) : TRUE;
    }
  }
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let j = 1; j <= k; j++) r = (r * (n - k + j)) / j;
  return r;
}
