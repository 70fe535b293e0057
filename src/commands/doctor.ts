/**
 * `outliers doctor`: tells whether the cluster can run the tool, one line per check with what to do.
 * With `--index PATTERN [RULES]`: how those indices really index the fields the rules read, and what
 * that means for backfill (src/cluster/connection/doctor-index.ts).
 */
import type { Command } from "commander";
import { addConnectionOptions, connect, connectionFrom } from "../cluster/connection/client.ts";
import { formatReport, runDoctor } from "../cluster/connection/doctor.ts";
import { formatIndexReport, indexReport } from "../cluster/connection/doctor-index.ts";
import { discoverFields } from "../cluster/connection/field-discovery.ts";
import { templatesFor } from "../cluster/connection/index-templates.ts";
import { UsageError } from "../util/errors.ts";
import { addRuleOptions, loadRuleSet } from "./rule-set.ts";

export function register(program: Command): void {
  const cmd = program
    .command("doctor")
    .description(
      "check that the cluster can run outliers: version, health, ingest nodes, script settings, privileges; with --index, how those indices map the rules' fields",
    )
    .argument("[paths...]", "with --index: rule files, folders or globs (default ./rules)")
    .option(
      "--index <pattern...>",
      "report, per index, the rules' fields that are missing, text-only, cut by ignore_above or mapped differently across indices",
    )
    .option("--time-field <field>", "with --index: the time field backfill windows use", "@timestamp")
    .option("--json", "print the report as JSON on stdout")
    .option("--timeout <seconds>", "seconds to wait for each answer from the cluster", "10");
  addRuleOptions(cmd);
  addConnectionOptions(cmd).action(async (paths: string[], opts: Record<string, any>) => {
    const seconds = Number(opts.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0)
      throw new UsageError(`--timeout ${String(opts.timeout)}: expected a number of seconds`);
    if (paths.length && !opts.index)
      throw new UsageError("rule paths are for doctor --index PATTERN; without --index doctor checks the cluster only");
    const cluster = await connect({ ...connectionFrom(opts), timeoutMs: seconds * 1000 });
    if (opts.index) {
      const set = loadRuleSet(paths, opts, Boolean(opts.json));
      const report = indexReport(await discoverFields(cluster, opts.index), opts.index, set.rules, opts.timeField);
      // The template each index takes its mapping from, named in the fixes (or: there is none).
      const templates = await templatesFor(cluster, report.indices);
      process.stdout.write(
        opts.json
          ? JSON.stringify(
              { ...report, templates: Object.fromEntries([...templates].map(([ix, t]) => [ix, t ?? null])) },
              null,
              2,
            ) + "\n"
          : formatIndexReport(report, templates) + "\n",
      );
      process.exitCode = report.ready ? 0 : 1;
      return;
    }
    const report = await runDoctor(cluster);
    process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + "\n" : formatReport(report) + "\n");
    process.exitCode = report.ready ? 0 : 1;
  });
}
