/**
 * `outliers compile [PATHS…] [--target NAME] [--mapping NAME|FILE] [--placeholders FILE] [--out PATH]
 * [--report FILE] [--json]`: compiles rules without touching a cluster.
 *
 * - The output (see src/emit/targets.ts: `dsl` is a JSON map rule id → {title, path, index, query};
 *   `ee-outliers` is a use-case file) goes to --out PATH, or to stdout.
 * - Each rule that fails prints one line on stderr, `path: reason` (`path: unsupported: reason`
 *   when the rule uses something the tool does not support); the rest still compile.
 * - --report FILE writes {"ok": N, "failed": N, "rules": [{"id","title","path","status","error"?,"line"?,"place"?}]}:
 *   `error` starts with `path:line: place:`; `line` and `place` say the same as data, where the reader knows them.
 * - --json prints only JSON on stdout: the report, plus `"output"` (the dsl JSON value, or the
 *   output text) when there is no --out.
 * - --navigator FILE writes an ATT&CK Navigator layer of the rule set's coverage (src/emit/navigator.ts).
 * - Exit 0 when every rule compiled, 1 when some failed, 2 on bad usage or when no rule was found.
 */
import { warn } from "../util/warn.ts";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Command } from "commander";
import type { CompileResult } from "../ir/types.ts";
import { locatedMessage, placeText, type RuleLocation } from "../ir/errors.ts";
import { TARGETS, targetNamed, type EmitFailure } from "../emit/targets.ts";
import { UsageError } from "../util/errors.ts";
import { findRuleFiles } from "../rules/load.ts";
import { coverageTechniques, navigatorLayer, parseAttackVersion, tacticsOf } from "../emit/navigator.ts";
import type { Rule } from "../ir/types.ts";
import { addRuleOptions, failureLine, loadRuleSet, missingPlaceholders, placeholderHint } from "./rule-set.ts";
import { formatSelection } from "./rule-selection.ts";

export interface ReportEntry {
  id: string;
  title: string;
  path: string;
  status: "ok" | "error" | "unsupported";
  error?: string;
  /** The line of the problem (or of its document or section), when known. */
  line?: number;
  /** Where in the file: `detection.selection.Image|endswith` (Sigma), `[section]: key: query place` (ee-outliers). */
  place?: string;
}

export interface CompileReport {
  ok: number;
  failed: number;
  rules: ReportEntry[];
}

/** One report entry per rule document; a rule the target could not express takes the target's failure. */
export function buildReport(results: CompileResult[], failures: EmitFailure[]): CompileReport {
  const failedByRule = new Map(failures.map((f) => [f.rule, f]));
  const rules: ReportEntry[] = results.map((r) => {
    if (r.status !== "ok") {
      const place = r.location ? placeText(r.location) : "";
      return {
        id: r.id ?? "",
        title: r.title ?? "",
        path: r.path,
        status: r.status,
        error: r.error,
        ...(r.location?.line !== undefined ? { line: r.location.line } : {}),
        ...(place ? { place } : {}),
      };
    }
    const f = failedByRule.get(r.rule);
    const base = { id: r.rule.id, title: r.rule.title, path: r.rule.source.path };
    if (!f) return { ...base, status: "ok" };
    // The target refused the rule: the file, and for an ee-outliers use case its section, are known.
    const src = r.rule.source;
    const location: RuleLocation = {
      path: src.path,
      ...(src.format === "simplequery" ? { section: src.section } : {}),
    };
    const place = placeText(location);
    return { ...base, status: f.status, error: locatedMessage(location, f.error), ...(place ? { place } : {}) };
  });
  const ok = rules.filter((r) => r.status === "ok").length;
  return { ok, failed: rules.length - ok, rules };
}

export function writeFile(path: string, text: string, what: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  } catch (e) {
    throw new UsageError(`${what} ${path}: ${(e as Error).message}`);
  }
}

export function register(program: Command): void {
  const names = TARGETS.map((t) => t.name);
  const cmd = program
    .command("compile")
    .description("compile Sigma rules and ee-outliers use cases without touching a cluster")
    .argument("[paths...]", "rule files, folders or globs (default ./rules)")
    .option(
      "--target <name>",
      `what to produce: ${TARGETS.map((t) => `${t.name} (${t.description})`).join("; ")}`,
      "dsl",
    )
    .option("--out <path>", "write the output to this file instead of stdout")
    .option(
      "--report <file>",
      'write the report to this file: {"ok", "failed", "rules": [{id, title, path, status, error?}]}',
    )
    .option(
      "--navigator <file>",
      "also write an ATT&CK Navigator layer: techniques the rules detect, scored by number of rules",
    )
    .option("--attack-version <n>", "ATT&CK version the layer declares (default: the newest its techniques need)")
    .option("--json", "print only JSON on stdout: the report, with the output when there is no --out");
  addRuleOptions(cmd);
  cmd.action((paths: string[], opts: Record<string, any>) => {
    const target = targetNamed(opts.target);
    if (!target) throw new UsageError(`--target ${opts.target}: unknown target (choose one of: ${names.join(", ")})`);
    const where = paths.length ? paths : ["./rules"];
    const attackVersion = opts.attackVersion ? parseAttackVersion(opts.attackVersion) : undefined;
    const found = findRuleFiles(where);
    if (found.files.length === 0)
      throw new UsageError(
        found.missing.length
          ? `no such file, folder or matching glob: ${found.missing.join(", ")}`
          : `no rule files in ${where.join(" ")}`,
      );
    const set = loadRuleSet(paths, opts, true);
    const output = target.emit(set.rules, { profile: set.profile });
    const report = {
      ...buildReport(set.results, output.failures),
      ...(set.filters.length ? { filters: set.filters } : {}),
      ...(output.note ? { note: output.note } : {}),
    };
    for (const w of set.filters.flatMap((f) => f.warnings)) warn(w);

    for (const e of report.rules) if (e.status !== "ok") process.stderr.write(failureLine(e) + "\n");
    const hint = placeholderHint(missingPlaceholders(set.results));
    if (hint) process.stderr.write(`${hint}\n`);
    if (opts.report) writeFile(opts.report, JSON.stringify(report, null, 1) + "\n", "--report");
    if (opts.out) writeFile(opts.out, output.text, "--out");
    if (opts.navigator)
      writeFile(
        opts.navigator,
        JSON.stringify(coverageLayer(set.rules, where, attackVersion), null, 2) + "\n",
        "--navigator",
      );

    if (opts.json) {
      const body: Record<string, unknown> = { target: target.name, ...report, selection: set.selection };
      if (!opts.out) body.output = output.json ?? output.text;
      else body.out = opts.out;
      process.stdout.write(JSON.stringify(body) + "\n");
    } else if (!opts.out) {
      process.stdout.write(output.text);
    }
    if (!opts.json) for (const l of formatSelection(set.selection)) process.stderr.write(`${l}\n`);
    if (process.stderr.isTTY && !opts.json)
      process.stderr.write(
        `compiled ${report.ok} rule(s) to ${target.name}${report.failed ? `, ${report.failed} failed` : ""}\n` +
          (output.note ? `note: ${output.note}\n` : ""),
      );
    process.exitCode = report.failed > 0 ? 1 : 0;
  });
}

/** The Navigator layer of what a rule set covers: techniques and sub-techniques scored by their number of rules. */
function coverageLayer(rules: Rule[], paths: string[], attackVersion?: string) {
  return navigatorLayer(
    "outliers rule coverage",
    `ATT&CK coverage of ${rules.length} rule(s) from ${paths.join(" ")} (outliers compile)`,
    coverageTechniques(rules),
    { attackVersion, tactics: tacticsOf(rules) },
  );
}
