/**
 * What `ingest` learns about its target before sending anything:
 *
 * - the indices the name stands for (an index, an alias, a data stream's backing indices), so that a
 *   hidden or system index is refused without `--allow-system-index` (connection/guards.ts);
 * - the mapping limits to check each document against (events/limits.ts): read from the indices'
 *   settings (the strictest when there are several), from the index templates that would create it
 *   (`_index_template/_simulate_index`), or the engine's defaults;
 * - whether a missing index is expected: when tagging is installed (an install record exists) and
 *   the name is neither an existing index nor matched by an index template (ours wire the installed
 *   patterns), it is most likely a typo, and ingest asks for `--create` (naming the wired patterns
 *   closest to it) before writing anything.
 */
import type { Cluster } from "../connection/client.ts";
import { checkEventTarget } from "../connection/guards.ts";
import { globMatch } from "../connection/patterns.ts";
import { EsRequestError, rest, seg } from "../connection/rest.ts";
import { readAllStates } from "../live/install-state.ts";
import { DEFAULT_LIMITS, type MappingLimits } from "../../events/limits.ts";
import { UsageError } from "../../util/errors.ts";

type Obj = Record<string, any>;

export interface Target {
  exists: boolean;
  /** Concrete indices behind the name (empty when it does not exist). */
  indices: string[];
  limits: MappingLimits;
}

const LIMIT_KEYS: Record<"depth" | "totalFields" | "fieldNameLength", string> = {
  depth: "index.mapping.depth.limit",
  totalFields: "index.mapping.total_fields.limit",
  fieldNameLength: "index.mapping.field_name_length.limit",
};

/** `{"index": {"mapping": {"depth": {"limit": "50"}}}}` → `{"index.mapping.depth.limit": "50"}`. */
function flatten(o: Obj | undefined, prefix = "", out: Obj = {}): Obj {
  for (const [k, v] of Object.entries(o ?? {})) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === "object" && !Array.isArray(v)) flatten(v, key, out);
    else out[key] = v;
  }
  return out;
}

function limitsFrom(settings: Obj[], from: string): MappingLimits {
  const out: MappingLimits = { ...DEFAULT_LIMITS, from };
  for (const [k, key] of Object.entries(LIMIT_KEYS) as [keyof typeof LIMIT_KEYS, string][]) {
    // Several indices (an alias, a data stream): the strictest.
    const values = settings.map((s) => Number(s[key])).filter((n) => Number.isFinite(n) && n > 0);
    if (values.length) out[k] = Math.min(...values);
  }
  return out;
}

async function optional<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    // A user allowed to write but not to read settings or templates: defaults then.
    if (e instanceof EsRequestError && (e.status === 401 || e.status === 403 || e.status === 400 || e.status === 405))
      return undefined;
    throw e;
  }
}

export async function inspectTarget(cluster: Cluster, index: string): Promise<Target> {
  const settings = await optional(
    rest<Obj>(cluster, "GET", `/${seg(index)}/_settings`, undefined, {
      querystring: { include_defaults: true, flat_settings: true, expand_wildcards: "all" },
      allow404: true,
      what: `read the settings of ${index}`,
    }),
  );
  if (settings && Object.keys(settings).length) {
    const indices = Object.keys(settings).sort();
    const all = indices.map((i) => ({ ...(settings[i]?.defaults ?? {}), ...(settings[i]?.settings ?? {}) }));
    return { exists: true, indices, limits: limitsFrom(all, `the settings of ${index}`) };
  }
  const sim = await optional(
    rest<Obj>(cluster, "POST", `/_index_template/_simulate_index/${seg(index)}`, undefined, {
      allow404: true,
      what: `simulate the index template for ${index}`,
    }),
  );
  const fromTemplate = flatten(sim?.template?.settings);
  const hasLimits = Object.values(LIMIT_KEYS).some((k) => fromTemplate[k] !== undefined);
  return {
    exists: false,
    indices: [],
    limits: hasLimits ? limitsFrom([fromTemplate], `the index template for ${index}`) : DEFAULT_LIMITS,
  };
}

/** Edit distance, for naming the wired patterns a typo may have meant. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** Index templates' patterns (composable and legacy) that would shape a new index `index`; catch-alls (`*`) aside. */
async function templatesFor(cluster: Cluster, index: string): Promise<string[]> {
  const out: string[] = [];
  const comp = await optional(rest<Obj>(cluster, "GET", "/_index_template", undefined, { allow404: true }));
  for (const t of comp?.index_templates ?? []) {
    for (const p of [t?.index_template?.index_patterns ?? []].flat())
      if (typeof p === "string" && !/^\**$/.test(p) && globMatch(p, index)) out.push(p);
  }
  const legacy = await optional(rest<Obj>(cluster, "GET", "/_template", undefined, { allow404: true }));
  for (const t of Object.values(legacy ?? {}))
    for (const p of [(t as Obj)?.index_patterns ?? []].flat())
      if (typeof p === "string" && !/^\**$/.test(p) && globMatch(p, index)) out.push(p);
  return out;
}

/**
 * Refuses (exit 2) a target that does not exist, when tagging is installed and nothing would tag or
 * shape it, unless `create`. Also applies the '.'-index guard.
 */
export async function checkTarget(
  cluster: Cluster,
  index: string,
  target: Target,
  opts: { create: boolean; allowSystem: boolean },
): Promise<void> {
  checkEventTarget(index, target.indices, opts.allowSystem, "--allow-system-index");
  if (target.exists || opts.create) return;
  let states: Awaited<ReturnType<typeof readAllStates>>;
  try {
    states = await readAllStates(cluster);
  } catch (e) {
    if (e instanceof EsRequestError && (e.status === 401 || e.status === 403)) return;
    throw e;
  }
  const wired = [...new Set(states.flatMap((s) => s.state.patterns ?? []))].sort();
  if (wired.length === 0) return;
  if ((await templatesFor(cluster, index)).length) return;
  const close = wired
    .map((p) => ({ p, d: distance(index, p.replace(/\*/g, "")) }))
    .sort((a, b) => a.d - b.d || (a.p < b.p ? -1 : 1))
    .slice(0, 3)
    .map((x) => x.p);
  throw new UsageError(
    `--index ${index}: no such index, and no installed tagging reaches it (wired: ${close.join(", ")}${wired.length > close.length ? ", …" : ""}); ` +
      `events written there would not be tagged. Did you mean an index matching ${close.join(" or ")}? Give --create to create ${index} anyway`,
  );
}
