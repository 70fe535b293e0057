/** Constructors for the rule tree that keep it small: flatten nested and/or, fold constants. */
import type { Node, Predicate, WildcardPart } from "./types.ts";

export const TRUE: Node = { kind: "const", value: true };
export const FALSE: Node = { kind: "const", value: false };

export function and(children: Node[]): Node {
  const out: Node[] = [];
  for (const c of children) {
    if (c.kind === "const") {
      if (!c.value) return FALSE;
      continue;
    }
    if (c.kind === "and") out.push(...c.children);
    else out.push(c);
  }
  if (out.length === 0) return TRUE;
  if (out.length === 1) return out[0]!;
  return { kind: "and", children: out };
}

export function or(children: Node[]): Node {
  const out: Node[] = [];
  for (const c of children) {
    if (c.kind === "const") {
      if (c.value) return TRUE;
      continue;
    }
    if (c.kind === "or") out.push(...c.children);
    else out.push(c);
  }
  if (out.length === 0) return FALSE;
  if (out.length === 1) return out[0]!;
  return { kind: "or", children: out };
}

export function not(child: Node): Node {
  if (child.kind === "const") return { kind: "const", value: !child.value };
  if (child.kind === "not") return child.child;
  return { kind: "not", child };
}

/** Visits every predicate in the tree. */
export function forEachPredicate(n: Node, fn: (p: Predicate) => void): void {
  switch (n.kind) {
    case "and":
    case "or":
      for (const c of n.children) forEachPredicate(c, fn);
      return;
    case "not":
      forEachPredicate(n.child, fn);
      return;
    case "const":
      return;
    default:
      fn(n);
  }
}

/**
 * Classifies a wildcard pattern into the cheapest predicate shape: no wildcard is `equals`,
 * `x*` is `prefix`, `*x` is `suffix`, `*x*` is `contains`, anything else stays `wildcard`.
 */
export function wildcardShape(
  parts: WildcardPart[],
): { kind: "equals" | "prefix" | "suffix" | "contains"; value: string } | { kind: "wildcard" } {
  const isAny = (p: WildcardPart | undefined) => p !== undefined && "any" in p;
  const lits = parts.filter((p) => "lit" in p) as { lit: string }[];
  const wild = parts.length - lits.length;
  if (wild === 0) return { kind: "equals", value: lits.map((p) => p.lit).join("") };
  if (parts.some((p) => "one" in p)) return { kind: "wildcard" };
  if (lits.length !== 1) {
    // `*` alone, or several literals between stars
    if (lits.length === 0) return { kind: "wildcard" };
    return { kind: "wildcard" };
  }
  const lit = lits[0]!.lit;
  const first = parts[0];
  const last = parts[parts.length - 1];
  if (parts.length === 2 && isAny(last) && "lit" in first!) return { kind: "prefix", value: lit };
  if (parts.length === 2 && isAny(first) && "lit" in last!) return { kind: "suffix", value: lit };
  if (parts.length === 3 && isAny(first) && isAny(last)) return { kind: "contains", value: lit };
  return { kind: "wildcard" };
}
