/** `outliers untag`: remove the tags this tool wrote, for some rules or all, and nothing else. */
import type { Command } from "commander";
import { addConnectionOptions, connect, connectionFrom } from "../cluster/connection/client.ts";
import { countPreparedUntag, executeUntag, prepareUntag } from "../cluster/history/untag-use-case.ts";
import { checkIndexPatterns, searchTargets } from "../cluster/connection/guards.ts";
import { parseTimeArg } from "../util/duration.ts";

export function register(program: Command): void {
  const cmd = program
    .command("untag")
    .description("remove tags this tool wrote (all rules, or those given with --rule), keeping every other field")
    .option("--rule <id...>", "only these rule ids (default: every rule this tool tagged)")
    .option("--index <pattern...>", "indices to clean (default winlogbeat-*)", ["winlogbeat-*"])
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
    opts.index = searchTargets(checkIndexPatterns(opts.index));
    const cluster = await connect(connectionFrom(opts));
    const p = await prepareUntag(cluster, {
      index: opts.index,
      rules: opts.rule,
      since,
      until,
      timeField: opts.timeField,
      json: Boolean(opts.json),
    });
    const warnings = p.warnings;
    if (!opts.json) for (const w of warnings) process.stderr.write(`outliers: warning: ${w}\n`);
    if (opts.dryRun) {
      const c = await countPreparedUntag(cluster, p);
      if (opts.json)
        process.stdout.write(JSON.stringify({ dryRun: true, events: c.events, entries: c.entries, warnings }) + "\n");
      else
        process.stdout.write(
          `untag --dry-run: would remove ${c.entries} tag entr${c.entries === 1 ? "y" : "ies"} written by outliers from ${c.events} event(s); nothing written\n`,
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
      warnings,
    };
    if (opts.json) process.stdout.write(JSON.stringify(out) + "\n");
    else {
      process.stdout.write(
        `${t.cancelled ? "cancelled after" : "untag done:"} ${t.updated} event(s) cleaned of ${opts.rule?.length ? opts.rule.length + " rule(s)" : "all outliers rules"} in ${(t.millis / 1000).toFixed(1)}s\n`,
      );
      for (const f of t.failures.slice(0, 20)) process.stderr.write(`outliers: untag failure: ${f}\n`);
    }
    process.exitCode = t.cancelled ? 130 : t.failures.length || warnings.length ? 1 : 0;
  });
}
