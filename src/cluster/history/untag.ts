/**
 * Untag: remove the tags this tool wrote (for some rules or all), and nothing else, with one
 * `_update_by_query` followed like backfill (progress, Ctrl-C, conflict retries, resume).
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { untagCountAggregation, untagScript } from "../../emit/painless/untag.ts";
import { call, type Cluster } from "../connection/client.ts";
import { carriesRule, discoverFields, ruleIdFields, type Discovery } from "../connection/field-discovery.ts";
import { runUpdate, stateDir, type UpdateTotals } from "./update-task.ts";
import type { Wiring } from "../live/wired.ts";
import type { WiredParam } from "../../emit/painless/rewrite.ts";
import { timeRange } from "../../util/duration.ts";

export interface UntagOptions {
  index: string[];
  /** Rule ids to remove; empty or undefined removes every rule this tool tagged. */
  rules?: string[];
  since?: Date;
  until?: Date;
  timeField?: string;
  slices?: "auto" | number;
  json?: boolean;
  /** Indices wired to a tagger that lets marked rewrites through: their writes are marked (src/cluster/live/wired.ts). */
  wired?: WiredParam;
  /** Indices left alone: wired to a tagger of an older version, which would tag them again. */
  skip?: string[];
}

/** Events carrying (some of) the rules; the query narrows itself as the script removes them. */
export async function untagQuery(cluster: Cluster, opts: UntagOptions, discovery?: Discovery): Promise<object> {
  const d = discovery ?? (await discoverFields(cluster, opts.index));
  const filter: object[] = [carriesRule(ruleIdFields(d), opts.rules?.length ? opts.rules : null)];
  const range = timeRange(opts.timeField ?? "@timestamp", opts.since, opts.until);
  if (range) filter.push(range);
  return opts.skip?.length ? { bool: { filter, must_not: [{ terms: { _index: opts.skip } }] } } : { bool: { filter } };
}

export async function runUntag(cluster: Cluster, opts: UntagOptions, discovery?: Discovery): Promise<UpdateTotals> {
  const query = await untagQuery(cluster, opts, discovery);
  const key = createHash("sha256")
    .update(JSON.stringify([cluster.url, opts.index, opts.rules ?? null, opts.since ?? null]))
    .digest("hex")
    .slice(0, 16);
  return runUpdate(
    cluster,
    {
      index: opts.index,
      query,
      script: untagScript(opts.rules?.length ? opts.rules : null, opts.wired ?? {}),
      slices: opts.slices ?? "auto",
    },
    { label: "untag", json: opts.json, resumeFile: join(stateDir(), "untag", `${key}.json`) },
  );
}

/** What `untag` would remove, counted on the cluster by the same reading of `outliers.added`; writes nothing. */
export async function countUntag(
  cluster: Cluster,
  opts: UntagOptions,
  discovery?: Discovery,
): Promise<{ events: number; entries: number }> {
  const query = await untagQuery(cluster, opts, discovery);
  const r: any = await call(cluster, "count what untag would remove", () =>
    cluster.client.search({
      index: opts.index,
      ignore_unavailable: true,
      allow_no_indices: true,
      body: { size: 0, query, aggs: { untag: untagCountAggregation(opts.rules?.length ? opts.rules : null) } },
    } as any),
  );
  const [events, entries] = (r.aggregations?.untag?.value ?? [0, 0]) as [number, number];
  return { events: Number(events), entries: Number(entries) };
}

/** The warning for indices whose live tagger (installed by an older version) would tag untagged events again. */
export function oldTaggerWarnings(w: Wiring): string[] {
  if (w.unreadable)
    return [
      `${w.unreadable}: cannot tell which indices are wired to the live pipeline, whose tagger would tag the events cleaned there again`,
    ];
  const byPipelines = new Map<string, string[]>();
  for (const o of w.old)
    byPipelines.set(o.pipelines.join(", "), [...(byPipelines.get(o.pipelines.join(", ")) ?? []), o.index]);
  return [...byPipelines].map(
    ([p, ix]) =>
      `${ix.length} ind${ix.length === 1 ? "ex" : "ices"} (${ix.slice(0, 5).join(", ")}${ix.length > 5 ? ", …" : ""}) left as they are: their live pipeline ${p} was installed by an older outliers version and would tag the cleaned events again; re-run \`outliers pipeline install\` to update it (or uninstall it), then untag`,
  );
}
