/**
 * Sigma 2.0 filters (the meta-filter specification; pySigma's `SigmaFilter.apply_on_rule`): a filter
 * document names rules by id or name (or `any`) and carries searches and one condition. On each rule it
 * names whose logsource it covers, its searches join the rule's under fresh names and every condition
 * of the rule becomes `(condition) and (filter condition)`; the rule is then converted as usual, so
 * the filter is part of the representation and every target (live, backfill, scan, dsl, ee-outliers)
 * inherits it, and the rule's digest changes with it (`outliers apply` sees the rule as changed).
 * Filters written as in SigmaHQ's examples use `condition: not selection`.
 */
import type { Logsource } from "../../mapping/profile.ts";
import type { SigmaFilterDoc, SigmaRule } from "./parse.ts";

/** What a filter did, for `compile --report`: the rules it changed, and why it did not change others. */
export interface FilterReport {
  id?: string;
  title: string;
  path: string;
  /** Ids of the rules the filter was applied to. */
  rules: string[];
  warnings: string[];
}

const KEYWORDS = new Set(["and", "or", "not", "of", "all", "them", "any"]);

/** The filter's condition with each search name (and `them`) given the prefix its searches get in the rule. */
export function prefixCondition(condition: string, prefix: string): string {
  return condition.replace(/[^\s()|]+/g, (tok) => {
    const low = tok.toLowerCase();
    if (low === "them") return `${prefix}*`;
    if (KEYWORDS.has(low) || /^\d+$/.test(tok)) return tok;
    return prefix + tok;
  });
}

/** A filter's logsource covers a rule's when each field the filter gives is the rule's (case-insensitive). */
function covers(filter: Logsource, rule: Logsource): boolean {
  return (["product", "category", "service"] as const).every(
    (k) => filter[k] === undefined || filter[k]!.toLowerCase() === rule[k]?.toLowerCase(),
  );
}

function names(rule: SigmaRule, ref: string): boolean {
  return ref === rule.id || (rule.name !== undefined && ref === rule.name);
}

/** The rule with the filters that name it applied (a copy), and the ids of the filters applied. */
export function applyFilters(
  rule: SigmaRule,
  filters: SigmaFilterDoc[],
  reports: Map<SigmaFilterDoc, FilterReport>,
): SigmaRule {
  let out = rule;
  let n = 0;
  for (const f of filters) {
    const named = f.rules === "any" || f.rules.some((ref) => names(rule, ref));
    if (!named) continue;
    const report = reports.get(f)!;
    if (!covers(f.logsource, rule.logsource)) {
      if (f.rules !== "any")
        report.warnings.push(
          `${f.where(["logsource"])}: filter '${f.title}' names rule ${rule.id ?? rule.title} (${rule.path}) but its logsource does not cover the rule's; not applied there`,
        );
      continue;
    }
    let prefix = `_filter${n++}_`;
    while ([...out.detection.searches.keys()].some((k) => k.startsWith(prefix))) prefix = `_${prefix}`;
    const searches = new Map(out.detection.searches);
    for (const [k, v] of f.searches) searches.set(prefix + k, v);
    const fc = prefixCondition(f.condition, prefix);
    out = {
      ...out,
      detection: {
        ...out.detection,
        searches,
        conditions: out.detection.conditions.map((c) => `(${c}) and (${fc})`),
      },
    };
    if (rule.id !== undefined) report.rules.push(rule.id);
  }
  return out;
}

/** One report per filter, with a warning for each rule it names that no loaded rule is (id or name). */
export function filterReports(filters: SigmaFilterDoc[], rules: SigmaRule[]): Map<SigmaFilterDoc, FilterReport> {
  const known = new Set<string>();
  for (const r of rules) {
    if (r.id !== undefined) known.add(r.id);
    if (r.name !== undefined) known.add(r.name);
  }
  const out = new Map<SigmaFilterDoc, FilterReport>();
  for (const f of filters) {
    const warnings: string[] = [];
    if (f.rules !== "any")
      for (const ref of f.rules)
        if (!known.has(ref))
          warnings.push(
            `${f.where(["filter", "rules"])}: filter '${f.title}' names rule '${ref}', which is not among the rules loaded; nothing filtered for it`,
          );
    out.set(f, { ...(f.id ? { id: f.id } : {}), title: f.title, path: f.path, rules: [], warnings });
  }
  return out;
}
