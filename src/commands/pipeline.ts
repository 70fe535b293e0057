/** `outliers pipeline install|uninstall|status|simulate`: the live tagging pipeline on a cluster. */
import type { Command } from "commander";
import { warn as warnLine } from "../util/warn.ts";
import { addConnectionOptions, connect, connectionFrom, type Cluster } from "../cluster/connection/client.ts";
import { parseFormat, readDocsFile } from "../events/docs-file.ts";
import { applyPlan, describeAction, planInstall, planJson, type Plan } from "../cluster/live/install.ts";
import { discoverInstall } from "../cluster/live/install-discovery.ts";
import { checkPatterns } from "../cluster/connection/patterns.ts";
import { formatStatus, pipelineStatus } from "../cluster/live/pipeline-status.ts";
import { simulateDocs } from "../cluster/live/simulate.ts";
import { discoverUninstall, planUninstall } from "../cluster/live/uninstall.ts";
import { buildPipeline, type BuiltPipeline } from "../emit/painless/pipeline.ts";
import { UsageError } from "../util/errors.ts";
import { VERSION } from "../version.ts";
import { addRuleOptions, loadRuleSet, type RuleSet } from "./rule-set.ts";
import { formatSelection } from "./rule-selection.ts";
import {
  installedRules,
  readInstalledPipeline,
  ruleChanges,
  ruleDigest,
  type RuleChanges,
  type RuleRef,
} from "../cluster/live/rule-changes.ts";
import type { Rule } from "../ir/types.ts";

const DEFAULT_NAME = "outliers";

function out(line: string): void {
  process.stdout.write(line + "\n");
}

function warn(line: string): void {
  warnLine(line);
}

/** Compiles the rules and the pipeline; failed and live-unsupported rules are reported, the rest go on. */
function compile(paths: string[], opts: Record<string, any>): { set: RuleSet; built: BuiltPipeline; problems: number } {
  const set = loadRuleSet(paths, opts, Boolean(opts.json));
  if (set.rules.length === 0)
    throw new UsageError(`no rule compiled from ${paths.length ? paths.join(" ") : "./rules"}`);
  const built = buildPipeline(set.rules, { guardCosts: set.profile.guardCosts });
  if (!opts.json) for (const s of built.skipped) warn(`rule ${s.id} does not run live: ${s.reason}`);
  if (built.ruleIds.length === 0) throw new UsageError("no rule can run live; nothing to install");
  return { set, built, problems: set.failed + built.skipped.length };
}

function printPlan(
  plan: Plan,
  opts: { json?: boolean; dryRun?: boolean; verb: string; extra?: Record<string, unknown> },
): void {
  if (opts.json) {
    out(
      JSON.stringify(
        {
          dryRun: Boolean(opts.dryRun),
          applied: !opts.dryRun && plan.actions.length > 0,
          ...planJson(plan),
          ...opts.extra,
        },
        null,
        2,
      ),
    );
    return;
  }
  for (const w of plan.warnings) warn(w);
  if (plan.actions.length === 0) {
    out(
      `nothing to change: pipeline ${plan.name} version ${plan.version}, ${plan.ruleCount} rule(s); ${Object.keys(plan.state.indices).length} recorded index(es), ${Object.keys(plan.state.templates).length} template(s) wired`,
    );
    return;
  }
  out(`${opts.dryRun ? "dry run, nothing written; would do" : opts.verb + ":"}`);
  for (const a of plan.actions) out(`  ${describeAction(a)}`);
}

/** The rules the pipeline will tag, in its order, with titles and digests (the first of a duplicated id wins, as in the pipeline). */
function newRuleRefs(set: RuleSet, built: BuiltPipeline): RuleRef[] {
  const byId = new Map<string, Rule>();
  for (const r of set.rules) if (!byId.has(r.id)) byId.set(r.id, r);
  return built.ruleIds.map((id) => {
    const r = byId.get(id)!;
    return { id, title: r.title, digest: ruleDigest(r) };
  });
}

/** Rules named per kind of change before "… and N more". */
const CHANGES_LISTED = 20;

/** Rules added / removed / changed against the installed pipeline, one per line, a few per kind. */
export function formatRuleChanges(c: RuleChanges, dryRun: boolean): string[] {
  const would = dryRun ? "would be " : "";
  const lines = [
    `rules against the installed pipeline: ${c.added.length} ${would}added, ${c.removed.length} ${would}removed, ${c.changed.length} ${would}changed, ${c.unchanged} unchanged`,
  ];
  if (c.digestsUnknown)
    lines.push("  (the installed pipeline records no rule digests: changed rules are counted as unchanged this once)");
  const list = (mark: string, rules: RuleRef[]) => {
    for (const r of rules.slice(0, CHANGES_LISTED)) lines.push(`  ${mark} ${r.title ? `${r.title} (${r.id})` : r.id}`);
    if (rules.length > CHANGES_LISTED)
      lines.push(`  ${mark} … and ${rules.length - CHANGES_LISTED} more (--json lists all)`);
  };
  list("+", c.added);
  list("-", c.removed);
  list("~", c.changed);
  return lines;
}

async function withCluster(opts: Record<string, any>): Promise<Cluster> {
  return connect(connectionFrom(opts));
}

export function register(program: Command): void {
  const pipeline = program
    .command("pipeline")
    .description("install, inspect, test and remove the live tagging pipeline");

  const install = pipeline
    .command("install")
    .description(
      "compile rules into the tagging pipeline, put it, and wire it into the indices and templates the patterns name",
    )
    .argument("[paths...]", "rule files, folders or globs (default ./rules)")
    .option("--name <name>", "pipeline name", DEFAULT_NAME)
    .option("--index <pattern...>", "index patterns to wire (default: the rules' index patterns)")
    .option("--dry-run", "print the plan (before → after per index and template) and change nothing")
    .option("--json", "print JSON only");
  addRuleOptions(install);
  addConnectionOptions(install).action(async (paths: string[], opts: Record<string, any>) => {
    const { set, built, problems } = compile(paths, opts);
    const patterns = checkPatterns(opts.index ?? [...new Set(set.rules.flatMap((r) => r.index))]);
    const cluster = await withCluster(opts);
    const next = newRuleRefs(set, built);
    const changes = ruleChanges(installedRules(await readInstalledPipeline(cluster, opts.name)), next);
    const compiled = { ...built, ruleHashes: next.map((r) => r.digest!) };
    const installOpts = {
      name: opts.name,
      patterns,
      compiled,
      toolVersion: VERSION,
      extraKeys: [...new Set(set.rules.flatMap((r) => Object.keys(r.tagsOut.extra)))],
    };
    const plan = planInstall(await discoverInstall(cluster, installOpts), installOpts);
    const extra = {
      failedRules: set.failed,
      skippedRules: built.skipped,
      ruleChanges: changes,
      selection: set.selection,
    };
    if (!opts.dryRun && plan.actions.length) await applyPlan(cluster, plan);
    printPlan(plan, {
      json: opts.json,
      dryRun: opts.dryRun,
      verb: `installed pipeline ${plan.name} version ${plan.version}`,
      extra,
    });
    if (!opts.json)
      for (const line of [...formatSelection(set.selection), ...formatRuleChanges(changes, Boolean(opts.dryRun))])
        out(line);
    process.exitCode = problems > 0 ? 1 : 0;
  });

  const uninstall = pipeline
    .command("uninstall")
    .description(
      "restore exactly what was there before the install (settings, templates), then delete the pipelines and the install record",
    )
    .option("--name <name>", "pipeline name", DEFAULT_NAME)
    .option("--dry-run", "print what would be restored and deleted; change nothing")
    .option("--json", "print JSON only");
  addConnectionOptions(uninstall).action(async (opts: Record<string, any>) => {
    const cluster = await withCluster(opts);
    const plan = planUninstall(await discoverUninstall(cluster, opts.name));
    if (!opts.dryRun && plan.actions.length) await applyPlan(cluster, plan);
    if (!opts.json && plan.actions.length === 0) {
      out(`pipeline ${opts.name}: not installed; nothing to do`);
      return;
    }
    printPlan(plan, { json: opts.json, dryRun: opts.dryRun, verb: `uninstalled pipeline ${plan.name}` });
  });

  const status = pipeline
    .command("status")
    .description("installed version, rules, wired indices and templates, tagged and failed counts, ingest stats")
    .option("--name <name>", "pipeline name", DEFAULT_NAME)
    .option("--verbose", "list every installed rule (title and id), one per line")
    .option("--json", "print JSON only (with every rule id)");
  addConnectionOptions(status).action(async (opts: Record<string, any>) => {
    const cluster = await withCluster(opts);
    const s = await pipelineStatus(cluster, opts.name);
    out(opts.json ? JSON.stringify(s, null, 2) : formatStatus(s, { verbose: Boolean(opts.verbose) }));
    // A wired index or template whose pipeline is gone refuses every write: not a healthy status.
    if (s.missing.length) process.exitCode = 1;
  });

  const simulate = pipeline
    .command("simulate")
    .description(
      "run documents through the compiled pipeline on the cluster (_simulate; nothing installed) and print what each got",
    )
    .argument("[paths...]", "rule files, folders or globs (default ./rules)")
    .requiredOption("--docs <file>", "documents: NDJSON, a JSON array, or raw evtx JSON (detected)")
    .option("--format <format>", "ndjson or evtx-json (default: detect raw evtx per document)")
    .option("--json", "print JSON only");
  addRuleOptions(simulate);
  addConnectionOptions(simulate).action(async (paths: string[], opts: Record<string, any>) => {
    const format = parseFormat(opts.format);
    const { set, built, problems } = compile(paths, opts);
    const entries = readDocsFile(opts.docs, format);
    const cluster = await withCluster(opts);
    const titles = new Map(set.rules.map((r) => [r.id, r.title]));
    const results = await simulateDocs(cluster, built, entries, titles);
    const withErrors = results.filter((r) => r.errors.length).length;
    const matched = results.filter((r) => r.matched.length).length;
    if (opts.json) {
      out(
        JSON.stringify(
          {
            docs: results.map(({ source: _s, ...r }) => r),
            total: results.length,
            matched,
            errors: withErrors,
            failedRules: set.failed,
          },
          null,
          2,
        ),
      );
    } else {
      for (const r of results) {
        const where = `${opts.docs}:${r.line}`;
        if (r.matched.length) out(`${where}: ${r.matched.map((id, i) => `${id} (${r.titles[i]})`).join(", ")}`);
        else if (!r.errors.length)
          out(
            `${where}: ${r.already.length ? `nothing new (already tagged: ${r.already.join(", ")})` : "no rule matched"}`,
          );
        for (const e of r.errors) out(`${where}: error: ${e}`);
      }
      out(`${results.length} document(s): ${matched} matched, ${withErrors} with errors`);
    }
    process.exitCode = withErrors > 0 || problems > 0 ? 1 : 0;
  });
}
