/**
 * A rule's condition on a logsource whose sources name fields differently (Profile.bySource): the
 * detection compiled once per source with that source's names, each under its own guard,
 *   (Sysmon 1 guard AND Image endswith X) OR (Security 4688 guard AND NewProcessName endswith X),
 * so that a rename applies only to its own source's events, under `not` too. When every source gives
 * the same tree (the rule uses no renamed field), the one tree under the ORed guard, as before.
 */
import { and, or } from "../../ir/build.ts";
import type { Node } from "../../ir/types.ts";
import type { LogsourceTarget, SourceView } from "../../mapping/profile.ts";

export function perSource(target: LogsourceTarget, detection: (source: SourceView) => Node, whole: () => Node): Node {
  const views = target.bySource;
  if (!views || views.length < 2) return and([target.guard, whole()]);
  const each = views.map((v) => ({ guard: v.guard, cond: detection(v) }));
  const first = JSON.stringify(each[0]!.cond);
  if (each.every((e) => JSON.stringify(e.cond) === first)) return and([target.guard, each[0]!.cond]);
  return or(each.map((e) => and([e.guard, e.cond])));
}
