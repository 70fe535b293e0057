/**
 * The windows of one correlation, evaluated exactly (docs/correlations.md): what an event brings to a
 * correlation (`participantOf`: its group, time, referenced rules, value) and which events of one
 * group the firing windows hold (`firingInGroup`). `scan` (src/local/correlate.ts), `backfill` and the
 * continuous mode (src/cluster/history/correlate.ts) all call these two, so they cannot disagree.
 */
import { conditionHolds, type Correlation } from "./correlation.ts";
import { valuesAt } from "./field-values.ts";
import type { Field } from "./types.ts";

type Obj = Record<string, unknown>;

/** What an event brings to a correlation. */
export interface Participant {
  /** The group's identity (the group-by values as text, JSON-encoded). */
  group: string;
  /** `field=value, …`, for `outliers.correlation_group`. */
  label: string;
  /** Timestamp, epoch milliseconds. */
  t: number;
  /** Indices into `correlation.ruleIds` of the referenced rules the event carries. */
  refs: number[];
  /** value_count: the value as text; value_sum/avg/median/percentile: the number. */
  value?: string | number;
}

/** One scalar value as text, or undefined (missing, or a list of several). */
function single(doc: Obj, f: Field): string | undefined {
  const vs = valuesAt(doc, f.name);
  if (vs.length !== 1) return undefined;
  const v = vs[0];
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

/** The event's time in epoch ms: one ISO-8601 text or epoch-millisecond number; else undefined. */
export function timeOf(doc: Obj, timeField: string): number | undefined {
  const vs = valuesAt(doc, timeField);
  if (vs.length !== 1) return undefined;
  const v = vs[0];
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  if (typeof v === "string") {
    if (/^\d+$/.test(v)) return Number(v);
    if (!/^\d{4}-\d{2}-\d{2}/.test(v)) return undefined;
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

/**
 * What `doc` brings to correlation `c`, given the rule ids it carries (`outliers.rule_id` after
 * base-rule tagging); undefined when it takes no part (no referenced rule, no time, a group-by field
 * missing or a list, no usable value). With several referenced rules whose fields differ (aliases),
 * the event's group is read through the first referenced rule it carries.
 */
export function participantOf(
  doc: Obj,
  c: Correlation,
  timeField: string,
  ruleIds: readonly string[],
): Participant | undefined {
  const refs: number[] = [];
  c.ruleIds.forEach((id, i) => {
    if (ruleIds.includes(id)) refs.push(i);
  });
  if (refs.length === 0) return undefined;
  const t = timeOf(doc, timeField);
  if (t === undefined) return undefined;
  const fields = c.fields[c.ruleIds[refs[0]!]!]!;
  const vals: string[] = [];
  for (const f of fields.groupBy) {
    const v = single(doc, f);
    if (v === undefined) return undefined;
    vals.push(v);
  }
  const p: Participant = {
    group: JSON.stringify(vals),
    label: c.groupBy.map((g, i) => `${g}=${vals[i]}`).join(", "),
    t,
    refs,
  };
  if (fields.value) {
    const v = single(doc, fields.value);
    if (v === undefined) return undefined;
    if (c.type === "value_count") p.value = v;
    else {
      const n = v.trim() === "" ? NaN : Number(v);
      if (!Number.isFinite(n)) return undefined;
      p.value = n;
    }
  }
  return p;
}

/** The percentile `p` (1..100) by nearest rank of sorted numbers. */
export function nearestRank(sorted: number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export function median(sorted: number[]): number {
  const n = sorted.length;
  return n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

/** Do the events (sorted by time) hold the referenced rules in order (non-decreasing times)? */
function inOrder(events: Participant[], lo: number, hi: number, n: number): boolean {
  let want = 0;
  let i = lo;
  while (i <= hi && want < n) {
    // Events of one timestamp are unordered among themselves: fill every place they can.
    let j = i;
    while (j <= hi && events[j]!.t === events[i]!.t) j++;
    let moved = true;
    while (moved && want < n) {
      moved = false;
      for (let k = i; k < j; k++)
        if (events[k]!.refs.includes(want)) {
          want++;
          moved = true;
          break;
        }
    }
    i = j;
  }
  return want >= n;
}

/** The measure of the window events[lo..hi] (value types: undefined when it holds no value). */
function measure(c: Correlation, events: Participant[], lo: number, hi: number): number | undefined {
  switch (c.type) {
    case "event_count":
      return hi - lo + 1;
    case "value_count": {
      const s = new Set<unknown>();
      for (let i = lo; i <= hi; i++) s.add(events[i]!.value);
      return s.size;
    }
    case "temporal": {
      const s = new Set<number>();
      for (let i = lo; i <= hi; i++) for (const r of events[i]!.refs) s.add(r);
      return s.size;
    }
    case "temporal_ordered":
      return inOrder(events, lo, hi, c.ruleIds.length) ? c.ruleIds.length : 0;
    default: {
      const vs: number[] = [];
      for (let i = lo; i <= hi; i++) vs.push(events[i]!.value as number);
      if (c.type === "value_sum") return vs.reduce((a, b) => a + b, 0);
      if (c.type === "value_avg") return vs.reduce((a, b) => a + b, 0) / vs.length;
      vs.sort((a, b) => a - b);
      return c.type === "value_median" ? median(vs) : nearestRank(vs, c.percentile!);
    }
  }
}

/** Temporal types without a condition need every referenced rule. */
export function effectiveCondition(c: Correlation): Correlation["condition"] {
  if (c.condition.length === 0) return [{ op: "gte", value: c.ruleIds.length }];
  return c.condition;
}

/**
 * The events of one group (any order; sorted here by time) that lie in a firing window, as indices
 * into `events` after sorting (the array is sorted in place). Only windows ending in
 * [`anchorFrom`, `anchorTo`) are evaluated (the continuous mode's rounds, the cluster's time ranges;
 * the events before `anchorFrom` are still counted in those windows).
 */
export function firingInGroup(
  c: Correlation,
  events: Participant[],
  anchorFrom = Number.NEGATIVE_INFINITY,
  anchorTo = Number.POSITIVE_INFINITY,
): number[] {
  events.sort((a, b) => a.t - b.t);
  const cond = effectiveCondition(c);
  const out: number[] = [];
  let marked = -1;
  let lo = 0;
  for (let hi = 0; hi < events.length; hi++) {
    const t = events[hi]!.t;
    // The window ends at the last event of this timestamp.
    if (hi + 1 < events.length && events[hi + 1]!.t === t) continue;
    if (t < anchorFrom) continue;
    if (t >= anchorTo) break;
    while (events[lo]!.t < t - c.timespanMs) lo++;
    const m = measure(c, events, lo, hi);
    if (m === undefined || !conditionHolds(cond, m)) continue;
    for (let i = Math.max(lo, marked + 1); i <= hi; i++) out.push(i);
    marked = hi;
  }
  return out;
}

/** The rule ids an event carries (`outliers.rule_id`, a scalar read as one). */
export function ruleIdsOf(doc: Obj): string[] {
  const o = doc.outliers as Obj | undefined;
  if (!o || typeof o !== "object" || Array.isArray(o)) return [];
  const ids = o.rule_id;
  return Array.isArray(ids) ? ids.map(String) : ids === undefined || ids === null ? [] : [String(ids)];
}
