/**
 * Raw REST calls for the install machinery. Templates and pipelines are read and written as the exact
 * JSON bodies Elasticsearch returns, so that `uninstall` can put back byte-for-byte what was there; the
 * typed client methods would drop keys they do not know (newer template fields, for instance).
 */
import { call, esReason, isResponseError, type Cluster } from "./client.ts";

/** An error answer from Elasticsearch to one of our requests, with what we were doing. */
export class EsRequestError extends Error {
  override name = "EsRequestError";
  constructor(
    public what: string,
    public status: number | undefined,
    reason: string,
  ) {
    super(`${what}: ${reason}`);
  }
}

export interface RestOptions {
  querystring?: Record<string, string | number | boolean>;
  /** Return `undefined` instead of failing on 404. */
  allow404?: boolean;
  /** Words for the error message, e.g. "put pipeline outliers". */
  what?: string;
}

/**
 * Answers that mean "busy, try again": 429, 503, and a master that could not process a cluster-state
 * update in time. Our writes (PUT pipeline/template/settings/mapping, DELETE) are idempotent, so they
 * are retried a few times with backoff rather than leaving an install half done on a loaded cluster.
 */
function busy(status: number | undefined, reason: string): boolean {
  return (
    status === 429 ||
    status === 503 ||
    /process_cluster_event_timeout|failed to process cluster event|timed out while|ProcessClusterEventTimeoutException/i.test(
      reason,
    )
  );
}

export async function rest<T = any>(
  cluster: Cluster,
  method: "GET" | "PUT" | "POST" | "DELETE",
  path: string,
  body?: unknown,
  opts: RestOptions = {},
): Promise<T | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await restOnce<T>(cluster, method, path, body, opts);
    } catch (e) {
      const retryable = e instanceof EsRequestError && busy(e.status, e.message) && method !== "POST" && attempt < 4;
      if (!retryable) throw e;
      await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
    }
  }
}

async function restOnce<T>(
  cluster: Cluster,
  method: "GET" | "PUT" | "POST" | "DELETE",
  path: string,
  body: unknown,
  opts: RestOptions,
): Promise<T | undefined> {
  const what = opts.what ?? `${method} ${path}`;
  try {
    const res = await call(cluster, what, () =>
      cluster.client.transport.request(
        { method, path, body: body as any, querystring: opts.querystring as any },
        { meta: true },
      ),
    );
    return (res as { body: T }).body;
  } catch (e) {
    // isResponseError, not instanceof: importing the client's classes here would load it at start.
    if (isResponseError(e)) {
      if (e.statusCode === 404 && opts.allow404) return undefined;
      throw new EsRequestError(what, e.statusCode, esReason(e));
    }
    throw e;
  }
}

/** Path segment escaping for names we put in URLs (pipeline ids, template names, index names). */
export function seg(name: string): string {
  return encodeURIComponent(name);
}
