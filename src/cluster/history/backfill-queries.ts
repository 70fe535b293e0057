/**
 * Backfill's candidate queries: how far a rule's query is relaxed (Relaxation), the query at each
 * level on the indices' real mappings, the level `--prefilter auto` starts from, and whether the broad
 * rules' union pays for itself against the bare window. No request: backfill-target.ts runs them.
 */
import type { Node, Predicate, Rule } from "../../ir/types.ts";
import { and, not, or } from "../../ir/build.ts";
import { andOf, EmitError, MATCH_ALL, nodeToQuery, predicateQuery, ruleQuery, type Mapped } from "../../emit/dsl.ts";
import type { FieldIndex } from "../../emit/field-index.ts";
import { carriesRule, type IdField } from "../connection/field-discovery.ts";

/**
 * How far a rule's candidate query is widened. The query only selects candidates; the shared
 * Painless matcher decides, so a wider query costs time, never exactness.
 *   exact        the rule's own query (compiled for the indices' real mappings, which may widen
 *                single predicates: see "Mapping-aware emission" in src/emit/dsl.ts)
 *   expressible  predicates the DSL cannot express become the constant that keeps a superset
 *   terms        term-level predicates only (guards, equals, numbers, exists, cidr, prefix): substring,
 *                wildcard, regex, keyword and fieldref tests are left to the script. Building thousands
 *                of leading-wildcard automata costs the cluster far more than the script's checks (one
 *                rule of hash lists took 125 s to build as a query), so this is the default prefilter
 *   window       everything in the window (the cluster refused even the term-level query)
 */
export type Relaxation = "exact" | "expressible" | "terms" | "window";

const RELAXATIONS: readonly Relaxation[] = ["exact", "expressible", "terms", "window"];

/** The next wider level (window stays window). */
export function wider(level: Relaxation): Relaxation {
  return RELAXATIONS[Math.min(RELAXATIONS.indexOf(level) + 1, RELAXATIONS.length - 1)]!;
}

/** At least as wide as the term-level prefilter (selected by the broad union). */
export function isBroadLevel(level: Relaxation): boolean {
  return level === "terms" || level === "window";
}

/**
 * The tree with the predicates `drop` names replaced by the constant that makes the query select a
 * superset: TRUE where the predicate counts positively, FALSE under a `not`.
 */
export function relaxForQuery(n: Node, drop: (p: Predicate) => boolean, positive = true): Node {
  switch (n.kind) {
    case "and":
      return and(n.children.map((c) => relaxForQuery(c, drop, positive)));
    case "or":
      return or(n.children.map((c) => relaxForQuery(c, drop, positive)));
    case "not":
      return not(relaxForQuery(n.child, drop, !positive));
    case "const":
      return n;
    default:
      return drop(n) ? { kind: "const", value: positive } : n;
  }
}

function notExpressible(p: Predicate): boolean {
  try {
    predicateQuery(p);
    return false;
  } catch (e) {
    if (e instanceof EmitError) return true;
    throw e;
  }
}

const TERM_LEVEL = new Set<Predicate["kind"]>(["equals", "number", "exists", "cidr", "prefix"]);

/** Per relaxation level, the predicates its query leaves to the script. */
export const DROP: Record<"expressible" | "terms", (p: Predicate) => boolean> = {
  expressible: notExpressible,
  terms: (p) => !TERM_LEVEL.has(p.kind) || notExpressible(p),
};

/** A superset-mode emit context on the real mappings, recording the fields it had to widen. */
export function mappedFor(fields: FieldIndex | undefined, widened?: string[]): Mapped | undefined {
  if (!fields) return undefined;
  return {
    fields,
    upper: true,
    widened: widened ? (f, why) => void (widened.includes(`${f}: ${why}`) || widened.push(`${f}: ${why}`)) : undefined,
  };
}

export interface Candidate {
  query: Record<string, unknown>;
  level: Relaxation;
  /** Fields whose predicates were widened for the indices' real mappings (empty: exact). */
  widened: string[];
}

/**
 * The query that selects a rule's candidate events at a relaxation level (raised on EmitError),
 * compiled for `fields` (the target's real mappings) when given.
 */
export function candidateQuery(rule: Rule, level: Relaxation = "exact", fields?: FieldIndex): Candidate {
  const widened: string[] = [];
  const m = mappedFor(fields, widened);
  if (rule.backfillOnlyQuery !== undefined) return { query: ruleQuery(rule), level: "exact", widened };
  if (level === "exact") {
    try {
      return { query: ruleQuery(rule, m), level, widened };
    } catch (e) {
      if (!(e instanceof EmitError)) throw e;
      level = "expressible";
    }
  }
  if (level === "window") return { query: MATCH_ALL, level, widened };
  const drop = DROP[level];
  const base = nodeToQuery(relaxForQuery(rule.condition, drop), m);
  const query = rule.whitelist
    ? andOf([base], [nodeToQuery(relaxForQuery(rule.whitelist, drop, false), m && { ...m, upper: false })])
    : base;
  return { query, level, widened };
}

/**
 * Leaves the cluster must turn into automata (substrings, suffixes, wildcards, regexes, keyword
 * searches per field): what makes exact rule queries expensive to build.
 */
export function automatonLeaves(rule: Rule): number {
  let n = 0;
  const visit = (x: Node): void => {
    if (x.kind === "and" || x.kind === "or") x.children.forEach(visit);
    else if (x.kind === "not") visit(x.child);
    else if (x.kind === "keyword") n += x.fields.length;
    else if (x.kind === "contains" || x.kind === "suffix" || x.kind === "wildcard" || x.kind === "regex") n++;
  };
  visit(rule.condition);
  if (rule.whitelist) visit(rule.whitelist);
  return n;
}

/**
 * Up to this many automaton leaves over the whole rule set, exact queries are cheap enough to be
 * the prefilter (a handful of rules); beyond, the term-level prefilter wins (measured: the
 * whole SigmaHQ Windows set has tens of thousands, and one hash-list rule alone takes 125 s).
 */
export const EXACT_PREFILTER_BUDGET = 256;

/** The relaxation level `--prefilter auto` starts from for a rule set. */
export function autoPrefilter(rules: Rule[]): Relaxation {
  let n = 0;
  for (const r of rules) {
    n += automatonLeaves(r);
    if (n > EXACT_PREFILTER_BUDGET) return "terms";
  }
  return "exact";
}

/** A rule's candidate query (on the real mappings when given), narrowed to events that do not carry it yet. */
export function untaggedQuery(
  rule: Rule,
  idFields: IdField[],
  level: Relaxation = "exact",
  fields?: FieldIndex,
): Record<string, unknown> {
  return {
    bool: { filter: [candidateQuery(rule, level, fields).query], must_not: [carriesRule(idFields, [rule.id])] },
  };
}

/** The disjuncts that are not implied by another: a clause whose conjuncts include all of another's goes. */
export function absorbed(nodes: Node[]): Node[] {
  const key = (n: Node) => JSON.stringify(n);
  const items = new Map<string, { node: Node; parts: Set<string> }>();
  for (const n of nodes) {
    const k = key(n);
    if (!items.has(k)) items.set(k, { node: n, parts: new Set(n.kind === "and" ? n.children.map(key) : [k]) });
  }
  const sorted = [...items.values()].sort((a, b) => a.parts.size - b.parts.size);
  const kept: typeof sorted = [];
  for (const it of sorted) {
    if (it.node.kind === "const" && it.node.value) return [it.node];
    if (kept.some((k) => [...k.parts].every((p) => it.parts.has(p)))) continue;
    kept.push(it);
  }
  return kept.map((k) => k.node);
}

/**
 * What an event the prefilter keeps out would have cost the pass: fetching and parsing it and the
 * script's candidate lookup (measured: ~30 µs per event in a match-only pass of the Windows set
 * over 30,000 generated events, 7.10, 2 cores).
 */
const SCRIPT_MICROS_PER_SPARED_EVENT = 30;

/**
 * Union or window: the union pays for itself when running it once per scroll page costs less than
 * the script's work on the events it keeps out.
 */
export function choosePrefilter(
  windowEvents: number,
  unionEvents: number,
  unionMillis: number,
  batch: number,
): "union" | "window" {
  const pages = Math.ceil(unionEvents / batch) + 1;
  const cost = pages * unionMillis;
  const saving = ((windowEvents - unionEvents) * SCRIPT_MICROS_PER_SPARED_EVENT) / 1000;
  return cost < saving ? "union" : "window";
}
