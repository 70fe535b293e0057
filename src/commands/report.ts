/**
 * `outliers report [--since 7d] [--index P…] [--top N] [--json] [--navigator FILE]`: what was hit,
 * from the tags on the cluster: tagged events, per rule and per ATT&CK technique counts (top N, most
 * first, with totals), and optionally an ATT&CK Navigator layer of the techniques scored by hits.
 */
import type { Command } from "commander";
import { warn } from "../util/warn.ts";
import { addConnectionOptions, connect, connectionFrom } from "../cluster/connection/client.ts";
import { countPerIndex, describeTarget, formatPerIndex, resolveTarget } from "../cluster/connection/targets.ts";
import { timeRange } from "../util/duration.ts";
import { resultsReport, type ResultsReport } from "../cluster/history/report.ts";
import { rulesPerTechnique } from "../cluster/history/technique-rules.ts";
import { hitTechniques, navigatorLayer, parseAttackVersion } from "../emit/navigator.ts";
import { parseTimeArg } from "../util/duration.ts";
import { writeFile } from "./compile.ts";
import { fmtInt, parseTop, ruleLabel, topTable } from "./count-tables.ts";
import { addRuleOptions } from "./rule-set.ts";
import { formatSelection } from "./rule-selection.ts";
import { ruleScope } from "./rule-scope.ts";

export function register(program: Command): void {
  const cmd = program
    .command("report")
    .description(
      "what the tags on the cluster say: tagged events per rule and per ATT&CK technique, top N, with totals",
    )
    .argument("[paths...]", "with a selection flag (--min-level …): the rules to select from (default ./rules)")
    .option("--since <duration>", "only events since: 7d, 12h, 15m or an ISO-8601 time (default: all)")
    .option("--until <time>", "only events before (duration ago or ISO-8601 time; default now)")
    .option(
      "--index <pattern...>",
      "indices to read (default: the patterns the pipeline --name is wired to, else winlogbeat-*)",
    )
    .option("--name <name>", "pipeline whose wired patterns are read when no --index is given", "outliers")
    .option("--time-field <field>", "time field of --since/--until", "@timestamp")
    .option("--top <n>", "rules and techniques listed (0 for all)", parseTop, 20)
    .option(
      "--navigator <file>",
      "also write an ATT&CK Navigator layer: techniques scored by tagged events, the rules' titles in comments",
    )
    .option("--attack-version <n>", "ATT&CK version the layer declares (default: the newest its techniques need)")
    .option("--json", "print JSON only (every rule and technique)");
  addRuleOptions(cmd);
  addConnectionOptions(cmd).action(async (paths: string[], opts: Record<string, any>) => {
    const now = new Date();
    const scope = ruleScope(paths, opts);
    const since = opts.since ? parseTimeArg(opts.since, "--since", now) : undefined;
    const until = opts.until ? parseTimeArg(opts.until, "--until", now) : undefined;
    const attackVersion = opts.attackVersion ? parseAttackVersion(opts.attackVersion) : undefined;
    const cluster = await connect(connectionFrom(opts));
    // One default target for every command (src/cluster/connection/targets.ts), said out loud.
    const target = await resolveTarget(cluster, { index: opts.index, name: opts.name });
    const index: string[] = target.patterns;
    if (!opts.json) process.stderr.write(`outliers: ${describeTarget("report:", target)}\n`);
    const reportOpts = { index, since, until, timeField: opts.timeField, rules: scope?.ids };
    const report = await resultsReport(cluster, reportOpts);
    if (opts.navigator) {
      const layer = navigatorLayer(
        `outliers hits${opts.since ? ` since ${opts.since}` : ""}`,
        `Tagged events per ATT&CK technique on ${index.join(", ")}${since ? ` from ${since.toISOString()}` : ""}${until ? ` until ${until.toISOString()}` : ""} (outliers report)`,
        hitTechniques(
          report.techniques,
          await rulesPerTechnique(cluster, reportOpts),
          new Map(report.rules.map((r) => [r.id, r.title])),
        ),
        { attackVersion },
      );
      writeFile(opts.navigator, JSON.stringify(layer, null, 2) + "\n", "--navigator");
    }
    // The indices read, by name, with the tagged events each holds in the window.
    const range = timeRange(opts.timeField, since, until);
    const tagged = {
      bool: {
        filter: range ? [range] : [],
        should: [{ exists: { field: "outliers.rule_id" } }, { exists: { field: "outliers.model_type" } }],
        minimum_should_match: 1,
      },
    };
    const indices = report.indicesMatched ? await countPerIndex(cluster, index, tagged) : [];
    process.stdout.write(
      opts.json
        ? JSON.stringify(scope ? { ...report, indices, selection: scope.selection } : { ...report, indices }) + "\n"
        : [
            ...(scope ? formatSelection(scope.selection) : []),
            ...formatReport(report, opts.top),
            `tagged events per index: ${formatPerIndex(indices)}`,
          ].join("\n") + "\n",
    );
    if (report.indicesMatched === 0) {
      if (!opts.json) warn(`no index matches ${index.join(", ")}`);
      process.exitCode = 1;
    }
  });
}

export function formatReport(r: ResultsReport, top: number): string[] {
  const window =
    r.window.since || r.window.until
      ? `${r.window.since ?? "the start"} .. ${r.window.until ?? "now"} (${r.window.timeField})`
      : "all time";
  const lines = [
    `indices: ${r.index.join(", ")} (${fmtInt(r.indicesMatched)} matched); window: ${window}`,
    `tagged events:    ${fmtInt(r.taggedEvents).padStart(9)}  events carrying at least one rule's tags`,
    `rule hits:        ${fmtInt(r.ruleEventPairs).padStart(9)}  (event, rule) pairs: an event two rules hit counts twice`,
    `rules hit:        ${fmtInt(r.rules.length).padStart(9)}`,
    `techniques hit:   ${fmtInt(r.techniques.length).padStart(9)}`,
  ];
  if (r.taggingErrors)
    lines.push(
      `tagging errors:   ${fmtInt(r.taggingErrors).padStart(9)}  events with outliers.error (see pipeline status)`,
    );
  if (r.taggedEvents === 0) return [...lines, "no tagged events in this window"];
  if (r.levels.length)
    lines.push(`by highest level: ${r.levels.map((l) => `${l.level} ${fmtInt(l.events)}`).join(", ")}`);
  const what = top > 0 ? `top ${top}` : "all";
  lines.push("", `rules (${what}, by events tagged):`);
  lines.push(
    ...topTable(
      r.rules.map((x) => ({ count: x.count, label: ruleLabel(x) })),
      { top, header: ["events", "rule"], unit: "rules" },
    ),
  );
  if (r.techniques.length) {
    lines.push("", `ATT&CK techniques (${what}, by events carrying them):`);
    lines.push(
      ...topTable(
        r.techniques.map((x) => ({ count: x.count, label: x.id })),
        { top, header: ["events", "technique"], unit: "techniques" },
      ),
    );
  }
  return lines;
}
