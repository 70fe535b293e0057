/**
 * The install record: what `pipeline install` changed and what was there before, one document per
 * pipeline name in the hidden index `.outliers-state` (stored, not indexed: `dynamic: false`). It is
 * written before any index or template is touched, so that an interrupted install can still be undone
 * by `uninstall`.
 */
import type { Cluster } from "./client.ts";
import { rest, seg } from "./rest.ts";

export const STATE_INDEX = ".outliers-state";

/** A setting as it was: absent, or present with a value (`_none` included). */
export interface SettingValue {
  present: boolean;
  value?: string;
}

export interface IndexRecord {
  /** `index.final_pipeline` before we wired the index. */
  before: SettingValue;
  /** What we set it to. */
  after: string;
  /** `index.default_pipeline` at install time, for reports (never changed). */
  default_pipeline?: string;
  /** Tag fields we added to its mapping (mappings cannot be removed; listed for the record). */
  mappings_added: string[];
}

export type TemplateKind = "legacy" | "composable";

export interface TemplateRecord {
  kind: TemplateKind;
  name: string;
  /** The template's whole body before we changed it, as Elasticsearch returned it; null when we created it. */
  before: Record<string, any> | null;
  /** The body we put. */
  after: Record<string, any>;
  /** The final pipeline in effect before (own setting, or from a component template), chained. */
  previous_final?: string;
  mappings_added: string[];
}

export interface InstallState {
  name: string;
  tool_version: string;
  version: number;
  hash: string;
  patterns: string[];
  installed_at: string;
  updated_at: string;
  /** Wiring pipeline name → the previous final pipeline it runs first. */
  chains: Record<string, string>;
  indices: Record<string, IndexRecord>;
  /** Keyed by `legacy:<name>` / `composable:<name>`. */
  templates: Record<string, TemplateRecord>;
}

export function templateKey(kind: TemplateKind, name: string): string {
  return `${kind}:${name}`;
}

export async function readState(cluster: Cluster, name: string): Promise<InstallState | undefined> {
  const res = await rest<{ found: boolean; _source: InstallState }>(cluster, "GET", `/${STATE_INDEX}/_doc/${seg(name)}`, undefined, {
    allow404: true,
    what: `read install state ${STATE_INDEX}/${name}`,
  });
  return res?.found ? res._source : undefined;
}

async function ensureStateIndex(cluster: Cluster): Promise<void> {
  const exists = await rest(cluster, "GET", `/${STATE_INDEX}`, undefined, { allow404: true, querystring: { expand_wildcards: "all" } });
  if (exists) return;
  try {
    await rest(cluster, "PUT", `/${STATE_INDEX}`, {
      settings: { "index.hidden": true, number_of_shards: 1, auto_expand_replicas: "0-1" },
      mappings: { dynamic: false, properties: { name: { type: "keyword" } } },
    }, { what: `create ${STATE_INDEX}` });
  } catch (e) {
    // Another install created it meanwhile.
    if (!/resource_already_exists|already exists/.test((e as Error).message)) throw e;
  }
}

export async function writeState(cluster: Cluster, state: InstallState): Promise<void> {
  await ensureStateIndex(cluster);
  await rest(cluster, "PUT", `/${STATE_INDEX}/_doc/${seg(state.name)}`, state, {
    querystring: { refresh: "true" },
    what: `write install state ${STATE_INDEX}/${state.name}`,
  });
}

/** Deletes the record, and the state index when no other install is left in it. */
export async function deleteState(cluster: Cluster, name: string): Promise<void> {
  await rest(cluster, "DELETE", `/${STATE_INDEX}/_doc/${seg(name)}`, undefined, { allow404: true, querystring: { refresh: "true" } });
  const count = await rest<{ count: number }>(cluster, "GET", `/${STATE_INDEX}/_count`, undefined, { allow404: true });
  if (count && count.count === 0) await rest(cluster, "DELETE", `/${STATE_INDEX}`, undefined, { allow404: true });
}
