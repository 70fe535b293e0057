/**
 * Runs many queries against one small index on the real cluster and returns, per query, the ids
 * of the documents it matches (one `_msearch` round trip per batch).
 */
import { cluster } from "./es.ts";

export async function createIndexWithDocs(
  index: string,
  body: { settings?: Record<string, unknown>; mappings: Record<string, unknown> },
  docs: Record<string, Record<string, unknown>>,
): Promise<void> {
  const { client } = await cluster();
  await client.indices.create({
    index,
    settings: { number_of_shards: 1, number_of_replicas: 0, ...(body.settings ?? {}) },
    mappings: body.mappings,
  });
  const ops: object[] = [];
  for (const [id, doc] of Object.entries(docs)) ops.push({ index: { _index: index, _id: id } }, doc);
  if (ops.length) {
    const r: any = await client.bulk({ operations: ops, refresh: true });
    if (r.errors) {
      const bad = r.items.filter((i: any) => i.index?.error).map((i: any) => `${i.index._id}: ${i.index.error.reason}`);
      throw new Error(`bulk indexing failed: ${bad.join("; ")}`);
    }
  }
}

/** Ids (sorted) each query matches, or the error Elasticsearch gave for it. */
export async function matchIds(index: string, queries: object[]): Promise<Array<string[] | { error: string }>> {
  const { client } = await cluster();
  const out: Array<string[] | { error: string }> = [];
  for (let i = 0; i < queries.length; i += 100) {
    const batch = queries.slice(i, i + 100);
    const searches: object[] = [];
    for (const q of batch) searches.push({ index }, { query: q, size: 1000, _source: false });
    const r: any = await client.msearch({ searches });
    for (const resp of r.responses) {
      if (resp.error)
        out.push({ error: resp.error.root_cause?.[0]?.reason ?? resp.error.reason ?? JSON.stringify(resp.error) });
      else out.push(resp.hits.hits.map((h: any) => h._id as string).sort());
    }
  }
  return out;
}
