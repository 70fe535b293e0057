/**
 * What `outliers backfill` (and its `--dry-run`) prints when done: totals first, one unit per line,
 * each explained, then the top rules. The units, kept apart:
 *   events checked       events the candidate query selected; the matcher looked at each
 *   events newly tagged  events rewritten because at least one rule newly matched (one write each)
 *   new rule hits        (event, rule) pairs added: an event two rules newly hit counts twice
 *   tags in window       (event, rule) pairs carried in the window, older tags included
 */
import type { RuleCount } from "../cluster/history/backfill.ts";
import { fmtInt } from "./count-tables.ts";

/** Rules listed in the summary; `--json` carries every rule. */
export const SUMMARY_TOP = 20;

export interface RuleSummary {
  id: string;
  title: string;
  /** Tags the run added (or would add). */
  added: number;
  /** Events in the window carrying the rule after the run (now, for a dry run). */
  inWindow: number;
}

export interface BackfillSummary {
  dryRun: boolean;
  window: { since: string; until: string | null };
  targets: number;
  checked: number;
  eventsTagged: number;
  rules: RuleSummary[];
  /** Real runs only. */
  versionConflictsRetried?: number;
  seconds?: number;
  failedEvents?: number;
}

function row(label: string, n: number, explain: string): string {
  return `  ${label.padEnd(20)}${fmtInt(n).padStart(12)}  ${explain}`;
}

export function formatSummary(s: BackfillSummary, top = SUMMARY_TOP): string[] {
  const would = s.dryRun;
  const added = s.rules.reduce((a, r) => a + r.added, 0);
  const inWindow = s.rules.reduce((a, r) => a + r.inWindow, 0);
  const head = would ? "dry run, nothing written" : "backfill done";
  const lines = [
    `${head}: window ${s.window.since} .. ${s.window.until ?? "now"}, ${s.rules.length} rule(s), ${s.targets} target(s)`,
    row("events checked", s.checked, "events the candidate query selected; the rules' matcher looked at each"),
    row(
      would ? "events to tag" : "events newly tagged",
      s.eventsTagged,
      `events ${would ? "that would be " : ""}rewritten because at least one rule newly matched (one write per event)`,
    ),
    row(
      "new rule hits",
      added,
      `(event, rule) pairs ${would ? "that would be " : ""}added: an event two rules newly hit counts twice`,
    ),
    row(
      "tags in window",
      inWindow,
      `(event, rule) pairs the window ${would ? "would carry after a run" : "carries after the run"}, older tags included (live tagging, earlier runs)`,
    ),
  ];
  if (!would) {
    const rate = s.seconds && s.seconds > 0 ? Math.round(s.checked / s.seconds) : s.checked;
    lines.push(
      row(
        "conflicts retried",
        s.versionConflictsRetried ?? 0,
        "events changed by someone else during the run, checked again",
      ),
    );
    lines.push(
      `  ${"time".padEnd(20)}${`${(s.seconds ?? 0).toFixed(1)}s`.padStart(12)}  ${fmtInt(rate)} events checked per second`,
    );
  }
  if (s.failedEvents)
    lines.push(row("events failed", s.failedEvents, "the tagger failed on them (see the messages above)"));
  const hit = s.rules.filter((r) => r.added > 0 || r.inWindow > 0);
  if (hit.length === 0) return [...lines, "no rule has tags in the window"];
  lines.push(
    "",
    `top ${Math.min(top, hit.length)} of ${hit.length} rule(s) with tags in the window, by new hits (--json lists every rule):`,
  );
  const sorted = [...hit].sort(
    (a, b) => b.added - a.added || b.inWindow - a.inWindow || a.title.localeCompare(b.title),
  );
  const shown = sorted.slice(0, top);
  const w1 = Math.max(8, ...shown.map((r) => fmtInt(r.added).length));
  const w2 = Math.max(9, ...shown.map((r) => fmtInt(r.inWindow).length));
  lines.push(`  ${(would ? "to add" : "added").padStart(w1)}  ${"in window".padStart(w2)}  rule`);
  for (const r of shown)
    lines.push(`  ${fmtInt(r.added).padStart(w1)}  ${fmtInt(r.inWindow).padStart(w2)}  ${r.title} (${r.id})`);
  const rest = sorted.slice(shown.length);
  if (rest.length)
    lines.push(
      `  ${"".padStart(w1)}  ${"".padStart(w2)}  … and ${fmtInt(rest.length)} more rule(s): ${fmtInt(rest.reduce((a, r) => a + r.added, 0))} new hits, ${fmtInt(rest.reduce((a, r) => a + r.inWindow, 0))} in window`,
    );
  return lines;
}

/**
 * The summary's rules: `added` per rule (what the run added, or the dry run would) and `inWindow`
 * (carried after the run; for a dry run, carried now plus what it would add).
 */
export function summaryOf(
  dryRun: boolean,
  window: BackfillSummary["window"],
  targets: number,
  checked: number,
  eventsTagged: number,
  added: RuleCount[],
  carried: RuleCount[],
): BackfillSummary {
  const have = new Map(carried.map((c) => [c.id, c.count]));
  const rules = added.map((a) => ({
    id: a.id,
    title: a.title,
    added: a.count,
    inWindow: (have.get(a.id) ?? 0) + (dryRun ? a.count : 0),
  }));
  return { dryRun, window, targets, checked, eventsTagged, rules };
}

/**
 * A rule in --json: `added` the tags the run added (or would add), `inWindow` those the window
 * carries after it; `count`, kept for scripts, is `added` for a dry run and `inWindow` for a run.
 */
export function ruleJson(
  r: RuleSummary,
  dryRun: boolean,
): { id: string; title: string; count: number; added: number; inWindow: number } {
  return { id: r.id, title: r.title, count: dryRun ? r.added : r.inWindow, added: r.added, inWindow: r.inWindow };
}
