/**
 * The `_update_by_query` script that tags the events of firing correlation windows
 * (docs/correlations.md): the fixed tagger (`outliersTag`, the one that live tagging and backfill
 * use) over the tag metadata (`ruleMeta`, as the pipeline's params hold it) of one copy of the
 * correlation per group (its `outliers.correlation_group` extra set to the group), and `params.docs`: `_index/_id` of each event
 * to tag → the index of its group's copy. Events not in `docs` are left alone (noop).
 */
import { GROUP_TAG_KEY } from "../../ir/correlation.ts";
import type { Rule } from "../../ir/types.ts";
import { PARAM } from "./layout.ts";
import { ruleMeta } from "../match-plan/rule-meta.ts";
import { MARK_FUNCTIONS, type WiredParam } from "./rewrite.ts";
import { TAGGER_FUNCTIONS } from "./source.ts";

export const CORRELATION_TAG_SOURCE = `${TAGGER_FUNCTIONS}${MARK_FUNCTIONS}
def gi = params.docs.get(ctx._index + '/' + ctx._id);
if (gi == null) { ctx.op = 'noop'; } else {
  List hits = new ArrayList(); hits.add(gi);
  if (outliersTag(ctx._source, params, hits, new ArrayList()) == 0) { ctx.op = 'noop'; } else { outliersMarkRewrite(ctx, params.get('wired')); }
}
`;

/** The key of an event in `params.docs`. */
export function docKey(index: string, id: string): string {
  return `${index}/${id}`;
}

/** The script for `docs` (event key → group label) of correlation `rule`. */
export function correlationTagScript(
  rule: Rule,
  docs: Map<string, string>,
  wired?: WiredParam,
): { source: string; params: Record<string, unknown>; lang: "painless" } {
  const labels: string[] = [];
  const at = new Map<string, number>();
  const byDoc: Record<string, number> = {};
  for (const [k, label] of docs) {
    let i = at.get(label);
    if (i === undefined) {
      i = labels.length;
      labels.push(label);
      at.set(label, i);
    }
    byDoc[k] = i;
  }
  const meta = labels.map((label) =>
    ruleMeta({ ...rule, tagsOut: { ...rule.tagsOut, extra: { [GROUP_TAG_KEY]: label } } }),
  );
  const params: Record<string, unknown> = { [PARAM.META]: meta, [PARAM.EXTRA_KEYS]: [GROUP_TAG_KEY], docs: byDoc };
  if (wired && Object.keys(wired).length) params.wired = wired;
  return { source: CORRELATION_TAG_SOURCE, params, lang: "painless" };
}
