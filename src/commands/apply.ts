/** `outliers apply`: make live tagging and the history window match a rules folder (src/cluster/history/apply.ts). */
import type { Command } from "commander";
import { addConnectionOptions, connect, connectionFrom } from "../cluster/connection/client.ts";
import { runApply, type ApplyOutcome, type ApplyStep } from "../cluster/history/apply.ts";
import type { ApplyRuleRef } from "../cluster/history/apply-plan.ts";
import { backfillSince } from "../cluster/history/backfill-use-case.ts";
import { TAG_LAYOUTS, type TagLayout } from "../cluster/live/tag-mappings.ts";
import { parseTimeArg } from "../util/duration.ts";
import { UsageError } from "../util/errors.ts";
import { VERSION } from "../version.ts";
import { addRuleOptions, loadRuleSet, missingPlaceholders, placeholderHint } from "./rule-set.ts";

/** Rules named per step before "… and N more". */
const LISTED = 20;

export function register(program: Command): void {
  const cmd = program
    .command("apply")
    .description(
      "make the cluster match the rules folder: put the pipeline, untag removed and changed rules, backfill added and changed ones (resumable; nothing written when nothing changed)",
    )
    .argument("[paths...]", "rule files, folders or globs (default ./rules)")
    .option("--name <name>", "pipeline name", "outliers")
    .option("--index <pattern...>", "index patterns to wire and backfill (default: the rules' index patterns)")
    .option("--since <duration>", "history window to backfill: 30d, 12h, 15m or an ISO-8601 time")
    .option("--time-field <field>", "time field of the window (default @timestamp)")
    .option("--tag-mapping <keyword|ee-outliers>", "how to map tag fields an index does not map yet", "keyword")
    .option("--dry-run", "print the plan (per step, the rules and the events it would touch); write nothing")
    .option("--json", "print JSON only");
  addRuleOptions(cmd);
  addConnectionOptions(cmd);
  cmd.action(async (paths: string[], opts: Record<string, any>) => {
    const now = new Date();
    const set = loadRuleSet(paths, opts, Boolean(opts.json));
    if (set.rules.length === 0)
      throw new UsageError(`no rule compiled from ${paths.length ? paths.join(" ") : "./rules"}`);
    if (!TAG_LAYOUTS.includes(opts.tagMapping))
      throw new UsageError(`--tag-mapping ${opts.tagMapping}: expected ${TAG_LAYOUTS.join(" or ")}`);
    const since = backfillSince(set.rules, opts.since ? parseTimeArg(opts.since, "--since", now) : undefined, now);
    const cluster = await connect(connectionFrom(opts));
    const tty = !opts.json && process.stderr.isTTY;
    const outcome = await runApply(cluster, {
      name: opts.name,
      rules: set.rules,
      index: opts.index,
      since,
      timeField: opts.timeField,
      dryRun: Boolean(opts.dryRun),
      json: Boolean(opts.json),
      toolVersion: VERSION,
      guardCosts: set.profile.guardCosts,
      tagLayout: opts.tagMapping as TagLayout,
      log: tty ? (l) => process.stderr.write(`outliers: ${l}\n`) : undefined,
    });
    const failedRules = set.results.flatMap((r) =>
      r.status === "ok" ? [] : [{ path: r.path, id: r.id, status: r.status, error: r.error }],
    );
    const placeholders = missingPlaceholders(set.results);
    if (opts.json)
      process.stdout.write(JSON.stringify({ ...outcome, failedRules, missingPlaceholders: placeholders }) + "\n");
    else {
      for (const w of outcome.warnings) process.stderr.write(`outliers: warning: ${w}\n`);
      for (const s of outcome.skipped) process.stderr.write(`outliers: rule ${s.id} does not run live: ${s.reason}\n`);
      process.stdout.write(formatApply(outcome).join("\n") + "\n");
      if (failedRules.length)
        process.stdout.write(`${failedRules.length} rule(s) did not compile and were left out (listed above)\n`);
      const hint = placeholderHint(placeholders);
      if (hint) process.stdout.write(`${hint}\n`);
      for (const f of outcome.failures.slice(0, 20)) process.stderr.write(`outliers: apply failure: ${f}\n`);
    }
    process.exitCode = outcome.cancelled
      ? 130
      : outcome.failures.length || outcome.warnings.length || set.failed || outcome.skipped.length
        ? 1
        : 0;
  });
}

function name(r: ApplyRuleRef): string {
  return r.title ? `${r.title} (${r.id})` : r.id;
}

/** The plan or what was done: the rule changes, then per step its rules and the events it touched. */
export function formatApply(o: ApplyOutcome): string[] {
  const c = o.changes;
  const counts = `${c.added.length} added, ${c.changed.length} changed, ${c.removed.length} removed, ${c.unchanged.length} unchanged`;
  if (o.nothing)
    return [
      `nothing to change: pipeline ${o.name} version ${o.pipelineVersion} and its history match the rules (${counts}); nothing written`,
    ];
  const lines = [
    `${o.dryRun ? "dry run, nothing written; apply would do" : "apply done"}: pipeline ${o.name}, ${counts}${c.resumed ? " (finishing an interrupted apply)" : ""}`,
  ];
  const would = o.dryRun ? "would " : "";
  o.steps.forEach((s, i) => {
    lines.push(`  ${i + 1}. ${stepHead(s, o, would)}`);
    const marks = new Map<string, string>([
      ...c.added.map((r) => [r.id, "+"] as const),
      ...c.changed.map((r) => [r.id, "~"] as const),
      ...c.removed.map((r) => [r.id, "-"] as const),
    ]);
    const per = new Map((s.perRule ?? []).map((p) => [p.id, p.count]));
    for (const r of s.rules.slice(0, LISTED))
      lines.push(`     ${marks.get(r.id) ?? " "} ${name(r)}${per.has(r.id) ? `: ${per.get(r.id)} event(s)` : ""}`);
    if (s.rules.length > LISTED) lines.push(`     … and ${s.rules.length - LISTED} more (--json lists all)`);
  });
  if (o.cancelled) lines.push("cancelled: run the same command again to finish (the record keeps the plan)");
  else if (o.failures.length) lines.push("some writes failed: run the same command again to finish");
  return lines;
}

function stepHead(s: ApplyStep, o: ApplyOutcome, would: string): string {
  switch (s.step) {
    case "pipeline":
      return s.actions?.length
        ? `pipeline ${o.name} → version ${o.pipelineVersion}: ${would}${s.actions.length} change(s) (${s.actions.slice(0, 3).join("; ")}${s.actions.length > 3 ? "; …" : ""})`
        : `pipeline ${o.name} version ${o.pipelineVersion}: already up to date`;
    case "untag":
      return `untag ${s.rules.length} changed or removed rule(s), any time: ${would}clean ${s.events ?? 0} event(s)${s.entries !== undefined ? ` (${s.entries} tag entries)` : ""}`;
    case "backfill":
      return `backfill ${s.rules.length} added or changed rule(s) since ${o.since}: ${would}tag ${s.events ?? 0} event(s)`;
  }
}
