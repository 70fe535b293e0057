/** `outliers untag`: remove the tags this tool wrote, for some rules or all, and nothing else. */
import type { Command } from "commander";
import { UsageError } from "../util/errors.ts";
import { addConnectionOptions, connect, connectionFrom } from "../cluster/connection/client.ts";
import { countPreparedUntag, executeUntag, prepareUntag } from "../cluster/history/untag-use-case.ts";
import { untagQuery } from "../cluster/history/untag.ts";
import { countPerIndex, describeTarget, formatPerIndex, resolveTarget } from "../cluster/connection/targets.ts";
import { resolveRuleRefs } from "../cluster/history/rule-refs.ts";
import { checkIndexPatterns, searchTargets } from "../cluster/connection/guards.ts";
import { parseTimeArg } from "../util/duration.ts";
import { warn } from "../util/warn.ts";
import { addRuleOptions } from "./rule-set.ts";
import { formatSelection } from "./rule-selection.ts";
import { ruleScope } from "./rule-scope.ts";

export function register(program: Command): void {
  const cmd = program
    .command("untag")
    .description("remove tags this tool wrote (all rules, or those given with --rule), keeping every other field")
    .argument(
      "[paths...]",
      "with a selection flag (--min-level …): only the tags of the rules selected from these (default ./rules)",
    )
    .option("--rule <id|title|file...>", "only these rules: rule ids, exact rule titles, or rule files/folders/globs")
    .option("--all", "remove the tags of every rule this tool wrote (needed when no --rule or selection is given)")
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
  addRuleOptions(cmd);
  addConnectionOptions(cmd);
  cmd.action(async (paths: string[], opts: Record<string, any>) => {
    const now = new Date();
    // Rule PATHS or a selection flag scope the untag to the selected rules (with --rule: those of them).
    const selected = ruleScope(paths, opts);
    if (opts.all && (opts.rule?.length || selected))
      throw new UsageError("give either --rule (or a rule selection) or --all, not both");
    if (!opts.all && !opts.rule?.length && !selected)
      throw new UsageError(
        "untag without --rule would remove every rule's tags: name the rules with --rule ID|TITLE|FILE…, select them (RULES --min-level …), or give --all to remove them all",
      );
    const since = opts.since ? parseTimeArg(opts.since, "--since", now) : undefined;
    const until = opts.until ? parseTimeArg(opts.until, "--until", now) : undefined;
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
    // The ids named with --rule are checked against the index (a typo is a warning); selected rules need not all be there.
    const named: string[] | undefined = opts.rule;
    if (selected) {
      opts.rule = opts.rule ? opts.rule.filter((id: string) => selected.ids.includes(id)) : selected.ids;
      if (opts.rule.length === 0)
        throw new UsageError("none of the --rule ids is among the selected rules; nothing to untag");
      if (!opts.json) for (const l of formatSelection(selected.selection)) process.stderr.write(`${l}\n`);
    }
    const p = await prepareUntag(cluster, {
      index: opts.index,
      rules: opts.rule,
      namedRules: named ?? [],
      since,
      until,
      timeField: opts.timeField,
      json: Boolean(opts.json),
    });
    const warnings = p.warnings;
    if (!opts.json) for (const w of warnings) warn(w);
    // Which indices hold events to clean, and how many each: named before and after the run.
    const { json: _json, ...untagOpts } = p.opts;
    const perIndex = p.stop
      ? []
      : await countPerIndex(cluster, opts.index, await untagQuery(cluster, untagOpts, p.discovery));
    if (opts.dryRun) {
      const c = await countPreparedUntag(cluster, p);
      if (opts.json)
        process.stdout.write(
          JSON.stringify({
            dryRun: true,
            events: c.events,
            entries: c.entries,
            indices: perIndex,
            warnings,
            ...(selected ? { selection: selected.selection, rules: opts.rule } : {}),
          }) + "\n",
        );
      else
        process.stdout.write(
          `untag --dry-run: would remove ${c.entries} tag entr${c.entries === 1 ? "y" : "ies"} written by outliers from ${c.events} event(s) (${formatPerIndex(perIndex)}); nothing written\n`,
        );
      if (warnings.length) process.exitCode = 1;
      return;
    }
    const t = await executeUntag(cluster, p);
    const out = {
      cancelled: t.cancelled,
      checked: t.checked,
      untagged: t.updated,
      versionConflictsRetried: t.versionConflicts,
      failures: t.failures,
      indices: perIndex,
      warnings,
      ...(selected ? { selection: selected.selection, rules: opts.rule } : {}),
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
