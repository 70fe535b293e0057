/**
 * Rewrites that the live pipeline lets through untouched. `_update_by_query` writes go through the
 * index's default and final pipelines, so on an index wired to our live tagger (src/cluster/live/install.ts)
 * an event untag has just cleaned would be tagged again, and every backfill write would run the tagger a
 * second time. The update scripts of untag and backfill therefore set a marker field on the events of
 * the indices whose pipelines reach taggers that know it (params.wired: index name → how many taggers a
 * write goes through, two for stacked installs; tested with `ctx._index`; src/cluster/live/wired.ts finds
 * them); each tagger's first statement counts the marker down (the last removes it) and skips the event.
 * Indices not wired never get the marker, so nothing is left behind. A tagger installed by an older
 * version lacks the check: its indices are not marked (wired.ts reports them).
 */
import { loadPainless } from "../../shared-scripts/load.ts";
import markText from "./rewrite-mark.painless" with { type: "text" };
import skipText from "./rewrite-skip.painless" with { type: "text" };

/** The marker field (top level of `_source`, an integer; never stays on an event). */
export const MARK = { FIELD: "outliers_rewrite" } as const;
export const MARK_FIELD = MARK.FIELD;

/** `outliersMarkRewrite(Map ctx, def wired)`: for `_update_by_query` scripts, after deciding to write. */
export const MARK_FUNCTIONS = loadPainless("rewrite-mark.painless", markText, { MARK });

/** The statement the ingest tagger starts with: a marked event is unmarked and not tagged. */
export const SKIP_REWRITE = loadPainless("rewrite-skip.painless", skipText, { MARK });

/** The tag of the live tagger's script processor (pipeline.ts), by which wired.ts knows our pipelines. */
export const TAGGER_TAG = "outliers-tagger";

/** Whether a tagger processor's source has the marker check (a pipeline installed before it lacks it). */
export function checksRewrite(source: unknown): boolean {
  return typeof source === "string" && source.includes(SKIP_REWRITE);
}

/** `params.wired`: index name → how many of our taggers a write to it goes through (src/cluster/live/wired.ts). */
export type WiredParam = Record<string, number>;
