/**
 * `outliers ingest`: bulk-loads documents into an index through its own pipelines (default and
 * final), so that they are tagged live.
 *
 * - Every document is sent with `create` and an id (doc-ids.ts), so a run killed and started again
 *   writes nothing twice: a document already there (409) is counted as `existing`, not rewritten.
 * - Items the cluster rejects for load (429), and whole requests answered 502/503/504, are retried
 *   with backoff; every other refused document is reported with its line and the server's reason.
 * - A document refused because its `outliers`, `threat` or `tags` clash with our tag mappings (the
 *   index kept them after `pipeline uninstall`, or no pipeline of ours runs) has those values set
 *   aside (emit/js/set-aside.ts, as the live pipeline does) and is sent once more.
 * - When the node cannot be reached any more (refused, reset, timed out), the run stops at once
 *   and says how far it got: `aborted` holds the reason; the command exits 3.
 */
import { call, esReason, type Cluster } from "../connection/client.ts";
import type { DocEntry } from "../../events/docs-file.ts";
import { IdMaker, type IdMode } from "../../events/doc-ids.ts";
import { Progress } from "../../util/progress.ts";
import { ClusterError } from "../../util/errors.ts";
import { setAside } from "../../emit/js/set-aside.ts";

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
  /** How documents get their ids (default: auto). */
  ids?: IdMode;
}

export interface DocError {
  line: number;
  error: string;
}

export interface DocWarning {
  line: number;
  warning: string;
}

export interface IngestResult {
  index: string;
  total: number;
  indexed: number;
  /** Documents already in the index under the same id (a re-run): left as they are. */
  existing: number;
  failed: number;
  errors: DocError[];
  /** Values kept differently from the file (numbers kept as strings, values set aside). */
  warnings: DocWarning[];
  /** Set when the run stopped because the cluster could not be reached: the reason. */
  aborted?: string;
  seconds: number;
}

function itemError(err: any): string {
  if (!err) return "unknown error";
  const type = err.type ? `${err.type}: ` : "";
  const cause = err.caused_by?.reason && err.caused_by.reason !== err.reason ? ` (${err.caused_by.reason})` : "";
  return `${type}${err.reason ?? JSON.stringify(err)}${cause}`;
}

/** A refusal that names one of the fields our tag mappings own. */
function clashesWithTags(err: any): boolean {
  const text = `${err?.reason ?? ""} ${err?.caused_by?.reason ?? ""}`;
  return /\[(outliers|threat|tags)(\]|\.)/.test(text);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Pending {
  line: number;
  doc: Record<string, unknown>;
  id?: string;
  source: string;
  /** Already set aside once: a second refusal is final. */
  asideTried?: boolean;
}

export async function ingestDocs(cluster: Cluster, entries: DocEntry[], opts: IngestOptions): Promise<IngestResult> {
  const started = Date.now();
  const errors: DocError[] = [];
  const warnings: DocWarning[] = [];
  let indexed = 0;
  let existing = 0;
  let aborted: string | undefined;
  const progress = new Progress(`ingest ${opts.index}`, { json: opts.json });
  const maxBytes = opts.maxBytes ?? 8 * 1024 * 1024;
  const ids = new IdMaker(opts.ids ?? { kind: "auto" });
  let done = 0;

  // Ids in file order (a document's id depends on the identical documents before it).
  const good: Pending[] = [];
  for (const e of entries) {
    for (const w of e.warnings ?? []) warnings.push({ line: e.line, warning: w });
    if (e.doc === undefined) {
      errors.push({ line: e.line, error: e.error ?? "unreadable" });
      done++;
      continue;
    }
    const source = JSON.stringify(e.doc);
    const id = ids.next(e.doc, source);
    if (typeof id === "object") {
      errors.push({ line: e.line, error: id.error });
      done++;
      continue;
    }
    good.push({ line: e.line, doc: e.doc, id, source });
  }

  let k = 0;
  outer: while (k < good.length) {
    // One batch: up to `batch` documents and about `maxBytes`.
    const batch: Pending[] = [];
    let bytes = 0;
    while (k < good.length && batch.length < opts.batch && (batch.length === 0 || bytes < maxBytes)) {
      batch.push(good[k]!);
      bytes += good[k]!.source.length;
      k++;
    }
    let pending = batch;
    for (let attempt = 0; pending.length > 0; attempt++) {
      // `create`: the one op data streams accept, and never an overwrite of a document already there.
      const body = pending
        .map(
          (d) => `${d.id === undefined ? '{"create":{}}' : JSON.stringify({ create: { _id: d.id } })}\n${d.source}\n`,
        )
        .join("");
      let res: { body: any } | "retry" | { whole: string };
      try {
        res = await call(cluster, `bulk into ${opts.index}`, () =>
          cluster.client.transport.request(
            {
              method: "POST",
              path: `/${encodeURIComponent(opts.index)}/_bulk`,
              bulkBody: body,
              querystring: opts.pipeline ? { pipeline: opts.pipeline } : {},
            },
            { meta: true },
          ),
        );
      } catch (err) {
        if (err instanceof ClusterError) {
          aborted = err.message;
          break outer;
        }
        const status = (err as { statusCode?: number }).statusCode;
        // Overloaded (429) or a node going away behind a proxy (502-504): wait and send again.
        if ((status === 429 || status === 502 || status === 503 || status === 504) && attempt < 6) res = "retry";
        else if (status === 502 || status === 503 || status === 504) {
          aborted = `${cluster.url}: bulk into ${opts.index}: HTTP ${status}: ${esReason(err)}`;
          break outer;
        } else res = { whole: esReason(err) }; // e.g. the index is closed, or a 413: every document of it failed
      }
      if (res === "retry") {
        await sleep(200 * 2 ** attempt);
        continue;
      }
      if ("whole" in res) {
        for (const d of pending) errors.push({ line: d.line, error: res.whole });
        done += pending.length;
        break;
      }
      const items = (res.body?.items ?? []) as any[];
      const retry: Pending[] = [];
      let throttled = false;
      items.forEach((item, n) => {
        const r = item.create ?? item.index ?? {};
        const d = pending[n]!;
        if (r.status >= 200 && r.status < 300) {
          indexed++;
          done++;
        } else if (r.status === 409 && d.id !== undefined && r.error?.type === "version_conflict_engine_exception") {
          existing++;
          done++;
        } else if (r.status === 429 && attempt < 6) {
          retry.push(d);
          throttled = true;
        } else if (r.status === 400 && !d.asideTried && clashesWithTags(r.error)) {
          const moved = setAside(d.doc);
          if (moved.length === 0) {
            errors.push({ line: d.line, error: itemError(r.error) });
            done++;
            return;
          }
          warnings.push({
            line: d.line,
            warning: `${moved.join(", ")}: clashed with the tag fields' mappings; moved to outliers_original`,
          });
          retry.push({ ...d, source: JSON.stringify(d.doc), asideTried: true });
        } else {
          errors.push({ line: d.line, error: itemError(r.error) });
          done++;
        }
      });
      pending = retry;
      if (throttled) await sleep(200 * 2 ** attempt);
      progress.update({ done, total: entries.length, counters: { failed: errors.length } });
    }
  }
  progress.update({ done, total: entries.length, counters: { failed: errors.length } }, true);
  progress.done();
  if (!aborted && opts.refresh !== false && indexed > 0) {
    await call(cluster, `refresh ${opts.index}`, () =>
      cluster.client.transport.request({ method: "POST", path: `/${encodeURIComponent(opts.index)}/_refresh` }),
    ).catch(() => {});
  }
  errors.sort((a, b) => a.line - b.line);
  warnings.sort((a, b) => a.line - b.line);
  return {
    index: opts.index,
    total: entries.length,
    indexed,
    existing,
    failed: errors.length,
    errors,
    warnings,
    ...(aborted ? { aborted } : {}),
    seconds: (Date.now() - started) / 1000,
  };
}
