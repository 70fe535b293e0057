/**
 * Documents through a pipeline that is INSTALLED on the cluster (`POST _ingest/pipeline/<name>/
 * _simulate`): what `outliers test --node` checks, the rule set as it really runs there. Returns,
 * per document, the rule ids on it afterwards and its tagging errors.
 */
import type { Cluster } from "../connection/client.ts";
import { rest } from "../connection/rest.ts";

export interface InstalledResult {
  ruleIds: string[];
  errors: string[];
}

function list(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

/** Whether a pipeline of that name exists. */
export async function pipelineExists(cluster: Cluster, name: string): Promise<boolean> {
  const r = await rest(cluster, "GET", `/_ingest/pipeline/${encodeURIComponent(name)}`, undefined, {
    allow404: true,
    what: `get pipeline ${name}`,
  });
  return r !== undefined && Object.keys(r as object).length > 0;
}

export async function simulateInstalled(
  cluster: Cluster,
  name: string,
  docs: Record<string, unknown>[],
  chunk = 200,
): Promise<InstalledResult[]> {
  const out: InstalledResult[] = [];
  for (let k = 0; k < docs.length; k += chunk) {
    const part = docs.slice(k, k + chunk);
    const res = await rest<{ docs: any[] }>(
      cluster,
      "POST",
      `/_ingest/pipeline/${encodeURIComponent(name)}/_simulate`,
      { docs: part.map((d, n) => ({ _index: "outliers-test", _id: String(k + n), _source: d })) },
      { what: `simulate pipeline ${name}` },
    );
    part.forEach((_, n) => {
      const r = res?.docs[n];
      if (r?.error) return void out.push({ ruleIds: [], errors: [r.error.reason ?? JSON.stringify(r.error)] });
      const o = r?.doc?._source?.outliers;
      out.push({ ruleIds: list(o?.rule_id), errors: list(o?.error) });
    });
  }
  return out;
}
