/**
 * The rule options every rule-taking command shares (`--mapping`, `--placeholders`) and loading a
 * rule set from PATHS: failed rules are reported one line each (`path: reason`) on stderr while
 * the rest go on.
 */
import { warn } from "../util/warn.ts";
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { parse as parseYaml } from "yaml";
import { DEFAULT_LEVEL, isLevel, LEVELS } from "../ir/levels.ts";
import type { CompileResult, Rule } from "../ir/types.ts";
import { loadProfile } from "../mapping/index.ts";
import type { Profile } from "../mapping/profile.ts";
import { loadRules } from "../rules/load.ts";
import { addSelectionOptions, applySelection, selectionFrom, type SelectionReport } from "./rule-selection.ts";
import { InputError } from "../util/errors.ts";
import type { FilterReport } from "../rules/sigma/filters.ts";

export function addRuleOptions(cmd: Command): Command {
  addSelectionOptions(cmd);
  return cmd
    .option(
      "--mapping <name|file>",
      "field mapping: winlogbeat (default), ecs, or a sigmac-style mapping YAML",
      "winlogbeat",
    )
    .option("--placeholders <file>", "YAML file of values for Sigma %placeholders% (the expand modifier)")
    .option(
      "--default-level <level>",
      `level of rules that have none (ee-outliers use cases without \`level =\`): ${LEVELS.join(", ")}; ${DEFAULT_LEVEL} when not given`,
    );
}

export interface RuleSet {
  profile: Profile;
  results: CompileResult[];
  rules: Rule[];
  /** Correlation rules (src/ir/correlation.ts), in rule-set order; never in `rules`. */
  correlations: Rule[];
  /** Rules that did not compile (error or unsupported). */
  failed: number;
  /** What `--min-level`, `--status`, `--tag` and `--exclude` kept and dropped (src/rules/select.ts). */
  selection: SelectionReport;
  /** Sigma filter documents: the rules each changed, and warnings (a rule named that is not loaded). */
  filters: FilterReport[];
}

/**
 * Reads a placeholders file: a YAML map of name to a value or a list of values, or a sigma-cli /
 * pySigma processing pipeline file, whose `vars:` map holds the placeholder values (its other keys,
 * such as `name`, `priority` and `transformations`, are left aside).
 */
export function readPlaceholders(file: string): Record<string, string[]> {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, "utf8"));
  } catch (e) {
    throw new InputError(file, (e as Error).message.split("\n")[0]!);
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc))
    throw new InputError(file, "expected a map of placeholder name to values");
  const vars = (doc as Record<string, unknown>).vars;
  if (vars !== undefined && (doc as Record<string, unknown>).transformations !== undefined) {
    if (vars === null || typeof vars !== "object" || Array.isArray(vars))
      throw new InputError(file, "vars: expected a map of placeholder name to values");
    doc = vars;
  } else if (vars !== undefined && vars !== null && typeof vars === "object" && !Array.isArray(vars)) doc = vars;
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    const list = Array.isArray(v) ? v : [v];
    const bad = list.find((x) => x === null || typeof x === "object");
    if (bad !== undefined) throw new InputError(file, `${k}: a placeholder's values are strings or numbers`);
    out[k] = list.map((x) => String(x));
  }
  return out;
}

/**
 * Compiles the rules under `paths` (default ./rules). With `quiet`, failures are not printed (the
 * caller reports them, e.g. under --json).
 */
export function loadRuleSet(paths: string[], opts: Record<string, any>, quiet = false): RuleSet {
  const selection = selectionFrom(opts);
  const profile = loadProfile(opts.mapping ?? "winlogbeat");
  const placeholders = opts.placeholders ? readPlaceholders(opts.placeholders) : undefined;
  const filters: FilterReport[] = [];
  const results = loadRules(paths.length ? paths : ["./rules"], { profile, placeholders, filterReports: filters });
  const defaultLevel = String(opts.defaultLevel ?? DEFAULT_LEVEL).toLowerCase();
  if (!isLevel(defaultLevel))
    throw new InputError("--default-level", `expected one of ${LEVELS.join(", ")}, got ${opts.defaultLevel}`);
  const rules: Rule[] = [];
  const correlations: Rule[] = [];
  let failed = 0;
  for (const r of results) {
    if (r.status === "ok") {
      if (!isLevel(r.rule.level?.trim().toLowerCase())) r.rule.level = defaultLevel;
      (r.rule.correlation ? correlations : rules).push(r.rule);
    } else {
      failed++;
      if (!quiet) process.stderr.write(`${failureLine(r)}\n`);
    }
  }
  if (!quiet) for (const w of filters.flatMap((f) => f.warnings)) warn(w);
  const hint = placeholderHint(missingPlaceholders(results));
  if (!quiet && hint) process.stderr.write(`${hint}\n`);
  return { profile, failed, filters, correlations, ...applySelection(results, rules, selection) };
}

/** A rule that did not compile, as one line: `path:line: place: reason` (`path…: unsupported: …`). */
export function failureLine(e: { path: string; status: string; error?: string }): string {
  const reason = e.error ?? "failed";
  const tag = e.status === "unsupported" ? "unsupported: " : "";
  // Front ends already start their messages with the place (`path: ` or `path:line: `).
  if (reason.startsWith(e.path + ":")) {
    const m = /^:(\d+:)? ?/.exec(reason.slice(e.path.length))!;
    const place = e.path + m[0].trimEnd();
    const rest = reason.slice(place.length).trimStart();
    return `${place} ${rest.startsWith("unsupported") ? "" : tag}${rest}`;
  }
  return `${e.path}: ${reason.startsWith("unsupported") ? "" : tag}${reason}`;
}

/** Placeholders (`%name%`, the `expand` modifier) rules failed for want of a value: name → rules. */
export function missingPlaceholders(results: CompileResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) {
    if (r.status === "ok") continue;
    const m = /placeholder %([^%]+)% has no value$/.exec(r.error);
    if (m) out[m[1]!] = (out[m[1]!] ?? 0) + 1;
  }
  return out;
}

/** Which placeholders are missing and how to supply them; empty when none is. */
export function placeholderHint(missing: Record<string, number>): string {
  const names = Object.keys(missing).sort();
  if (names.length === 0) return "";
  const list = names.map((n) => `%${n}% (${missing[n]} rule${missing[n] === 1 ? "" : "s"})`).join(", ");
  return (
    `placeholders without a value: ${list}; those rules are left out. Supply values with --placeholders FILE, ` +
    `a YAML map (${names[0]}: [value, ...]) or a sigma-cli pipeline file with the same map under vars:`
  );
}
