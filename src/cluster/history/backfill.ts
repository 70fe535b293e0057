/**
 * Backfill: tag historical events exactly as live tagging would have.
 *
 * One pass per target (index set, time field), not one per rule: a single `_update_by_query` whose
 * query is the union of the rules' DSL queries, each narrowed to events not already carrying that
 * rule, and whose script is the ingest pipeline's own matcher and tagger (src/emit/painless). The
 * query selects candidates; the script decides per event which rules matched and writes the tags,
 * so the tags equal what the live pipeline writes, and re-running is a no-op.
 *
 * The parts: backfill-target.ts (grouping rules into targets, preparing each on the cluster, a pass's
 * query), backfill-queries.ts (candidate queries and their relaxation, the prefilter choice); this
 * file runs the passes and counts what they tagged.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { Rule } from "../../ir/types.ts";
import { TRUE } from "../../ir/build.ts";
import { updateScript } from "../../emit/painless/pipeline.ts";
import { call, type Cluster } from "../connection/client.ts";
import { ensureTagMappings, type TagLayout } from "../live/tag-mappings.ts";
import { runUpdate, stateDir, type UpdateTotals } from "./update-task.ts";
import { readWiring } from "../live/wired.ts";
import { DEFAULT_BATCH, passQuery, windowed, type BackfillOptions, type PreparedTarget } from "./backfill-target.ts";

export interface RuleCount {
  id: string;
  title: string;
  count: number;
  /**
   * The count is an upper bound: the rule's query needed relaxing (see `candidateQuery`), or the
   * indices' mappings cannot answer one of its predicates exactly (`widened` names the fields).
   */
  upperBound?: boolean;
  widened?: string[];
}

export interface PassResult extends UpdateTotals {
  index: string[];
  rules: number;
  label: string;
}

function fingerprint(parts: unknown): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 16);
}

export interface BackfillPass {
  label: string;
  rules: Rule[];
  query: object;
  script: ReturnType<typeof updateScript>;
}

/** The `_update_by_query` passes of a target: its rules in one pass, and one per query-only rule. */
export function planPasses(t: PreparedTarget, opts: BackfillOptions): BackfillPass[] {
  const passes: BackfillPass[] = [];
  if (t.rules.length > 0)
    passes.push({
      label: `backfill ${t.index.join(",")} (${t.rules.length} rules)`,
      rules: t.rules,
      query: passQuery(t, t.rules, opts),
      script: updateScript(t.rules, { guardCosts: opts.guardCosts }),
    });
  for (const r of t.queryOnly) {
    // The original query decides; the script tags (whitelist still applied) without re-evaluating it.
    const tagOnly: Rule = { ...r, condition: TRUE, liveUnsupported: undefined, backfillOnlyQuery: undefined };
    passes.push({
      label: `backfill ${r.id} (query only)`,
      rules: [r],
      query: passQuery(t, [r], opts),
      script: updateScript([tagOnly], { guardCosts: opts.guardCosts }),
    });
  }
  return passes;
}

/** Runs every pass of the backfill; stops early when one is cancelled (Ctrl-C). */
export async function runBackfill(
  cluster: Cluster,
  targets: PreparedTarget[],
  opts: BackfillOptions,
): Promise<PassResult[]> {
  const results: PassResult[] = [];
  for (const t of targets) {
    // Writes to indices wired to our live tagger are marked so that it does not tag them a second time
    // (src/emit/painless/rewrite.ts); an older tagger without the check tags them again (idempotent).
    const wired = (await readWiring(cluster, t.index)).marked;
    for (const p of planPasses(t, opts)) {
      const key = fingerprint([cluster.url, t.index, t.timeField, p.rules.map((r) => r.id), opts.resumeKey ?? ""]);
      const script = Object.keys(wired).length ? { ...p.script, params: { ...p.script.params, wired } } : p.script;
      const totals = await runUpdate(
        cluster,
        {
          index: t.index,
          query: p.query,
          script,
          slices: opts.slices,
          requestsPerSecond: opts.requestsPerSecond,
          batchSize: opts.batchSize ?? DEFAULT_BATCH,
        },
        { label: p.label, json: opts.json, resumeFile: join(stateDir(), "backfill", `${key}.json`) },
      );
      results.push({ ...totals, index: t.index, rules: p.rules.length, label: p.label });
      if (totals.cancelled) return results;
    }
  }
  return results;
}

/** Per rule, how many events in the window carry it now (after a run). */
export async function countTagged(
  cluster: Cluster,
  targets: PreparedTarget[],
  opts: BackfillOptions,
): Promise<RuleCount[]> {
  const out: RuleCount[] = [];
  for (const t of targets) {
    const all = [...t.rules, ...t.queryOnly];
    const counts = new Map<string, number>();
    // One aggregation per way the indices hold rule ids (keyword, or ee-outliers' text + .keyword).
    for (const f of t.idFields) {
      const filter: object[] = [{ terms: { [f.field]: all.map((r) => r.id) } }];
      if (f.indices) filter.push({ terms: { _index: f.indices } });
      const res: any = await call(cluster, "count tagged events", () =>
        cluster.client.search({
          index: t.index,
          ignore_unavailable: true,
          allow_no_indices: true,
          size: 0,
          query: windowed({ bool: { filter } }, t.timeField, opts),
          aggs: { rules: { terms: { field: f.field, size: Math.max(all.length, 1) } } },
        } as any),
      );
      for (const b of res.aggregations?.rules?.buckets ?? [])
        counts.set(String(b.key), (counts.get(String(b.key)) ?? 0) + b.doc_count);
    }
    for (const r of all) out.push({ id: r.id, title: r.title, count: counts.get(r.id) ?? 0 });
  }
  return out;
}

/**
 * Before the first write: keyword mappings for the tag fields on every target index that does not
 * map them yet (an index mapping them already, e.g. ee-outliers' text + `.keyword`, is left as it is
 * and its `.keyword` used for counts). Returns one line per index changed or blocked.
 */
export async function prepareTagMappings(
  cluster: Cluster,
  targets: PreparedTarget[],
  layout: TagLayout = "keyword",
): Promise<string[]> {
  const lines: string[] = [];
  const done = new Set<string>();
  for (const t of targets) {
    const extra = [...new Set([...t.rules, ...t.queryOnly].flatMap((r) => Object.keys(r.tagsOut.extra)))];
    const todo = new Map([...t.discovery.raw].filter(([ix]) => !done.has(ix)));
    for (const ix of todo.keys()) done.add(ix);
    const changed = await ensureTagMappings(
      (index, properties) =>
        call(cluster, `map the tag fields on ${index}`, () =>
          cluster.client.indices.putMapping({ index, properties } as any),
        ).then(() => undefined),
      todo,
      extra,
      layout,
    );
    for (const c of changed) {
      if (c.fields.length) lines.push(`${c.index}: mapped ${c.fields.join(", ")} (${layout})`);
      if (c.blocked.length)
        lines.push(`${c.index}: cannot map ${c.blocked.join(", ")}: a parent field is mapped as a value`);
    }
  }
  return lines;
}
