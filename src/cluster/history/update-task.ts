/**
 * Runs one `_update_by_query` as a cluster task and follows it to the end: progress on a terminal,
 * Ctrl-C cancels the task on the cluster, version conflicts with concurrent writers are retried by
 * running the (self-narrowing) query again, and the task id is kept in a resume file so that a run
 * killed outright re-attaches to its task instead of starting a second one.
 *
 * The query given here must exclude events already carrying the rules (backfill does this), so
 * that re-running it only sees what is left: that is what makes retries and resumption exact.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { basename, join } from "node:path";
import { call, esReason, type Cluster } from "../connection/client.ts";
import { Progress } from "../../util/progress.ts";
import { clip, writePrivateFile } from "../../util/redact.ts";
import { ClusterError, UsageError } from "../../util/errors.ts";

export interface UpdateRequest {
  index: string[];
  query: object;
  script: { source: string; params: object; lang: "painless" };
  /** `auto` or a number of slices. */
  slices?: "auto" | number;
  requestsPerSecond?: number;
  /** Documents per scroll batch. */
  batchSize?: number;
}

export interface UpdateTotals {
  /** Events the query selected and the script saw. */
  checked: number;
  /** Events written (newly tagged). */
  updated: number;
  /** Events the script left alone (`ctx.op = 'noop'`). */
  noops: number;
  versionConflicts: number;
  /** Slices the task ran in (the most any pass used; 1 when not sliced). */
  slices: number;
  /** Passes run (1 + retries after version conflicts). */
  passes: number;
  failures: string[];
  cancelled: boolean;
  millis: number;
}

export interface FollowOptions {
  label: string;
  json?: boolean;
  /** File that records the running task so that a killed run can re-attach. */
  resumeFile?: string;
  /** Passes allowed after version conflicts before giving up (reported as a failure). */
  maxConflictPasses?: number;
  pollMs?: number;
}

/** Where resume files live: $OUTLIERS_STATE_DIR, else $XDG_STATE_HOME/outliers, else ~/.local/state/outliers. */
export function stateDir(): string {
  const dir =
    process.env.OUTLIERS_STATE_DIR ??
    join(process.env.XDG_STATE_HOME ?? join(homedir(), ".local", "state"), "outliers");
  return dir;
}

interface ResumeRecord {
  task: string;
  started: string;
  label: string;
}

function readResume(file?: string): ResumeRecord | undefined {
  if (!file) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as ResumeRecord;
  } catch {
    return undefined;
  }
}

function writeResume(file: string | undefined, rec: ResumeRecord): void {
  if (!file) return;
  mkdirSync(join(file, ".."), { recursive: true, mode: 0o700 });
  writePrivateFile(file, JSON.stringify(rec, null, 2) + "\n");
}

function clearResume(file?: string): void {
  if (file) rmSync(file, { force: true });
}

interface LockRecord {
  pid: number;
  host: string;
  started: string;
  label: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM";
  }
}

/**
 * Holds a lock file (pid and host of the run, created exclusively) for the whole run, so that
 * a second run sharing the state directory refuses instead of re-attaching to the first one's task
 * (and making the first report failure when the task disappears). A lock whose process is gone (same
 * host, dead pid: a run killed outright) is taken over; the resume file then re-attaches as before.
 */
export function acquireLock(file: string | undefined, label: string): () => void {
  if (!file) return () => {};
  // In a folder of its own (`<state>/locks/<command>-<resume file>.lock`): the resume folders hold only resume records.
  const lock = join(file, "..", "..", "locks", `${basename(join(file, ".."))}-${basename(file)}.lock`);
  mkdirSync(join(lock, ".."), { recursive: true, mode: 0o700 });
  const mine: LockRecord = { pid: process.pid, host: hostname(), started: new Date().toISOString(), label };
  for (let attempt = 0; ; attempt++) {
    try {
      writePrivateFile(lock, JSON.stringify(mine, null, 2) + "\n", { flag: "wx" });
      break;
    } catch (e) {
      if ((e as { code?: string }).code !== "EEXIST" || attempt > 0) throw e;
      let held: Partial<LockRecord> = {};
      try {
        held = JSON.parse(readFileSync(lock, "utf8"));
      } catch {
        // unreadable: treated as stale below
      }
      const stale = held.pid === undefined || (held.host === mine.host && !alive(held.pid));
      if (!stale)
        throw new UsageError(
          `${label}: another run with the same state is in progress (pid ${held.pid} on ${held.host}, since ${held.started}); wait for it, or give another OUTLIERS_STATE_DIR` +
            (held.host !== mine.host ? ` (if it is not running any more, remove ${lock})` : ""),
        );
      rmSync(lock, { force: true });
    }
  }
  return () => {
    try {
      const held = JSON.parse(readFileSync(lock, "utf8")) as LockRecord;
      if (held.pid === mine.pid && held.host === mine.host) rmSync(lock, { force: true });
    } catch {
      // gone already
    }
  };
}

interface TaskStatus {
  slices: number;
  total: number;
  updated: number;
  noops: number;
  version_conflicts: number;
  batches: number;
}

interface TaskAnswer {
  completed: boolean;
  status: TaskStatus;
  failures: string[];
  cancelled: boolean;
}

async function getTask(cluster: Cluster, id: string): Promise<TaskAnswer | undefined> {
  try {
    // filter_path: the task's description repeats the whole script, params included (megabytes for
    // a full rule set), and we poll it twice a second.
    const r: any = await call(cluster, "follow task", () =>
      cluster.client.tasks.get({ task_id: id, filter_path: ["completed", "task.status", "response", "error"] } as any),
    );
    const st = r.response ?? r.task?.status ?? {};
    const failures: string[] = [];
    for (const f of r.response?.failures ?? [])
      failures.push(`${f.index ?? ""}/${f.id ?? ""}: ${f.cause?.reason ?? JSON.stringify(f.cause ?? f)}`);
    if (r.error) failures.push(`task failed: ${r.error.reason ?? JSON.stringify(r.error)}`);
    const cancelled = Boolean(r.response?.canceled || r.task?.status?.canceled);
    return {
      completed: Boolean(r.completed),
      status: {
        slices: Math.max(1, (r.task?.status?.slices ?? st.slices ?? []).length),
        total: st.total ?? 0,
        updated: st.updated ?? 0,
        noops: st.noops ?? 0,
        version_conflicts: st.version_conflicts ?? 0,
        batches: st.batches ?? 0,
      },
      failures,
      cancelled,
    };
  } catch (e) {
    if ((e as any)?.meta?.statusCode === 404) return undefined;
    throw e;
  }
}

/**
 * A task run with wait_for_completion=false leaves its result (description and script included) in
 * the `.tasks` index until someone deletes it; we do, once read. Best effort: clusters that refuse
 * direct access to system indices keep it.
 */
async function forgetTask(cluster: Cluster, id: string): Promise<void> {
  await cluster.client.delete({ index: ".tasks", id }).catch(() => {});
}

/**
 * The script as the update sends it: a stored script when the cluster lets us store one, else inline.
 * Elasticsearch 7.x encodes an inline script's source to UTF-8 for every document it runs on (a size
 * check in ScriptService.compile): 21 KB per event for the matcher, 15% of a full pass (profiled).
 * The stored script is content-addressed (`outliers-<sha256 of lang and source>`), holds only the
 * fixed source (no rule value: those stay in params), and is shared by every run, so it is never
 * overwritten with anything else and never deleted under a running task.
 */
export async function scriptForUpdate(cluster: Cluster, script: UpdateRequest["script"]): Promise<object> {
  const id = `outliers-${createHash("sha256").update(`${script.lang}\n${script.source}`).digest("hex").slice(0, 16)}`;
  try {
    const have: any = await cluster.client.getScript({ id }).catch((e) => {
      if ((e as any)?.meta?.statusCode === 404) return undefined;
      throw e;
    });
    if (have?.script?.source !== script.source)
      await cluster.client.putScript({ id, script: { lang: script.lang, source: script.source } } as any);
    return { id, params: script.params };
  } catch {
    // No right to store scripts (or a cluster that refuses): inline works everywhere, only slower.
    return script;
  }
}

async function startTask(cluster: Cluster, req: UpdateRequest): Promise<string> {
  const script = await scriptForUpdate(cluster, req.script);
  const r: any = await call(cluster, "start _update_by_query", () =>
    cluster.client.updateByQuery({
      index: req.index,
      conflicts: "proceed",
      wait_for_completion: false,
      refresh: true,
      slices: req.slices ?? "auto",
      requests_per_second: req.requestsPerSecond ?? -1,
      scroll_size: req.batchSize ?? 1000,
      ignore_unavailable: true,
      allow_no_indices: true,
      query: req.query,
      script,
    } as any),
  );
  if (!r.task) throw new Error(`_update_by_query did not return a task: ${clip(JSON.stringify(r), 200)}`);
  return String(r.task);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the update to completion (re-attaching to a recorded task first), retrying passes while
 * version conflicts remain. Resolves with the totals; Ctrl-C cancels the task and resolves with
 * `cancelled: true`.
 */
/** The totals of a run that wrote nothing (nothing to run, or not started yet). */
export function noUpdate(): UpdateTotals {
  return {
    checked: 0,
    updated: 0,
    noops: 0,
    versionConflicts: 0,
    slices: 1,
    passes: 0,
    failures: [],
    cancelled: false,
    millis: 0,
  };
}

export async function runUpdate(cluster: Cluster, req: UpdateRequest, opts: FollowOptions): Promise<UpdateTotals> {
  const started = Date.now();
  const release = acquireLock(opts.resumeFile, opts.label);
  const progress = new Progress(opts.label, { json: opts.json });
  const totals = noUpdate();
  let current: string | undefined;
  let lost: ClusterError | undefined;
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigint);
  try {
    const maxPasses = 1 + (opts.maxConflictPasses ?? 20);
    let resumed = readResume(opts.resumeFile);
    while (totals.passes < maxPasses) {
      // Re-attach only to a task still running; a finished or cancelled one needs a new pass, which
      // the self-narrowing query makes cover exactly what is left.
      const prior = resumed ? await getTask(cluster, resumed.task) : undefined;
      if (resumed && prior && !prior.completed) {
        current = resumed.task;
      } else {
        current = await startTask(cluster, req);
        writeResume(opts.resumeFile, { task: current, started: new Date().toISOString(), label: opts.label });
      }
      resumed = undefined;
      totals.passes++;
      let answer: TaskAnswer | undefined;
      for (;;) {
        answer = await getTask(cluster, current);
        if (!answer) throw new Error(`task ${current} disappeared from the cluster`);
        const done = totals.checked + answer.status.updated + answer.status.noops;
        progress.update({
          done,
          total: totals.checked + answer.status.total,
          counters: { tagged: totals.updated + answer.status.updated, conflicts: answer.status.version_conflicts },
        });
        if (answer.completed) break;
        if (interrupted) {
          await call(cluster, "cancel task", () => cluster.client.tasks.cancel({ task_id: current! })).catch(() => {});
          // Wait for the cancellation to land so the counts reported are final.
          for (let i = 0; i < 50; i++) {
            const a = await getTask(cluster, current);
            if (!a || a.completed) {
              answer = a ?? answer;
              break;
            }
            await sleep(100);
          }
          totals.cancelled = true;
          break;
        }
        await sleep(opts.pollMs ?? 500);
      }
      totals.checked += answer.status.updated + answer.status.noops;
      totals.updated += answer.status.updated;
      totals.noops += answer.status.noops;
      totals.versionConflicts += answer.status.version_conflicts;
      totals.slices = Math.max(totals.slices, answer.status.slices);
      totals.failures.push(...answer.failures);
      await forgetTask(cluster, current);
      clearResume(opts.resumeFile);
      if (totals.cancelled) break;
      if (answer.status.version_conflicts === 0 || answer.failures.length > 0) break;
      // Some events changed under us: run the (self-narrowing) query again for what is left.
    }
    if (!totals.cancelled && totals.passes >= maxPasses && totals.versionConflicts > 0)
      totals.failures.push(`version conflicts persisted after ${totals.passes} passes; run again to finish`);
  } catch (e) {
    // The cluster went away (unreachable, timed out, 5xx) is not a failed event: exit 3, with how far
    // the run got; the resume file stays, so the same command re-attaches or goes on.
    if (clusterLost(e))
      lost = new ClusterError(
        `${opts.label}: the cluster stopped answering (${(e as Error).message}) after ${totals.checked} event(s) checked, ${totals.updated} updated in finished passes; ` +
          "the tags written stay; run the same command again when the cluster is back to finish",
      );
    else totals.failures.push(esReason(e));
  } finally {
    release();
    progress.done();
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigint);
  }
  totals.millis = Date.now() - started;
  if (lost) throw lost;
  return totals;
}

/** An error that means the cluster is gone or failing, not that an event or a rule failed. */
function clusterLost(e: unknown): boolean {
  if (e instanceof ClusterError) return true;
  const status = (e as { meta?: { statusCode?: number }; statusCode?: number })?.meta?.statusCode;
  if (typeof status === "number" && status >= 500) return true;
  const name = (e as Error)?.name ?? "";
  return /ConnectionError|TimeoutError|NoLivingConnectionsError/.test(name);
}
