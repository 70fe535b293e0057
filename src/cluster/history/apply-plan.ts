/**
 * The plan of `outliers apply`, from what the cluster holds (the apply record, the installed pipeline)
 * and the rules on disk; makes no request. Each rule is added, changed (its digest differs, filters
 * included), removed or unchanged:
 *   - the pipeline is put first (live tagging of the new versions starts before history is rewritten);
 *   - the entries of changed and removed rules are untagged (by rule id, every event, any time);
 *   - added and changed rules are backfilled over the window.
 * Rules a run killed outright left half done (the record's `pending`) are planned again as changed
 * (or removed), so running apply again finishes that job.
 */
import type { ApplyRecord } from "./apply-record.ts";

export interface ApplyRuleRef {
  id: string;
  title: string;
  /** Absent for a pipeline installed before digests were recorded: the rule then counts as changed. */
  digest?: string;
}

export interface ApplyChanges {
  added: ApplyRuleRef[];
  changed: ApplyRuleRef[];
  removed: ApplyRuleRef[];
  unchanged: ApplyRuleRef[];
  /** A killed run's plan is being finished. */
  resumed: boolean;
}

export interface ApplyBaseline {
  record?: ApplyRecord;
  /** The rules of the pipeline installed under the name (empty when none is). */
  installed: ApplyRuleRef[];
}

export function planApply(next: ApplyRuleRef[], base: ApplyBaseline): ApplyChanges {
  const live = base.installed.length > 0;
  // What history and live tagging hold now: the record's versions when apply ran before, else those
  // of the pipeline installed by hand. Without a pipeline nothing is unchanged (backfill skips events
  // already carrying a rule, so backfilling them again writes nothing twice).
  const known = new Map<string, ApplyRuleRef>();
  if (live) {
    if (base.record) for (const r of Object.values(base.record.rules)) known.set(r.id, r);
    else for (const r of base.installed) known.set(r.id, r);
  }
  const pending = new Set([...(base.record?.pending?.untag ?? []), ...(base.record?.pending?.backfill ?? [])]);
  const out: ApplyChanges = { added: [], changed: [], removed: [], unchanged: [], resumed: pending.size > 0 };
  const nextIds = new Set(next.map((r) => r.id));
  for (const r of next) {
    const old = known.get(r.id);
    if (!old) out.added.push(r);
    else if (old.digest === undefined || old.digest !== r.digest || pending.has(r.id)) out.changed.push(r);
    else out.unchanged.push(r);
  }
  // Removed: whatever carried tags before (the record, the installed pipeline, a killed run's plan).
  const gone = new Map<string, ApplyRuleRef>();
  for (const r of Object.values(base.record?.rules ?? {})) gone.set(r.id, r);
  for (const r of base.installed) if (!gone.has(r.id)) gone.set(r.id, r);
  for (const id of pending) if (!gone.has(id)) gone.set(id, { id, title: "" });
  for (const [id, r] of gone) if (!nextIds.has(id)) out.removed.push(r);
  return out;
}

/** Nothing to untag or backfill. */
export function noRuleChange(c: ApplyChanges): boolean {
  return c.added.length === 0 && c.changed.length === 0 && c.removed.length === 0;
}
