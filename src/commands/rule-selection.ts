/**
 * The rule selection options every rule-taking command shares (`--min-level`, `--status`, `--tag`,
 * `--exclude`), their help, and applying them to a loaded rule set. What they mean is in
 * src/rules/select.ts.
 */
import type { Command } from "commander";
import type { CompileResult, Rule } from "../ir/types.ts";
import { LEVELS, selectRules, type Selection, type SelectionReport } from "../rules/select.ts";

export { formatSelection, selectionFrom, type SelectionReport } from "../rules/select.ts";

function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

export function addSelectionOptions(cmd: Command): Command {
  return cmd
    .option(
      "--min-level <level>",
      `only rules of this level or above (${LEVELS.join(" < ")}); a rule without a level counts as --default-level, else informational`,
    )
    .option(
      "--status <list>",
      "only rules of these statuses, comma-separated (default stable,test,experimental and rules without a status; deprecated and unsupported only when named)",
      collect,
    )
    .option(
      "--tag <pattern>",
      "only rules with a tag matching this glob, e.g. attack.t1059* (repeatable: any)",
      collect,
    )
    .option("--exclude <file>", "leave out the rules this file names: ids, titles or paths, one a line, # comments");
}

/** The ok results and rules the selection keeps (failed results stay, to be reported), and its report. */
export function applySelection(
  results: CompileResult[],
  rules: Rule[],
  selection: Selection,
): { results: CompileResult[]; rules: Rule[]; selection: SelectionReport } {
  const { rules: kept, report } = selectRules(rules, selection);
  if (report.dropped === 0) return { results, rules, selection: report };
  const keep = new Set(kept);
  return { results: results.filter((r) => r.status !== "ok" || keep.has(r.rule)), rules: kept, selection: report };
}
