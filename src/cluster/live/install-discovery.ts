/**
 * What `pipeline install` reads from the cluster before it plans: the install record, the indices and
 * templates the patterns reach, the pipelines already there. `discoverInstall` reads everything into
 * one plain object (InstallDiscovery); install.ts `planInstall` plans from it without a request.
 */
import type { Cluster, ClusterInfo } from "../connection/client.ts";
import type { PipelineDoc } from "./pipeline-body.ts";
import {
  type InstallState,
  type SettingValue,
  type StateVersion,
  type TemplateKind,
  STATE_INDEX,
  readAllStates,
  readStateVersioned,
} from "./install-state.ts";
import { reachable } from "../connection/guards.ts";
import { rest, seg } from "../connection/rest.ts";
import { getIndexSetting } from "../connection/settings-access.ts";

type Obj = Record<string, any>;

export interface IndexInfo {
  final: SettingValue;
  default?: string;
  properties?: Obj;
}

/** Open indices the patterns resolve to (data streams resolve to their backing indices), with their pipelines and mappings. */
export async function discoverIndices(cluster: Cluster, patterns: string[]): Promise<Map<string, IndexInfo>> {
  const out = new Map<string, IndexInfo>();
  const target = patterns.map(seg).join(",");
  const q = { flat_settings: true, expand_wildcards: "open", ignore_unavailable: true, allow_no_indices: true };
  const settings =
    (await rest<Obj>(cluster, "GET", `/${target}/_settings`, undefined, {
      querystring: q,
      what: "read index settings",
    })) ?? {};
  // Hidden and system indices ('.' names) only when named exactly (guards.ts).
  const names = Object.keys(settings)
    .filter((n) => n !== STATE_INDEX && reachable(n, patterns))
    .sort();
  if (names.length === 0) return out;
  const mappings =
    (await rest<Obj>(cluster, "GET", `/${target}/_mapping`, undefined, {
      querystring: { expand_wildcards: "open", ignore_unavailable: true, allow_no_indices: true },
      what: "read index mappings",
    })) ?? {};
  for (const n of names) {
    const s = settings[n].settings ?? {};
    out.set(n, {
      final: getIndexSetting(s, "final_pipeline"),
      default: getIndexSetting(s, "default_pipeline").value,
      properties: mappings[n]?.mappings?.properties,
    });
  }
  return out;
}

export interface TemplateInfo {
  kind: TemplateKind;
  name: string;
  body: Obj;
  patterns: string[];
}

export async function discoverTemplates(
  cluster: Cluster,
): Promise<{ templates: TemplateInfo[]; components: Map<string, Obj> }> {
  const legacy =
    (await rest<Obj>(cluster, "GET", "/_template", undefined, {
      allow404: true,
      what: "read legacy index templates",
    })) ?? {};
  const composable = (await rest<{ index_templates: Array<{ name: string; index_template: Obj }> }>(
    cluster,
    "GET",
    "/_index_template",
    undefined,
    {
      allow404: true,
      what: "read index templates",
    },
  )) ?? { index_templates: [] };
  const comps = (await rest<{ component_templates: Array<{ name: string; component_template: Obj }> }>(
    cluster,
    "GET",
    "/_component_template",
    undefined,
    {
      allow404: true,
      what: "read component templates",
    },
  )) ?? { component_templates: [] };
  const templates: TemplateInfo[] = [];
  for (const [name, body] of Object.entries(legacy))
    templates.push({ kind: "legacy", name, body, patterns: asList(body.index_patterns) });
  for (const t of composable.index_templates ?? []) {
    // Timestamps some versions report on templates are not accepted back by PUT.
    const body = { ...t.index_template };
    for (const k of ["created_date", "created_date_millis", "modified_date", "modified_date_millis"]) delete body[k];
    templates.push({ kind: "composable", name: t.name, body, patterns: asList(body.index_patterns) });
  }
  const components = new Map<string, Obj>();
  for (const c of comps.component_templates ?? []) components.set(c.name, c.component_template);
  return { templates, components };
}

export function asList(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : v === undefined || v === null ? [] : [String(v)];
}

/** The `…@custom` pipelines a pipeline calls (the Fleet integrations' customisation hook). */
export async function customHooks(cluster: Cluster, pipeline: string): Promise<string[]> {
  const body = (
    await rest<Record<string, PipelineDoc>>(cluster, "GET", `/_ingest/pipeline/${seg(pipeline)}`, undefined, {
      allow404: true,
    })
  )?.[pipeline];
  const out: string[] = [];
  for (const p of (body?.processors ?? []) as Obj[]) {
    const name = p.pipeline?.name;
    if (typeof name === "string" && name.endsWith("@custom")) out.push(name);
  }
  return out;
}

export async function existingIndices(cluster: Cluster, names: string[]): Promise<Map<string, SettingValue>> {
  const out = new Map<string, SettingValue>();
  for (let k = 0; k < names.length; k += 50) {
    const chunk = names.slice(k, k + 50);
    const res =
      (await rest<Obj>(cluster, "GET", `/${chunk.map(seg).join(",")}/_settings`, undefined, {
        querystring: { flat_settings: true, ignore_unavailable: true, allow_no_indices: true, expand_wildcards: "all" },
      })) ?? {};
    for (const [n, v] of Object.entries(res)) out.set(n, getIndexSetting((v as Obj).settings, "final_pipeline"));
  }
  return out;
}

/** Everything `planInstall` needs from the cluster, read by `discoverInstall`. */
export interface InstallDiscovery {
  info: ClusterInfo;
  /** This name's install record, if any, and where it stood (writes are conditional on it). */
  state?: InstallState;
  stateVersion: StateVersion;
  /** The other installs' records; read only when this name has one (only then can one be stacked on it). */
  otherStates: InstallState[];
  /** Nodes with the ingest role, as the cluster reports them. */
  ingestNodes?: number;
  /** The tagging pipeline `name` and its wiring pipelines `<name>-chain-*` as they stand, by id. */
  pipelines: Record<string, PipelineDoc>;
  /** Open indices the patterns reach. */
  indices: Map<string, IndexInfo>;
  templates: TemplateInfo[];
  components: Map<string, Obj>;
  /** Per default pipeline of a reached index or of a template: the `…@custom` hooks it calls. */
  hooks: Record<string, string[]>;
  /** With a record: index.final_pipeline of its indices the patterns no longer reach (absent: deleted since). */
  recorded: Map<string, SettingValue>;
  /** With a record: index.final_pipeline of every open index, hidden ones included. */
  finals: Record<string, SettingValue>;
}

/** Reads from the cluster what the plan of installing `name` on `patterns` needs (GETs only). */
export async function discoverInstall(
  cluster: Cluster,
  opts: { name: string; patterns: string[] },
): Promise<InstallDiscovery> {
  const { name, patterns } = opts;
  const { state, version: stateVersion } = await readStateVersioned(cluster, name);
  const otherStates = state ? (await readAllStates(cluster)).map((r) => r.state).filter((s) => s.name !== name) : [];
  const ingestNodes = (
    await rest<{ _nodes: { total: number } }>(cluster, "GET", "/_nodes/ingest:true", undefined, {
      querystring: { filter_path: "_nodes" },
      what: "count ingest nodes",
    })
  )?._nodes?.total;
  const pipelines: Record<string, PipelineDoc> = {};
  const own = (
    await rest<Record<string, PipelineDoc>>(cluster, "GET", `/_ingest/pipeline/${seg(name)}`, undefined, {
      allow404: true,
    })
  )?.[name];
  if (own) pipelines[name] = own;
  const chains =
    (await rest<Record<string, PipelineDoc>>(cluster, "GET", `/_ingest/pipeline/${seg(name)}-chain-*`, undefined, {
      allow404: true,
      what: `read pipelines ${name}-chain-*`,
    })) ?? {};
  for (const [id, doc] of Object.entries(chains)) if (id.startsWith(`${name}-chain-`)) pipelines[id] = doc;
  const indices = await discoverIndices(cluster, patterns);
  const { templates, components } = await discoverTemplates(cluster);
  const defaults = new Set<string>();
  for (const info of indices.values()) if (info.default) defaults.add(info.default);
  for (const t of templates) {
    const def = getIndexSetting(
      t.kind === "legacy" ? t.body.settings : t.body.template?.settings,
      "default_pipeline",
    ).value;
    if (def) defaults.add(def);
  }
  const hooks: Record<string, string[]> = Object.create(null);
  for (const def of [...defaults].sort()) hooks[def] = await customHooks(cluster, def);
  const recorded = state
    ? await existingIndices(
        cluster,
        Object.keys(state.indices).filter((i) => !indices.has(i)),
      )
    : new Map<string, SettingValue>();
  const finals = state ? await finalPipelines(cluster) : {};
  return {
    info: cluster.info,
    state,
    stateVersion,
    otherStates,
    ingestNodes,
    pipelines,
    indices,
    templates,
    components,
    hooks,
    recorded,
    finals,
  };
}

/** index.final_pipeline of every open index, hidden ones included. */
export async function finalPipelines(cluster: Cluster): Promise<Record<string, SettingValue>> {
  const all =
    (await rest<Record<string, any>>(cluster, "GET", "/_all/_settings/index.final_pipeline", undefined, {
      querystring: { flat_settings: true, expand_wildcards: "open,hidden", allow_no_indices: true },
      what: "read index.final_pipeline of every index",
    })) ?? {};
  const out: Record<string, SettingValue> = {};
  for (const [index, v] of Object.entries(all)) out[index] = getIndexSetting(v.settings, "final_pipeline");
  return out;
}
