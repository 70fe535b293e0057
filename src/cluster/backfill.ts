/**
 * Backfill: tag historical events exactly as live tagging would have.
 *
 * One pass per target (index set, time field), not one per rule: a single `_update_by_query` whose
 * query is the union of the rules' DSL queries, each narrowed to events not already carrying that
 * rule, and whose script is the ingest pipeline's own matcher and tagger (src/emit/painless). The
 * query selects candidates; the script decides per event which rules matched and writes the tags,
 * so the tags equal what the live pipeline writes, and re-running is a no-op.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { Node, Predicate, Rule } from "../ir/types.ts";
import { and, not, or, TRUE } from "../ir/build.ts";
import { andOf, EmitError, MATCH_ALL, nodeToQuery, orOf, predicateQuery, ruleQuery } from "../emit/dsl.ts";
import { updateScript } from "../emit/painless/pipeline.ts";
import { call, type Cluster } from "./client.ts";
import { runUpdate, stateDir, type UpdateTotals } from "./update-task.ts";
import { timeRange } from "../util/duration.ts";

/** Rules per `_msearch` when checking or counting rule queries. */
const BATCH = 50;
/**
 * Exact rule queries can take minutes for the cluster to build (leading-wildcard automata over
 * long value lists), so checks and dry-run counts wait longer than ordinary calls.
 */
const QUERY_CHECK_TIMEOUT_MS = 15 * 60_000;

export interface BackfillTarget {
  index: string[];
  timeField: string;
  /** Rules whose condition the script evaluates (the one-pass union). */
  rules: Rule[];
  /**
   * Rules that only have an original query (ee-outliers constructs the representation cannot
   * evaluate): each gets its own pass with that query, and the script tags unconditionally.
   */
  queryOnly: Rule[];
}

export interface BackfillOptions {
  index?: string[];
  since?: Date;
  until?: Date;
  timeField?: string;
  slices?: "auto" | number;
  requestsPerSecond?: number;
  batchSize?: number;
  json?: boolean;
  /** Fingerprint of the command's own arguments, for the resume file. */
  resumeKey?: string;
}

/** Groups rules by where they run, so each group is one `_update_by_query`. */
export function planTargets(rules: Rule[], opts: Pick<BackfillOptions, "index" | "timeField">): BackfillTarget[] {
  const byKey = new Map<string, BackfillTarget>();
  for (const rule of rules) {
    const index = opts.index?.length ? opts.index : rule.index;
    const timeField = opts.timeField ?? rule.timeField ?? "@timestamp";
    const key = JSON.stringify([[...index].sort(), timeField]);
    let t = byKey.get(key);
    if (!t) byKey.set(key, (t = { index, timeField, rules: [], queryOnly: [] }));
    if (rule.liveUnsupported && rule.backfillOnlyQuery !== undefined) t.queryOnly.push(rule);
    else t.rules.push(rule);
  }
  return [...byKey.values()];
}

/** The name of the field that holds rule ids on these indices (keyword, or a text field's `.keyword`). */
export async function ruleIdField(cluster: Cluster, index: string[]): Promise<string> {
  const r: any = await call(cluster, "read field capabilities", () =>
    // `fields` in the query string: the 8.x client would send it in the body, which 7.x ignores.
    cluster.client.fieldCaps({ index, ignore_unavailable: true, allow_no_indices: true } as any, { querystring: { fields: "outliers.rule_id,outliers.rule_id.keyword" } } as any),
  );
  const types = Object.keys(r.fields?.["outliers.rule_id"] ?? {});
  if (types.length === 0 || types.every((t) => t === "keyword")) return "outliers.rule_id";
  if (r.fields?.["outliers.rule_id.keyword"]) return "outliers.rule_id.keyword";
  return "outliers.rule_id";
}

/**
 * How far a rule's candidate query is widened. The query only selects candidates; the shared
 * Painless matcher decides, so a wider query costs time, never exactness.
 *   0  the rule's own query
 *   1  predicates the DSL cannot express become the constant that keeps a superset
 *   2  term-level predicates only (guards, equals, numbers, exists, cidr, prefix): substring,
 *      wildcard, regex, keyword and fieldref tests are left to the script. Building thousands of
 *      leading-wildcard automata costs the cluster far more than the script's checks (one rule of
 *      hash lists took 125 s to build as a query), so this is the default prefilter
 *   3  everything in the window (the cluster refused even the term-level query)
 */
export type Relaxation = 0 | 1 | 2 | 3;

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

const DROP: Record<1 | 2, (p: Predicate) => boolean> = {
  1: notExpressible,
  2: (p) => !TERM_LEVEL.has(p.kind) || notExpressible(p),
};

/** The query that selects a rule's candidate events at a relaxation level (raised on EmitError). */
export function candidateQuery(rule: Rule, level: Relaxation = 0): { query: Record<string, unknown>; level: Relaxation } {
  if (rule.backfillOnlyQuery !== undefined) return { query: ruleQuery(rule), level: 0 };
  if (level === 0) {
    try {
      return { query: ruleQuery(rule), level: 0 };
    } catch (e) {
      if (!(e instanceof EmitError)) throw e;
      level = 1;
    }
  }
  if (level === 3) return { query: MATCH_ALL, level };
  const drop = DROP[level];
  const base = nodeToQuery(relaxForQuery(rule.condition, drop));
  const query = rule.whitelist ? andOf([base], [nodeToQuery(relaxForQuery(rule.whitelist, drop, false))]) : base;
  return { query, level };
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
    if (n > EXACT_PREFILTER_BUDGET) return 2;
  }
  return 0;
}

/** A rule's candidate query, narrowed to events that do not carry it yet. */
export function untaggedQuery(rule: Rule, idField: string, level: Relaxation = 0): Record<string, unknown> {
  return { bool: { filter: [candidateQuery(rule, level).query], must_not: [{ term: { [idField]: rule.id } }] } };
}

function windowed(query: object, timeField: string, opts: BackfillOptions): object {
  const range = timeRange(timeField, opts.since, opts.until);
  return range ? { bool: { filter: [range, query] } } : query;
}

/**
 * The candidate query of the broad rules (term-level or wider), as chosen for a target:
 *   union   the absorbed union of their term-level queries
 *   window  the whole time window: the union would select most of it anyway, or costs more to run
 *           than the script spends on the events it would spare (see `choosePrefilter`)
 */
export interface BroadPrefilter {
  kind: "union" | "window";
  query: object;
  /** Events in the window, and those the union selects (null when the cluster refused the union). */
  windowEvents: number;
  unionEvents: number | null;
  /** Milliseconds the cluster took to run the union once (it rebuilds it for every scroll page). */
  unionMillis: number | null;
}

/** What a target needs before it runs: the rule-id field, and each rule's validated relaxation. */
export interface PreparedTarget extends BackfillTarget {
  idField: string;
  levels: Map<string, Relaxation>;
  /** Per rule: the cluster's reason for each level it refused. */
  refused: Map<string, string>;
  /** The candidate query of the rules at level 2 or 3; undefined when there are none. */
  broad?: BroadPrefilter;
}

/** Events per scroll page of a backfill unless --batch-size says otherwise. */
export const DEFAULT_BATCH = 5000;
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
export function choosePrefilter(windowEvents: number, unionEvents: number, unionMillis: number, batch: number): "union" | "window" {
  const pages = Math.ceil(unionEvents / batch) + 1;
  const cost = pages * unionMillis;
  const saving = ((windowEvents - unionEvents) * SCRIPT_MICROS_PER_SPARED_EVENT) / 1000;
  return cost < saving ? "union" : "window";
}

async function countIn(cluster: Cluster, index: string[], query: object): Promise<{ count: number; millis: number } | { error: string }> {
  const t0 = Date.now();
  try {
    const r: any = await cluster.client.count({ index, ignore_unavailable: true, allow_no_indices: true, query } as any, { requestTimeout: QUERY_CHECK_TIMEOUT_MS });
    return { count: r.count, millis: Date.now() - t0 };
  } catch (e) {
    const body = (e as any)?.meta?.body?.error;
    if (body) return { error: String(body.root_cause?.[0]?.reason ?? body.reason ?? "refused").slice(0, 300) };
    throw e;
  }
}

/**
 * Runs candidate queries on the cluster (size 0, terminate_after 1) and widens the ones it refuses,
 * so that one rule the cluster cannot run never stops the pass for the others. Rules on exact
 * queries are checked one by one; the broad rules (level 2 and up) are checked together as their
 * union, and one by one only when the cluster refuses the union.
 */
export async function prepareTarget(cluster: Cluster, t: BackfillTarget, opts: BackfillOptions, start: Relaxation = 0): Promise<PreparedTarget> {
  const idField = await ruleIdField(cluster, t.index);
  const levels = new Map<string, Relaxation>();
  const refused = new Map<string, string>();
  const all = [...t.rules, ...t.queryOnly];
  for (const r of all) levels.set(r.id, candidateQuery(r, start).level);
  const isBroad = (r: Rule) => isBroadRule(levels, r);
  await validate(cluster, t, opts, idField, all.filter((r) => !isBroad(r)), levels, refused);
  let broadRules = t.rules.filter(isBroad);
  if (broadRules.length === 0) return { ...t, idField, levels, refused };

  const window = windowed(MATCH_ALL, t.timeField, opts);
  const win = await countIn(cluster, t.index, window);
  if ("error" in win) throw new Error(`${t.index.join(",")}: the cluster refuses the time window query: ${win.error}`);
  let unionQuery = broadUnion(levels, t.timeField, broadRules, opts);
  let union = await countIn(cluster, t.index, unionQuery);
  if ("error" in union) {
    // Find the rules the cluster refuses, widen them, and try the union again.
    await validate(cluster, t, opts, idField, broadRules, levels, refused);
    broadRules = t.rules.filter(isBroad);
    unionQuery = broadUnion(levels, t.timeField, broadRules, opts);
    union = await countIn(cluster, t.index, unionQuery);
  }
  let broad: BroadPrefilter;
  if ("error" in union) broad = { kind: "window", query: window, windowEvents: win.count, unionEvents: null, unionMillis: null };
  else {
    const kind = choosePrefilter(win.count, union.count, union.millis, opts.batchSize ?? DEFAULT_BATCH);
    broad = { kind, query: kind === "union" ? unionQuery : window, windowEvents: win.count, unionEvents: union.count, unionMillis: union.millis };
  }
  return { ...t, idField, levels, refused, broad };
}

/** A rule selected by the broad prefilter: term-level or wider, and not a query-only rule. */
function isBroadRule(levels: Map<string, Relaxation>, r: Rule): boolean {
  return (levels.get(r.id) ?? 0) >= 2 && r.backfillOnlyQuery === undefined;
}

/** Checks each rule's candidate query at its level, widening refused ones until the cluster accepts. */
async function validate(
  cluster: Cluster,
  t: BackfillTarget,
  opts: BackfillOptions,
  idField: string,
  rules: Rule[],
  levels: Map<string, Relaxation>,
  refused: Map<string, string>,
): Promise<void> {
  let pending = rules;
  while (pending.length) {
    const retry: Rule[] = [];
    for (let i = 0; i < pending.length; i += BATCH) {
      const batch = pending.slice(i, i + BATCH);
      const searches: object[] = [];
      for (const r of batch) {
        searches.push({ index: t.index, ignore_unavailable: true, allow_no_indices: true });
        searches.push({ size: 0, terminate_after: 1, query: windowed(untaggedQuery(r, idField, levels.get(r.id)), t.timeField, opts) });
      }
      const res: any = await call(cluster, "check rule queries", () => cluster.client.msearch({ searches } as any, { requestTimeout: QUERY_CHECK_TIMEOUT_MS }));
      res.responses.forEach((resp: any, j: number) => {
        if (!resp.error) return;
        const r = batch[j]!;
        const level = levels.get(r.id)!;
        const reason = String(resp.error.root_cause?.[0]?.reason ?? resp.error.reason ?? "refused").slice(0, 300);
        refused.set(r.id, reason);
        if (level >= 3 || r.backfillOnlyQuery !== undefined) throw new Error(`${r.source.path}: ${r.id}: the cluster refuses the rule's query: ${reason}`);
        levels.set(r.id, (level + 1) as Relaxation);
        retry.push(r);
      });
    }
    pending = retry;
  }
}

/**
 * The broad rules' union, deduplicated and absorbed (a clause implied by a broader one is dropped),
 * within the window. Their term-level queries collapse to a few logsource guards; "already carries
 * the rule" is left to the script, which records nothing twice and leaves such events untouched.
 * Per-rule narrowing would keep thousands of clauses, and 7.10 rebuilds the whole query for every
 * scroll page (measured: a 1.3 MB union ran at ~70 events/s on a million events).
 */
function broadUnion(levels: Map<string, Relaxation>, timeField: string, rules: Rule[], opts: BackfillOptions): object {
  const nodes = rules.map((r) => (levels.get(r.id) === 3 ? TRUE : relaxForQuery(r.condition, DROP[2])));
  return windowed(orOf(absorbed(nodes).map(nodeToQuery)), timeField, opts);
}

/**
 * The query of one pass, within the window: the union of each exact rule's query narrowed to
 * events that do not carry it yet (so a re-run selects only what is left), and the broad rules'
 * prefilter (`prepareTarget` chose it: their union, or the whole window).
 */
export function passQuery(t: PreparedTarget, rules: Rule[], opts: BackfillOptions): object {
  const narrowed: Record<string, unknown>[] = [];
  let broad = false;
  for (const r of rules) {
    if (isBroadRule(t.levels, r)) broad = true;
    else narrowed.push(untaggedQuery(r, t.idField, t.levels.get(r.id) ?? 0));
  }
  if (!broad) return windowed(orOf(narrowed), t.timeField, opts);
  if (!t.broad) throw new Error("passQuery: the target was not prepared for its broad rules (prepareTarget)");
  if (t.broad.kind === "window" || narrowed.length === 0) return t.broad.query;
  return { bool: { should: [windowed(orOf(narrowed), t.timeField, opts), t.broad.query], minimum_should_match: 1 } };
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

export interface RuleCount {
  id: string;
  title: string;
  count: number;
  /** The count is an upper bound: the rule's query needed relaxing (see `candidateQuery`). */
  upperBound?: boolean;
}

export interface PassResult extends UpdateTotals {
  index: string[];
  rules: number;
  label: string;
}

function fingerprint(parts: unknown): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 16);
}

export interface BackfillPass {
  label: string;
  rules: Rule[];
  query: object;
  script: ReturnType<typeof updateScript>;
}

/** The `_update_by_query` passes of a target: its rules in one pass, and one per query-only rule. */
export function planPasses(t: PreparedTarget, opts: BackfillOptions): BackfillPass[] {
  const passes: BackfillPass[] = [];
  if (t.rules.length > 0)
    passes.push({
      label: `backfill ${t.index.join(",")} (${t.rules.length} rules)`,
      rules: t.rules,
      query: passQuery(t, t.rules, opts),
      script: updateScript(t.rules),
    });
  for (const r of t.queryOnly) {
    // The original query decides; the script tags (whitelist still applied) without re-evaluating it.
    const tagOnly: Rule = { ...r, condition: TRUE, liveUnsupported: undefined, backfillOnlyQuery: undefined };
    passes.push({ label: `backfill ${r.id} (query only)`, rules: [r], query: passQuery(t, [r], opts), script: updateScript([tagOnly]) });
  }
  return passes;
}

/** Runs every pass of the backfill; stops early when one is cancelled (Ctrl-C). */
export async function runBackfill(cluster: Cluster, targets: PreparedTarget[], opts: BackfillOptions): Promise<PassResult[]> {
  const results: PassResult[] = [];
  for (const t of targets) {
    for (const p of planPasses(t, opts)) {
      const key = fingerprint([cluster.url, t.index, t.timeField, p.rules.map((r) => r.id), opts.resumeKey ?? ""]);
      const totals = await runUpdate(
        cluster,
        { index: t.index, query: p.query, script: p.script, slices: opts.slices, requestsPerSecond: opts.requestsPerSecond, batchSize: opts.batchSize ?? DEFAULT_BATCH },
        { label: p.label, json: opts.json, resumeFile: join(stateDir(), "backfill", `${key}.json`) },
      );
      results.push({ ...totals, index: t.index, rules: p.rules.length, label: p.label });
      if (totals.cancelled) return results;
    }
  }
  return results;
}

/** Per rule, how many events in the window carry it now (after a run). */
export async function countTagged(cluster: Cluster, targets: PreparedTarget[], opts: BackfillOptions): Promise<RuleCount[]> {
  const out: RuleCount[] = [];
  for (const t of targets) {
    const all = [...t.rules, ...t.queryOnly];
    const res: any = await call(cluster, "count tagged events", () =>
      cluster.client.search({
        index: t.index,
        ignore_unavailable: true,
        allow_no_indices: true,
        size: 0,
        query: windowed({ terms: { [t.idField]: all.map((r) => r.id) } }, t.timeField, opts),
        aggs: { rules: { terms: { field: t.idField, size: Math.max(all.length, 1) } } },
      } as any),
    );
    const counts = new Map<string, number>();
    for (const b of res.aggregations?.rules?.buckets ?? []) counts.set(String(b.key), b.doc_count);
    for (const r of all) out.push({ id: r.id, title: r.title, count: counts.get(r.id) ?? 0 });
  }
  return out;
}
