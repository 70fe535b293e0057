/**
 * The one default target of every command that reads or writes events (backfill, untag, report, …),
 * and the per-index counts they print (issue 18.5):
 * - `--index` when given;
 * - else the patterns the tagging pipeline (`--name`, default `outliers`) is wired to, when it is
 *   installed: the events that pipeline tags are the ones to backfill, report on or clean;
 * - else the rules' own index patterns (ee-outliers' `es_index`, the mapping's index for Sigma rules);
 * - else (a command without rules, e.g. report or untag, and no install) `winlogbeat-*`.
 * The choice is said out loud (`describeTarget`), so that no run touches indices nobody named.
 */
import type { Cluster } from "./client.ts";
import { call } from "./client.ts";
import { readState } from "../live/install-state.ts";

export const DEFAULT_PIPELINE = "outliers";
export const FALLBACK_PATTERNS = ["winlogbeat-*"];

export interface Target {
  patterns: string[];
  /** Where they come from, in words: "--index", "wired by pipeline outliers", … */
  source: string;
  /** The patterns are each rule's own (backfill keeps per-rule targets then). */
  perRule: boolean;
}

export async function resolveTarget(
  cluster: Cluster,
  opts: { index?: string[]; name?: string; rulePatterns?: string[] },
): Promise<Target> {
  if (opts.index?.length) return { patterns: opts.index, source: "--index", perRule: false };
  const name = opts.name ?? DEFAULT_PIPELINE;
  const state = await readState(cluster, name).catch(() => undefined);
  if (state?.patterns?.length)
    return { patterns: state.patterns, source: `the patterns pipeline ${name} is wired to`, perRule: false };
  if (opts.rulePatterns?.length)
    return { patterns: [...new Set(opts.rulePatterns)], source: "the rules' index patterns", perRule: true };
  return {
    patterns: FALLBACK_PATTERNS,
    source: `the default (no --index, pipeline ${name} not installed)`,
    perRule: false,
  };
}

export function describeTarget(verb: string, t: Target): string {
  return `${verb} ${t.patterns.join(", ")} (${t.source})`;
}

/** Events per concrete index matching `query` over `patterns` (a terms aggregation on _index), most first. */
export async function countPerIndex(
  cluster: Cluster,
  patterns: string[],
  query: object = { match_all: {} },
): Promise<Array<{ index: string; events: number }>> {
  const r: any = await call(cluster, "count events per index", () =>
    cluster.client.search({
      index: patterns,
      ignore_unavailable: true,
      allow_no_indices: true,
      size: 0,
      query,
      aggs: { ix: { terms: { field: "_index", size: 10_000 } } },
    } as any),
  );
  return (r.aggregations?.ix?.buckets ?? [])
    .map((b: { key: string; doc_count: number }) => ({ index: String(b.key), events: b.doc_count }))
    .sort(
      (a: { events: number; index: string }, b: { events: number; index: string }) =>
        b.events - a.events || a.index.localeCompare(b.index),
    );
}

/** "idx-a: 1,200 event(s), idx-b: 3 event(s)" (the first `max`, then how many more). */
export function formatPerIndex(counts: Array<{ index: string; events: number }>, max = 20): string {
  if (!counts.length) return "no index";
  const shown = counts.slice(0, max).map((c) => `${c.index}: ${c.events.toLocaleString("en-US")} event(s)`);
  return (
    shown.join(", ") +
    (counts.length > max ? `, and ${counts.length - max} more ind${counts.length - max === 1 ? "ex" : "ices"}` : "")
  );
}
