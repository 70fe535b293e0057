/**
 * The fixed Painless script `outliers untag` runs with `_update_by_query`: removes the entries this
 * tool wrote for some rules (params.ids) or all of them (params.ids = null), and nothing else.
 *
 * What the tagger wrote is known exactly from its provenance record `outliers.added`
 * (src/emit/painless/tagger.painless, docs/tags.md "Provenance"): `entries` names, per rule, the position
 * and count of the entries it appended to each `outliers.*` list; `created`, `nulls`, `scalars`,
 * `total`, `replaced`, `original`, `outlier_tag`, `tags_created`, `threat_created` and `techniques`
 * what every touched field was. When the last rule goes, the event's `_source` is what it was before
 * tagging (apart from key order); otherwise `total_outliers`, `max_level` and `max_severity` are
 * recomputed.
 */
import { loadPainless } from "../../shared-scripts/load.ts";
import untagFunctionsText from "./untag-functions.painless" with { type: "text" };
import untagText from "./untag.painless" with { type: "text" };
import { MARK_FUNCTIONS, type WiredParam } from "./rewrite.ts";

/** utOurs / utGone: which entries of `outliers.*` are this tool's, shared by untag and its dry-run count. */
export const UNTAG_FUNCTIONS = loadPainless("untag-functions.painless", untagFunctionsText);

/** Also marks the events of wired indices (params.wired) so that the live tagger lets them through (rewrite.ts). */
export const UNTAG_SOURCE = UNTAG_FUNCTIONS + MARK_FUNCTIONS + loadPainless("untag.painless", untagText);

/**
 * A `scripted_metric` aggregation counting what untag would remove (`untag --dry-run`): events it
 * would change and rule entries it would take off them, by the same reading of `outliers.added`.
 */
export function untagCountAggregation(ids: string[] | null): object {
  return {
    scripted_metric: {
      // Its params are deep-copied, which fails on a null value (7.10): "all" stands for ids = null.
      params: { ids: ids ?? [], all: ids === null },
      init_script: "state.events = 0L; state.entries = 0L;",
      map_script: `${UNTAG_FUNCTIONS}
def o = params['_source'].get('outliers');
List g = utGone(o, utOurs(o), params.all ? null : params.ids);
if (!g.isEmpty()) { state.events += 1; state.entries += g.size(); }`,
      combine_script: "return [state.events, state.entries];",
      reduce_script:
        "long e = 0; long n = 0; for (def s : states) { if (s != null) { e += s[0]; n += s[1]; } } return [e, n];",
    },
  };
}

/**
 * The `_update_by_query` script that removes tags for `ids` (null: every rule this tool tagged);
 * `wired`: the indices whose pipelines reach a tagger that lets marked rewrites through (src/cluster/live/wired.ts).
 */
export function untagScript(
  ids: string[] | null,
  wired?: WiredParam,
): { source: string; params: { ids: string[] | null; wired?: WiredParam }; lang: "painless" } {
  return { source: UNTAG_SOURCE, params: wired ? { ids, wired } : { ids }, lang: "painless" };
}
