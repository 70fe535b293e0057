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
import { andOf, EmitError, MATCH_ALL, nodeToQuery, orOf, predicateQuery, ruleQuery, type Mapped } from "../emit/dsl.ts";
import type { FieldIndex } from "../emit/field-index.ts";
import { updateScript } from "../emit/painless/pipeline.ts";
import { call, type Cluster } from "./client.ts";
import { carriesRule, discoverFields, ruleIdFields, type Discovery, type IdField } from "./field-discovery.ts";
import { ensureTagMappings, type TagLayout } from "./tag-mappings.ts";
import { runUpdate, stateDir, type UpdateTotals } from "./update-task.ts";
import { readWiring } from "./wired.ts";
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
  /** How the tag fields are mapped where they are not yet (default keyword). */
  tagLayout?: TagLayout;
  /** `--prefilter terms` asked for explicitly: the broad rules' union is used even where the window would be cheaper. */
  forceUnion?: boolean;
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

/**
 * The name of the field that holds rule ids on these indices (keyword, or a text field's keyword
 * sub-field), from their real mappings. Where indices differ, see `ruleIdFields` / `carriesRule`.
 */
export async function ruleIdField(cluster: Cluster, index: string[]): Promise<string> {
  return ruleIdFields(await discoverFields(cluster, index))[0]!.field;
}

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
function isBroadLevel(level: Relaxation): boolean {
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

const DROP: Record<"expressible" | "terms", (p: Predicate) => boolean> = {
  expressible: notExpressible,
  terms: (p) => !TERM_LEVEL.has(p.kind) || notExpressible(p),
};

/** A superset-mode emit context on the real mappings, recording the fields it had to widen. */
export function mappedFor(fields: FieldIndex | undefined, widened?: string[]): Mapped | undefined {
  if (!fields) return undefined;
  return { fields, upper: true, widened: widened ? (f, why) => void (widened.includes(`${f}: ${why}`) || widened.push(`${f}: ${why}`)) : undefined };
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
  const query = rule.whitelist ? andOf([base], [nodeToQuery(relaxForQuery(rule.whitelist, drop, false), m && { ...m, upper: false })]) : base;
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
export function untaggedQuery(rule: Rule, idFields: IdField[], level: Relaxation = "exact", fields?: FieldIndex): Record<string, unknown> {
  return { bool: { filter: [candidateQuery(rule, level, fields).query], must_not: [carriesRule(idFields, [rule.id])] } };
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

/** What a target needs before it runs: its real mappings, the rule-id field(s), and each rule's validated relaxation. */
export interface PreparedTarget extends BackfillTarget {
  discovery: Discovery;
  idFields: IdField[];
  /** Per rule: the fields its candidate query widened for the real mappings (absent: exact). */
  mappingWidened: Map<string, string[]>;
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
export async function prepareTarget(
  cluster: Cluster,
  t: BackfillTarget,
  opts: BackfillOptions,
  start: Relaxation = "exact",
  discovery?: Discovery,
): Promise<PreparedTarget> {
  const d = discovery ?? (await discoverFields(cluster, t.index));
  const fields = d.fields;
  const idFields = ruleIdFields(d);
  const levels = new Map<string, Relaxation>();
  const refused = new Map<string, string>();
  const mappingWidened = new Map<string, string[]>();
  const all = [...t.rules, ...t.queryOnly];
  for (const r of all) {
    const c = candidateQuery(r, start, fields);
    levels.set(r.id, c.level);
    if (c.widened.length) mappingWidened.set(r.id, c.widened);
  }
  const isBroad = (r: Rule) => isBroadRule(levels, r);
  const base = { ...t, discovery: d, idFields, mappingWidened };
  await validate(cluster, t, opts, idFields, fields, all.filter((r) => !isBroad(r)), levels, refused);
  let broadRules = t.rules.filter(isBroad);
  if (broadRules.length === 0) return { ...base, levels, refused };

  const window = windowed(MATCH_ALL, t.timeField, opts);
  const win = await countIn(cluster, t.index, window);
  if ("error" in win) throw new Error(`${t.index.join(",")}: the cluster refuses the time window query: ${win.error}`);
  let unionQuery = broadUnion(levels, t.timeField, broadRules, opts, fields);
  let union = await countIn(cluster, t.index, unionQuery);
  if ("error" in union) {
    // Find the rules the cluster refuses, widen them, and try the union again.
    await validate(cluster, t, opts, idFields, fields, broadRules, levels, refused);
    broadRules = t.rules.filter(isBroad);
    unionQuery = broadUnion(levels, t.timeField, broadRules, opts, fields);
    union = await countIn(cluster, t.index, unionQuery);
  }
  let broad: BroadPrefilter;
  if ("error" in union) broad = { kind: "window", query: window, windowEvents: win.count, unionEvents: null, unionMillis: null };
  else {
    const kind = opts.forceUnion ? "union" : choosePrefilter(win.count, union.count, union.millis, opts.batchSize ?? DEFAULT_BATCH);
    broad = { kind, query: kind === "union" ? unionQuery : window, windowEvents: win.count, unionEvents: union.count, unionMillis: union.millis };
  }
  return { ...base, levels, refused, broad };
}

/** A rule selected by the broad prefilter: term-level or wider, and not a query-only rule. */
function isBroadRule(levels: Map<string, Relaxation>, r: Rule): boolean {
  return isBroadLevel(levels.get(r.id) ?? "exact") && r.backfillOnlyQuery === undefined;
}

/** Checks each rule's candidate query at its level, widening refused ones until the cluster accepts. */
async function validate(
  cluster: Cluster,
  t: BackfillTarget,
  opts: BackfillOptions,
  idFields: IdField[],
  fields: FieldIndex,
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
        searches.push({ size: 0, terminate_after: 1, query: windowed(untaggedQuery(r, idFields, levels.get(r.id), fields), t.timeField, opts) });
      }
      const res: any = await call(cluster, "check rule queries", () => cluster.client.msearch({ searches } as any, { requestTimeout: QUERY_CHECK_TIMEOUT_MS }));
      res.responses.forEach((resp: any, j: number) => {
        if (!resp.error) return;
        const r = batch[j]!;
        const level = levels.get(r.id)!;
        const reason = String(resp.error.root_cause?.[0]?.reason ?? resp.error.reason ?? "refused").slice(0, 300);
        refused.set(r.id, reason);
        if (level === "window" || r.backfillOnlyQuery !== undefined) throw new Error(`${r.source.path}: ${r.id}: the cluster refuses the rule's query: ${reason}`);
        levels.set(r.id, wider(level));
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
function broadUnion(levels: Map<string, Relaxation>, timeField: string, rules: Rule[], opts: BackfillOptions, fields: FieldIndex): object {
  const nodes = rules.map((r) => (levels.get(r.id) === "window" ? TRUE : relaxForQuery(r.condition, DROP.terms)));
  const m = mappedFor(fields);
  return windowed(orOf(absorbed(nodes).map((n) => nodeToQuery(n, m))), timeField, opts);
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
    else narrowed.push(untaggedQuery(r, t.idFields, t.levels.get(r.id) ?? "exact", t.discovery.fields));
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
  /**
   * The count is an upper bound: the rule's query needed relaxing (see `candidateQuery`), or the
   * indices' mappings cannot answer one of its predicates exactly (`widened` names the fields).
   */
  upperBound?: boolean;
  widened?: string[];
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
    // Writes to indices wired to our live tagger are marked so that it does not tag them a second time
    // (src/emit/painless/rewrite.ts); an older tagger without the check tags them again (idempotent).
    const wired = (await readWiring(cluster, t.index)).marked;
    for (const p of planPasses(t, opts)) {
      const key = fingerprint([cluster.url, t.index, t.timeField, p.rules.map((r) => r.id), opts.resumeKey ?? ""]);
      const script = Object.keys(wired).length ? { ...p.script, params: { ...p.script.params, wired } } : p.script;
      const totals = await runUpdate(
        cluster,
        { index: t.index, query: p.query, script, slices: opts.slices, requestsPerSecond: opts.requestsPerSecond, batchSize: opts.batchSize ?? DEFAULT_BATCH },
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
    const counts = new Map<string, number>();
    // One aggregation per way the indices hold rule ids (keyword, or ee-outliers' text + .keyword).
    for (const f of t.idFields) {
      const filter: object[] = [{ terms: { [f.field]: all.map((r) => r.id) } }];
      if (f.indices) filter.push({ terms: { _index: f.indices } });
      const res: any = await call(cluster, "count tagged events", () =>
        cluster.client.search({
          index: t.index,
          ignore_unavailable: true,
          allow_no_indices: true,
          size: 0,
          query: windowed({ bool: { filter } }, t.timeField, opts),
          aggs: { rules: { terms: { field: f.field, size: Math.max(all.length, 1) } } },
        } as any),
      );
      for (const b of res.aggregations?.rules?.buckets ?? []) counts.set(String(b.key), (counts.get(String(b.key)) ?? 0) + b.doc_count);
    }
    for (const r of all) out.push({ id: r.id, title: r.title, count: counts.get(r.id) ?? 0 });
  }
  return out;
}

/**
 * Before the first write: keyword mappings for the tag fields on every target index that does not
 * map them yet (an index mapping them already, e.g. ee-outliers' text + `.keyword`, is left as it is
 * and its `.keyword` used for counts). Returns one line per index changed or blocked.
 */
export async function prepareTagMappings(cluster: Cluster, targets: PreparedTarget[], layout: TagLayout = "keyword"): Promise<string[]> {
  const lines: string[] = [];
  const done = new Set<string>();
  for (const t of targets) {
    const extra = [...new Set([...t.rules, ...t.queryOnly].flatMap((r) => Object.keys(r.tagsOut.extra)))];
    const todo = new Map([...t.discovery.raw].filter(([ix]) => !done.has(ix)));
    for (const ix of todo.keys()) done.add(ix);
    const changed = await ensureTagMappings(
      (index, properties) =>
        call(cluster, `map the tag fields on ${index}`, () => cluster.client.indices.putMapping({ index, properties } as any)).then(() => undefined),
      todo,
      extra,
      layout,
    );
    for (const c of changed) {
      if (c.fields.length) lines.push(`${c.index}: mapped ${c.fields.join(", ")} (${layout})`);
      if (c.blocked.length) lines.push(`${c.index}: cannot map ${c.blocked.join(", ")}: a parent field is mapped as a value`);
    }
  }
  return lines;
}
