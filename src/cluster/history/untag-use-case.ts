/**
 * The untag use case, without the command line: the checks (a typo in an index, time field, window
 * or rule id is a warning, never "0 cleaned, done"), the live wiring (writes to indices wired to our
 * tagger are marked; indices wired to an older tagger are left alone with a warning), then either the
 * count of what would be removed or the run. `outliers untag` parses options and prints; `outliers
 * apply` untags the rules it removes or replaces through the same steps.
 */
import type { Cluster } from "../connection/client.ts";
import { discoverFields, type Discovery } from "../connection/field-discovery.ts";
import { readWiring } from "../live/wired.ts";
import { preflight, unknownRules } from "./preflight.ts";
import { countUntag, oldTaggerWarnings, runUntag, type UntagOptions } from "./untag.ts";
import { noUpdate, type UpdateTotals } from "./update-task.ts";

export interface UntagRequest {
  index: string[];
  /** Rule ids to remove; empty or undefined removes every rule this tool tagged. */
  rules?: string[];
  since?: Date;
  until?: Date;
  timeField: string;
  json?: boolean;
  /** Warn about rule ids no event in the scope carries (a typo); apply leaves this off. */
  checkRuleIds?: boolean;
  /** The ids to check that way, when not `rules` (the ids the user named with a selection; [] checks none). */
  namedRules?: string[];
}

export interface PreparedUntag {
  /** Nothing can run (the preflight stopped it: no index, no time field…). */
  stop: boolean;
  warnings: string[];
  opts: UntagOptions;
  discovery: Discovery;
}

export async function prepareUntag(cluster: Cluster, req: UntagRequest): Promise<PreparedUntag> {
  const discovery = await discoverFields(cluster, req.index);
  const checks = { patterns: req.index, timeField: req.timeField, since: req.since, until: req.until };
  const pre = await preflight(cluster, discovery, checks);
  const wiring = pre.stop ? { marked: {}, old: [] } : await readWiring(cluster, req.index);
  const warnings = [
    ...pre.warnings,
    ...(pre.stop || req.checkRuleIds === false
      ? []
      : await unknownRules(cluster, discovery, checks, req.namedRules ?? req.rules)),
    ...oldTaggerWarnings(wiring),
  ];
  const opts: UntagOptions = {
    index: req.index,
    rules: req.rules,
    since: req.since,
    until: req.until,
    timeField: req.timeField,
    json: req.json,
    wired: wiring.marked,
    skip: wiring.old.map((o) => o.index),
  };
  return { stop: pre.stop, warnings, opts, discovery };
}

/** What the run would remove: events and tag entries; writes nothing. */
export async function countPreparedUntag(
  cluster: Cluster,
  p: PreparedUntag,
): Promise<{ events: number; entries: number }> {
  if (p.stop) return { events: 0, entries: 0 };
  const { json: _json, ...opts } = p.opts;
  return countUntag(cluster, opts, p.discovery);
}

export async function executeUntag(cluster: Cluster, p: PreparedUntag): Promise<UpdateTotals> {
  if (p.stop) return noUpdate();
  return runUntag(cluster, p.opts, p.discovery);
}
