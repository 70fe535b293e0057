/** `outliers untag`: remove the tags this tool wrote, for some rules or all, and nothing else. */
import type { Command } from "commander";
import { addConnectionOptions, connect, connectionFrom } from "../cluster/connection/client.ts";
import { countUntag, oldTaggerWarnings, runUntag, untagQuery } from "../cluster/history/untag.ts";
import { countPerIndex, describeTarget, formatPerIndex, resolveTarget } from "../cluster/connection/targets.ts";
import { resolveRuleRefs } from "../cluster/history/rule-refs.ts";
import { UsageError } from "../util/errors.ts";
import { warn } from "../util/warn.ts";
import { readWiring } from "../cluster/live/wired.ts";
import { checkIndexPatterns, searchTargets } from "../cluster/connection/guards.ts";
import { discoverFields } from "../cluster/connection/field-discovery.ts";
import { preflight, unknownRules } from "../cluster/history/preflight.ts";
import { parseTimeArg } from "../util/duration.ts";

export function register(program: Command): void {
  const cmd = program
    .command("untag")
    .description("remove tags this tool wrote (all rules, or those given with --rule), keeping every other field")
    .option("--rule <id|title|file...>", "only these rules: rule ids, exact rule titles, or rule files/folders/globs")
    .option("--all", "remove the tags of every rule this tool wrote (needed when no --rule is given)")
    .option(
      "--index <pattern...>",
      "indices to clean (default: the patterns pipeline --name is wired to, else winlogbeat-*)",
    )
    .option("--name <name>", "pipeline whose wired patterns are the target when no --index is given", "outliers")
    .option("--since <duration>", "only events newer than this: 30d, 12h or an ISO-8601 time")
    .option("--until <time>", "only events older than this")
    .option("--time-field <field>", "time field of the window", "@timestamp")
    .option("--dry-run", "count the events and tag entries that would be removed; write nothing")
    .option("--json", "print JSON only");
  addConnectionOptions(cmd);
  cmd.action(async (opts: Record<string, any>) => {
    const now = new Date();
    const since = opts.since ? parseTimeArg(opts.since, "--since", now) : undefined;
    const until = opts.until ? parseTimeArg(opts.until, "--until", now) : undefined;
    if (opts.all && opts.rule?.length) throw new UsageError("give either --rule or --all, not both");
    if (!opts.all && !opts.rule?.length)
      throw new UsageError(
        "untag without --rule would remove every rule's tags: name the rules with --rule ID|TITLE|FILE…, or give --all to remove them all",
      );
    if (opts.index) opts.index = searchTargets(checkIndexPatterns(opts.index));
    const cluster = await connect(connectionFrom(opts));
    const target = await resolveTarget(cluster, { index: opts.index, name: opts.name });
    if (!opts.index) opts.index = searchTargets(checkIndexPatterns(target.patterns));
    if (!opts.json) process.stderr.write(`outliers: ${describeTarget("untag: cleaning", target)}\n`);
    if (opts.rule?.length) {
      const refs = await resolveRuleRefs(cluster, opts.rule, { name: opts.name });
      if (!opts.json)
        for (const r of refs.filter((x) => x.how !== "id"))
          process.stderr.write(`outliers: --rule ${r.ref} (${r.how}): ${r.ids.join(", ")}\n`);
      opts.rule = [...new Set(refs.flatMap((r) => r.ids))];
    }
    // A typo (index, time field, window, rule id) is a warning and exit 1, never "0 cleaned, done".
    const discovery = await discoverFields(cluster, opts.index);
    const checks = { patterns: opts.index, timeField: opts.timeField, since, until };
    const pre = await preflight(cluster, discovery, checks);
    // Writes to indices wired to our live tagger are marked so that it does not tag them again; an older
    // tagger without that check would, so its indices are left alone with a warning (src/cluster/live/wired.ts).
    const wiring = pre.stop ? { marked: {}, old: [] } : await readWiring(cluster, opts.index);
    const scope = { wired: wiring.marked, skip: wiring.old.map((o) => o.index) };
    const warnings = [
      ...pre.warnings,
      ...(pre.stop ? [] : await unknownRules(cluster, discovery, checks, opts.rule)),
      ...oldTaggerWarnings(wiring),
    ];
    if (!opts.json) for (const w of warnings) warn(w);
    const untagOpts = { index: opts.index, rules: opts.rule, since, until, timeField: opts.timeField, ...scope };
    // Which indices hold events to clean, and how many each: named before and after the run.
    const perIndex = pre.stop
      ? []
      : await countPerIndex(cluster, opts.index, await untagQuery(cluster, untagOpts, discovery));
    if (opts.dryRun) {
      const c = pre.stop
        ? { events: 0, entries: 0 }
        : await countUntag(
            cluster,
            { index: opts.index, rules: opts.rule, since, until, timeField: opts.timeField, ...scope },
            discovery,
          );
      if (opts.json)
        process.stdout.write(
          JSON.stringify({ dryRun: true, events: c.events, entries: c.entries, indices: perIndex, warnings }) + "\n",
        );
      else
        process.stdout.write(
          `untag --dry-run: would remove ${c.entries} tag entr${c.entries === 1 ? "y" : "ies"} written by outliers from ${c.events} event(s) (${formatPerIndex(perIndex)}); nothing written\n`,
        );
      if (warnings.length) process.exitCode = 1;
      return;
    }
    const t = pre.stop
      ? { cancelled: false, checked: 0, updated: 0, versionConflicts: 0, failures: [] as string[], millis: 0 }
      : await runUntag(
          cluster,
          {
            index: opts.index,
            rules: opts.rule,
            since,
            until,
            timeField: opts.timeField,
            json: Boolean(opts.json),
            ...scope,
          },
          discovery,
        );
    const out = {
      cancelled: t.cancelled,
      checked: t.checked,
      untagged: t.updated,
      versionConflictsRetried: t.versionConflicts,
      failures: t.failures,
      indices: perIndex,
      warnings,
    };
    if (opts.json) process.stdout.write(JSON.stringify(out) + "\n");
    else {
      process.stdout.write(
        `${t.cancelled ? "cancelled after" : "untag done:"} ${t.updated} event(s) cleaned of ${opts.rule?.length ? opts.rule.length + " rule(s)" : "all outliers rules"} in ${(t.millis / 1000).toFixed(1)}s (${formatPerIndex(perIndex)})\n`,
      );
      for (const f of t.failures.slice(0, 20)) process.stderr.write(`outliers: untag failure: ${f}\n`);
    }
    process.exitCode = t.cancelled ? 130 : t.failures.length || warnings.length ? 1 : 0;
  });
}
