/**
 * Correlation rules in the rule representation (semantics: docs/correlations.md). A correlation is a
 * `Rule` whose `correlation` is set: its `condition` never matches a single event (emitters never see
 * it: `loadRuleSet` keeps correlations apart), its `tagsOut` is what the events of a firing window
 * get, and `correlation` says which rules it references and how it counts.
 */
import type { Field } from "./types.ts";

export const CORRELATION_TYPES = [
  "event_count",
  "value_count",
  "temporal",
  "temporal_ordered",
  "value_sum",
  "value_avg",
  "value_percentile",
  "value_median",
] as const;
export type CorrelationType = (typeof CORRELATION_TYPES)[number];

export const CONDITION_OPS = ["gt", "gte", "lt", "lte", "eq", "neq"] as const;
export type ConditionOp = (typeof CONDITION_OPS)[number];

/** The extra tag key (`outliers.<key>`) holding the group a correlation fired for. */
export const GROUP_TAG_KEY = "correlation_group";

/** What a correlation needs of one referenced rule's events: where each group-by value and the value field are. */
export interface RefFields {
  /** Index field per group-by entry, in `groupBy` order. */
  groupBy: Field[];
  /** Index field of `field` (value types). */
  value?: Field;
}

export interface Correlation {
  type: CorrelationType;
  /** Referenced rules as written in `rules`. */
  refs: string[];
  /** Their compiled rule ids, same order (filled when references are resolved). */
  ruleIds: string[];
  /** Group-by names as written (Sigma field names or alias names). */
  groupBy: string[];
  timespan: string;
  timespanMs: number;
  /** Every operator of `condition`, ANDed. Empty for temporal without a condition (all rules). */
  condition: { op: ConditionOp; value: number }[];
  /** `condition.field` of value types (Sigma field name). */
  field?: string;
  /** `condition.percentile` of value_percentile (1..100). */
  percentile?: number;
  /** alias name → (rule name or id → Sigma field name). */
  aliases: Record<string, Record<string, string>>;
  generate: boolean;
  /** Per referenced rule id: its index fields (filled when references are resolved). */
  fields: Record<string, RefFields>;
}

/** Does `measure` satisfy every operator of the condition? */
export function conditionHolds(cond: Correlation["condition"], measure: number): boolean {
  for (const c of cond) {
    const v = c.value;
    const ok =
      c.op === "gt"
        ? measure > v
        : c.op === "gte"
          ? measure >= v
          : c.op === "lt"
            ? measure < v
            : c.op === "lte"
              ? measure <= v
              : c.op === "eq"
                ? measure === v
                : measure !== v;
    if (!ok) return false;
  }
  return true;
}

/**
 * The fewest events a window needs for the correlation to possibly fire (a group with fewer
 * events in the whole range can be skipped without looking at its windows). 1 when the condition
 * does not grow with the count (lt, lte, neq, sums of negative values, …).
 */
export function minEventsToFire(c: Correlation): number {
  let min = 1;
  if (c.type === "event_count" || c.type === "value_count") {
    for (const k of c.condition) {
      if (k.op === "gte" || k.op === "eq") min = Math.max(min, Math.ceil(k.value));
      if (k.op === "gt") min = Math.max(min, Math.floor(k.value) + 1);
    }
  } else if (c.type === "temporal" || c.type === "temporal_ordered") {
    if (c.condition.length === 0) min = c.ruleIds.length;
    for (const k of c.condition) {
      if (k.op === "gte" || k.op === "eq") min = Math.max(min, Math.ceil(k.value));
      if (k.op === "gt") min = Math.max(min, Math.floor(k.value) + 1);
    }
  }
  return min;
}

/** Correlation rules ordered so that each comes after the correlations it references (inner first). */
export function innerFirst<R extends { id: string; correlation?: Correlation }>(rules: R[]): R[] {
  const byId = new Map(rules.map((r) => [r.id, r]));
  const out: R[] = [];
  const seen = new Set<string>();
  const visit = (r: R) => {
    if (seen.has(r.id)) return;
    seen.add(r.id);
    for (const id of r.correlation?.ruleIds ?? []) {
      const inner = byId.get(id);
      if (inner) visit(inner);
    }
    out.push(r);
  };
  for (const r of rules) visit(r);
  return out;
}
