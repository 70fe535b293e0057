/**
 * The indices a backfill read and wrote, by name, with their event counts (issue 18.5): per concrete
 * index, the events of the window and those carrying one of the run's rules after it.
 */
import type { Cluster } from "../connection/client.ts";
import { carriesRule } from "../connection/field-discovery.ts";
import { countPerIndex } from "../connection/targets.ts";
import { timeRange } from "../../util/duration.ts";
import type { BackfillOptions, PreparedTarget } from "./backfill-target.ts";

export interface TouchedIndex {
  index: string;
  /** Events in the window. */
  inWindow: number;
  /** Events in the window carrying one of the run's rules (after the run; now, for a dry run). */
  carrying: number;
}

export async function touchedIndices(
  cluster: Cluster,
  targets: PreparedTarget[],
  opts: BackfillOptions,
): Promise<TouchedIndex[]> {
  const out = new Map<string, TouchedIndex>();
  for (const t of targets) {
    const range = timeRange(t.timeField, opts.since, opts.until);
    const window = range ? { bool: { filter: [range] } } : { match_all: {} };
    const ids = [...t.rules, ...t.queryOnly].map((r) => r.id);
    const carrying = t.idFields.length
      ? await countPerIndex(cluster, t.index, {
          bool: { filter: [...(range ? [range] : []), carriesRule(t.idFields, ids)] },
        })
      : [];
    for (const c of await countPerIndex(cluster, t.index, window)) {
      const row = out.get(c.index) ?? { index: c.index, inWindow: 0, carrying: 0 };
      row.inWindow = Math.max(row.inWindow, c.events);
      out.set(c.index, row);
    }
    for (const c of carrying) {
      const row = out.get(c.index) ?? { index: c.index, inWindow: 0, carrying: 0 };
      row.carrying = Math.max(row.carrying, c.events);
      out.set(c.index, row);
    }
  }
  return [...out.values()].sort((a, b) => b.inWindow - a.inWindow || a.index.localeCompare(b.index));
}

/** "indices: a (3,400 event(s) in the window, 120 carrying these rules), …" */
export function formatTouched(rows: TouchedIndex[], dryRun: boolean, max = 20): string {
  if (!rows.length) return "indices: none matched";
  const f = (n: number) => n.toLocaleString("en-US");
  const shown = rows
    .slice(0, max)
    .map(
      (r) =>
        `${r.index} (${f(r.inWindow)} event(s) in the window, ${f(r.carrying)} ${dryRun ? "carry" : "carrying"} these rules${dryRun ? " now" : ""})`,
    );
  return `indices (${rows.length}): ${shown.join(", ")}${rows.length > max ? `, and ${rows.length - max} more` : ""}`;
}
