/**
 * Correlation rules on the cluster (docs/correlations.md), for `backfill` and the continuous
 * `correlate` command. Per correlation, inner ones first:
 *
 * 1. a composite aggregation over the group-by fields and a date histogram of one timespan, narrowed
 *    to the events carrying a referenced rule id in the time range, paged in group order: a window
 *    ending in bucket j holds events of buckets j-1 and j only, so only buckets where those hold as
 *    many events as the condition needs (`minEventsToFire`) are looked at;
 * 2. for those, the events' time, group and value fields (sorted; ranges of consecutive buckets of at
 *    most 10,000 events, a scroll for a bigger bucket), from which the windows are evaluated by
 *    src/ir/correlation-windows.ts, the code `scan` uses;
 * 3. the events of the firing windows are tagged in batches by `_update_by_query` over their ids with
 *    the tagger (src/emit/painless/correlation-tag.ts), refreshed before the next correlation.
 *
 * Memory: one composite page, one group's bucket counts, one range's events, one batch of event ids
 * to tag. With aliases (referenced rules grouping on different fields) the groups are counted over
 * every field list first (the group keys of the correlation in memory) and a group's events are
 * read whole.
 */
import { innerFirst, minEventsToFire, type Correlation } from "../../ir/correlation.ts";
import { firingInGroup, participantOf, ruleIdsOf, type Participant } from "../../ir/correlation-windows.ts";
import type { Field, Rule } from "../../ir/types.ts";
import { correlationTagScript, docKey } from "../../emit/painless/correlation-tag.ts";
import { timeRange } from "../../util/duration.ts";
import { call, type Cluster } from "../connection/client.ts";
import { carriesRule, discoverFields, ruleIdFields } from "../connection/field-discovery.ts";
import { ensureTagMappings, type TagLayout } from "../live/tag-mappings.ts";
import { readWiring } from "../live/wired.ts";
import { runUpdate } from "./update-task.ts";

export interface ClusterCorrelateOptions {
  /** Index patterns instead of each correlation's own. */
  index?: string[];
  /** The events considered: time field in [since, until). */
  since?: Date;
  until?: Date;
  /** Only windows ending at or after this time are evaluated (their events from `anchorFrom - timespan`). */
  anchorFrom?: Date;
  json?: boolean;
  tagLayout?: TagLayout;
  /** Groups per composite page (default 1000). */
  pageSize?: number;
  /** Events per tagging batch (default 5000). */
  tagBatch?: number;
}

export interface CorrelationRun {
  id: string;
  title: string;
  /** Groups whose events were fetched (the others could not fire). */
  groupsChecked: number;
  groupsFired: number;
  /** Events newly tagged. */
  tagged: number;
  failures: string[];
  millis: number;
}

const MAX_WINDOW = 10_000;

/** The field an aggregation or term query uses (the keyword sub-field of text and ip fields: the text as written). */
function aggField(f: Field): string {
  return f.keywordSubfield ? `${f.name}.${f.keywordSubfield}` : f.name;
}

/** Distinct group-by field lists of a correlation, each with the referenced rules that use it. */
function fieldLists(c: Correlation): { fields: Field[]; ruleIds: string[] }[] {
  const out = new Map<string, { fields: Field[]; ruleIds: string[] }>();
  for (const id of c.ruleIds) {
    const fields = c.fields[id]!.groupBy;
    const k = JSON.stringify(fields.map(aggField));
    const e = out.get(k);
    if (e) e.ruleIds.push(id);
    else out.set(k, { fields, ruleIds: [id] });
  }
  return [...out.values()];
}

interface Hit {
  _index: string;
  _id: string;
  _source: Record<string, unknown>;
}

/** Evaluates and tags every correlation; correlations referencing others run after them. */
export async function correlateOnCluster(
  cluster: Cluster,
  correlations: Rule[],
  opts: ClusterCorrelateOptions,
): Promise<CorrelationRun[]> {
  const runs: CorrelationRun[] = [];
  const byId = new Map(correlations.map((r) => [r.id, r]));
  // A round's inner correlations tag events up to their timespan before the anchor: the windows of
  // the correlations reading them are re-evaluated from that far back.
  const span = (r: Rule): number =>
    Math.max(
      0,
      ...r.correlation!.ruleIds.map((id) => {
        const inner = byId.get(id);
        return inner ? inner.correlation!.timespanMs + span(inner) : 0;
      }),
    );
  for (const rule of innerFirst(correlations)) {
    const anchorFrom = opts.anchorFrom ? new Date(opts.anchorFrom.getTime() - span(rule)) : undefined;
    runs.push(await correlateOne(cluster, rule, { ...opts, anchorFrom }));
  }
  return runs;
}

async function correlateOne(cluster: Cluster, rule: Rule, opts: ClusterCorrelateOptions): Promise<CorrelationRun> {
  const started = Date.now();
  const c = rule.correlation!;
  const run: CorrelationRun = {
    id: rule.id,
    title: rule.title,
    groupsChecked: 0,
    groupsFired: 0,
    tagged: 0,
    failures: [],
    millis: 0,
  };
  const index = opts.index?.length ? opts.index : rule.index;
  const timeField = rule.timeField;
  const from = opts.anchorFrom ? new Date(opts.anchorFrom.getTime() - c.timespanMs) : opts.since;
  const range = timeRange(timeField, from, opts.until);
  const discovery = await discoverFields(cluster, index);
  if (discovery.indices.length === 0) {
    run.millis = Date.now() - started;
    return run;
  }
  const idFields = ruleIdFields(discovery);
  const carries = (ids: string[]) => carriesRule(idFields, ids);
  const filterOf = (ids: string[]) => (range ? [range, carries(ids)] : [carries(ids)]);
  const lists = fieldLists(c);
  const min = minEventsToFire(c);
  const wired = (await readWiring(cluster, index)).marked;
  const mapped = await ensureTagMappings(
    (ix, properties) =>
      call(cluster, `map the tag fields on ${ix}`, () =>
        cluster.client.indices.putMapping({ index: ix, properties } as any),
      ).then(() => undefined),
    discovery.raw,
    ["correlation_group"],
    opts.tagLayout ?? "keyword",
  );
  if (!opts.json)
    for (const m of mapped)
      if (m.fields.length) process.stderr.write(`outliers: ${m.index}: mapped ${m.fields.join(", ")}\n`);
  const valueFields = c.ruleIds.map((id) => c.fields[id]!.value).filter((f): f is Field => f !== undefined);
  const sourceFields = [
    timeField,
    "outliers.rule_id",
    ...new Set([...lists.flatMap((l) => l.fields.map((f) => f.name)), ...valueFields.map((f) => f.name)]),
  ];

  const pending = new Map<string, string>();
  const flush = async () => {
    if (pending.size === 0) return;
    const ids = [...new Set([...pending.keys()].map((k) => k.slice(k.indexOf("/") + 1)))];
    const totals = await runUpdate(
      cluster,
      {
        index,
        query: { bool: { filter: [{ ids: { values: ids } }], must_not: [carries([rule.id])] } },
        script: correlationTagScript(rule, pending, wired) as any,
        batchSize: 1000,
      },
      { label: `correlation ${rule.id}`, json: opts.json },
    );
    run.tagged += totals.updated;
    run.failures.push(...totals.failures);
    pending.clear();
  };

  /**
   * Evaluates one group's windows ending in [endFrom, endTo) from its events of [endFrom - timespan,
   * endTo) (`expected` of them at most); the events of firing windows join the pending batch.
   */
  const evalRange = async (values: unknown[], key: string, endFrom: number, endTo: number, expected: number) => {
    const should = lists.map((l) => ({
      bool: {
        filter: [carries(l.ruleIds), ...l.fields.map((f, i) => ({ term: { [aggField(f)]: values[i] } }))],
      },
    }));
    const filter: object[] = range ? [range] : [];
    if (Number.isFinite(endFrom) || Number.isFinite(endTo)) {
      const r: Record<string, unknown> = { format: "epoch_millis" };
      if (Number.isFinite(endFrom)) r.gte = endFrom - c.timespanMs;
      if (Number.isFinite(endTo)) r.lt = endTo;
      filter.push({ range: { [timeField]: r } });
    }
    const query = { bool: { filter, should, minimum_should_match: 1 } };
    const hits = await fetchAll(cluster, index, query, timeField, sourceFields, expected);
    const ps: Participant[] = [];
    const of = new Map<Participant, Hit>();
    for (const h of hits) {
      const p = participantOf(h._source, c, timeField, ruleIdsOf(h._source));
      if (!p || p.group !== key) continue;
      ps.push(p);
      of.set(p, h);
    }
    const fired = firingInGroup(
      c,
      ps,
      Math.max(endFrom, opts.anchorFrom?.getTime() ?? Number.NEGATIVE_INFINITY),
      endTo,
    );
    for (const i of fired) {
      const h = of.get(ps[i]!)!;
      pending.set(docKey(h._index, h._id), ps[i]!.label);
    }
    if (pending.size >= (opts.tagBatch ?? 5000)) await flush();
    return fired.length > 0;
  };

  /**
   * One group, from its event counts per time bucket of one timespan (start → count): a window ending
   * in bucket j holds events of buckets j-1 and j only, so only buckets where those two hold enough
   * events are looked at, in ranges of consecutive buckets of at most 10,000 events each.
   */
  const evalBuckets = async (values: unknown[], buckets: [number, number][]) => {
    const T = c.timespanMs;
    const counts = new Map(buckets);
    const ends = buckets.filter(([s, n]) => n > 0 && n + (counts.get(s - T) ?? 0) >= min).map(([s]) => s);
    if (ends.length === 0) return;
    run.groupsChecked++;
    const key = JSON.stringify(values.map((v) => String(v)));
    let fired = false;
    for (let i = 0; i < ends.length; ) {
      let j = i;
      let n = (counts.get(ends[i]! - T) ?? 0) + counts.get(ends[i]!)!;
      while (j + 1 < ends.length && ends[j + 1] === ends[j]! + T && n + counts.get(ends[j + 1]!)! <= MAX_WINDOW) {
        j++;
        n += counts.get(ends[j]!)!;
      }
      if (await evalRange(values, key, ends[i]!, ends[j]! + T, n)) fired = true;
      i = j + 1;
    }
    if (fired) run.groupsFired++;
  };

  if (lists.length === 1) {
    // Pages of (group…, time bucket) in group order: a group is judged when the next one starts.
    const list = lists[0]!;
    let cur: { key: string; values: unknown[]; buckets: [number, number][] } | undefined;
    for await (const page of composite(cluster, index, list, filterOf(list.ruleIds), opts.pageSize, {
      field: timeField,
      ms: c.timespanMs,
    }))
      for (const b of page) {
        const k = JSON.stringify(b.values.map((v) => String(v)));
        if (cur?.key !== k) {
          if (cur) await evalBuckets(cur.values, cur.buckets);
          cur = { key: k, values: b.values, buckets: [] };
        }
        cur.buckets.push([Number(b.time), b.count]);
      }
    if (cur) await evalBuckets(cur.values, cur.buckets);
  } else {
    // Aliases: a group's events are counted over every field list before it is judged.
    const counts = new Map<string, { values: unknown[]; count: number }>();
    for (const l of lists)
      for await (const page of composite(cluster, index, l, filterOf(l.ruleIds), opts.pageSize))
        for (const b of page) {
          const k = JSON.stringify(b.values.map((v) => String(v)));
          const e = counts.get(k);
          if (e) e.count += b.count;
          else counts.set(k, { values: b.values, count: b.count });
        }
    for (const [k, g] of counts) {
      if (g.count < min) continue;
      run.groupsChecked++;
      if (await evalRange(g.values, k, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, g.count)) run.groupsFired++;
    }
  }
  await flush();
  run.millis = Date.now() - started;
  return run;
}

/** The composite aggregation's buckets over one field list, a page at a time. */
async function* composite(
  cluster: Cluster,
  index: string[],
  list: { fields: Field[] },
  filter: object[],
  pageSize = 1000,
  time?: { field: string; ms: number },
): AsyncGenerator<{ values: unknown[]; time?: unknown; count: number }[]> {
  const sources: object[] = list.fields.map((f, i) => ({ [`g${i}`]: { terms: { field: aggField(f) } } }));
  if (time) sources.push({ t: { date_histogram: { field: time.field, fixed_interval: `${time.ms}ms` } } });
  let after: Record<string, unknown> | undefined;
  for (;;) {
    const r: any = await call(cluster, "aggregate correlation groups", () =>
      cluster.client.search({
        index,
        ignore_unavailable: true,
        allow_no_indices: true,
        size: 0,
        query: { bool: { filter } },
        aggs: {
          g: {
            composite: {
              size: pageSize,
              sources,
              ...(after ? { after } : {}),
            },
          },
        },
      } as any),
    );
    const agg = r.aggregations?.g;
    const buckets = (agg?.buckets ?? []) as { key: Record<string, unknown>; doc_count: number }[];
    if (buckets.length === 0) return;
    yield buckets.map((b) => ({
      values: list.fields.map((_, i) => b.key[`g${i}`]),
      time: b.key.t,
      count: b.doc_count,
    }));
    after = agg.after_key;
    if (!after || buckets.length < pageSize) return;
  }
}

/** Every event the query selects (the fields named), sorted by time; a scroll past 10,000. */
async function fetchAll(
  cluster: Cluster,
  index: string[],
  query: object,
  timeField: string,
  fields: string[],
  expected: number,
): Promise<Hit[]> {
  const body = {
    index,
    ignore_unavailable: true,
    allow_no_indices: true,
    query,
    _source: fields,
    sort: [{ [timeField]: "asc" }, "_doc"],
  };
  if (expected <= MAX_WINDOW) {
    const r: any = await call(cluster, "read a correlation group", () =>
      cluster.client.search({ ...body, size: MAX_WINDOW, track_total_hits: true } as any),
    );
    const hits = r.hits.hits as Hit[];
    const total = typeof r.hits.total === "number" ? r.hits.total : r.hits.total?.value;
    if (hits.length >= (total ?? 0)) return hits;
  }
  const out: Hit[] = [];
  let r: any = await call(cluster, "read a correlation group", () =>
    cluster.client.search({ ...body, size: MAX_WINDOW, scroll: "2m" } as any),
  );
  try {
    while (r.hits.hits.length > 0) {
      out.push(...(r.hits.hits as Hit[]));
      const sid = r._scroll_id;
      r = await call(cluster, "read a correlation group", () =>
        cluster.client.scroll({ scroll_id: sid, scroll: "2m" } as any),
      );
    }
  } finally {
    if (r?._scroll_id) await cluster.client.clearScroll({ scroll_id: r._scroll_id } as any).catch(() => undefined);
  }
  return out;
}
