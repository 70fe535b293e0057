/**
 * The measuring half of scripts/bench-evtx; it follows scripts/lib/rounds.ts (a shared warm-up, then
 * the ways interleaved in rounds; medians with min–max and the load average; ratios within a round).
 * Corpus: every regression .evtx file's chunks (../shared/sigma/regression), filled up to 64 KiB with
 * copies of their records (test/helpers/evtx-build.ts: later records refer to the templates the first
 * ones define, as in real logs), COPIES times over, written to a temporary file. Ways:
 *   parser        readEvtxFile: every record as an evtx_dump-layout object (in this process)
 *   rust          Python's evtx package (pyevtx-rs, the Rust evtx crate), records_json(), 1 thread;
 *                 CPU measured inside Python around the reading loop (interpreter start not counted)
 *   convert       readEvents (src/local/events.ts): records read and converted to the Winlogbeat shape,
 *                 each then JSON.stringify'd: the reading-and-conversion path of scan and ingest
 *   scan-1        dist/outliers scan ONE-RULE --events corpus.evtx (the process's CPU, start included)
 *   scan-full     dist/outliers scan WINDOWS-RULES --events corpus.evtx (every Windows rule of ../shared)
 * MB/s = corpus bytes / CPU time (user + system), so that other work on the shared machine does not count.
 *
 *   bun scripts/bench-evtx.ts [--rounds 4] [--copies 4] [--no-record]   (EVTX_PYTHON: the venv's python)
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Glob } from "bun";
import { readEvtxFile } from "../src/events/evtx/index.ts";
import { readEvents } from "../src/local/events.ts";
import { fullChunksFile } from "../test/helpers/evtx-build.ts";
import { windowsRules } from "../test/helpers/windows-rules.ts";
import { recordSection } from "./benchmarks-file.ts";
import { interleave, loadLine, roundRatios, showSpread, waySpread, type Way } from "./lib/rounds.ts";

const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const ROUNDS = opt("--rounds", 4);
const COPIES = opt("--copies", 4);
const RECORD = !args.includes("--no-record");
const ROOT = path.resolve(import.meta.dir, "..");
const SHARED = path.resolve(ROOT, "../shared/sigma");
const BIN = path.join(ROOT, "dist/outliers");
const PYTHON = process.env.EVTX_PYTHON ?? "python3";

const evtxFiles = [...new Glob("**/*.evtx").scanSync({ cwd: SHARED })].sort();
const sources = evtxFiles.map((f) => readFileSync(path.join(SHARED, f)));
if (sources.length === 0) {
  console.error(`bench-evtx: no .evtx under ${SHARED} (needs ../shared)`);
  process.exit(2);
}
const tmp = mkdtempSync(path.join(os.tmpdir(), "outliers-bench-evtx-"));
const file = path.join(tmp, "corpus.evtx");
const built = fullChunksFile(sources, COPIES);
writeFileSync(file, built.bytes);
const MB = built.bytes.length / 1e6;
console.log(
  `corpus: ${sources.length} .evtx files' chunks x ${COPIES} = ${MB.toFixed(1)} MB, ${built.records} records`,
);

const rules = windowsRules();
const ruleFiles = [...new Set(rules.map((r) => r.source.path))];
const oneRule = ruleFiles.find((f) => /proc_creation_win_/.test(f)) ?? ruleFiles[0]!;

interface Sample {
  seconds: number; // CPU seconds (user + system)
  wall: number;
  records: number;
}

function inProcess(f: () => number): Sample {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const records = f();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { seconds: (c.user + c.system) / 1e6, wall, records };
}

const PY = `
import sys, time, json
import evtx
from importlib.metadata import version
c0, t0 = time.process_time(), time.perf_counter()
n = 0
for r in evtx.PyEvtxParser(sys.argv[1], 1).records_json():
    n += 1
print(json.dumps({"version": version("evtx"), "cpu": time.process_time() - c0, "wall": time.perf_counter() - t0, "records": n}))
`;
let pyVersion = "";

function scanWay(name: string, rulePaths: string[]): Way<Sample> {
  return {
    name,
    async run() {
      const t0 = performance.now();
      const r = Bun.spawnSync([BIN, "scan", ...rulePaths, "--events", file, "--no-timeline"], {
        stdout: "pipe",
        stderr: "pipe",
      });
      const wall = (performance.now() - t0) / 1000;
      if (r.exitCode !== 0)
        throw new Error(`${name}: scan exited ${r.exitCode}: ${r.stderr.toString().slice(0, 1000)}`);
      const m = /^([\d,]+) event\(s\)/m.exec(r.stdout.toString());
      const cpu = r.resourceUsage!.cpuTime;
      return { seconds: Number(cpu.user + cpu.system) / 1e6, wall, records: m ? Number(m[1]!.replace(/,/g, "")) : -1 };
    },
  };
}

const ways: Way<Sample>[] = [
  {
    name: "parser",
    async run() {
      return inProcess(() => {
        let n = 0;
        for (const _ of readEvtxFile(file)) n++;
        return n;
      });
    },
  },
  {
    name: "rust",
    async run() {
      const py = spawnSync(PYTHON, ["-c", PY, file], { encoding: "utf8" });
      if (py.status !== 0)
        throw new Error(
          `python evtx (${PYTHON}) failed: ${(py.stderr || "").trim().split("\n").pop()}; run scripts/bench-evtx, which sets up its venv`,
        );
      const res = JSON.parse(py.stdout.trim().split("\n").pop()!);
      pyVersion = res.version;
      return { seconds: res.cpu, wall: res.wall, records: res.records };
    },
  },
  {
    name: "convert",
    async run() {
      return inProcess(() => {
        let n = 0;
        for (const e of readEvents([file])) if (JSON.stringify(e.doc).length > 0) n++;
        return n;
      });
    },
  },
  scanWay("scan-1", [oneRule]),
  scanWay("scan-full", ruleFiles),
];

const res = await interleave(ways, { rounds: ROUNDS, log: (l) => console.log(l) });
rmSync(tmp, { recursive: true, force: true });

const mbps = (w: string) => waySpread(res, w, (s) => MB / s.seconds);
const vsParser = (w: string) => roundRatios(res, w, "parser", (s) => MB / s.seconds);
const lines: Array<[string, string, string]> = [
  ["parser", "ours: `readEvtxFile`, records as evtx_dump-layout objects", ""],
  ["rust", `Python \`evtx\` ${pyVersion} (pyevtx-rs, Rust), \`records_json()\`, 1 thread`, ""],
  ["convert", "ours: `readEvents` (read + Winlogbeat conversion + `JSON.stringify`): the path of scan and ingest", ""],
  ["scan-1", `\`dist/outliers scan\` with 1 rule (\`${path.basename(oneRule)}\`), whole process`, ""],
  ["scan-full", `\`dist/outliers scan\` with the ${rules.length} Windows rules, whole process`, ""],
];
const table = lines.map(([w, label]) => {
  const records = res.samples.get(w)![0]!.records;
  const p = w === "parser" ? "1.00" : showSpread(vsParser(w));
  return `| ${label} | **${showSpread(mbps(w), 1)}** | ${showSpread(
    waySpread(res, w, (s) => MB / s.wall),
    1,
  )} | ${records} | ${p} |`;
});
const parserVsRust = roundRatios(res, "parser", "rust", (s) => MB / s.seconds);
console.log(table.join("\n"));
console.log(`parser / rust: ${showSpread(parserVsRust)} (goal >= 0.5)`);
for (const w of ["convert", "scan-1", "scan-full"])
  console.log(`${w} / parser: ${showSpread(vsParser(w))} (goal >= 0.67)`);
console.log(loadLine(res));

if (RECORD) {
  const cpu = os.cpus()[0]?.model.trim() ?? "?";
  const pinned = spawnSync("sh", ["-c", "command -v taskset"]).status === 0;
  const section = `<!-- bench-evtx:begin -->
## Reading .evtx

Command: \`scripts/bench-evtx --rounds ${ROUNDS} --copies ${COPIES}\`${pinned ? " (pinned to one core with taskset)" : ""}; measured ${new Date().toISOString().slice(0, 16)}Z
on ${os.cpus().length} × ${cpu}, Bun ${Bun.version}. The method of scripts/lib/rounds.ts: one shared warm-up, then
${ROUNDS} rounds of every way interleaved; each figure is the median over the rounds (min–max); ratios are taken within a
round. Load: ${loadLine(res)}${process.env.BENCH_CONDITIONS ? `; ${process.env.BENCH_CONDITIONS}` : ""}; CPU-time figures are
less affected by other work on the machine than wall-clock ones.
Corpus: the ${sources.length} \`.evtx\` files under ../shared/sigma, their chunks each filled up to 64 KiB with copies of
its records that refer back to its templates (as later records of a real chunk do), ${COPIES} times over: ${MB.toFixed(1)} MB,
${built.records} records. MB/s = corpus bytes / CPU time (user + system). The Python reader runs from a venv that
\`scripts/bench-evtx\` sets up under \`.bench/\`; its CPU is taken around the reading loop only. The scan rows are the
whole binary's CPU, rule loading and compiling included (about 0.1 s of CPU with 1 rule, some seconds with the
full set: see the profiles in the next section). Goals (issue 22 item 4): parser >= 0.5x the Rust reader; scan and ingest >= 2/3 of the parser.

| way | MB/s (CPU) | MB/s (wall) | records | vs parser (CPU) |
| --- | --- | --- | --- | --- |
${table.join("\n")}

Parser / Rust reader (CPU, within a round): ${showSpread(parserVsRust)}.
<!-- bench-evtx:end -->
`;
  const where = recordSection(/<!-- bench-evtx:begin -->[\s\S]*?<!-- bench-evtx:end -->\n?/, section);
  console.log(`wrote the "Reading .evtx" section of ${path.relative(process.cwd(), where) || where}`);
}
