/**
 * `outliers report`: what the tags on the cluster say, from aggregations on our tag fields
 * (docs/contract.md): events tagged, per rule (`outliers.rule_id`, with the title the tag recorded) and
 * per ATT&CK technique (`threat.technique.id`). Tag fields are aggregated as each index maps them
 * (tag-fields.ts), so indices mapped by ee-outliers' dynamic layout (text + `.keyword`) count too.
 */
import type { Cluster } from "../connection/client.ts";
import { call } from "../connection/client.ts";
import { aggregatableGroups, type FieldGroup } from "./tag-fields.ts";
import { timeRange } from "../../util/duration.ts";

import { LEVELS_DESC } from "../../ir/levels.ts";

export const RULE_ID = "outliers.rule_id";
export const TECHNIQUE_ID = "threat.technique.id";
/** Buckets per terms aggregation: more than any rule set has rules (SigmaHQ: ~3,000). */
const MAX_BUCKETS = 10_000;

export interface ReportOptions {
  index: string[];
  since?: Date;
  until?: Date;
  timeField: string;
  /** Only events tagged by these rule ids (a rule selection: `report PATHS --min-level …`); every rule when absent. */
  rules?: string[];
}

/** Events tagged by one of `ids`, whether the index maps the rule id as keyword or as text + `.keyword`. */
export function ruleFilter(ids: string[]): object {
  return {
    bool: {
      should: [{ terms: { [RULE_ID]: ids } }, { terms: { [`${RULE_ID}.keyword`]: ids } }],
      minimum_should_match: 1,
    },
  };
}

export interface Hits {
  id: string;
  count: number;
}

export interface RuleHits extends Hits {
  title: string;
}

export interface ResultsReport {
  index: string[];
  /** How many indices the patterns matched. */
  indicesMatched: number;
  window: { since: string | null; until: string | null; timeField: string };
  /** Events carrying at least one of our rule tags. */
  taggedEvents: number;
  /** Sum over rules of the events carrying each: an event two rules hit counts twice. */
  ruleEventPairs: number;
  /** Events carrying a tagging error (`outliers.error`). */
  taggingErrors: number;
  /** Every rule with hits, most hits first. */
  rules: RuleHits[];
  /** Every technique with hits (events carrying it), most first. */
  techniques: Hits[];
  /** Tagged events by their highest level (`outliers.max_level`), highest first; levels with none left out. */
  levels: { level: string; events: number }[];
}

/** Events in the window that satisfy `query`, over the patterns. */
function windowed(query: object, opts: ReportOptions): object {
  const range = timeRange(opts.timeField, opts.since, opts.until);
  const rules = opts.rules ? [ruleFilter(opts.rules)] : [];
  return { bool: { filter: range ? [range, query, ...rules] : [query, ...rules] } };
}

async function countOf(cluster: Cluster, opts: ReportOptions, query: object): Promise<number> {
  const r: any = await call(cluster, "count tagged events", () =>
    cluster.client.count({
      index: opts.index,
      ignore_unavailable: true,
      allow_no_indices: true,
      query: windowed(query, opts),
    } as any),
  );
  return r.count ?? 0;
}

/** A title from what the tag recorded: the Sigma reason without its prefix, else the reason or use-case name. */
export function titleFromTag(reason: unknown, modelType: unknown, modelName: unknown): string {
  const r = typeof reason === "string" ? reason : "";
  if (modelType === "sigma" && r.startsWith("Sigma hit - ")) return r.slice("Sigma hit - ".length);
  return r || (typeof modelName === "string" ? modelName : "");
}

/** The entry of a per-rule tag list that belongs to rule `id` (the lists are parallel to `rule_id`). */
function entryFor(source: any, id: string, key: string): unknown {
  const o = source?.outliers ?? {};
  const ids = Array.isArray(o.rule_id) ? o.rule_id : [o.rule_id];
  const i = ids.indexOf(id);
  const list = Array.isArray(o[key]) ? o[key] : [o[key]];
  return i >= 0 ? list[i] : undefined;
}

/** Terms buckets of `field` over each group, summed by key; with `titles`, one sample tag per rule. */
async function termsOver(
  cluster: Cluster,
  opts: ReportOptions,
  groups: FieldGroup[],
  titles: boolean,
): Promise<{ counts: Map<string, number>; titles: Map<string, string> }> {
  const counts = new Map<string, number>();
  const names = new Map<string, string>();
  for (const g of groups) {
    const aggs: Record<string, object> = {
      t: {
        terms: { field: g.field, size: MAX_BUCKETS },
        ...(titles
          ? {
              aggs: {
                sample: {
                  top_hits: {
                    size: 1,
                    _source: ["outliers.rule_id", "outliers.reason", "outliers.model_type", "outliers.model_name"],
                  },
                },
              },
            }
          : {}),
      },
    };
    const r: any = await call(cluster, `aggregate ${g.field}`, () =>
      cluster.client.search({
        index: g.index,
        ignore_unavailable: true,
        allow_no_indices: true,
        size: 0,
        query: windowed({ exists: { field: g.field } }, opts),
        aggs,
      } as any),
    );
    for (const b of r.aggregations?.t?.buckets ?? []) {
      const key = String(b.key);
      counts.set(key, (counts.get(key) ?? 0) + b.doc_count);
      const src = b.sample?.hits?.hits?.[0]?._source;
      if (titles && src && !names.has(key))
        names.set(
          key,
          titleFromTag(
            entryFor(src, key, "reason"),
            entryFor(src, key, "model_type"),
            entryFor(src, key, "model_name"),
          ),
        );
    }
  }
  return { counts, titles: names };
}

function sorted<T extends Hits>(items: T[]): T[] {
  return items.sort((a, b) => b.count - a.count || a.id.localeCompare(b.id));
}

/** Per rule, the events carrying it (most first), with the title its tags recorded. */
export async function ruleHits(cluster: Cluster, opts: ReportOptions): Promise<RuleHits[]> {
  const groups = await aggregatableGroups(cluster, opts.index, [RULE_ID]);
  const rules = await termsOver(cluster, opts, groups.get(RULE_ID) ?? [], true);
  return sorted([...rules.counts].map(([id, count]) => ({ id, title: rules.titles.get(id) ?? "", count })));
}

export async function resultsReport(cluster: Cluster, opts: ReportOptions): Promise<ResultsReport> {
  const selected = opts.rules ? new Set(opts.rules) : undefined;
  // An event tagged by a selected rule and another one: only the selected rule is counted.
  const rules = (await ruleHits(cluster, opts)).filter((r) => !selected || selected.has(r.id));
  const groups = await aggregatableGroups(cluster, opts.index, [TECHNIQUE_ID]);
  const indicesMatched = groups.indices?.length ?? 0;
  const techniques = await termsOver(cluster, opts, groups.get(TECHNIQUE_ID) ?? [], false);
  return {
    index: opts.index,
    indicesMatched,
    window: {
      since: opts.since?.toISOString() ?? null,
      until: opts.until?.toISOString() ?? null,
      timeField: opts.timeField,
    },
    taggedEvents: await countOf(cluster, opts, { exists: { field: RULE_ID } }),
    ruleEventPairs: rules.reduce((a, r) => a + r.count, 0),
    taggingErrors: await countOf(cluster, opts, { exists: { field: "outliers.error" } }),
    rules,
    techniques: sorted([...techniques.counts].map(([id, count]) => ({ id, count }))),
    levels: await levelCounts(cluster, opts),
  };
}

/** Events per highest level (`outliers.max_level`), highest first. */
async function levelCounts(cluster: Cluster, opts: ReportOptions): Promise<{ level: string; events: number }[]> {
  const out: { level: string; events: number }[] = [];
  for (const level of LEVELS_DESC) {
    const events = await countOf(cluster, opts, { term: { "outliers.max_level": level } });
    if (events > 0) out.push({ level, events });
  }
  return out;
}
