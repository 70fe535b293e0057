/**
 * The install record: what `pipeline install` changed and what was there before, one document per
 * pipeline name in the hidden index `.outliers-state` (stored, not indexed: `dynamic: false`). It is
 * written before any index or template is touched, so that an interrupted install can still be undone
 * by `uninstall`.
 */
import type { Cluster } from "../connection/client.ts";
import { ensureRecordIndex } from "../connection/record-index.ts";
import { type EsRequestError, rest, seg } from "../connection/rest.ts";
import { UsageError } from "../../util/errors.ts";

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

/** Where the record stood when read: writes are conditional on it, so two installs cannot interleave. */
export type StateVersion = { if_seq_no: number; if_primary_term: number } | "absent";

export async function readStateVersioned(
  cluster: Cluster,
  name: string,
): Promise<{ state?: InstallState; version: StateVersion }> {
  const res = await rest<{ found: boolean; _source: InstallState; _seq_no: number; _primary_term: number }>(
    cluster,
    "GET",
    `/${STATE_INDEX}/_doc/${seg(name)}`,
    undefined,
    { allow404: true, what: `read install state ${STATE_INDEX}/${name}` },
  );
  return res?.found
    ? { state: res._source, version: { if_seq_no: res._seq_no, if_primary_term: res._primary_term } }
    : { version: "absent" };
}

export async function readState(cluster: Cluster, name: string): Promise<InstallState | undefined> {
  return (await readStateVersioned(cluster, name)).state;
}

/** Writes the record if it is still at `expect` (when given); returns where it stands now. */
export async function writeState(cluster: Cluster, state: InstallState, expect?: StateVersion): Promise<StateVersion> {
  await ensureRecordIndex(cluster, STATE_INDEX);
  const cond: Record<string, string | number> =
    expect === undefined ? {} : expect === "absent" ? { op_type: "create" } : { ...expect };
  try {
    const res = await rest<{ _seq_no: number; _primary_term: number }>(
      cluster,
      "PUT",
      `/${STATE_INDEX}/_doc/${seg(state.name)}`,
      state,
      {
        querystring: { refresh: "true", ...cond },
        what: `write install state ${STATE_INDEX}/${state.name}`,
      },
    );
    return { if_seq_no: res!._seq_no, if_primary_term: res!._primary_term };
  } catch (e) {
    if ((e as EsRequestError).status === 409)
      throw new UsageError(
        `the install record ${STATE_INDEX}/${state.name} changed meanwhile: another install or uninstall of ${state.name} is running; run this one again when it is done`,
      );
    throw e;
  }
}

/** Deletes the record, and the state index when no other install is left in it. */
export async function deleteState(cluster: Cluster, name: string): Promise<void> {
  await rest(cluster, "DELETE", `/${STATE_INDEX}/_doc/${seg(name)}`, undefined, {
    allow404: true,
    querystring: { refresh: "true" },
  });
  const count = await rest<{ count: number }>(cluster, "GET", `/${STATE_INDEX}/_count`, undefined, { allow404: true });
  if (count && count.count === 0) await rest(cluster, "DELETE", `/${STATE_INDEX}`, undefined, { allow404: true });
}

/** Every install record with where it stands (for an uninstall that must keep the other installs working). */
export async function readAllStates(cluster: Cluster): Promise<Array<{ state: InstallState; version: StateVersion }>> {
  const res = await rest<{ hits: { hits: Array<{ _source: InstallState; _seq_no: number; _primary_term: number }> } }>(
    cluster,
    "POST",
    `/${STATE_INDEX}/_search`,
    { size: 10000, seq_no_primary_term: true, query: { match_all: {} } },
    { allow404: true, querystring: { expand_wildcards: "all" }, what: `read install records ${STATE_INDEX}` },
  );
  // The index also holds other records (rule history, correlation progress): install records only.
  return (res?.hits?.hits ?? [])
    .filter((h) => isInstallRecord(h._source))
    .map((h) => ({
      state: h._source,
      version: { if_seq_no: h._seq_no, if_primary_term: h._primary_term },
    }));
}

/** Whether a document of the state index is an install record (and not another kind of record kept there). */
export function isInstallRecord(doc: unknown): doc is InstallState {
  const d = doc as Partial<InstallState> | null;
  const isObj = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
  return isObj(d) && typeof d!.name === "string" && isObj(d!.chains) && isObj(d!.indices) && isObj(d!.templates);
}
