/**
 * The fixed Painless script `outliers untag` runs with `_update_by_query` (src/painless/untag.painless): removes the entries this
 * tool wrote for some rules (params.ids) or all of them (params.ids = null), and nothing else.
 *
 * What the tagger wrote is known exactly from the event itself:
 * - one entry per rule in every `outliers.*` list, at the index of the rule in `outliers.rule_id`,
 *   except `outliers.type`, where rule i added `outliers.added.type_counts[i]` entries;
 * - `outliers.added`, the provenance record the tagger keeps (see tagger.ts):
 *     outlier_tag      true when the tagger appended "outlier" to `tags`
 *     tags_created     true when `tags` did not exist before
 *     techniques       [[technique id, rule ids that brought it…], …] for ids the tagger appended
 *     threat_created   which of "threat", "threat.technique" the tagger created
 * When the last rule goes, everything the tagger created goes with it, so the event's `_source` is
 * what it was before tagging (apart from key order).
 */
import { loadPainless } from "../../painless/load.ts";
import untagText from "../../painless/untag.painless" with { type: "text" };

export const UNTAG_SOURCE = loadPainless("untag.painless", untagText);

/** The `_update_by_query` script that removes tags for `ids` (null: every rule this tool tagged). */
export function untagScript(ids: string[] | null): { source: string; params: { ids: string[] | null }; lang: "painless" } {
  return { source: UNTAG_SOURCE, params: { ids }, lang: "painless" };
}
