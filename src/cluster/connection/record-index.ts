/**
 * The hidden one-shard indices this tool keeps its records in (`.outliers-state`,
 * `.outliers-applied`): created on first write with `dynamic: false`, so that the keys of a record
 * (index names, rule ids) never become mapped fields.
 */
import type { Cluster } from "./client.ts";
import { rest } from "./rest.ts";

/** Creates the record index `index` when missing; one created by something else gets `dynamic: false`. */
export async function ensureRecordIndex(cluster: Cluster, index: string): Promise<void> {
  const exists = await rest<Record<string, { mappings?: { dynamic?: unknown } }>>(
    cluster,
    "GET",
    `/${index}`,
    undefined,
    { allow404: true, querystring: { expand_wildcards: "all" } },
  );
  if (exists) {
    // Created by something else (a write that auto-created it): its records' keys would each become a
    // mapped field until the index refuses writes at its field limit.
    const dynamic = Object.values(exists)[0]?.mappings?.dynamic;
    if (dynamic !== false && dynamic !== "false")
      await rest(cluster, "PUT", `/${index}/_mapping`, { dynamic: false }, { what: `map ${index}` });
    return;
  }
  try {
    await rest(
      cluster,
      "PUT",
      `/${index}`,
      {
        settings: { "index.hidden": true, number_of_shards: 1, auto_expand_replicas: "0-1" },
        mappings: { dynamic: false, properties: { name: { type: "keyword" } } },
      },
      { what: `create ${index}` },
    );
  } catch (e) {
    // Another run created it meanwhile.
    if (!/resource_already_exists|already exists/.test((e as Error).message)) throw e;
  }
}
