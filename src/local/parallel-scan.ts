/**
 * `scan`'s events in batches, on the main thread (`--workers 1`) or split over worker threads
 * (`--workers N`, src/local/scan-worker.ts): `startScan`. Both ways run the same `scanBatch` on the same batches
 * (src/local/events.ts, `readEventBatches`), and the results come back IN INPUT ORDER, so the caller's
 * output (NDJSON, timeline, tables, unreadable documents and warnings, exit code) does not depend on N.
 *
 * The main thread only reads and splits the input (NDJSON lines and JSON array elements are sent as
 * text and parsed in the workers; .evtx records are decoded on the main thread); each worker gets the
 * compiled rules, builds its own matcher, and answers each batch with its counts, warnings, timeline rows, and its NDJSON text or its documents (when
 * correlations need every event at the end). At most `2 × N` batches are in flight: memory stays
 * bounded whatever the input size. A worker that fails (an exception, a crash) stops the scan with
 * its message; no batch is waited for forever.
 */
import os from "node:os";
import { statSync } from "node:fs";
import type { DocsFormat } from "../events/docs-file.ts";
import type { GuardCosts } from "../emit/match-plan/index-keys.ts";
import type { Rule } from "../ir/types.ts";
import { expandInputs } from "../events/input-files.ts";
import { eventOf, readEventBatches, type EventBatch } from "./events.ts";
import { Scanner, type ScanCounts } from "./scan.ts";
import type { Timeline, TimedRow } from "./timeline.ts";

/** Events per batch, and the text bytes that end a batch early (large events). */
export const BATCH = { events: 256, bytes: 1 << 20 };
/** The automatic `--workers` uses threads from this much input on (below, starting them costs more). */
export const AUTO_MIN_BYTES = 32 << 20;
/** The automatic `--workers` uses at most this many threads. */
export const AUTO_MAX_WORKERS = 4;

/** What the caller keeps of each event. */
export interface BatchOptions {
  /** Timeline rows of the hits. */
  timeline: boolean;
  /** NDJSON of the tagged events (every event with `all`). */
  json: boolean;
  all: boolean;
  /** Every tagged document, whole (correlations run at the end over all of them). */
  hold: boolean;
}

/** One batch scanned: everything the caller needs, in the batch's order. */
export interface BatchResult {
  counts: ScanCounts;
  /** `file:line: warning` for each warning of each event, in order (the caller caps them). */
  warnings: string[];
  rows: TimedRow[];
  /** NDJSON lines of the events to print (not with `hold`). */
  json: string;
  held: Record<string, unknown>[];
}

/** Scans one batch with `scanner` (whose counts then start again from zero). */
export function scanBatch(scanner: Scanner, timeline: Timeline | undefined, batch: EventBatch, o: BatchOptions) {
  const out: BatchResult = { counts: scanner.counts, warnings: [], rows: [], json: "", held: [] };
  for (const u of batch.units) {
    const event = eventOf(batch, u);
    for (const w of event.warnings ?? []) out.warnings.push(`${event.file}:${event.line}: ${w}`);
    const r = scanner.scan(event);
    if (timeline && r.doc && r.ruleIndices?.length)
      for (const row of timeline.rowsOf(
        r.doc,
        r.ruleIndices.map((i) => scanner.rules[i]!),
        event,
      ))
        out.rows.push(row);
    if (o.hold && r.doc) out.held.push(r.doc);
    else if (o.json && r.doc && (o.all || r.ruleIds.length || r.errors.length))
      out.json += JSON.stringify(r.doc) + "\n";
  }
  out.counts = scanner.takeCounts();
  return out;
}

/**
 * The automatic number of workers: min(cores, 4) when the event files total at least
 * `AUTO_MIN_BYTES`, else 1 (stdin counts as small: its size is unknown).
 */
export function autoWorkers(files: string[]): number {
  const cores = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
  if (cores < 2) return 1;
  let bytes = 0;
  for (const f of expandInputs(files).files) {
    if (f === "-") continue;
    try {
      bytes += statSync(f).size;
    } catch {
      // reported when read
    }
  }
  return bytes >= AUTO_MIN_BYTES ? Math.min(cores, AUTO_MAX_WORKERS) : 1;
}

/**
 * What a worker needs to build the same scanner as the main thread: the compiled rules themselves
 * (the IR is plain data: a structured clone is the same rules, and far cheaper than compiling again).
 */
export interface WorkerInit {
  rules: Rule[];
  guardCosts?: GuardCosts;
  batch: BatchOptions;
}

export type WorkerRequest = { init: WorkerInit } | { batch: EventBatch };
export type WorkerReply = { ok: true; ready?: RuleRun<number>; result?: BatchResult } | { ok: false; error: string };

/** The rules a scan runs (rule-set order) and those it leaves out, with why. */
export interface RuleRun<R = Rule> {
  rules: R[];
  skipped: { id: string; reason: string }[];
}

/** A started scan: the rules it runs, and its batches' results in input order. */
export interface ScanRun extends RuleRun {
  results: AsyncGenerator<BatchResult>;
}

/** The worker script: an entrypoint of its own in the compiled binary (scripts/build). */
function workerUrl(): string | URL {
  // In the binary, entrypoints live under Bun's embedded root (the folder of src/cli.ts).
  const main = Bun.main;
  if (main.startsWith("/$bunfs/") || /^[A-Za-z]:[\\/]~BUN[\\/]/.test(main)) return "./local/scan-worker.ts";
  return new URL("./scan-worker.ts", import.meta.url);
}

type Reply = { ready?: RuleRun<number>; result?: BatchResult };

class ScanWorker {
  private readonly worker: Worker;
  private readonly pending: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | undefined;
  private closing = false;

  constructor(readonly id: number) {
    this.worker = new Worker(workerUrl());
    this.worker.onmessage = (e: MessageEvent<WorkerReply>) => {
      const p = this.pending.shift();
      if (!p) return;
      if (e.data.ok) p.resolve(e.data);
      else this.fail(new Error(`scan worker ${this.id}: ${e.data.error}`), p);
    };
    this.worker.onerror = (e: ErrorEvent) => {
      e.preventDefault?.();
      this.fail(new Error(`scan worker ${this.id} failed: ${e.message || "unknown error"}`));
    };
    this.worker.onmessageerror = () => this.fail(new Error(`scan worker ${this.id}: a message could not be read`));
    this.worker.addEventListener("close", (e: Event) => {
      if (!this.closing) {
        const code = (e as Event & { code?: number }).code;
        this.fail(new Error(`scan worker ${this.id} exited unexpectedly${code ? ` (code ${code})` : ""}`));
      }
    });
  }

  get inFlight(): number {
    return this.pending.length;
  }

  /** Sends a request; its reply (in the order sent) resolves the promise. */
  send(req: WorkerRequest): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.worker.postMessage(req);
    });
  }

  private fail(e: Error, first?: { reject: (e: Error) => void }): void {
    this.failure ??= e;
    first?.reject(this.failure);
    for (const p of this.pending.splice(0)) p.reject(this.failure);
  }

  close(): void {
    this.closing = true;
    this.worker.terminate();
  }
}

/**
 * Starts scanning `files`: on the main thread when `workers` is 1, else over `workers` worker
 * threads, each with its own matcher built from `init.rules` (the main thread then builds none).
 */
export async function startScan(
  files: string[],
  format: DocsFormat,
  workers: number,
  init: WorkerInit,
  timeline: Timeline | undefined,
): Promise<ScanRun> {
  if (workers <= 1) {
    const scanner = new Scanner(init.rules, { guardCosts: init.guardCosts });
    return {
      rules: scanner.rules,
      skipped: scanner.matcher.skipped,
      results: (async function* () {
        for (const b of readEventBatches(files, format, BATCH)) yield scanBatch(scanner, timeline, b, init.batch);
      })(),
    };
  }
  const pool = Array.from({ length: workers }, (_, i) => new ScanWorker(i + 1));
  let run: RuleRun<number>;
  try {
    const ready = await Promise.all(pool.map((w) => w.send({ init })));
    run = ready[0]!.ready!;
  } catch (e) {
    for (const w of pool) w.close();
    throw e;
  }
  return { rules: run.rules.map((i) => init.rules[i]!), skipped: run.skipped, results: pooled(pool, files, format) };
}

/** The batches of `files` through `pool`, results in input order, at most 2 per worker in flight. */
async function* pooled(pool: ScanWorker[], files: string[], format: DocsFormat): AsyncGenerator<BatchResult> {
  const batches = readEventBatches(files, format, BATCH);
  const queue: Promise<Reply>[] = [];
  // A failure is seen whichever batch it belongs to: the scan stops on it, never waits for it.
  let failed: Error | undefined;
  const watch = (p: Promise<Reply>) => {
    p.catch((e: Error) => {
      failed ??= e;
    });
    return p;
  };
  try {
    const maxInFlight = 2 * pool.length;
    let done = false;
    for (;;) {
      while (!done && queue.length < maxInFlight && !failed) {
        const next = batches.next();
        if (next.done) done = true;
        else {
          // The least busy worker (each answers in the order it was sent).
          const w = pool.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
          queue.push(watch(w.send({ batch: next.value })));
        }
      }
      if (failed) throw failed;
      if (queue.length === 0) return;
      yield (await queue.shift()!).result!;
    }
  } finally {
    batches.return(undefined);
    for (const w of pool) w.close();
  }
}
