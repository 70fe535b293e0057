/**
 * For the hits layer of `report --navigator`: per ATT&CK technique on the tags, the rules tagged on
 * the events that carry it (a terms aggregation on `threat.technique.id` with a sub-aggregation on
 * `outliers.rule_id`), so that the layer's comments can name rule titles. An event two rules hit
 * carries both rules' techniques in one list: a rule is listed under a technique when an event
 * carries both (the rule's own techniques are always among them).
 */
import { call, type Cluster } from "../connection/client.ts";
import { timeRange } from "../../util/duration.ts";
import { RULE_ID, ruleFilter, TECHNIQUE_ID, type ReportOptions } from "./report.ts";
import { aggregatableGroups } from "./tag-fields.ts";

/** Rules listed per technique at most. */
const MAX_RULES = 100;

/** Technique id (as tagged) → rule id → events carrying both. */
export async function rulesPerTechnique(
  cluster: Cluster,
  opts: ReportOptions,
): Promise<Map<string, Map<string, number>>> {
  const groups = await aggregatableGroups(cluster, opts.index, [TECHNIQUE_ID, RULE_ID]);
  const out = new Map<string, Map<string, number>>();
  const ruleGroups = groups.get(RULE_ID) ?? [];
  for (const g of groups.get(TECHNIQUE_ID) ?? []) {
    // The rule field as this group's indices map it (ours: keyword; ee-outliers' dynamic layout: .keyword).
    const ruleField =
      ruleGroups.find((r) => r.index.some((i) => g.index.includes(i)))?.field ?? ruleGroups[0]?.field ?? RULE_ID;
    const range = timeRange(opts.timeField, opts.since, opts.until);
    const r: any = await call(cluster, `aggregate ${g.field} by rule`, () =>
      cluster.client.search({
        index: g.index,
        ignore_unavailable: true,
        allow_no_indices: true,
        size: 0,
        query: {
          bool: {
            filter: [
              ...(range ? [range] : []),
              { exists: { field: g.field } },
              ...(opts.rules ? [ruleFilter(opts.rules)] : []),
            ],
          },
        },
        aggs: {
          t: {
            terms: { field: g.field, size: 10_000 },
            aggs: { r: { terms: { field: ruleField, size: MAX_RULES } } },
          },
        },
      } as any),
    );
    for (const b of r.aggregations?.t?.buckets ?? []) {
      const key = String(b.key);
      const m = out.get(key) ?? new Map<string, number>();
      for (const rb of b.r?.buckets ?? [])
        if (!opts.rules || opts.rules.includes(String(rb.key)))
          m.set(String(rb.key), (m.get(String(rb.key)) ?? 0) + rb.doc_count);
      out.set(key, m);
    }
  }
  return out;
}
