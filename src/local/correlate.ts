/**
 * Correlations in `scan`: after the base rules tagged every event, each correlation (inner first)
 * reads the rule ids the events carry, groups them, evaluates the windows
 * (src/ir/correlation-windows.ts) and tags the events of the firing windows with the JavaScript
 * tagger, the group in `outliers.correlation_group` (docs/correlations.md).
 */
import { GROUP_TAG_KEY, innerFirst } from "../ir/correlation.ts";
import { firingInGroup, participantOf, ruleIdsOf, type Participant } from "../ir/correlation-windows.ts";

export { ruleIdsOf };
import type { Rule } from "../ir/types.ts";
import { tagEvent, tagSet, type TagSet } from "../emit/js/tagger.ts";

type Obj = Record<string, unknown>;

/** The tag set of a correlation firing for one group: its metadata with the group as the extra key. */
export function groupTagSet(rule: Rule, label: string): TagSet {
  return tagSet([{ ...rule, tagsOut: { ...rule.tagsOut, extra: { [GROUP_TAG_KEY]: label } } }]);
}

export interface CorrelationCount {
  id: string;
  title: string;
  /** Events newly tagged by the correlation. */
  events: number;
  /** Groups with at least one firing window. */
  groups: number;
}

/** Evaluates `correlations` over `docs` (already tagged by the base rules) and tags them in place. */
export function correlateLocal(correlations: Rule[], docs: Obj[]): CorrelationCount[] {
  const counts: CorrelationCount[] = [];
  for (const rule of innerFirst(correlations)) {
    const c = rule.correlation!;
    const groups = new Map<string, { ps: Participant[]; docs: Obj[] }>();
    for (const doc of docs) {
      const p = participantOf(doc, c, rule.timeField, ruleIdsOf(doc));
      if (!p) continue;
      let g = groups.get(p.group);
      if (!g) groups.set(p.group, (g = { ps: [], docs: [] }));
      g.ps.push(p);
      g.docs.push(doc);
    }
    let events = 0;
    let fired = 0;
    for (const g of groups.values()) {
      // Sorting reorders the participants: keep each one's document beside it.
      const pairs = g.ps.map((p, i) => ({ p, d: g.docs[i]! }));
      const ps = pairs.map((x) => x.p);
      const order = new Map(ps.map((p, i) => [p, i]));
      const hit = firingInGroup(c, ps);
      if (hit.length === 0) continue;
      fired++;
      const set = groupTagSet(rule, ps[0]!.label);
      for (const i of hit) {
        const doc = pairs[order.get(ps[i]!)!]!.d;
        if (tagEvent(doc, set, [0], []) > 0) events++;
      }
    }
    counts.push({ id: rule.id, title: rule.title, events, groups: fired });
  }
  return counts;
}
