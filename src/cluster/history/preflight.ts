/**
 * The checks backfill and untag run before any work, so that a typo never reads as "0 checked,
 * all done": the index pattern matches nothing, the time field is not mapped (as a date), the
 * window is inverted or holds no event, a named rule is carried by no event. Each finding is a
 * warning; `stop` says there is nothing to do at all (the command exits 1 without writing).
 */
import { timeRange } from "../../util/duration.ts";
import type { Cluster } from "../connection/client.ts";
import { call } from "../connection/client.ts";
import { carriesRule, ruleIdFields, type Discovery } from "../connection/field-discovery.ts";
import { describeIndexed } from "../../emit/field-index.ts";

export interface Preflight {
  warnings: string[];
  /** Nothing to do: no index, no time field, an empty or inverted window. */
  stop: boolean;
}

export interface PreflightOptions {
  patterns: string[];
  timeField: string;
  since?: Date;
  until?: Date;
}

/** The checks on one target (patterns + time field), with its discovered mappings. */
export async function preflight(cluster: Cluster, d: Discovery, opts: PreflightOptions): Promise<Preflight> {
  const where = opts.patterns.join(",");
  if (d.indices.length === 0)
    return {
      warnings: [
        `--index ${where} matches no index or data stream: nothing to do (check the name, or list them with GET _cat/indices)`,
      ],
      stop: true,
    };
  const warnings: string[] = [];
  if (opts.since && opts.until && opts.since.getTime() >= opts.until.getTime())
    return {
      warnings: [
        `the window is empty: --since ${opts.since.toISOString()} is not before --until ${opts.until.toISOString()}`,
      ],
      stop: true,
    };
  const time = d.fields.variants(opts.timeField);
  const notDate = time.filter((v) => !(v.field.kind === "typed" && v.field.type === "date"));
  if (opts.since || opts.until) {
    if (notDate.length === time.length)
      return {
        warnings: [
          `time field ${opts.timeField} is ${describeIndexed(time[0]!.field)} in ${where}, not a date: the window selects no event (use --time-field, e.g. @timestamp or event.created)`,
        ],
        stop: true,
      };
    for (const v of notDate)
      warnings.push(
        `time field ${opts.timeField} is ${describeIndexed(v.field)} in ${v.indices?.join(",") ?? where}: those indices contribute no event to the window`,
      );
    const range = timeRange(opts.timeField, opts.since, opts.until)!;
    const r: any = await call(cluster, "count the events in the window", () =>
      cluster.client.count({
        index: opts.patterns,
        ignore_unavailable: true,
        allow_no_indices: true,
        query: range,
      } as any),
    );
    if (r.count === 0)
      return {
        warnings: [
          ...warnings,
          `no event in ${where} between ${opts.since?.toISOString() ?? "the beginning"} and ${opts.until?.toISOString() ?? "now"} (field ${opts.timeField}): nothing to do`,
        ],
        stop: true,
      };
  }
  return { warnings, stop: false };
}

/** Warnings for the named rule ids no event in the window carries (`untag --rule` with a typo). */
export async function unknownRules(
  cluster: Cluster,
  d: Discovery,
  opts: PreflightOptions,
  named: string[] | undefined,
): Promise<string[]> {
  if (!named?.length || d.indices.length === 0) return [];
  const range = timeRange(opts.timeField, opts.since, opts.until);
  const searches: object[] = [];
  for (const id of named) {
    const filter: object[] = [carriesRule(ruleIdFields(d), [id])];
    if (range) filter.push(range);
    searches.push(
      { index: opts.patterns, ignore_unavailable: true, allow_no_indices: true },
      { size: 0, terminate_after: 1, query: { bool: { filter } } },
    );
  }
  const res: any = await call(cluster, "look up the named rules", () => cluster.client.msearch({ searches } as any));
  return named.flatMap((id, i) => {
    const r = res.responses[i];
    const n = r?.error ? 1 : (r?.hits?.total?.value ?? r?.hits?.total ?? 0);
    return n === 0
      ? [
          `rule ${id}: no event in ${opts.patterns.join(",")}${range ? " in the window" : ""} carries it (unknown rule id?)`,
        ]
      : [];
  });
}
