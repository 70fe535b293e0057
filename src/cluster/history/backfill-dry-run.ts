/**
 * `backfill --dry-run`: what a run would write, found the way the run finds it, without writing.
 *
 * The run is one `_update_by_query` per pass (backfill.ts `planPasses`) whose script is the live
 * matcher and tagger. The dry run sends each pass's query with the same matcher and tagger as the
 * script of a `terms` aggregation: it runs on each candidate's `_source` (a copy the search owns;
 * nothing is written) and the aggregation counts, per rule, the tags it would add, the events it
 * would rewrite, and the events it would fail on. Same candidates, same matcher, so
 * the counts equal the run's, at the cost of the run minus its writes. (Counting each rule's exact
 * query instead costs 12-25x the run on the SigmaHQ set: exact queries build leading-wildcard
 * automata, the run's prefilter does not.)
 *
 * On a terminal, a large window is cut into time slices, one request each, so that progress shows;
 * each request costs the parsing of the rules' params again (~1.4 s for the 2,856 SigmaHQ Windows
 * rules, 3 MB, measured on 7.10), so slices are few and large, and pipes and --json get one request.
 */
import { FUNCTIONS } from "../../emit/painless/pipeline.ts";
import { loadPainless } from "../../shared-scripts/load.ts";
import dryRunText from "../../emit/painless/dry-run.painless" with { type: "text" };
import { call, type Cluster } from "../connection/client.ts";
import { type BackfillPass, planPasses, type RuleCount } from "./backfill.ts";
import type { BackfillOptions, PreparedTarget } from "./backfill-target.ts";
import { timeRange } from "../../util/duration.ts";
import { Progress } from "../../util/progress.ts";

/**
 * Runs the pass's matcher on a candidate's `_source` (the aggregation's own copy) and returns what
 * it would add as terms: the ids of the rules it would newly record, and marker keys for "checked",
 * "rewritten", "error recorded" and "tagger failed". A terms aggregation over these values counts
 * them exactly (its size exceeds the number of keys). Not a scripted_metric: that deep-copies its
 * params and fails on the nulls the encoded rules hold.
 */
export const MATCH_SOURCE = `${FUNCTIONS}\n${loadPainless("dry-run.painless", dryRunText)}`;
/** Marker keys: no rule id starts with a NUL character. */
const MARK = {
  mk_checked: "\u0000checked",
  mk_events: "\u0000events",
  mk_errors: "\u0000errors",
  mk_failed: "\u0000failed",
} as const;

/** Time slices per pass at most, on a terminal; one per EVENTS_PER_SLICE events of the window. */
const MAX_SLICES = 10;
const EVENTS_PER_SLICE = 100_000;

export interface DryRunTotals {
  /** Candidates the matcher looked at (the run's "checked"). */
  checked: number;
  /** Events that would be rewritten: at least one new rule or tagging error. */
  events: number;
  /** Events the tagger would fail on (the run reports them as failures). */
  failed: number;
  /** Events that would get a tagging error recorded. */
  errors: number;
  /** Per rule, the tags it would add. */
  rules: RuleCount[];
}

/**
 * The window of a target cut into time slices of roughly equal length: one slice (no range) unless
 * progress is shown and the window holds more than EVENTS_PER_SLICE events with a numeric time range.
 */
async function timeSlices(
  cluster: Cluster,
  t: PreparedTarget,
  opts: BackfillOptions,
  interactive: boolean,
): Promise<{ range?: object }[]> {
  if (!interactive) return [{}];
  const window = timeRange(t.timeField, opts.since, opts.until);
  const r: any = await call(cluster, "read the time range of the window", () =>
    cluster.client.search({
      index: t.index,
      ignore_unavailable: true,
      allow_no_indices: true,
      size: 0,
      ...(window ? { query: window } : {}),
      aggs: { t: { stats: { field: t.timeField } } },
    } as any),
  ).catch(() => undefined);
  const s = r?.aggregations?.t;
  const n = Math.min(MAX_SLICES, Math.max(1, Math.floor((s?.count ?? 0) / EVENTS_PER_SLICE)));
  if (!s || !Number.isFinite(s.min) || !Number.isFinite(s.max) || n === 1 || s.max <= s.min) return [{}];
  const step = (s.max - s.min) / n;
  const out: { range?: object }[] = [];
  for (let i = 0; i < n; i++) {
    const last = i === n - 1;
    const lo = i === 0 ? s.min : Math.floor(s.min + i * step);
    const hi = last ? s.max : Math.floor(s.min + (i + 1) * step);
    out.push({ range: { range: { [t.timeField]: { gte: lo, [last ? "lte" : "lt"]: hi, format: "epoch_millis" } } } });
  }
  return out;
}

function sliceQuery(pass: BackfillPass, range: object | undefined): object {
  return range ? { bool: { filter: [range, pass.query] } } : pass.query;
}

/** Counts what every pass of every target would write. Writes nothing. */
export async function dryRunBackfill(
  cluster: Cluster,
  targets: PreparedTarget[],
  opts: BackfillOptions,
): Promise<DryRunTotals> {
  const totals = { checked: 0, events: 0, failed: 0, errors: 0 };
  const pairs = new Map<string, number>();
  const plans = [];
  const interactive = !opts.json && Boolean(process.stderr.isTTY);
  for (const t of targets) {
    const slices = await timeSlices(cluster, t, opts, interactive);
    for (const p of planPasses(t, opts)) plans.push({ t, p, slices });
  }
  const total = plans.reduce((a, x) => a + x.slices.length, 0);
  const progress = new Progress("dry run", { json: opts.json });
  let done = 0;
  const started = Date.now();
  const show = () =>
    progress.update(
      {
        done,
        total,
        counters: {
          checked: totals.checked,
          "would tag": totals.events,
          seconds: Math.round((Date.now() - started) / 1000),
        },
      },
      true,
    );
  // One request can take minutes: the line keeps counting seconds meanwhile.
  const ticker = interactive ? setInterval(show, 1000) : undefined;
  try {
    for (const { t, p, slices } of plans) {
      for (const sl of slices) {
        const query = sliceQuery(p, sl.range);
        const r: any = await call(cluster, `dry run ${p.label}`, () =>
          cluster.client.search(
            {
              index: t.index,
              ignore_unavailable: true,
              allow_no_indices: true,
              size: 0,
              query,
              aggs: {
                would: {
                  terms: {
                    script: { source: MATCH_SOURCE, lang: "painless", params: { ...p.script.params, ...MARK } },
                    size: p.rules.length + 10,
                    shard_size: p.rules.length + 10,
                  },
                },
              },
            } as any,
            { requestTimeout: 60 * 60_000 },
          ),
        );
        for (const b of (r.aggregations?.would?.buckets ?? []) as { key: string; doc_count: number }[]) {
          if (b.key === MARK.mk_checked) totals.checked += b.doc_count;
          else if (b.key === MARK.mk_events) totals.events += b.doc_count;
          else if (b.key === MARK.mk_errors) totals.errors += b.doc_count;
          else if (b.key === MARK.mk_failed) totals.failed += b.doc_count;
          else pairs.set(b.key, (pairs.get(b.key) ?? 0) + b.doc_count);
        }
        done++;
        show();
      }
    }
  } finally {
    if (ticker) clearInterval(ticker);
    progress.done();
  }
  const rules: RuleCount[] = [];
  const seen = new Set<string>();
  for (const { p } of plans)
    for (const r of p.rules) {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      rules.push({ id: r.id, title: r.title, count: pairs.get(r.id) ?? 0 });
    }
  return { ...totals, rules };
}
