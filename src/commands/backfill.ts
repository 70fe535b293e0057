/** `outliers backfill`: tag historical events with `_update_by_query`, using the live pipeline's rules. */
import type { Command } from "commander";
import { addConnectionOptions, connect, connectionFrom } from "../cluster/connection/client.ts";
import { countTagged, prepareTagMappings, runBackfill, type RuleCount } from "../cluster/history/backfill.ts";
import { autoPrefilter, type Relaxation } from "../cluster/history/backfill-queries.ts";
import {
  planTargets,
  prepareTarget,
  type BackfillOptions,
  type PreparedTarget,
} from "../cluster/history/backfill-target.ts";
import { dryRunBackfill } from "../cluster/history/backfill-dry-run.ts";
import { discoverFields } from "../cluster/connection/field-discovery.ts";
import { preflight } from "../cluster/history/preflight.ts";
import { TAG_LAYOUTS, type TagLayout } from "../cluster/live/tag-mappings.ts";
import { addedTags, formatSummary, ruleJson, summaryOf } from "./backfill-summary.ts";
import { parseTimeArg } from "../util/duration.ts";
import { checkIndexPatterns, guardRules, searchTargets } from "../cluster/connection/guards.ts";
import { UsageError } from "../util/errors.ts";
import { addRuleOptions, loadRuleSet } from "./rule-set.ts";
import { describeTarget, resolveTarget } from "../cluster/connection/targets.ts";
import { formatTouched, touchedIndices } from "../cluster/history/touched.ts";

/** The options commander hands the action (connection and rule options are read by their own helpers). */
interface BackfillCliOptions {
  since?: string;
  until?: string;
  index?: string[];
  timeField?: string;
  requestsPerSecond?: number;
  slices?: "auto" | number;
  batchSize?: number;
  prefilter: "auto" | "terms" | "exact" | "window";
  tagMapping: TagLayout;
  dryRun?: boolean;
  json?: boolean;
  mapping?: string;
  placeholders?: string;
  [connection: string]: unknown;
}

const PREFILTERS: Record<Exclude<BackfillCliOptions["prefilter"], "auto">, Relaxation> = {
  exact: "exact",
  terms: "terms",
  window: "window",
};

export function register(program: Command): void {
  const cmd = program
    .command("backfill")
    .description("tag historical events exactly as the live pipeline would have (one _update_by_query pass, resumable)")
    .argument("[paths...]", "rule files, folders or globs (default ./rules)")
    .option(
      "--since <duration>",
      "start of the window: 30d, 12h, 15m or an ISO-8601 time (default: the use case's history window)",
    )
    .option("--until <time>", "end of the window (duration ago or ISO-8601 time; default now)")
    .option(
      "--index <pattern...>",
      "indices to backfill (default: the patterns pipeline --name is wired to, else the rules' index patterns)",
    )
    .option(
      "--name <name>",
      "tagging pipeline whose wired patterns are the target when no --index is given",
      "outliers",
    )
    .option("--time-field <field>", "time field of the window (default @timestamp, or the use case's timestamp_field)")
    .option("--requests-per-second <n>", "throttle the update (default unthrottled)", (v) =>
      positiveNumber(v, "--requests-per-second"),
    )
    .option("--slices <n|auto>", "parallel slices of the update (default auto)", (v) =>
      v === "auto" ? "auto" : positiveNumber(v, "--slices"),
    )
    .option("--batch-size <n>", "events per scroll batch (default 5000)", (v) => positiveNumber(v, "--batch-size"))
    .option(
      "--prefilter <auto|terms|exact|window>",
      "candidate query: each rule's exact query, its term-level parts only (the script decides the rest; their union even where the window would be cheaper), every event of the window, or auto: exact for a few rules, terms for many (the window when their union would select most of it)",
      "auto",
    )
    .option(
      "--tag-mapping <keyword|ee-outliers>",
      "how to map tag fields an index does not map yet: keyword, or ee-outliers (keyword + a .keyword sub-field, for dashboards on outliers.type.keyword / tags.keyword)",
      "keyword",
    )
    .option(
      "--dry-run",
      "count what a run would write (same candidates, same matcher, no writes): events to tag and new tags per rule",
    )
    .option("--json", "print JSON only");
  addRuleOptions(cmd);
  addConnectionOptions(cmd);
  cmd.action(async (paths: string[], opts: BackfillCliOptions) => {
    const now = new Date();
    const set = loadRuleSet(paths, opts);
    if (set.rules.length === 0) throw new UsageError("no rule compiled; nothing to backfill");
    // The guards install applies too (src/cluster/connection/guards.ts): no every-index or hidden patterns, no code on the cluster.
    if (opts.index) opts.index = searchTargets(checkIndexPatterns(opts.index));
    const guarded = guardRules(set.rules, Boolean(opts.index));
    for (const m of guarded.refused) process.stderr.write(`outliers: ${m}\n`);
    set.failed += guarded.refused.length;
    set.rules = guarded.rules;
    for (const r of set.rules) if (!opts.index) r.index = searchTargets(checkIndexPatterns(r.index, "es_index"));
    if (set.rules.length === 0) throw new UsageError("no rule left to backfill");
    let since = opts.since ? parseTimeArg(opts.since, "--since", now) : undefined;
    if (!since) {
      const hours = set.rules.map((r) => r.historyWindowHours).filter((h): h is number => h !== undefined);
      if (hours.length === 0)
        throw new UsageError(
          "--since is required (e.g. --since 30d) unless the use cases set history_window_days/hours",
        );
      since = new Date(now.getTime() - Math.max(...hours) * 3_600_000);
    }
    const until = opts.until ? parseTimeArg(opts.until, "--until", now) : undefined;
    const bopts: BackfillOptions = {
      index: opts.index,
      since,
      until,
      timeField: opts.timeField,
      slices: opts.slices ?? "auto",
      requestsPerSecond: opts.requestsPerSecond,
      batchSize: opts.batchSize,
      json: Boolean(opts.json),
      resumeKey: JSON.stringify([opts.since ?? null, opts.until ?? null, opts.index ?? null, opts.timeField ?? null]),
      guardCosts: set.profile.guardCosts,
    };
    if (opts.prefilter !== "auto" && !(opts.prefilter in PREFILTERS))
      throw new UsageError(`--prefilter ${opts.prefilter}: expected auto, terms, exact or window`);
    if (!TAG_LAYOUTS.includes(opts.tagMapping))
      throw new UsageError(`--tag-mapping ${opts.tagMapping}: expected ${TAG_LAYOUTS.join(" or ")}`);
    bopts.tagLayout = opts.tagMapping;
    bopts.forceUnion = opts.prefilter === "terms";
    const cluster = await connect(connectionFrom(opts as Record<string, any>));
    // One default target for every command (src/cluster/connection/targets.ts), said out loud.
    const target = await resolveTarget(cluster, {
      index: opts.index,
      name: opts.name as string,
      rulePatterns: set.rules.flatMap((r) => r.index),
    });
    // (--index was checked above; wired patterns go through the same guards.)
    if (!target.perRule && !opts.index) bopts.index = searchTargets(checkIndexPatterns(target.patterns));
    if (!opts.json) process.stderr.write(`outliers: ${describeTarget("backfill:", target)}\n`);
    const targets: PreparedTarget[] = [];
    // The dry run selects candidates exactly as the run does (same prefilter, same matcher): same counts, same cost.
    const start: Relaxation = opts.prefilter === "auto" ? autoPrefilter(set.rules) : PREFILTERS[opts.prefilter];
    const warnings: string[] = [];
    // A rule's own index pattern (no --index) matching nothing is normal when the rule set spans
    // products; it only becomes a warning when no target has an index at all.
    const notes: string[] = [];
    for (const t of planTargets(set.rules, bopts)) {
      // The real mappings first: the checks and every query are compiled for them.
      const discovery = await discoverFields(cluster, t.index);
      const pre = await preflight(cluster, discovery, {
        patterns: t.index,
        timeField: t.timeField,
        since: bopts.since,
        until: bopts.until,
      });
      if (!opts.index?.length && discovery.indices.length === 0) notes.push(...pre.warnings);
      else warnings.push(...pre.warnings);
      if (!pre.stop) targets.push(await prepareTarget(cluster, t, bopts, start, discovery));
    }
    if (targets.length === 0 && warnings.length === 0) warnings.push(...notes);
    else if (!opts.json) for (const n of notes) process.stderr.write(`outliers: note: ${n}\n`);
    if (!opts.json) for (const w of warnings) process.stderr.write(`outliers: warning: ${w}\n`);
    const widened = targets.flatMap((t) => [...t.refused].map(([id, reason]) => ({ id, reason })));
    if (!opts.json)
      for (const w of widened)
        process.stderr.write(
          `outliers: rule ${w.id}: the cluster refused its query (${w.reason}); it is backfilled through a wider candidate query, tags unchanged\n`,
        );
    const window = { since: since.toISOString(), until: until?.toISOString() ?? null };
    // How the broad rules' candidates are selected, per target (see BroadPrefilter).
    const prefilter = targets.flatMap((t) =>
      t.broad
        ? [{ index: t.index, kind: t.broad.kind, windowEvents: t.broad.windowEvents, unionEvents: t.broad.unionEvents }]
        : [],
    );

    // What the window carries already (0 where the tag fields are not mapped yet).
    const tagsBefore = await countTagged(cluster, targets, bopts).catch(() => [] as RuleCount[]);

    if (opts.dryRun) {
      const dry = await dryRunBackfill(cluster, targets, bopts);
      const summary = summaryOf(true, window, targets.length, dry.checked, dry.events, dry.rules, tagsBefore);
      if (opts.json) {
        const { rules: _r, ...totals } = dry;
        process.stdout.write(
          JSON.stringify({
            dryRun: true,
            window,
            ...totals,
            newRuleHits: sum(dry.rules),
            failedRules: set.failed,
            warnings,
            notes,
            widened,
            prefilter,
            indices: await touchedIndices(cluster, targets, bopts),
            rules: summary.rules.map((r) => ruleJson(r, true)),
          }) + "\n",
        );
      } else {
        writeLines(formatSummary({ ...summary, failedEvents: dry.failed }));
        writeLines([formatTouched(await touchedIndices(cluster, targets, bopts), true)]);
      }
      process.exitCode = set.failed > 0 || warnings.length > 0 ? 1 : 0;
      return;
    }

    // Before the first write: the tag fields get keyword mappings wherever they are unmapped.
    const mapped = await prepareTagMappings(cluster, targets, bopts.tagLayout);
    if (!opts.json) for (const l of mapped) process.stderr.write(`outliers: ${l}\n`);
    const passes = await runBackfill(cluster, targets, bopts);
    const cancelled = passes.some((p) => p.cancelled);
    const failures = passes.flatMap((p) => p.failures);
    const totals = {
      checked: passes.reduce((a, p) => a + p.checked, 0),
      tagged: passes.reduce((a, p) => a + p.updated, 0),
      versionConflictsRetried: passes.reduce((a, p) => a + p.versionConflicts, 0),
      slices: passes.reduce((a, p) => Math.max(a, p.slices), 1),
      seconds: passes.reduce((a, p) => a + p.millis, 0) / 1000,
    };
    // Tags are written: whatever the counting meets, the result is printed and the exit is not 2.
    let tagged: RuleCount[] = [];
    if (!cancelled)
      tagged = await countTagged(cluster, targets, bopts).catch((e) => {
        warnings.push(`tags written, but counting them failed: ${(e as Error).message}`);
        if (!opts.json) process.stderr.write(`outliers: warning: ${warnings[warnings.length - 1]}\n`);
        return [];
      });
    const added = addedTags(tagsBefore, tagged);
    const summary = summaryOf(false, window, targets.length, totals.checked, totals.tagged, added, tagged);
    const touched = cancelled ? [] : await touchedIndices(cluster, targets, bopts).catch(() => []);
    if (opts.json) {
      process.stdout.write(
        JSON.stringify({
          window,
          cancelled,
          ...totals,
          newRuleHits: sum(added),
          failures,
          failedRules: set.failed,
          warnings,
          notes,
          tagMappings: mapped,
          widened,
          prefilter,
          indices: touched,
          rules: summary.rules.map((r) => ruleJson(r, false)),
        }) + "\n",
      );
    } else {
      const rate = totals.seconds > 0 ? Math.round(totals.checked / totals.seconds) : totals.checked;
      if (cancelled)
        process.stdout.write(
          `cancelled: the task was stopped on the cluster after ${totals.checked} event(s) checked, ${totals.tagged} newly tagged, ${totals.seconds.toFixed(1)}s (${rate}/s); ` +
            "run the same command again to finish (already tagged events are skipped)\n",
        );
      else
        writeLines(
          formatSummary({
            ...summary,
            versionConflictsRetried: totals.versionConflictsRetried,
            seconds: totals.seconds,
            failedEvents: failures.length,
          }),
        );
      if (!cancelled) writeLines([formatTouched(touched, false)]);
      for (const f of failures.slice(0, 20)) process.stderr.write(`outliers: backfill failure: ${f}\n`);
    }
    process.exitCode = cancelled ? 130 : failures.length > 0 || set.failed > 0 || warnings.length > 0 ? 1 : 0;
  });
}

function positiveNumber(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} ${JSON.stringify(v)}: expected a positive number`);
  return n;
}

function sum(counts: RuleCount[]): number {
  return counts.reduce((a, c) => a + c.count, 0);
}

function writeLines(lines: string[]): void {
  process.stdout.write(lines.join("\n") + "\n");
}
