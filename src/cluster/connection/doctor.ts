/**
 * `outliers doctor`: can this cluster run the tool? Each check gives one line with a status and, when
 * something is wrong, what to do about it. The checks only read (GET/POST of read-only APIs); nothing on
 * the cluster changes.
 */
import type { Cluster } from "./client.ts";
import { call, esReason } from "./client.ts";
import { engineDifferences, engineOf } from "./engine.ts";
import { missingPipelines, type MissingPipeline } from "./missing-pipelines.ts";

export type CheckStatus = "ok" | "warn" | "fail";

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do, when the status is not ok. */
  fix?: string;
}

export interface DoctorReport {
  url: string;
  ready: boolean;
  version: string;
  distribution: string;
  /** "OpenSearch 2.19.1", and what differs on it (engine.ts). */
  engine?: { label: string; tested: boolean; differences: string[] };
  checks: Check[];
}

/** The privileges the tool needs: pipelines, index templates and settings, `_update_by_query`. */
export const NEEDED_CLUSTER_PRIVILEGES = ["monitor", "manage_pipeline", "manage_index_templates"] as const;
export const NEEDED_INDEX_PRIVILEGES = ["write", "manage", "read", "view_index_metadata"] as const;

/** Script compilations the tool may need in a burst: pipeline scripts plus one update script. */
const MIN_COMPILATIONS = 10;
/** The largest script source the tool emits must fit (Elasticsearch's default limit). */
const MIN_SCRIPT_SIZE = 65_535;

type Raw = { statusCode?: number; body: any };

async function request(cluster: Cluster, what: string, method: string, path: string, body?: unknown): Promise<Raw> {
  return call(cluster, what, () =>
    cluster.client.transport.request(
      { method, path, body: body as Record<string, unknown> | undefined },
      { meta: true },
    ),
  ) as Promise<Raw>;
}

export function versionCheck(cluster: Cluster): Check {
  const { info } = cluster;
  const engine = engineOf(info);
  const detail = `${engine.label}${info.clusterName ? ` (cluster "${info.clusterName}")` : ""}${engine.tested ? "" : ", supported, not run in outliers' CI"}`;
  if (engine.note)
    return {
      name: "version",
      status: "warn",
      detail,
      fix: `${engine.note}; set it to false to let outliers see the version`,
    };
  return { name: "version", status: "ok", detail };
}

/** What differs on this engine (engine.ts), data streams checked live: `GET _data_stream` answers or not. */
export async function engineCheck(cluster: Cluster): Promise<Check> {
  const engine = engineOf(cluster.info);
  let live: boolean | undefined;
  try {
    await request(cluster, "data streams", "GET", "/_data_stream");
    live = true;
  } catch (e) {
    const status = (e as { meta?: { statusCode?: number } }).meta?.statusCode;
    if (status === undefined) throw e;
    // 400 "no handler"/"invalid index name [_data_stream]" or 404: no data streams; 403: cannot tell.
    live = status === 403 ? undefined : false;
  }
  return { name: "engine", status: "ok", detail: engineDifferences(engine, live).join("; ") };
}

export function healthCheck(health: { status?: string; number_of_nodes?: number; unassigned_shards?: number }): Check {
  const s = health.status ?? "unknown";
  const nodes = `${health.number_of_nodes ?? "?"} node(s)`;
  if (s === "green") return { name: "health", status: "ok", detail: `green, ${nodes}` };
  if (s === "yellow")
    return {
      name: "health",
      status: "ok",
      detail: `yellow, ${nodes}${health.unassigned_shards ? `, ${health.unassigned_shards} replica shard(s) unassigned (normal on one node)` : ""}`,
    };
  return {
    name: "health",
    status: "fail",
    detail: `${s}, ${nodes}: some primary shards are unassigned`,
    fix: "find out why with GET _cluster/allocation/explain; tagging and backfill fail on indices whose shards are missing",
  };
}

export function ingestCheck(nodes: Record<string, { name?: string; roles?: string[] }>): Check {
  const all = Object.values(nodes);
  // Before 7.9 a node without explicit roles lists "ingest" too; a missing list counts as ingest-capable.
  const ingest = all.filter((n) => !n.roles || n.roles.includes("ingest"));
  if (ingest.length > 0)
    return {
      name: "ingest nodes",
      status: "ok",
      detail: `${ingest.length} of ${all.length} node(s) have the ingest role`,
    };
  return {
    name: "ingest nodes",
    status: "fail",
    detail: `none of ${all.length} node(s) has the ingest role: no pipeline can run, live tagging is impossible`,
    fix: 'add "ingest" to node.roles in elasticsearch.yml of at least one node and restart it',
  };
}

/** Reads a setting from the flat `_cluster/settings?include_defaults` answer: transient > persistent > defaults. */
export function setting(
  flat: {
    transient?: Record<string, unknown>;
    persistent?: Record<string, unknown>;
    defaults?: Record<string, unknown>;
  },
  key: string,
): unknown {
  for (const scope of [flat.transient, flat.persistent, flat.defaults]) {
    if (scope && key in scope) return scope[key];
  }
  return undefined;
}

export function regexCheck(value: unknown): Check {
  const v = value === undefined ? "limited (default)" : String(value);
  // Rule regexes never reach Painless' regex engine: they run in outliers' own matcher over params.
  return {
    name: "painless regex",
    status: "ok",
    detail: `script.painless.regex.enabled: ${v} (outliers needs no Painless regex; any value works)`,
  };
}

/** "75/5m" → 75; "unlimited" → Infinity; anything else → undefined. */
export function compilationsIn(rate: string): number | undefined {
  if (rate === "unlimited") return Infinity;
  const m = /^(\d+)\//.exec(rate);
  return m ? Number(m[1]) : undefined;
}

export function scriptLimitsCheck(flat: Parameters<typeof setting>[0]): Check {
  const parts: string[] = [];
  const fixes: string[] = [];
  const global = String(setting(flat, "script.max_compilations_rate") ?? "150/5m");
  const disabled = String(setting(flat, "script.disable_max_compilations_rate") ?? "false") === "true";
  const rates: Array<[string, string]> = [];
  if (disabled) parts.push("compilation rate limit disabled");
  else if (global === "use-context") {
    // 7.x default: one limit per script context; the tool compiles in the ingest and update contexts.
    for (const ctx of ["ingest", "update", "processor_conditional"]) {
      const key = `script.context.${ctx}.max_compilations_rate`;
      const v = setting(flat, key);
      rates.push([key, v === undefined ? "75/5m" : String(v)]);
    }
  } else rates.push(["script.max_compilations_rate", global]);
  for (const [key, rate] of rates) {
    parts.push(`${key}: ${rate}`);
    const n = compilationsIn(rate);
    if (n !== undefined && n < MIN_COMPILATIONS) fixes.push(`raise ${key} to at least ${MIN_COMPILATIONS}/5m`);
  }
  const size = Number(setting(flat, "script.max_size_in_bytes") ?? MIN_SCRIPT_SIZE);
  parts.push(`script.max_size_in_bytes: ${size}`);
  if (size < MIN_SCRIPT_SIZE) fixes.push(`raise script.max_size_in_bytes to at least ${MIN_SCRIPT_SIZE}`);
  const types = setting(flat, "script.allowed_types");
  const typeList = Array.isArray(types)
    ? types.map(String)
    : typeof types === "string" && types
      ? types.split(",")
      : [];
  if (typeList.length > 0 && !typeList.includes("inline")) {
    parts.push(`script.allowed_types: ${typeList.join(",")}`);
    fixes.push('add "inline" to script.allowed_types (the tagging scripts are inline)');
  }
  const contexts = setting(flat, "script.allowed_contexts");
  const ctxList = Array.isArray(contexts)
    ? contexts.map(String)
    : typeof contexts === "string" && contexts
      ? contexts.split(",")
      : [];
  const missing = ["ingest", "update"].filter((c) => ctxList.length > 0 && !ctxList.includes(c));
  if (missing.length > 0) {
    parts.push(`script.allowed_contexts: ${ctxList.join(",")}`);
    fixes.push(`add ${missing.join(" and ")} to script.allowed_contexts`);
  }
  return fixes.length
    ? { name: "script limits", status: "fail", detail: parts.join(", "), fix: fixes.join("; ") }
    : { name: "script limits", status: "ok", detail: parts.join(", ") };
}

/** True when an error answer means "there is no security API here" (security off, or not installed). */
export function securityUnavailable(statusCode: number | undefined, body: any): boolean {
  const text = JSON.stringify(body ?? "");
  if (statusCode === 400 && /invalid_index_name_exception|no handler found/i.test(text)) return true;
  if (statusCode === 404 || statusCode === 405) return true;
  return /security.*(not enabled|disabled|must be explicitly enabled)/i.test(text);
}

export function privilegesCheck(answer: {
  has_all_requested?: boolean;
  username?: string;
  cluster?: Record<string, boolean>;
  index?: Record<string, Record<string, boolean>>;
}): Check {
  const user = answer.username ? `user "${answer.username}"` : "this user";
  if (answer.has_all_requested)
    return { name: "privileges", status: "ok", detail: `${user} has every privilege outliers needs` };
  const missingCluster = Object.entries(answer.cluster ?? {})
    .filter(([, v]) => !v)
    .map(([k]) => k);
  const missingIndex = Object.values(answer.index ?? {}).flatMap((p) =>
    Object.entries(p)
      .filter(([, v]) => !v)
      .map(([k]) => k),
  );
  const what = [
    missingCluster.length ? `cluster: ${missingCluster.join(", ")}` : "",
    missingIndex.length ? `indices *: ${missingIndex.join(", ")}` : "",
  ]
    .filter(Boolean)
    .join("; ");
  return {
    name: "privileges",
    status: "fail",
    detail: `${user} lacks ${what || "some privileges"}`,
    fix: "grant them to the user's role (pipelines need manage_pipeline, wiring needs manage_index_templates and manage, backfill needs read and write)",
  };
}

export async function runDoctor(cluster: Cluster): Promise<DoctorReport> {
  const checks: Check[] = [versionCheck(cluster), await engineCheck(cluster)];

  const health = await request(cluster, "cluster health", "GET", "/_cluster/health");
  checks.push(healthCheck(health.body));

  const nodes = await request(cluster, "node roles", "GET", "/_nodes?filter_path=nodes.*.roles,nodes.*.name");
  checks.push(ingestCheck(nodes.body?.nodes ?? {}));

  let flat: Parameters<typeof setting>[0] = {};
  try {
    flat = (
      await request(cluster, "cluster settings", "GET", "/_cluster/settings?include_defaults=true&flat_settings=true")
    ).body;
  } catch (e) {
    if ((e as { meta?: unknown }).meta === undefined) throw e;
    checks.push({
      name: "script settings",
      status: "warn",
      detail: `cannot read cluster settings: ${esReason(e)}`,
      fix: "grant the monitor cluster privilege to see them",
    });
  }
  checks.push(regexCheck(setting(flat, "script.painless.regex.enabled")));
  checks.push(scriptLimitsCheck(flat));
  checks.push(await simulateCheck(cluster));

  checks.push(await checkPrivileges(cluster));
  checks.push(await wiringCheck(cluster));

  return {
    url: cluster.url,
    ready: checks.every((c) => c.status !== "fail"),
    version: cluster.info.version,
    distribution: cluster.info.distribution,
    engine: (() => {
      const e = engineOf(cluster.info);
      return {
        label: e.label,
        tested: e.tested,
        differences: checks.find((c) => c.name === "engine")!.detail.split("; "),
      };
    })(),
    checks,
  };
}

/** Every index or template wired to a pipeline that does not exist (every write to it is refused). */
async function wiringCheck(cluster: Cluster): Promise<Check> {
  let missing: MissingPipeline[];
  try {
    missing = await missingPipelines(cluster);
  } catch (e) {
    if ((e as { status?: number }).status === undefined) throw e;
    return {
      name: "wired pipelines",
      status: "warn",
      detail: `cannot read index settings and templates: ${esReason(e)}`,
      fix: "grant view_index_metadata and manage_index_templates to see them",
    };
  }
  if (!missing.length)
    return { name: "wired pipelines", status: "ok", detail: "every pipeline an index or template names exists" };
  return {
    name: "wired pipelines",
    status: "fail",
    detail: `${missing.length} ind${missing.length === 1 ? "ex or template" : "ices or templates"} wired to a missing pipeline refuse every write: ${missing.map((m) => `${m.kind} ${m.name} (${m.setting} ${m.pipeline})`).join(", ")}`,
    fix: "run `outliers pipeline install` again for that install (re-creates the pipeline), or `outliers pipeline uninstall --name NAME` (restores the settings as they were)",
  };
}

/** A pipeline with a Painless script processor, simulated: proves ingest-common and Painless work (changes nothing). */
async function simulateCheck(cluster: Cluster): Promise<Check> {
  const body = {
    pipeline: {
      processors: [{ script: { lang: "painless", source: "ctx.outliers_doctor = params.v", params: { v: "ok" } } }],
    },
    docs: [{ _source: {} }],
  };
  try {
    const answer = await request(cluster, "pipeline simulate", "POST", "/_ingest/pipeline/_simulate", body);
    const got = answer.body?.docs?.[0]?.doc?._source?.outliers_doctor;
    if (got === "ok")
      return { name: "painless pipeline", status: "ok", detail: "a script processor runs in a simulated pipeline" };
    const err = answer.body?.docs?.[0]?.error?.reason;
    return {
      name: "painless pipeline",
      status: "fail",
      detail: `a simulated script processor did not run${err ? `: ${err}` : ""}`,
      fix: "enable the lang-painless and ingest-common modules",
    };
  } catch (e) {
    if ((e as { meta?: unknown }).meta === undefined) throw e;
    return {
      name: "painless pipeline",
      status: "fail",
      detail: `simulating a script processor failed: ${esReason(e)}`,
      fix: "enable the lang-painless and ingest-common modules and inline scripts",
    };
  }
}

async function checkPrivileges(cluster: Cluster): Promise<Check> {
  if (cluster.info.distribution === "opensearch") return openSearchAccount(cluster);
  const body = {
    cluster: [...NEEDED_CLUSTER_PRIVILEGES],
    index: [{ names: ["*"], privileges: [...NEEDED_INDEX_PRIVILEGES] }],
  };
  try {
    const answer = await request(cluster, "privileges", "POST", "/_security/user/_has_privileges", body);
    return privilegesCheck(answer.body);
  } catch (e) {
    return privilegesUnknown(
      e,
      "cannot check privileges",
      "make sure the user has manage_pipeline, manage_index_templates, monitor and write/manage/read on the indices",
    );
  }
}

/**
 * OpenSearch has no `_has_privileges`; its security plugin tells who we are and our roles. Without the
 * plugin (404 / no handler) every call is allowed.
 */
async function openSearchAccount(cluster: Cluster): Promise<Check> {
  try {
    const answer = await request(cluster, "security account", "GET", "/_plugins/_security/api/account");
    const user = answer.body?.user_name ? `user "${answer.body.user_name}"` : "this user";
    const roles: string[] = answer.body?.roles ?? answer.body?.backend_roles ?? [];
    return {
      name: "privileges",
      status: "ok",
      detail: `OpenSearch security: ${user}, roles ${roles.length ? roles.join(", ") : "(none)"}; OpenSearch has no privilege check API, so a missing permission shows as a 403 naming it`,
    };
  } catch (e) {
    return privilegesUnknown(
      e,
      "cannot read the security account",
      "make sure the user may manage pipelines, index templates and settings, and read and write the indices",
    );
  }
}

/**
 * A privilege check the server answered with an error: security disabled means every privilege;
 * another answer is a warning with what to do; no answer at all (not a server error) is rethrown.
 */
function privilegesUnknown(e: unknown, what: string, fix: string): Check {
  const meta = (e as { meta?: { statusCode?: number; body?: unknown } }).meta;
  if (meta && securityUnavailable(meta.statusCode, meta.body))
    return { name: "privileges", status: "ok", detail: "security disabled: all privileges available" };
  if (meta) return { name: "privileges", status: "warn", detail: `${what}: ${esReason(e)}`, fix };
  throw e;
}

const MARK: Record<CheckStatus, string> = { ok: "ok  ", warn: "warn", fail: "FAIL" };

/** The report as text lines: one per check, then the verdict. */
export function formatReport(r: DoctorReport): string {
  const width = Math.max(...r.checks.map((c) => c.name.length));
  const lines = r.checks.map(
    (c) => `${MARK[c.status]}  ${c.name.padEnd(width)}  ${c.detail}${c.fix ? ` -> ${c.fix}` : ""}`,
  );
  lines.push(r.ready ? `ready: ${r.url} can run outliers` : `not ready: ${r.url} needs the fixes marked FAIL above`);
  return lines.join("\n");
}
