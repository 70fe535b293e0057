/**
 * `pipeline uninstall`: put back exactly what the install record says was there (index settings,
 * template bodies; an absent setting stays absent), then delete our pipelines and the record.
 * Whatever someone else changed since the install is left as it is, with a warning.
 */
import type { Cluster } from "./client.ts";
import { type Action, type Plan, discoverTemplates, existingIndices, strayIndices, templateRestore } from "./install.ts";
import { readState, templateKey } from "./install-state.ts";
import { type PipelineDoc, readPipelineMeta } from "./pipeline-body.ts";
import { rest, seg } from "./rest.ts";
import { showSetting } from "./settings-access.ts";
import { UsageError } from "../util/errors.ts";

export async function planUninstall(cluster: Cluster, name: string): Promise<Plan> {
  const old = await readState(cluster, name);
  const pipeline = (await rest<Record<string, PipelineDoc>>(cluster, "GET", `/_ingest/pipeline/${seg(name)}`, undefined, { allow404: true }))?.[name];
  const meta = readPipelineMeta(pipeline);
  if (pipeline && !meta) throw new UsageError(`pipeline ${name} was not installed by outliers; not removing it`);
  const warnings: string[] = [];
  const actions: Action[] = [];
  if (old) {
    const current = await existingIndices(cluster, Object.keys(old.indices));
    for (const [index, rec] of Object.entries(old.indices)) {
      const cur = current.get(index);
      if (!cur) continue; // deleted since
      if (cur.value === rec.after) actions.push({ kind: "index-setting", index, before: cur, after: rec.before, why: "unwire" });
      else warnings.push(`index ${index}: index.final_pipeline changed since install (${showSetting(cur)}); left as is`);
    }
    // Indices that wired templates created while we were installed are in no record: give them what
    // the template would have given without us, so that none is left pointing at a deleted pipeline.
    actions.push(...(await strayIndices(cluster, name, old.chains, new Set(Object.keys(old.indices)))));
    const { templates } = await discoverTemplates(cluster);
    for (const [key, rec] of Object.entries(old.templates))
      actions.push(...templateRestore(rec, templates.find((t) => templateKey(t.kind, t.name) === key), warnings));
    for (const [id, previous] of Object.entries(old.chains)) actions.push({ kind: "chain", id, op: "delete", previous });
  }
  if (pipeline) actions.push({ kind: "pipeline", id: name, op: "delete", fromVersion: pipeline.version });
  if (old) actions.push({ kind: "state", op: "delete" });
  const state = old ?? { name, tool_version: "", version: 0, hash: "", patterns: [], installed_at: "", updated_at: "", chains: {}, indices: {}, templates: {} };
  return {
    name,
    version: pipeline?.version ?? old?.version ?? 0,
    previousVersion: pipeline?.version,
    ruleCount: meta?.rule_count ?? 0,
    hash: meta?.hash ?? old?.hash ?? "",
    actions,
    warnings,
    state,
    pendingState: state,
    removesState: true,
  };
}
