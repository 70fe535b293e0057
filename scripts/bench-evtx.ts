/**
 * The measuring half of scripts/bench-evtx. Corpus: the regression .evtx files' chunks filled up to
 * 64 KiB with copies of their records (test/helpers/evtx-build.ts: later records refer to the
 * templates the first ones define, as in real logs), ROUNDS times over, written to a temporary file.
 * Each reader reads the whole file RUNS times; the best run counts. Rows:
 *   ours (objects)       readEvtxFile: every record as an evtx_dump-layout object (what ingest uses)
 *   ours (JSON text)     the same, each record also JSON.stringify'd (the output Python's reader gives)
 *   python evtx          PyEvtxParser(path, number_of_threads=1).records_json(), the Rust evtx crate
 * MB/s are file bytes over CPU time (user + system of the whole process, helper threads included), so
 * that other work on the shared machine does not count; wall-clock MB/s are given beside them.
 *
 *   bun scripts/bench-evtx.ts [--rounds 4] [--runs 3] [--no-record]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Glob } from "bun";
import { readEvtxFile } from "../src/events/evtx/index.ts";
import { fullChunksFile } from "../test/helpers/evtx-build.ts";
import { recordSection } from "./benchmarks-file.ts";

const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const ROUNDS = opt("--rounds", Number(process.env.ROUNDS ?? 4));
const RUNS = opt("--runs", Number(process.env.RUNS ?? 3));
const RECORD = !args.includes("--no-record");
const ROOT = path.resolve(import.meta.dir, "..");
const REGRESSION = path.resolve(ROOT, "../shared/sigma/regression");

const sources = [...new Glob("**/*.evtx").scanSync({ cwd: REGRESSION })]
  .sort()
  .map((f) => readFileSync(path.join(REGRESSION, f)));
if (sources.length === 0) {
  console.error(`bench-evtx: no .evtx under ${REGRESSION} (needs ../shared)`);
  process.exit(2);
}
const tmp = mkdtempSync(path.join(os.tmpdir(), "outliers-bench-evtx-"));
const file = path.join(tmp, "corpus.evtx");
const built = fullChunksFile(sources, ROUNDS);
writeFileSync(file, built.bytes);
const MB = built.bytes.length / 1e6;
console.log(`corpus: ${sources.length} files' chunks x ${ROUNDS} = ${MB.toFixed(1)} MB, ${built.records} records`);

interface Run {
  wall: number;
  cpu: number;
  records: number;
}

function timeIt(f: () => number): Run {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const records = f();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1e6, records };
}

function best(runs: Run[]): Run {
  return runs.reduce((a, b) => (b.cpu < a.cpu ? b : a));
}

function measure(name: string, f: () => number): Run {
  const runs: Run[] = [];
  for (let r = 0; r < RUNS; r++) runs.push(timeIt(f));
  const b = best(runs);
  console.log(
    `${name}: ${(MB / b.cpu).toFixed(1)} MB/s CPU, ${(MB / b.wall).toFixed(1)} MB/s wall, ${b.records} records`,
  );
  return b;
}

// Warm-up: the JIT's first pass over the code.
timeIt(() => {
  let n = 0;
  for (const _ of readEvtxFile(file)) n++;
  return n;
});
const objects = measure("ours (objects)", () => {
  let n = 0;
  for (const _ of readEvtxFile(file)) n++;
  return n;
});
const text = measure("ours (JSON text)", () => {
  let n = 0;
  for (const r of readEvtxFile(file)) n += JSON.stringify(r).length > 0 ? 1 : 0;
  return n;
});

const PY = `
import sys, time, json
import evtx
from importlib.metadata import version
path, runs = sys.argv[1], int(sys.argv[2])
out = []
for _ in range(runs):
    c0, t0 = time.process_time(), time.perf_counter()
    n = 0
    for r in evtx.PyEvtxParser(path, 1).records_json():
        n += 1
    out.append({"cpu": time.process_time() - c0, "wall": time.perf_counter() - t0, "records": n})
print(json.dumps({"version": version("evtx"), "runs": out}))
`;
let python: (Run & { version: string }) | null = null;
const py = spawnSync("python3", ["-c", PY, file, String(RUNS)], { encoding: "utf8" });
if (py.status === 0) {
  const res = JSON.parse(py.stdout.trim().split("\n").pop()!);
  python = { ...best(res.runs), version: res.version };
  console.log(
    `python evtx ${python.version}: ${(MB / python.cpu).toFixed(1)} MB/s CPU, ${(MB / python.wall).toFixed(1)} MB/s wall, ${python.records} records`,
  );
} else {
  console.log(`python evtx: not measured (${(py.stderr || "python3 failed").trim().split("\n").pop()})`);
}
rmSync(tmp, { recursive: true, force: true });

if (RECORD) {
  const load = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" / ");
  const cpu = os.cpus()[0]?.model.trim() ?? "?";
  const row = (name: string, r: Run, extra = "") =>
    `| ${name} | **${(MB / r.cpu).toFixed(1)}** | ${(MB / r.wall).toFixed(1)} | ${r.records} | ${extra} |`;
  const ratio = (r: Run) => (python ? `${(python.cpu / r.cpu).toFixed(2)}x python's speed` : "");
  const pinned = spawnSync("sh", ["-c", "command -v taskset"]).status === 0;
  const section = `<!-- bench-evtx:begin -->
## Reading .evtx

Command: \`scripts/bench-evtx\` (ROUNDS=${ROUNDS}, RUNS=${RUNS}${pinned ? ", pinned to one core with taskset" : ""}); measured ${new Date().toISOString().slice(0, 16)}Z
on ${os.cpus().length} × ${cpu}, Bun ${Bun.version}, load average ${load} at the end: the 2 cores were shared with
seven other engineers' builds, tests and Elasticsearch nodes, so wall-clock figures are low and noisy.
Corpus: the ${sources.length} regression \`.evtx\` files' chunks, each filled up to 64 KiB with copies of its records
that refer back to its templates (as later records of a real chunk do), ${ROUNDS} times over: ${MB.toFixed(1)} MB,
${built.records} records (${Math.round(built.bytes.length / built.records)} bytes a record, Sysmon and Security events).
MB/s = file bytes / CPU time (user + system of the process, helper threads included), best of ${RUNS} runs;
the one-run ratio compares CPU times. Goal: >= 50 MB/s of evtx on one core.

| reader | MB/s (CPU) | MB/s (wall) | records | vs baseline |
| --- | --- | --- | --- | --- |
${row("ours: `readEvtxFile`, records as objects (what ingest uses)", objects, ratio(objects))}
${row("ours: the same, each record `JSON.stringify`'d", text, ratio(text))}
${python ? row(`Python \`evtx\` ${python.version} (Rust), \`records_json()\`, 1 thread (baseline)`, python, "1.00x") : "| Python `evtx` | not installed (`pip install evtx`) | | | |"}
<!-- bench-evtx:end -->
`;
  const where = recordSection(/<!-- bench-evtx:begin -->[\s\S]*?<!-- bench-evtx:end -->\n?/, section);
  console.log(`wrote the "Reading .evtx" section of ${path.relative(process.cwd(), where) || where}`);
}
