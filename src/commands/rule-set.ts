/**
 * The rule options every rule-taking command shares (`--mapping`, `--placeholders`) and loading a
 * rule set from PATHS: failed rules are reported one line each (`path: reason`) on stderr while
 * the rest go on.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { parse as parseYaml } from "yaml";
import type { CompileResult, Rule } from "../ir/types.ts";
import { loadProfile } from "../mapping/index.ts";
import type { Profile } from "../mapping/profile.ts";
import { loadRules } from "../rules/load.ts";
import { InputError } from "../util/errors.ts";

export function addRuleOptions(cmd: Command): Command {
  return cmd
    .option(
      "--mapping <name|file>",
      "field mapping: winlogbeat (default), ecs, or a sigmac-style mapping YAML",
      "winlogbeat",
    )
    .option("--placeholders <file>", "YAML file of values for Sigma %placeholders% (the expand modifier)");
}

export interface RuleSet {
  profile: Profile;
  results: CompileResult[];
  rules: Rule[];
  /** Correlation rules (src/ir/correlation.ts), in rule-set order; never in `rules`. */
  correlations: Rule[];
  /** Rules that did not compile (error or unsupported). */
  failed: number;
}

/** Reads a placeholders file: a YAML map of name to a value or a list of values. */
export function readPlaceholders(file: string): Record<string, string[]> {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, "utf8"));
  } catch (e) {
    throw new InputError(file, (e as Error).message.split("\n")[0]!);
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc))
    throw new InputError(file, "expected a map of placeholder name to values");
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    const list = Array.isArray(v) ? v : [v];
    out[k] = list.map((x) => String(x));
  }
  return out;
}

/**
 * Compiles the rules under `paths` (default ./rules). With `quiet`, failures are not printed (the
 * caller reports them, e.g. under --json).
 */
export function loadRuleSet(paths: string[], opts: Record<string, any>, quiet = false): RuleSet {
  const profile = loadProfile(opts.mapping ?? "winlogbeat");
  const placeholders = opts.placeholders ? readPlaceholders(opts.placeholders) : undefined;
  const results = loadRules(paths.length ? paths : ["./rules"], { profile, placeholders });
  const rules: Rule[] = [];
  const correlations: Rule[] = [];
  let failed = 0;
  for (const r of results) {
    if (r.status === "ok") (r.rule.correlation ? correlations : rules).push(r.rule);
    else {
      failed++;
      if (!quiet) process.stderr.write(`${r.path}: ${r.status === "unsupported" ? "unsupported: " : ""}${r.error}\n`);
    }
  }
  return { profile, results, rules, correlations, failed };
}
