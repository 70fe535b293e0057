/**
 * `outliers apply`: make the cluster match a rules folder, live and over a history window. The steps,
 * in an order that leaves no gap (an event arriving during the run is tagged by the new rules):
 *   0. the run's plan is written to the apply record (a run killed outright is finished by the next);
 *   1. the pipeline is put (install: new versions tag live from here on), and the indices refreshed so
 *      that the steps below see every event the old versions tagged;
 *   2. the entries of changed and removed rules are untagged (by rule id, any time);
 *   3. added and changed rules are backfilled over the window;
 *   4. the record says, per rule, its version, when it went live and the window backfilled.
 * With nothing changed nothing is written. The plan (apply-plan.ts) is pure; this file reads the
 * cluster, counts for `--dry-run`, and runs the steps through the install, untag and backfill use cases.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { Rule } from "../../ir/types.ts";
import { buildPipeline } from "../../emit/painless/pipeline.ts";
import { call, type Cluster } from "../connection/client.ts";
import { checkIndexPatterns, searchTargets } from "../connection/guards.ts";
import { checkPatterns } from "../connection/patterns.ts";
import { applyPlan, describeAction, planInstall } from "../live/install.ts";
import { discoverInstall } from "../live/install-discovery.ts";
import { readState } from "../live/install-state.ts";
import { installedRules, readInstalledPipeline, ruleDigest } from "../live/rule-changes.ts";
import type { TagLayout } from "../live/tag-mappings.ts";
import type { RuleCount } from "./backfill.ts";
import type { BackfillOptions } from "./backfill-target.ts";
import { backfillRules, dryRunPrepared, executeBackfill, mapTagFields, prepareBackfill } from "./backfill-use-case.ts";
import { type AppliedRule, type ApplyRecord, readApplyRecord, writeApplyRecord } from "./apply-record.ts";
import { type ApplyChanges, type ApplyRuleRef, noRuleChange, planApply } from "./apply-plan.ts";
import { countPreparedUntag, executeUntag, prepareUntag, type PreparedUntag } from "./untag-use-case.ts";
import { acquireLock, stateDir } from "./update-task.ts";

export interface ApplyRequest {
  name: string;
  rules: Rule[];
  /** Index patterns overriding the rules' own (as in `pipeline install --index`). */
  index?: string[];
  since: Date;
  timeField?: string;
  dryRun: boolean;
  json: boolean;
  toolVersion: string;
  guardCosts?: Readonly<Record<string, number>>;
  tagLayout?: TagLayout;
  /** Called as each step starts and ends (the command prints them on a terminal). */
  log?: (line: string) => void;
}

export interface ApplyStep {
  step: "pipeline" | "untag" | "backfill";
  rules: ApplyRuleRef[];
  /** pipeline: the install actions; untag/backfill: events and tag entries touched (or to touch). */
  actions?: string[];
  events?: number;
  entries?: number;
  perRule?: RuleCount[];
  failures?: string[];
  cancelled?: boolean;
}

export interface ApplyOutcome {
  name: string;
  dryRun: boolean;
  /** Nothing to change: nothing was (or would be) written. */
  nothing: boolean;
  changes: ApplyChanges;
  since: string;
  steps: ApplyStep[];
  warnings: string[];
  /** Rules left out of the pipeline (they cannot run live), with the reason. */
  skipped: { id: string; reason: string }[];
  cancelled: boolean;
  failures: string[];
  pipelineVersion: number;
}

const ref = (r: Rule): ApplyRuleRef => ({ id: r.id, title: r.title, digest: ruleDigest(r) });

export async function runApply(cluster: Cluster, req: ApplyRequest): Promise<ApplyOutcome> {
  const log = req.log ?? (() => {});
  const built = buildPipeline(req.rules, { guardCosts: req.guardCosts });
  const live = new Set(built.ruleIds);
  // The rules apply keeps in step: those the pipeline tags, and query-only use cases (backfill only).
  const rules = req.rules.filter((r) => live.has(r.id) || (r.liveUnsupported && r.backfillOnlyQuery !== undefined));
  const byId = new Map(rules.map((r) => [r.id, r]));
  const next = rules.map(ref);

  const record = await readApplyRecord(cluster, req.name);
  const installed = installedRules(await readInstalledPipeline(cluster, req.name));
  const changes = planApply(next, { record, installed });

  const patterns = checkPatterns(req.index ?? [...new Set(rules.flatMap((r) => r.index))]);
  const compiled = { ...built, ruleHashes: built.ruleIds.map((id) => ruleDigest(byId.get(id)!)) };
  const installOpts = {
    name: req.name,
    patterns,
    compiled,
    toolVersion: req.toolVersion,
    extraKeys: [...new Set(rules.flatMap((r) => Object.keys(r.tagsOut.extra)))],
  };
  const install = planInstall(await discoverInstall(cluster, installOpts), installOpts);
  const pending = record?.pending;
  // A killed run's window is kept when finishing it.
  const since = pending && changes.resumed ? new Date(pending.since) : req.since;
  const untagRules = [...changes.changed, ...changes.removed];
  const backfillIds = [...changes.added, ...changes.changed].map((r) => r.id);
  // Removed rules may have tagged indices the folder no longer names: the patterns installed before count too.
  const oldPatterns = (await readState(cluster, req.name))?.patterns ?? [];
  const untagIndex = searchTargets(checkIndexPatterns([...new Set([...patterns, ...oldPatterns])]));
  const out: ApplyOutcome = {
    name: req.name,
    dryRun: req.dryRun,
    nothing: noRuleChange(changes) && install.actions.length === 0,
    changes,
    since: since.toISOString(),
    steps: [],
    warnings: [...install.warnings],
    skipped: built.skipped,
    cancelled: false,
    failures: [],
    pipelineVersion: install.version,
  };
  if (out.nothing) return out;

  const untagReq = (json: boolean) => ({
    index: untagIndex,
    rules: untagRules.map((r) => r.id),
    timeField: req.timeField ?? "@timestamp",
    json,
    checkRuleIds: false,
  });
  const backfillReq = (): { rules: Rule[]; opts: BackfillOptions } => {
    const picked = backfillRules(
      backfillIds.map((id) => byId.get(id)!),
      req.index ? searchTargets(checkIndexPatterns(req.index)) : undefined,
    );
    out.warnings.push(...picked.refused);
    return {
      rules: picked.rules,
      opts: {
        index: req.index ? searchTargets(checkIndexPatterns(req.index)) : undefined,
        since,
        timeField: req.timeField,
        slices: "auto",
        json: req.json,
        resumeKey: JSON.stringify(["apply", req.name, since.toISOString()]),
        guardCosts: req.guardCosts,
        tagLayout: req.tagLayout,
      },
    };
  };
  const pipelineStep: ApplyStep = {
    step: "pipeline",
    rules: [...changes.added, ...changes.changed, ...changes.removed],
    actions: install.actions.map(describeAction),
  };

  if (req.dryRun) {
    out.steps.push(pipelineStep);
    if (untagRules.length) {
      const u = await prepareUntag(cluster, untagReq(true));
      out.warnings.push(...u.warnings);
      const c = await countPreparedUntag(cluster, u);
      out.steps.push({ step: "untag", rules: untagRules, events: c.events, entries: c.entries });
    }
    if (backfillIds.length) {
      const b = backfillReq();
      if (b.rules.length) {
        const p = await prepareBackfill(cluster, b.rules, b.opts, "auto");
        out.warnings.push(...p.warnings);
        // Counted as the cluster stands: events still carrying a changed rule's old version are not counted here.
        const dry = await dryRunPrepared(cluster, p);
        out.steps.push({
          step: "backfill",
          rules: b.rules.map(ref),
          events: dry.events,
          entries: dry.rules.reduce((a, c) => a + c.count, 0),
          perRule: dry.rules,
        });
      }
    }
    return out;
  }

  const lockKey = createHash("sha256")
    .update(JSON.stringify([cluster.url, req.name]))
    .digest("hex")
    .slice(0, 16);
  const release = acquireLock(join(stateDir(), "apply", `${lockKey}.json`), `apply ${req.name}`);
  try {
    const startedAt = new Date().toISOString();
    const base: ApplyRecord = record ?? { name: req.name, updated_at: startedAt, rules: {} };
    if (!noRuleChange(changes)) {
      // 0. The plan, before anything changes: a run killed from here on is finished by the next.
      const target = Object.fromEntries(next.map((r) => [r.id, r.digest!]));
      const carried = new Set([...(pending?.untag ?? []), ...(pending?.backfill ?? [])]);
      await writeApplyRecord(cluster, {
        ...base,
        pending: {
          started_at: pending?.started_at ?? startedAt,
          since: since.toISOString(),
          untag: [...new Set([...untagRules.map((r) => r.id), ...carried])],
          backfill: backfillIds,
          target,
        },
      });
    }
    // 1. Live first.
    if (install.actions.length) {
      log(`pipeline ${req.name}: ${install.actions.length} change(s)`);
      await applyPlan(cluster, install);
    }
    out.steps.push(pipelineStep);
    const liveAt = new Date().toISOString();
    // Events the old pipeline tagged moments ago may not be searchable yet (refresh_interval), and
    // `_update_by_query` sees only what is: without a refresh, untag would miss an old version's tags
    // on them and backfill would miss the new rules there (an event apply left out of step).
    if (untagRules.length || backfillIds.length)
      await call(cluster, "refresh the target indices", () =>
        cluster.client.indices.refresh({ index: untagIndex, ignore_unavailable: true, allow_no_indices: true } as any),
      );
    /** Records a history step; true when it failed or was cancelled, which ends the run (the record keeps the plan). */
    const ended = (step: ApplyStep & { failures: string[]; cancelled: boolean }): boolean => {
      out.steps.push(step);
      out.failures.push(...step.failures);
      if (!step.cancelled && !step.failures.length) return false;
      out.cancelled = step.cancelled;
      return true;
    };
    // 2. The old versions' entries, and the removed rules'.
    if (untagRules.length) {
      log(`untag ${untagRules.length} rule(s)`);
      const u: PreparedUntag = await prepareUntag(cluster, untagReq(req.json));
      out.warnings.push(...u.warnings);
      const t = await executeUntag(cluster, u);
      if (ended({ step: "untag", rules: untagRules, events: t.updated, failures: t.failures, cancelled: t.cancelled }))
        return out;
    }
    // 3. History of the new versions.
    const backfilledUntil = new Date().toISOString();
    if (backfillIds.length) {
      const b = backfillReq();
      if (b.rules.length) {
        log(`backfill ${b.rules.length} rule(s) since ${since.toISOString()}`);
        const p = await prepareBackfill(cluster, b.rules, b.opts, "auto");
        out.warnings.push(...p.warnings);
        await mapTagFields(cluster, p);
        const r = await executeBackfill(cluster, p);
        if (r.countWarning) out.warnings.push(r.countWarning);
        const step: Parameters<typeof ended>[0] = {
          step: "backfill",
          rules: b.rules.map(ref),
          events: r.totals.tagged,
          entries: r.added.reduce((a, c) => a + c.count, 0),
          perRule: r.added,
          failures: r.failures,
          cancelled: r.cancelled,
        };
        if (ended(step)) return out;
      }
    }
    // 4. The record: per rule its version, when it went live, the window backfilled.
    const rulesAfter: Record<string, AppliedRule> = {};
    const installedAt = install.state.updated_at;
    for (const r of changes.unchanged)
      rulesAfter[r.id] = base.rules[r.id] ?? {
        id: r.id,
        title: r.title,
        digest: r.digest!,
        live_at: installedAt,
        backfill: null,
      };
    const backfilled = new Set(backfillIds);
    for (const r of next)
      if (backfilled.has(r.id))
        rulesAfter[r.id] = {
          id: r.id,
          title: r.title,
          digest: r.digest!,
          live_at: liveAt,
          backfill: { since: since.toISOString(), until: backfilledUntil, at: new Date().toISOString() },
        };
    if (!noRuleChange(changes) || !record)
      await writeApplyRecord(cluster, { name: req.name, updated_at: new Date().toISOString(), rules: rulesAfter });
    return out;
  } finally {
    release();
  }
}
