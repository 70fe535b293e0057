/**
 * Backfill targets: the rules grouped by where they run (index set, time field), and each target
 * prepared on the cluster before it runs: its real mappings, the rule-id field(s), every rule's
 * candidate query checked (and widened where refused), and the broad rules' prefilter chosen (their
 * union or the bare window). `passQuery` is a pass's query from a prepared target.
 */
import type { Rule } from "../../ir/types.ts";
import { TRUE } from "../../ir/build.ts";
import { MATCH_ALL, nodeToQuery, orOf } from "../../emit/dsl.ts";
import type { FieldIndex } from "../../emit/field-index.ts";
import { call, type Cluster } from "../connection/client.ts";
import { discoverFields, ruleIdFields, type Discovery, type IdField } from "../connection/field-discovery.ts";
import type { TagLayout } from "../live/tag-mappings.ts";
import { timeRange } from "../../util/duration.ts";
import { clip } from "../../util/redact.ts";
import {
  absorbed,
  candidateQuery,
  choosePrefilter,
  DROP,
  isBroadLevel,
  mappedFor,
  relaxForQuery,
  untaggedQuery,
  wider,
  type Relaxation,
} from "./backfill-queries.ts";

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
  /** The mapping profile's guard field costs, for the update script's index keys (Profile.guardCosts). */
  guardCosts?: Readonly<Record<string, number>>;
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

/** `query` within the run's time window on `timeField`. */
export function windowed(query: object, timeField: string, opts: BackfillOptions): object {
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
async function countIn(
  cluster: Cluster,
  index: string[],
  query: object,
): Promise<{ count: number; millis: number } | { error: string }> {
  const t0 = Date.now();
  try {
    const r: any = await cluster.client.count(
      { index, ignore_unavailable: true, allow_no_indices: true, query } as any,
      { requestTimeout: QUERY_CHECK_TIMEOUT_MS },
    );
    return { count: r.count, millis: Date.now() - t0 };
  } catch (e) {
    const body = (e as any)?.meta?.body?.error;
    if (body) return { error: clip(String(body.root_cause?.[0]?.reason ?? body.reason ?? "refused"), 300) };
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
  await validate(
    cluster,
    t,
    opts,
    idFields,
    fields,
    all.filter((r) => !isBroad(r)),
    levels,
    refused,
  );
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
  if ("error" in union)
    broad = { kind: "window", query: window, windowEvents: win.count, unionEvents: null, unionMillis: null };
  else {
    const kind = opts.forceUnion
      ? "union"
      : choosePrefilter(win.count, union.count, union.millis, opts.batchSize ?? DEFAULT_BATCH);
    broad = {
      kind,
      query: kind === "union" ? unionQuery : window,
      windowEvents: win.count,
      unionEvents: union.count,
      unionMillis: union.millis,
    };
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
        searches.push({
          size: 0,
          terminate_after: 1,
          query: windowed(untaggedQuery(r, idFields, levels.get(r.id), fields), t.timeField, opts),
        });
      }
      const res: any = await call(cluster, "check rule queries", () =>
        cluster.client.msearch({ searches } as any, { requestTimeout: QUERY_CHECK_TIMEOUT_MS }),
      );
      res.responses.forEach((resp: any, j: number) => {
        if (!resp.error) return;
        const r = batch[j]!;
        const level = levels.get(r.id)!;
        const reason = clip(String(resp.error.root_cause?.[0]?.reason ?? resp.error.reason ?? "refused"), 300);
        refused.set(r.id, reason);
        if (level === "window" || r.backfillOnlyQuery !== undefined)
          throw new Error(`${r.source.path}: ${r.id}: the cluster refuses the rule's query: ${reason}`);
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
function broadUnion(
  levels: Map<string, Relaxation>,
  timeField: string,
  rules: Rule[],
  opts: BackfillOptions,
  fields: FieldIndex,
): object {
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
