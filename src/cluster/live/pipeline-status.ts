/**
 * `pipeline status`: what is installed under a name (version, rules), where it is wired (indices,
 * templates, chained previous pipelines), how many events carry tags or tagging errors, and the
 * ingest counters of our pipelines from `_nodes/stats/ingest`.
 */
import type { Cluster } from "../connection/client.ts";
import { discoverIndices } from "./install-discovery.ts";
import { impliedBefore, isOurs } from "./install.ts";
import { readState, type InstallState } from "./install-state.ts";
import { type PipelineDoc, type PipelineMeta, readPipelineMeta } from "./pipeline-body.ts";
import { LEVELS_DESC } from "../../ir/levels.ts";
import { rest, seg } from "../connection/rest.ts";
import { ruleHits } from "../history/report.ts";
import { installedRules } from "./rule-changes.ts";
import { readApplyRecord } from "../history/apply-record.ts";
import { missingPipelineLines, missingPipelines, type MissingPipeline } from "../connection/missing-pipelines.ts";

export interface IngestCounters {
  count: number;
  failed: number;
  current: number;
  time_in_millis: number;
}

export interface PipelineStatus {
  name: string;
  installed: boolean;
  version?: number;
  meta?: PipelineMeta;
  ruleCount: number;
  ruleIds: string[];
  /** Every installed rule with its title and the events carrying it over the wired patterns, most first. */
  rules: Array<{
    id: string;
    title: string;
    tagged: number;
    /** The rule's version (digest of its representation), when the pipeline records it. */
    version?: string;
    /** From `outliers apply`'s record (src/cluster/history/apply-record.ts): when this version went live. */
    live_at?: string;
    /** From the apply record: the window its history was backfilled over (null: not backfilled by apply). */
    backfilled?: { since: string; until: string } | null;
  }>;
  /** When `outliers apply` last completed for this name. */
  applied_at?: string;
  patterns: string[];
  indices: Array<{ index: string; final_pipeline: string; previous: string | null; default_pipeline: string | null }>;
  templates: Array<{ kind: string; name: string; final_pipeline: string; previous: string | null; created: boolean }>;
  chains: Record<string, string>;
  /** Events carrying our tags / a tagging error, over the wired patterns. */
  tagged: number;
  /** Tagged events by their highest level (`outliers.max_level`), highest first; levels with none left out. */
  levels: Array<{ level: string; events: number }>;
  failed: number;
  /** Ingest counters per pipeline (ours and the wiring pipelines), summed over nodes. */
  ingest: Record<string, IngestCounters>;
  /** Indices and templates wired to this install's pipelines that no longer exist: every write to them fails. */
  missing: MissingPipeline[];
}

export async function pipelineStatus(cluster: Cluster, name: string): Promise<PipelineStatus> {
  const doc = (
    await rest<Record<string, PipelineDoc>>(cluster, "GET", `/_ingest/pipeline/${seg(name)}`, undefined, {
      allow404: true,
    })
  )?.[name];
  const meta = readPipelineMeta(doc);
  const state: InstallState | undefined = await readState(cluster, name);
  const out: PipelineStatus = {
    name,
    installed: Boolean(doc && meta),
    ...(doc?.version !== undefined ? { version: doc.version } : {}),
    ...(meta ? { meta } : {}),
    ruleCount: meta?.rule_count ?? 0,
    ruleIds: meta?.rule_ids ?? [],
    rules: installedRules(doc).map((r) => ({
      id: r.id,
      title: r.title,
      tagged: 0,
      ...(r.digest ? { version: r.digest } : {}),
    })),
    patterns: state?.patterns ?? [],
    indices: Object.entries(state?.indices ?? {}).map(([index, r]) => ({
      index,
      final_pipeline: r.after,
      previous: r.before.present ? r.before.value! : null,
      default_pipeline: r.default_pipeline ?? null,
    })),
    templates: Object.values(state?.templates ?? {}).map((t) => ({
      kind: t.kind,
      name: t.name,
      final_pipeline: String(
        (t.kind === "legacy" ? t.after.settings : t.after.template?.settings)?.index?.final_pipeline ?? "",
      ),
      previous: t.previous_final ?? null,
      created: t.before === null,
    })),
    chains: state?.chains ?? {},
    tagged: 0,
    levels: [],
    failed: 0,
    ingest: {},
    missing: [],
  };
  const applied = doc ? await readApplyRecord(cluster, name) : undefined;
  if (applied) {
    out.applied_at = applied.updated_at;
    for (const r of out.rules) {
      const a = applied.rules[r.id];
      if (!a || a.digest !== r.version) continue;
      r.live_at = a.live_at;
      r.backfilled = a.backfill ? { since: a.backfill.since, until: a.backfill.until } : null;
    }
  }
  // Wired to this install's pipeline (or a chain pipeline of it) that was deleted by hand.
  out.missing = await missingPipelines(cluster, (p) => isOurs(name, p));
  if (out.patterns.length) {
    // Indices created since the install by wired templates use the pipeline too.
    for (const [index, info] of await discoverIndices(cluster, out.patterns)) {
      if (state?.indices[index] || !isOurs(name, info.final.value)) continue;
      const before = impliedBefore(name, info.final.value!, out.chains);
      out.indices.push({
        index,
        final_pipeline: info.final.value!,
        previous: before.present ? before.value! : null,
        default_pipeline: info.default ?? null,
      });
    }
    out.indices.sort((a, b) => a.index.localeCompare(b.index));
    const target = out.patterns.map(seg).join(",");
    const q = { ignore_unavailable: true, allow_no_indices: true };
    const count = async (query: object) =>
      (
        await rest<{ count: number }>(
          cluster,
          "POST",
          `/${target}/_count`,
          { query },
          { querystring: q, what: "count tagged events" },
        )
      )?.count ?? 0;
    out.tagged = await count({
      bool: {
        should: [{ exists: { field: "outliers.model_type" } }, { term: { tags: "outlier" } }],
        minimum_should_match: 1,
      },
    });
    out.failed = await count({ exists: { field: "outliers.error" } });
    for (const level of LEVELS_DESC) {
      const events = await count({ term: { "outliers.max_level": level } });
      if (events > 0) out.levels.push({ level, events });
    }
    const hits = new Map(
      (await ruleHits(cluster, { index: out.patterns, timeField: "@timestamp" })).map((h) => [h.id, h.count]),
    );
    for (const r of out.rules) r.tagged = hits.get(r.id) ?? 0;
    out.rules.sort((a, b) => b.tagged - a.tagged || a.title.localeCompare(b.title));
  }
  const stats = await rest<{ nodes: Record<string, any> }>(cluster, "GET", "/_nodes/stats/ingest", undefined, {
    what: "read ingest stats",
  });
  const ours = new Set([name, ...Object.keys(out.chains)]);
  for (const node of Object.values(stats?.nodes ?? {})) {
    for (const [id, s] of Object.entries((node.ingest?.pipelines ?? {}) as Record<string, any>)) {
      if (!ours.has(id)) continue;
      const c = (out.ingest[id] ??= { count: 0, failed: 0, current: 0, time_in_millis: 0 });
      c.count += s.count ?? 0;
      c.failed += s.failed ?? 0;
      c.current += s.current ?? 0;
      c.time_in_millis += s.time_in_millis ?? 0;
    }
  }
  return out;
}

/** Rules listed by `pipeline status` without --verbose. */
export const STATUS_TOP_RULES = 10;

/**
 * The readable status: one line per fact, the top rules by events tagged with their titles, and the
 * full rule list (titles and ids, one per line) only with `verbose`.
 */
export function formatStatus(s: PipelineStatus, opts: { verbose?: boolean } = {}): string {
  if (!s.installed)
    return [
      `pipeline ${s.name}: not installed${s.indices.length ? ` (an install record lists ${s.indices.length} indices; run pipeline uninstall to restore them)` : ""}`,
      ...missingPipelineLines(s.missing, s.name),
    ].join("\n");
  const lines = [
    `pipeline ${s.name}: version ${s.version}, ${s.ruleCount} rule(s), content ${s.meta?.hash.slice(0, 12)}, tool ${s.meta?.tool_version}, updated ${s.meta?.updated_at}`,
    `patterns: ${s.patterns.join(", ") || "(none)"}`,
    `indices (${s.indices.length}):`,
    ...s.indices.map(
      (i) =>
        `  ${i.index}: final_pipeline ${i.final_pipeline}${i.previous ? ` (was ${i.previous})` : ""}${i.default_pipeline ? `, default_pipeline ${i.default_pipeline}` : ""}`,
    ),
    `templates (${s.templates.length}):`,
    ...s.templates.map(
      (t) =>
        `  ${t.kind} ${t.name}: final_pipeline ${t.final_pipeline}${t.previous ? ` (chains ${t.previous})` : ""}${t.created ? " (created by outliers)" : ""}`,
    ),
    `chained previous final pipelines: ${Object.values(s.chains).join(", ") || "(none)"}`,
    `events tagged: ${s.tagged}, tagging errors: ${s.failed}`,
    `by highest level: ${s.levels.map((l) => `${l.level} ${l.events}`).join(", ") || "(none)"}`,
    ...Object.entries(s.ingest).map(
      ([id, c]) => `ingest ${id}: ${c.count} processed, ${c.failed} failed, ${c.time_in_millis} ms`,
    ),
  ];
  if (s.applied_at)
    lines.push(
      `last apply: ${s.applied_at}; ${s.rules.filter((r) => r.backfilled).length} rule(s) with history backfilled (--verbose: per rule its version, when it went live, the window)`,
    );
  lines.push(...statusRuleLines(s.rules, opts.verbose ? 0 : STATUS_TOP_RULES));
  lines.push(...missingPipelineLines(s.missing, s.name));
  return lines.join("\n");
}

function statusRuleLines(rules: PipelineStatus["rules"], top: number): string[] {
  const hit = rules.filter((r) => r.tagged > 0);
  const label = (r: { id: string; title: string }) => (r.title ? `${r.title} (${r.id})` : r.id);
  if (top === 0) {
    const w = Math.max(6, ...rules.map((r) => String(r.tagged).length));
    return [
      `rules (${rules.length}, by events tagged):`,
      `  ${"events".padStart(w)}  rule`,
      ...rules.map((r) => `  ${String(r.tagged).padStart(w)}  ${label(r)}${versionNote(r)}`),
    ];
  }
  const lines = [
    `rules: ${rules.length} installed, ${hit.length} with tagged events${hit.length ? `; top ${Math.min(top, hit.length)}:` : ""}`,
  ];
  const shown = hit.slice(0, top);
  const w = Math.max(6, ...shown.map((r) => String(r.tagged).length));
  if (shown.length)
    lines.push(
      `  ${"events".padStart(w)}  rule`,
      ...shown.map((r) => `  ${String(r.tagged).padStart(w)}  ${label(r)}`),
    );
  if (rules.length > shown.length)
    lines.push(
      `  (${rules.length - shown.length} more; --verbose lists every rule with its title and id, --json gives the ids)`,
    );
  return lines;
}

/** A rule's version, when it went live and the window backfilled (`outliers apply`'s record), for --verbose. */
function versionNote(r: PipelineStatus["rules"][number]): string {
  if (!r.version) return "";
  const live = r.live_at ? `, live since ${r.live_at}` : "";
  const hist =
    r.backfilled === undefined
      ? ""
      : r.backfilled
        ? `, backfilled ${r.backfilled.since} .. ${r.backfilled.until}`
        : ", history not backfilled by apply";
  return ` [version ${r.version}${live}${hist}]`;
}
