/** `outliers backfill`: tag historical events with `_update_by_query`, using the live pipeline's rules. */
import type { Command } from "commander";
import { addConnectionOptions, connect, connectionFrom } from "../cluster/connection/client.ts";
import type { RuleCount } from "../cluster/history/backfill.ts";
import type { Relaxation } from "../cluster/history/backfill-queries.ts";
import type { BackfillOptions } from "../cluster/history/backfill-target.ts";
import {
  backfillRules,
  backfillSince,
  dryRunPrepared,
  executeBackfill,
  mapTagFields,
  prepareBackfill,
} from "../cluster/history/backfill-use-case.ts";
import { TAG_LAYOUTS, type TagLayout } from "../cluster/live/tag-mappings.ts";
import { formatSummary, ruleJson, summaryOf } from "./backfill-summary.ts";
import { parseTimeArg } from "../util/duration.ts";
import { checkIndexPatterns, searchTargets } from "../cluster/connection/guards.ts";
import { UsageError } from "../util/errors.ts";
import { addRuleOptions, loadRuleSet } from "./rule-set.ts";
import { formatSelection } from "./rule-selection.ts";
import { correlateOnCluster, type CorrelationRun } from "../cluster/history/correlate.ts";
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
    const guarded = backfillRules(set.rules, opts.index);
    for (const m of guarded.refused) process.stderr.write(`outliers: ${m}\n`);
    set.failed += guarded.refused.length;
    if (guarded.rules.length === 0) throw new UsageError("no rule left to backfill");
    const since = backfillSince(guarded.rules, opts.since ? parseTimeArg(opts.since, "--since", now) : undefined, now);
    const until = opts.until ? parseTimeArg(opts.until, "--until", now) : undefined;
    if (opts.prefilter !== "auto" && !(opts.prefilter in PREFILTERS))
      throw new UsageError(`--prefilter ${opts.prefilter}: expected auto, terms, exact or window`);
    if (!TAG_LAYOUTS.includes(opts.tagMapping))
      throw new UsageError(`--tag-mapping ${opts.tagMapping}: expected ${TAG_LAYOUTS.join(" or ")}`);
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
      tagLayout: opts.tagMapping,
      forceUnion: opts.prefilter === "terms",
    };
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
    const p = await prepareBackfill(
      cluster,
      guarded.rules,
      bopts,
      opts.prefilter === "auto" ? "auto" : PREFILTERS[opts.prefilter],
    );
    const { window, warnings, notes, widened, prefilter, tagsBefore } = p;
    if (p.showNotes && !opts.json) for (const n of notes) process.stderr.write(`outliers: note: ${n}\n`);
    if (!opts.json) for (const w of warnings) process.stderr.write(`outliers: warning: ${w}\n`);
    if (!opts.json)
      for (const w of widened)
        process.stderr.write(
          `outliers: rule ${w.id}: the cluster refused its query (${w.reason}); it is backfilled through a wider candidate query, tags unchanged\n`,
        );

    if (opts.dryRun) {
      if (set.correlations.length && !opts.json)
        process.stderr.write(
          `outliers: note: the dry run leaves out the ${set.correlations.length} correlation rule(s) (they need the base rules' tags)\n`,
        );
      const dry = await dryRunPrepared(cluster, p);
      const summary = summaryOf(true, window, p.targets.length, dry.checked, dry.events, dry.rules, tagsBefore);
      if (opts.json) {
        const { rules: _r, ...totals } = dry;
        process.stdout.write(
          JSON.stringify({
            dryRun: true,
            window,
            ...totals,
            newRuleHits: sum(dry.rules),
            failedRules: set.failed,
            selection: set.selection,
            warnings,
            notes,
            widened,
            prefilter,
            indices: await touchedIndices(cluster, p.targets, bopts),
            rules: summary.rules.map((r) => ruleJson(r, true)),
          }) + "\n",
        );
      } else {
        writeLines([...formatSelection(set.selection), ...formatSummary({ ...summary, failedEvents: dry.failed })]);
        writeLines([formatTouched(await touchedIndices(cluster, p.targets, bopts), true)]);
      }
      process.exitCode = set.failed > 0 || warnings.length > 0 ? 1 : 0;
      return;
    }

    const mapped = await mapTagFields(cluster, p);
    if (!opts.json) for (const l of mapped) process.stderr.write(`outliers: ${l}\n`);
    const run = await executeBackfill(cluster, p);
    const { cancelled, totals, tagged, added, countWarning } = run;
    if (countWarning) {
      warnings.push(countWarning);
      if (!opts.json) process.stderr.write(`outliers: warning: ${countWarning}\n`);
    }
    // Correlations (docs/correlations.md) read the base rules' tags, so they run after the passes.
    let correlated: CorrelationRun[] = [];
    if (!cancelled && set.correlations.length) {
      for (const r of set.correlations)
        if (!opts.index) r.index = searchTargets(checkIndexPatterns(r.index, "es_index"));
      correlated = await correlateOnCluster(cluster, set.correlations, {
        index: opts.index,
        since,
        until,
        json: Boolean(opts.json),
        tagLayout: bopts.tagLayout,
      });
    }
    const failures = [...run.failures, ...correlated.flatMap((c) => c.failures)];
    const summary = summaryOf(false, window, p.targets.length, totals.checked, totals.tagged, added, tagged);
    const touched = cancelled ? [] : await touchedIndices(cluster, p.targets, bopts).catch(() => []);
    if (opts.json) {
      process.stdout.write(
        JSON.stringify({
          window,
          cancelled,
          ...totals,
          newRuleHits: sum(added),
          failures,
          failedRules: set.failed,
          selection: set.selection,
          warnings,
          notes,
          tagMappings: mapped,
          widened,
          prefilter,
          indices: touched,
          rules: summary.rules.map((r) => ruleJson(r, false)),
          ...(correlated.length ? { correlations: correlated } : {}),
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
        writeLines([
          ...formatSelection(set.selection),
          ...formatSummary({
            ...summary,
            versionConflictsRetried: totals.versionConflictsRetried,
            seconds: totals.seconds,
            failedEvents: failures.length,
          }),
        ]);
      for (const c of correlated)
        process.stdout.write(
          `correlation ${c.id} (${c.title}): ${c.groupsFired} group(s) fired of ${c.groupsChecked} checked, ${c.tagged} event(s) newly tagged, ${(c.millis / 1000).toFixed(1)}s\n`,
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
