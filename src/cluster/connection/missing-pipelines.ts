/**
 * Indices and templates wired to an ingest pipeline that does not exist. Elasticsearch and OpenSearch
 * refuse every write to such an index ("pipeline with id [x] does not exist"), and every index such a
 * template creates inherits the broken setting: `pipeline status` and `doctor` name them (issue 17.7).
 * Reads only: the pipeline ids, `index.final_pipeline`/`index.default_pipeline` of every index (hidden
 * ones included), and of legacy, composable and component templates.
 */
import type { Cluster } from "./client.ts";
import { rest } from "./rest.ts";

export interface MissingPipeline {
  kind: "index" | "legacy template" | "index template" | "component template";
  name: string;
  setting: "final_pipeline" | "default_pipeline";
  pipeline: string;
}

const SETTINGS = ["final_pipeline", "default_pipeline"] as const;

/** A pipeline setting from settings in either shape (`{index: {final_pipeline}}` or flat `index.final_pipeline`). */
function pipelineSetting(settings: any, key: (typeof SETTINGS)[number]): string | undefined {
  const v = settings?.index?.[key] ?? settings?.[`index.${key}`];
  return typeof v === "string" && v !== "" && v !== "_none" ? v : undefined;
}

/**
 * Every index and template whose final or default pipeline is missing; `only` keeps those whose
 * pipeline it accepts (e.g. one install's pipelines).
 */
export async function missingPipelines(
  cluster: Cluster,
  only: (pipeline: string) => boolean = () => true,
): Promise<MissingPipeline[]> {
  const pipelines = new Set(
    Object.keys(
      (await rest<Record<string, unknown>>(cluster, "GET", "/_ingest/pipeline", undefined, {
        allow404: true,
        what: "list ingest pipelines",
      })) ?? {},
    ),
  );
  const out: MissingPipeline[] = [];
  const check = (kind: MissingPipeline["kind"], name: string, settings: any) => {
    for (const setting of SETTINGS) {
      const pipeline = pipelineSetting(settings, setting);
      if (pipeline && !pipelines.has(pipeline) && only(pipeline)) out.push({ kind, name, setting, pipeline });
    }
  };
  const indices = await rest<Record<string, { settings?: any }>>(
    cluster,
    "GET",
    "/_all/_settings/index.final_pipeline,index.default_pipeline",
    undefined,
    { querystring: { expand_wildcards: "all", flat_settings: true }, allow404: true, what: "read index settings" },
  );
  for (const [name, v] of Object.entries(indices ?? {})) check("index", name, v.settings);
  const legacy = await rest<Record<string, { settings?: any }>>(cluster, "GET", "/_template", undefined, {
    allow404: true,
    what: "read legacy templates",
  });
  for (const [name, v] of Object.entries(legacy ?? {})) check("legacy template", name, v.settings);
  const composable = await optional(cluster, "/_index_template", "read index templates");
  for (const t of composable?.index_templates ?? [])
    check("index template", t.name, t.index_template?.template?.settings);
  const components = await optional(cluster, "/_component_template", "read component templates");
  for (const t of components?.component_templates ?? [])
    check("component template", t.name, t.component_template?.template?.settings);
  return out.sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
}

/** Composable and component templates: absent on engines without them (400/404), never fatal. */
async function optional(cluster: Cluster, path: string, what: string): Promise<any> {
  try {
    return await rest<any>(cluster, "GET", path, undefined, { allow404: true, what });
  } catch (e) {
    if ((e as { status?: number }).status === 400) return undefined;
    throw e;
  }
}

/** One line per broken wiring, and how to repair it. */
export function missingPipelineLines(missing: MissingPipeline[], name?: string): string[] {
  if (!missing.length) return [];
  const repair = name
    ? `repair: run \`outliers pipeline install … --name ${name}\` again (re-creates the pipeline), or \`outliers pipeline uninstall --name ${name}\` (restores the settings as they were)`
    : "repair: run `outliers pipeline install` again for the install that wired it (re-creates the pipeline), or `outliers pipeline uninstall --name NAME` (restores the settings as they were)";
  return [
    `MISSING PIPELINE: ${missing.length} wired ind${missing.length === 1 ? "ex or template names" : "ices or templates name"} a pipeline that does not exist; every write to ${missing.length === 1 ? "it" : "them"} is refused:`,
    ...missing.map((m) => `  ${m.kind} ${m.name}: ${m.setting} ${m.pipeline} (missing)`),
    `  ${repair}`,
  ];
}
