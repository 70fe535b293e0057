/**
 * `outliers ingest`: bulk-loads documents into an index through its own pipelines (default and
 * final), so that they are tagged live.
 *
 * - Streaming: documents come one at a time from the readers (src/events/stream.ts) and leave in
 *   `_bulk` requests of at most `batch` documents and about `maxBytes`, at most `concurrency` of them
 *   in flight; nothing else is kept per document, so memory is bounded whatever the input size.
 *   Results are handled in the order the batches were sent, so errors come out in file order.
 * - Every document is sent with `create` and an id (doc-ids.ts, one id maker per file), so a run
 *   killed and started again writes nothing twice: a document already there (409) is counted as
 *   `existing`, not rewritten.
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
import type { FileFormat } from "../../events/stream.ts";
import { Progress } from "../../util/progress.ts";
import { ClusterError } from "../../util/errors.ts";
import { setAside } from "../../emit/js/set-aside.ts";

export interface IngestOptions {
  index: string;
  /** Documents per `_bulk` request. */
  batch: number;
  /** Also cap a request's size. */
  maxBytes?: number;
  /**
   * `_bulk` requests in flight at once (default 1: two requests at once can race a dynamic mapping,
   * each typing a new field differently, and a document is refused that a sequential run would take).
   */
  concurrency?: number;
  json?: boolean;
  refresh?: boolean;
  /** Extra query parameters, e.g. `{ pipeline: "x" }`. */
  pipeline?: string;
  /** How documents get their ids (default: auto). */
  ids?: IdMode;
  /** Errors and warnings kept in the result (the first ones, in file order); all are counted and passed to `onError`. */
  keep?: number;
  /** Every error, in file order (for `--errors FILE`). */
  onError?: (e: DocError) => void;
}

export interface DocError {
  file: string;
  line: number;
  error: string;
}

export interface DocWarning {
  file: string;
  line: number;
  warning: string;
}

export interface FileSummary {
  file: string;
  format: FileFormat;
  total: number;
  indexed: number;
  existing: number;
  failed: number;
}

export interface IngestResult {
  index: string;
  total: number;
  indexed: number;
  /** Documents already in the index under the same id (a re-run): left as they are. */
  existing: number;
  failed: number;
  /** The first `keep` errors, in file order. */
  errors: DocError[];
  /** The first `keep` warnings: values kept differently from the file (numbers kept as strings, values set aside). */
  warnings: DocWarning[];
  warningCount: number;
  files: FileSummary[];
  /** Set when the run stopped because the cluster could not be reached: the reason. */
  aborted?: string;
  seconds: number;
}

/** One input file, opened lazily (the next is opened when the previous is done). */
export interface InputFile {
  file: string;
  open: () => { format: FileFormat; entries: Iterable<DocEntry> };
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

/** What one batch brings back: outcomes by line, in the batch's order. */
type Outcome = { line: number; error?: string; warning?: string; kind: "indexed" | "existing" | "failed" | "warning" };

interface Batch {
  file: FileSummary;
  /** Documents refused before sending (unreadable, no id, over the mapping limits), with those sent, in line order. */
  early: { line: number; error: string }[];
  earlyWarnings: { line: number; warning: string }[];
  docs: Pending[];
}

/** A file's summary before any of its documents is counted. */
function emptySummary(file: string, format: FileSummary["format"]): FileSummary {
  return { file, format, total: 0, indexed: 0, existing: 0, failed: 0 };
}

export async function ingestStream(cluster: Cluster, inputs: InputFile[], opts: IngestOptions): Promise<IngestResult> {
  const started = Date.now();
  const keep = opts.keep ?? 10;
  const errors: DocError[] = [];
  const warnings: DocWarning[] = [];
  let failed = 0;
  let warningCount = 0;
  let indexed = 0;
  let existing = 0;
  let total = 0;
  let aborted: string | undefined;
  const progress = new Progress(`ingest ${opts.index}`, { json: opts.json });
  const maxBytes = opts.maxBytes ?? 8 * 1024 * 1024;
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  let done = 0;
  const files: FileSummary[] = [];

  const addError = (file: string, line: number, error: string) => {
    failed++;
    const e = { file, line, error };
    if (errors.length < keep) errors.push(e);
    opts.onError?.(e);
  };
  const addWarning = (file: string, line: number, warning: string) => {
    warningCount++;
    if (warnings.length < keep) warnings.push({ file, line, warning });
  };

  /** Sends one batch (retries included) and returns its outcomes; sets `aborted` when the node is gone. */
  async function send(batch: Batch): Promise<Outcome[]> {
    const out: Outcome[] = [];
    let pending = batch.docs;
    for (let attempt = 0; pending.length > 0 && !aborted; attempt++) {
      // `create`: the one op data streams accept, and never an overwrite of a document already there.
      let body = "";
      for (const d of pending)
        body += `${d.id === undefined ? '{"create":{}}' : JSON.stringify({ create: { _id: d.id } })}\n${d.source}\n`;
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
          break;
        }
        const status = (err as { statusCode?: number }).statusCode;
        // Overloaded (429) or a node going away behind a proxy (502-504): wait and send again.
        if ((status === 429 || status === 502 || status === 503 || status === 504) && attempt < 6) res = "retry";
        else if (status === 502 || status === 503 || status === 504) {
          aborted = `${cluster.url}: bulk into ${opts.index}: HTTP ${status}: ${esReason(err)}`;
          break;
        } else res = { whole: esReason(err) }; // e.g. the index is closed, or a 413: every document of it failed
      }
      body = "";
      if (res === "retry") {
        await sleep(200 * 2 ** attempt);
        continue;
      }
      if ("whole" in res) {
        for (const d of pending) out.push({ line: d.line, error: res.whole, kind: "failed" });
        break;
      }
      const items = (res.body?.items ?? []) as any[];
      const retry: Pending[] = [];
      let throttled = false;
      items.forEach((item, n) => {
        const r = item.create ?? item.index ?? {};
        const d = pending[n]!;
        if (r.status >= 200 && r.status < 300) out.push({ line: d.line, kind: "indexed" });
        else if (r.status === 409 && d.id !== undefined && r.error?.type === "version_conflict_engine_exception")
          out.push({ line: d.line, kind: "existing" });
        else if (r.status === 429 && attempt < 6) {
          retry.push(d);
          throttled = true;
        } else if (r.status === 400 && !d.asideTried && clashesWithTags(r.error)) {
          const moved = setAside(d.doc);
          if (moved.length === 0) {
            out.push({ line: d.line, error: itemError(r.error), kind: "failed" });
            return;
          }
          out.push({
            line: d.line,
            kind: "warning",
            warning: `${moved.join(", ")}: clashed with the tag fields' mappings; moved to outliers_original`,
          });
          retry.push({ ...d, source: JSON.stringify(d.doc), asideTried: true });
        } else out.push({ line: d.line, error: itemError(r.error), kind: "failed" });
      });
      pending = retry;
      if (throttled) await sleep(200 * 2 ** attempt);
    }
    return out;
  }

  /** Counts a finished batch, errors and warnings merged by line (file order). */
  function settle(batch: Batch, outcomes: Outcome[]): void {
    const f = batch.file;
    const all: Outcome[] = [
      ...batch.early.map((e) => ({ line: e.line, error: e.error, kind: "failed" as const })),
      ...batch.earlyWarnings.map((w) => ({ line: w.line, warning: w.warning, kind: "warning" as const })),
      ...outcomes,
    ];
    // Stable: for one line, the read warnings come before what the cluster said.
    all.sort((a, b) => a.line - b.line);
    for (const o of all) {
      if (o.kind === "warning") addWarning(f.file, o.line, o.warning!);
      else if (o.kind === "failed") {
        addError(f.file, o.line, o.error!);
        f.failed++;
        done++;
      } else if (o.kind === "indexed") {
        indexed++;
        f.indexed++;
        done++;
      } else {
        existing++;
        f.existing++;
        done++;
      }
    }
  }

  const inFlight: { batch: Batch; result: Promise<Outcome[]> }[] = [];
  const drainOne = async () => {
    const first = inFlight.shift()!;
    settle(first.batch, await first.result);
    progress.update({ done, counters: { failed } });
  };

  for (const input of inputs) {
    if (aborted) break;
    const opened = input.open();
    const summary = emptySummary(input.file, opened.format);
    files.push(summary);
    // Ids in file order (a document's id depends on the identical documents before it in its file).
    const ids = new IdMaker(opts.ids ?? { kind: "auto" });
    let batch: Batch = { file: summary, early: [], earlyWarnings: [], docs: [] };
    let bytes = 0;
    const dispatch = async () => {
      if (batch.docs.length === 0 && batch.early.length === 0 && batch.earlyWarnings.length === 0) return;
      const b = batch;
      batch = { file: summary, early: [], earlyWarnings: [], docs: [] };
      bytes = 0;
      inFlight.push({ batch: b, result: b.docs.length ? send(b) : Promise.resolve([]) });
      while (inFlight.length >= concurrency || (inFlight.length && aborted)) await drainOne();
    };
    for (const e of opened.entries) {
      summary.total++;
      total++;
      for (const w of e.warnings ?? []) batch.earlyWarnings.push({ line: e.line, warning: w });
      if (e.doc === undefined) {
        batch.early.push({ line: e.line, error: e.error ?? "unreadable" });
      } else {
        const source = JSON.stringify(e.doc);
        const id = ids.next(e.doc, source);
        if (typeof id === "object") batch.early.push({ line: e.line, error: id.error });
        else {
          batch.docs.push({ line: e.line, doc: e.doc, id, source });
          bytes += source.length;
        }
      }
      if (batch.docs.length >= opts.batch || bytes >= maxBytes || batch.early.length >= opts.batch) await dispatch();
      if (aborted) {
        // Count what is left, so that the summary says how far the run got out of how many.
        for (const _ of opened.entries) {
          summary.total++;
          total++;
        }
        break;
      }
    }
    if (!aborted) await dispatch();
  }
  while (inFlight.length) await drainOne();
  if (aborted)
    for (const input of inputs.slice(files.length)) {
      // Files not opened yet: counted, not sent.
      const opened = input.open();
      const summary = emptySummary(input.file, opened.format);
      for (const _ of opened.entries) {
        summary.total++;
        total++;
      }
      files.push(summary);
    }
  progress.update({ done, counters: { failed } }, true);
  progress.done();
  if (!aborted && opts.refresh !== false && indexed > 0) {
    await call(cluster, `refresh ${opts.index}`, () =>
      cluster.client.transport.request({ method: "POST", path: `/${encodeURIComponent(opts.index)}/_refresh` }),
    ).catch(() => {});
  }
  return {
    index: opts.index,
    total,
    indexed,
    existing,
    failed,
    errors,
    warnings,
    warningCount,
    files,
    ...(aborted ? { aborted } : {}),
    seconds: (Date.now() - started) / 1000,
  };
}
