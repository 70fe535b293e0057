/**
 * The rules a command that reads tags on the cluster (`untag`, `report`) is scoped to. Those commands
 * take no rules to run, so the selection flags need rules to select from: optional rule PATHS
 * (default ./rules once a selection flag is given). With PATHS or a selection flag, the command acts
 * on the selected rules' ids only; with neither, on every rule (as before).
 */
import { UsageError } from "../util/errors.ts";
import { loadRuleSet } from "./rule-set.ts";
import type { SelectionReport } from "./rule-selection.ts";

export function selectionAsked(opts: Record<string, any>): boolean {
  return ["minLevel", "status", "tag", "exclude"].some((k) => opts[k] !== undefined);
}

/** The selected rule ids, or undefined when neither PATHS nor a selection flag was given. */
export function ruleScope(
  paths: string[],
  opts: Record<string, any>,
): { ids: string[]; selection: SelectionReport } | undefined {
  if (paths.length === 0 && !selectionAsked(opts)) return undefined;
  const set = loadRuleSet(paths, opts, Boolean(opts.json));
  const ids = set.rules.map((r) => r.id);
  // Never an empty list: to untag or report every rule is not what a selection that kept nothing means.
  if (ids.length === 0)
    throw new UsageError(
      `no rule selected from ${paths.length ? paths.join(" ") : "./rules"} (${set.selection.filters.map((f) => `${f.filter}: ${f.kept} kept`).join("; ")})`,
    );
  return { ids, selection: set.selection };
}
