/**
 * What `outliers compile --target NAME` can produce: a small registry, one entry per target.
 * A target turns the compiled rules into one output text; a rule it cannot express is returned
 * as a failure (reported `path: reason`, the rest still compile). Add a target with one entry in
 * TARGETS.
 */
import { TOO_DEEP, isTooDeep } from "../util/errors.ts";
import type { Rule } from "../ir/types.ts";
import type { Profile } from "../mapping/profile.ts";
import { EmitError, ruleQuery } from "./dsl.ts";
import { sectionName, useCaseSection } from "./eeoutliers.ts";
import { painlessTarget, pipelineTarget } from "./painless/targets.ts";

export interface EmitFailure {
  rule: Rule;
  status: "error" | "unsupported";
  error: string;
}

export interface EmitOutput {
  /** The output file's text. */
  text: string;
  /** The same output as a JSON value, for targets whose output is JSON (embedded under --json). */
  json?: unknown;
  failures: EmitFailure[];
  /** What the output cannot do that live tagging, backfill and scan do (--report, --json, terminal). */
  note?: string;
}

export interface EmitContext {
  profile: Profile;
}

export interface Target {
  name: string;
  description: string;
  emit(rules: Rule[], ctx: EmitContext): EmitOutput;
}

/** Runs `fn` for one rule, turning an EmitError (or any bug) into that rule's failure. */
export function perRule<T>(rule: Rule, failures: EmitFailure[], fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (e instanceof EmitError) failures.push({ rule, status: e.status, error: e.message });
    else if (isTooDeep(e)) failures.push({ rule, status: "error", error: TOO_DEEP });
    else failures.push({ rule, status: "error", error: `internal error: ${(e as Error).message}` });
    return undefined;
  }
}

/** What an exported query cannot see (README "Long values"). */
export const DSL_NOTE =
  "these queries see only what the index keeps: a value longer than a keyword field's ignore_above " +
  "(8191 in this tool's templates, 1024 in Winlogbeat's, 256 under dynamic mapping) is not indexed and " +
  "matches no predicate, not even exists (under a not, the opposite); live tagging, backfill and scan " +
  "decide on _source and see values of any length";

/**
 * `dsl`: one JSON object, one rule per line, rule id → { title, path, index, query } (`query` is the
 * clause to put under `"query"` of `_search`, `_count` or `_update_by_query`). Rule order is the
 * compile order; a repeated id is reported as a failure of the later rule.
 */
export const dslTarget: Target = {
  name: "dsl",
  description: "JSON object, one rule per line: rule id to {title, path, index, query} (Elasticsearch query DSL)",
  emit(rules) {
    const failures: EmitFailure[] = [];
    const out: Record<string, { title: string; path: string; index: string[]; query: unknown }> = {};
    for (const rule of rules) {
      const first = out[rule.id];
      if (first) {
        failures.push({ rule, status: "error", error: `duplicate rule id ${rule.id} (first in ${first.path})` });
        continue;
      }
      const query = perRule(rule, failures, () => ruleQuery(rule));
      if (query !== undefined) out[rule.id] = { title: rule.title, path: rule.source.path, index: rule.index, query };
    }
    // one rule per line: greppable and diffable, and cheaper than indenting 16 MB of queries
    const lines = Object.entries(out).map(([id, v]) => `${JSON.stringify(id)}:${JSON.stringify(v)}`);
    return { text: lines.length ? `{\n${lines.join(",\n")}\n}\n` : "{}\n", json: out, failures, note: DSL_NOTE };
  },
};

/** `ee-outliers`: one use-case file with a `[simplequery_sigma_…]` section per rule. */
export const eeOutliersTarget: Target = {
  name: "ee-outliers",
  description:
    "ee-outliers use-case file, one [simplequery_sigma_<name>] section per rule (as sigmac's ee-outliers backend)",
  emit(rules) {
    const failures: EmitFailure[] = [];
    const taken = new Set<string>();
    const sections: string[] = [];
    for (const rule of rules) {
      const text = perRule(rule, failures, () => useCaseSection(rule, sectionName(rule, taken)));
      if (text !== undefined) sections.push(text);
    }
    const header = "# ee-outliers use cases compiled by `outliers compile --target ee-outliers`\n";
    return { text: header + (sections.length ? "\n" + sections.join("\n") : ""), failures, note: DSL_NOTE };
  },
};

export const TARGETS: Target[] = [dslTarget, eeOutliersTarget, pipelineTarget, painlessTarget];

export function targetNamed(name: string): Target | undefined {
  return TARGETS.find((t) => t.name === name);
}
