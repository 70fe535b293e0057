/**
 * The backfill use case, without the command line: which rules may run (guards), the window, each
 * target prepared on the cluster (mappings, preflight, candidate queries), then either the dry run's
 * counts or the tag mappings and the passes, with the tags counted before and after. `outliers
 * backfill` parses options and prints; `outliers apply` runs the same steps for the rules it backfills.
 * Rules are never changed in place: a rule whose index patterns are narrowed is a copy.
 */
import type { Rule } from "../../ir/types.ts";
import type { Cluster } from "../connection/client.ts";
import { discoverFields } from "../connection/field-discovery.ts";
import { checkIndexPatterns, guardRules, searchTargets } from "../connection/guards.ts";
import { UsageError } from "../../util/errors.ts";
import { countTagged, prepareTagMappings, runBackfill, type PassResult, type RuleCount } from "./backfill.ts";
import { autoPrefilter, type Relaxation } from "./backfill-queries.ts";
import { dryRunBackfill, type DryRunTotals } from "./backfill-dry-run.ts";
import { planTargets, prepareTarget, type BackfillOptions, type PreparedTarget } from "./backfill-target.ts";
import { preflight } from "./preflight.ts";

export type Prefilter = "auto" | Relaxation;

/**
 * The rules a backfill may run: refused ones (a query that runs code) are left out with their message,
 * and each rule's own index patterns (no explicit `index`) become search targets (a copy of the rule).
 */
export function backfillRules(rules: Rule[], index?: string[]): { rules: Rule[]; refused: string[] } {
  const guarded = guardRules(rules, Boolean(index));
  const kept = index
    ? guarded.rules
    : guarded.rules.map((r) => ({ ...r, index: searchTargets(checkIndexPatterns(r.index, "es_index")) }));
  return { rules: kept, refused: guarded.refused };
}

/** The window's start: `since` when given, else the longest history window the use cases set. */
export function backfillSince(rules: Rule[], since: Date | undefined, now: Date): Date {
  if (since) return since;
  const hours = rules.map((r) => r.historyWindowHours).filter((h): h is number => h !== undefined);
  if (hours.length === 0)
    throw new UsageError("--since is required (e.g. --since 30d) unless the use cases set history_window_days/hours");
  return new Date(now.getTime() - Math.max(...hours) * 3_600_000);
}

export interface PreparedBackfill {
  rules: Rule[];
  opts: BackfillOptions;
  targets: PreparedTarget[];
  window: { since: string; until: string | null };
  /** Problems worth exit 1 (an explicit index matching nothing, a time field missing…). */
  warnings: string[];
  /** Rule index patterns matching nothing (normal when a rule set spans products). */
  notes: string[];
  /** The notes are worth printing (false when they were promoted to warnings: nothing else to report). */
  showNotes: boolean;
  /** Rules whose exact query the cluster refused: backfilled through a wider candidate query. */
  widened: Array<{ id: string; reason: string }>;
  /** How the broad rules' candidates are selected, per target (see BroadPrefilter). */
  prefilter: Array<{ index: string[]; kind: string; windowEvents: number; unionEvents: number | null }>;
  /** What the window carries already (0 where the tag fields are not mapped yet). */
  tagsBefore: RuleCount[];
}

/**
 * Reads the real mappings of every target, runs the preflight checks and prepares each target's
 * candidate queries (the dry run selects candidates exactly as the run does: same counts, same cost).
 */
export async function prepareBackfill(
  cluster: Cluster,
  rules: Rule[],
  opts: BackfillOptions,
  prefilter: Prefilter,
): Promise<PreparedBackfill> {
  const start: Relaxation = prefilter === "auto" ? autoPrefilter(rules) : prefilter;
  const targets: PreparedTarget[] = [];
  const warnings: string[] = [];
  // A rule's own index pattern (no explicit index) matching nothing is normal when the rule set spans
  // products; it only becomes a warning when no target has an index at all.
  const notes: string[] = [];
  for (const t of planTargets(rules, opts)) {
    // The real mappings first: the checks and every query are compiled for them.
    const discovery = await discoverFields(cluster, t.index);
    const pre = await preflight(cluster, discovery, {
      patterns: t.index,
      timeField: t.timeField,
      since: opts.since,
      until: opts.until,
    });
    if (!opts.index?.length && discovery.indices.length === 0) notes.push(...pre.warnings);
    else warnings.push(...pre.warnings);
    if (!pre.stop) targets.push(await prepareTarget(cluster, t, opts, start, discovery));
  }
  const showNotes = !(targets.length === 0 && warnings.length === 0);
  if (!showNotes) warnings.push(...notes);
  return {
    rules,
    opts,
    targets,
    window: { since: opts.since!.toISOString(), until: opts.until?.toISOString() ?? null },
    warnings,
    notes,
    showNotes,
    widened: targets.flatMap((t) => [...t.refused].map(([id, reason]) => ({ id, reason }))),
    prefilter: targets.flatMap((t) =>
      t.broad
        ? [{ index: t.index, kind: t.broad.kind, windowEvents: t.broad.windowEvents, unionEvents: t.broad.unionEvents }]
        : [],
    ),
    tagsBefore: await countTagged(cluster, targets, opts).catch(() => [] as RuleCount[]),
  };
}

/** What a run would write (same candidates, same matcher), writing nothing. */
export function dryRunPrepared(cluster: Cluster, p: PreparedBackfill): Promise<DryRunTotals> {
  return dryRunBackfill(cluster, p.targets, p.opts);
}

/** Before the first write: the tag fields get mappings wherever they are unmapped (one line per index changed). */
export function mapTagFields(cluster: Cluster, p: PreparedBackfill): Promise<string[]> {
  return prepareTagMappings(cluster, p.targets, p.opts.tagLayout);
}

export interface BackfillOutcome {
  passes: PassResult[];
  cancelled: boolean;
  failures: string[];
  totals: { checked: number; tagged: number; versionConflictsRetried: number; slices: number; seconds: number };
  /** Per rule, the tags the window carries after the run (empty when cancelled or not countable). */
  tagged: RuleCount[];
  /** Per rule, the tags the run added. */
  added: RuleCount[];
  /** Set when the tags were written but counting them failed. */
  countWarning?: string;
}

/** Runs every pass and counts what the window carries afterwards. */
export async function executeBackfill(cluster: Cluster, p: PreparedBackfill): Promise<BackfillOutcome> {
  const passes = await runBackfill(cluster, p.targets, p.opts);
  const cancelled = passes.some((x) => x.cancelled);
  const failures = passes.flatMap((x) => x.failures);
  const totals = {
    checked: passes.reduce((a, x) => a + x.checked, 0),
    tagged: passes.reduce((a, x) => a + x.updated, 0),
    versionConflictsRetried: passes.reduce((a, x) => a + x.versionConflicts, 0),
    slices: passes.reduce((a, x) => Math.max(a, x.slices), 1),
    seconds: passes.reduce((a, x) => a + x.millis, 0) / 1000,
  };
  // Tags are written: whatever the counting meets, the result stands.
  let tagged: RuleCount[] = [];
  let countWarning: string | undefined;
  if (!cancelled)
    tagged = await countTagged(cluster, p.targets, p.opts).catch((e) => {
      countWarning = `tags written, but counting them failed: ${(e as Error).message}`;
      return [];
    });
  return { passes, cancelled, failures, totals, tagged, added: addedTags(p.tagsBefore, tagged), countWarning };
}

/** Per rule, the tags a run added: carried after minus carried before (same window, same rules). */
export function addedTags(before: RuleCount[], after: RuleCount[]): RuleCount[] {
  const was = new Map(before.map((c) => [c.id, c.count]));
  return after.map((c) => ({ id: c.id, title: c.title, count: Math.max(0, c.count - (was.get(c.id) ?? 0)) }));
}
