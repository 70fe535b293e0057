/**
 * A `scan --workers N` worker thread (src/local/parallel-scan.ts): builds its matcher from the rules
 * the main thread compiled, then scans each batch it is sent with the same `scanBatch`, answering in order. An
 * exception becomes an error reply; the main thread stops the scan with it.
 *
 * `OUTLIERS_SCAN_WORKER_FAULT` (tests only) makes a worker fail on its first batch: `throw` (an
 * exception while scanning) or `exit` (the thread dies without answering).
 */
import { scanBatch, type RuleRun, type WorkerInit, type WorkerReply, type WorkerRequest } from "./parallel-scan.ts";
import { Scanner } from "./scan.ts";
import { Timeline } from "./timeline.ts";

declare const self: Worker;

let state: { scanner: Scanner; timeline?: Timeline; init: WorkerInit } | undefined;
const fault = process.env.OUTLIERS_SCAN_WORKER_FAULT;

/** Builds the matcher; says which rules (indices into `init.rules`) run and which are left out. */
function start(init: WorkerInit): RuleRun<number> {
  const scanner = new Scanner(init.rules, { guardCosts: init.guardCosts });
  state = { scanner, timeline: init.batch.timeline ? new Timeline() : undefined, init };
  const index = new Map(init.rules.map((r, i) => [r, i]));
  return { rules: scanner.rules.map((r) => index.get(r)!), skipped: scanner.matcher.skipped };
}

self.onmessage = (e: MessageEvent<WorkerRequest>) => {
  const req = e.data;
  let reply: WorkerReply;
  try {
    if ("init" in req) {
      reply = { ok: true, ready: start(req.init) };
    } else {
      if (!state) throw new Error("a batch before the rules");
      if (fault === "exit") process.exit(7);
      if (fault === "throw") throw new Error("injected fault (OUTLIERS_SCAN_WORKER_FAULT=throw)");
      reply = { ok: true, result: scanBatch(state.scanner, state.timeline, req.batch, state.init.batch) };
    }
  } catch (err) {
    reply = { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  self.postMessage(reply);
};
