/**
 * `outliers ingest`: bulk-loads documents into an index through its own pipelines (default and
 * final), so that they are tagged live. Batches go to `_bulk`; items the cluster rejects for load
 * (429) are retried with backoff, every other item failure is reported with the document's line.
 */
import { call, esReason, type Cluster } from "./client.ts";
import type { DocEntry } from "./docs-file.ts";
import { Progress } from "../util/progress.ts";

export interface IngestOptions {
  index: string;
  /** Documents per `_bulk` request. */
  batch: number;
  /** Also cap a request's size. */
  maxBytes?: number;
  json?: boolean;
  refresh?: boolean;
  /** Extra query parameters, e.g. `{ pipeline: "x" }`. */
  pipeline?: string;
}

export interface DocError {
  line: number;
  error: string;
}

export interface IngestResult {
  index: string;
  total: number;
  indexed: number;
  failed: number;
  errors: DocError[];
  seconds: number;
}

function itemError(err: any): string {
  if (!err) return "unknown error";
  const type = err.type ? `${err.type}: ` : "";
  const cause = err.caused_by?.reason && err.caused_by.reason !== err.reason ? ` (${err.caused_by.reason})` : "";
  return `${type}${err.reason ?? JSON.stringify(err)}${cause}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function ingestDocs(cluster: Cluster, entries: DocEntry[], opts: IngestOptions): Promise<IngestResult> {
  const started = Date.now();
  const errors: DocError[] = [];
  let indexed = 0;
  const progress = new Progress(`ingest ${opts.index}`, { json: opts.json });
  const maxBytes = opts.maxBytes ?? 8 * 1024 * 1024;
  for (const e of entries) if (e.error !== undefined) errors.push({ line: e.line, error: e.error });
  const good = entries.filter((e) => e.doc !== undefined);
  let done = entries.length - good.length;

  let k = 0;
  while (k < good.length) {
    // One batch: up to `batch` documents and about `maxBytes`.
    const batch: { line: number; source: string }[] = [];
    let bytes = 0;
    while (k < good.length && batch.length < opts.batch && (batch.length === 0 || bytes < maxBytes)) {
      const source = JSON.stringify(good[k]!.doc);
      batch.push({ line: good[k]!.line, source });
      bytes += source.length;
      k++;
    }
    let pending = batch;
    for (let attempt = 0; pending.length > 0; attempt++) {
      // `create` with generated ids: the one op data streams accept, and the same as `index` elsewhere.
      const body = pending.map((d) => `{"create":{}}\n${d.source}\n`).join("");
      const res = await call(cluster, `bulk into ${opts.index}`, () =>
        cluster.client.transport.request(
          {
            method: "POST",
            path: `/${encodeURIComponent(opts.index)}/_bulk`,
            bulkBody: body,
            querystring: opts.pipeline ? { pipeline: opts.pipeline } : {},
          },
          { meta: true },
        ),
      ).catch((err) => {
        // The whole request was refused (e.g. the index is closed, or a 413): every document of it failed.
        if ((err as { statusCode?: number }).statusCode === 429 && attempt < 6) return "retry" as const;
        return { whole: esReason(err) };
      });
      if (res === "retry") {
        await sleep(200 * 2 ** attempt);
        continue;
      }
      if ("whole" in res) {
        for (const d of pending) errors.push({ line: d.line, error: res.whole });
        done += pending.length;
        break;
      }
      const items = ((res as { body: any }).body?.items ?? []) as any[];
      const retry: typeof pending = [];
      items.forEach((item, n) => {
        const r = item.create ?? item.index ?? {};
        const d = pending[n]!;
        if (r.status >= 200 && r.status < 300) {
          indexed++;
          done++;
        } else if (r.status === 429 && attempt < 6) retry.push(d);
        else {
          errors.push({ line: d.line, error: itemError(r.error) });
          done++;
        }
      });
      pending = retry;
      if (pending.length) await sleep(200 * 2 ** attempt);
      progress.update({ done, total: entries.length, counters: { failed: errors.length } });
    }
  }
  progress.update({ done, total: entries.length, counters: { failed: errors.length } }, true);
  progress.done();
  if (opts.refresh !== false && indexed > 0) {
    await call(cluster, `refresh ${opts.index}`, () =>
      cluster.client.transport.request({ method: "POST", path: `/${encodeURIComponent(opts.index)}/_refresh` }),
    ).catch(() => {});
  }
  errors.sort((a, b) => a.line - b.line);
  return { index: opts.index, total: entries.length, indexed, failed: errors.length, errors, seconds: (Date.now() - started) / 1000 };
}
