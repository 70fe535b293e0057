/**
 * The real Elasticsearch node for integration tests: the one `scripts/es-start` started (ES_URL, or
 * http://127.0.0.1:9200). A test that needs it and finds none fails with the reason; it never skips.
 */
import { connect, type Cluster } from "../../src/cluster/connection/client.ts";

export const ES_URL = process.env.ES_URL ?? "http://127.0.0.1:9200";

let shared: Promise<Cluster> | undefined;

export function cluster(): Promise<Cluster> {
  shared ??= connect({ node: ES_URL }).catch((e) => {
    throw new Error(
      `integration tests need Elasticsearch at ${ES_URL} (start it with scripts/es-start): ${(e as Error).message}`,
    );
  });
  return shared;
}

/** A fresh, unique index name for one test; delete it with `dropIndices`. */
export function testIndex(prefix: string): string {
  return `t-${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`.toLowerCase();
}

export async function dropIndices(...names: string[]): Promise<void> {
  const { client } = await cluster();
  for (const n of names) await client.indices.delete({ index: n, ignore_unavailable: true }).catch(() => {});
}

/** A raw REST call on the test node (bodies exactly as Elasticsearch sends them); a 404 answers undefined. */
export async function rest(
  method: string,
  path: string,
  body?: unknown,
  querystring?: Record<string, unknown>,
): Promise<any> {
  const { client } = await cluster();
  const res = await client.transport
    .request({ method, path, body: body as any, querystring: querystring as any }, { meta: true })
    .catch((e: any) => {
      if (e?.meta?.statusCode === 404) return { body: undefined };
      throw e;
    });
  return res.body;
}
