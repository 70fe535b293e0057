/**
 * Raw REST calls for the install machinery. Templates and pipelines are read and written as the exact
 * JSON bodies Elasticsearch returns, so that `uninstall` can put back byte-for-byte what was there; the
 * typed client methods would drop keys they do not know (newer template fields, for instance).
 */
import { call, esReason, isResponseError, type Cluster } from "./client.ts";

/** An error answer from Elasticsearch to one of our requests, with what we were doing. */
export class EsRequestError extends Error {
  override name = "EsRequestError";
  constructor(public what: string, public status: number | undefined, reason: string) {
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

export async function rest<T = any>(cluster: Cluster, method: "GET" | "PUT" | "POST" | "DELETE", path: string, body?: unknown, opts: RestOptions = {}): Promise<T | undefined> {
  const what = opts.what ?? `${method} ${path}`;
  try {
    const res = await call(cluster, what, () =>
      cluster.client.transport.request({ method, path, body: body as any, querystring: opts.querystring as any }, { meta: true }),
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
