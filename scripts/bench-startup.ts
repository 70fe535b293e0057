/**
 * The measuring half of scripts/bench-startup. Each figure is printed and written into BENCHMARKS.md
 * between markers, so re-running replaces the section and leaves the rest of the file alone.
 */
import { statSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { recordSection } from "./benchmarks-file.ts";
import { median } from "./lib/stats.ts";

const ROOT = path.resolve(import.meta.dir, "..");
const BIN = path.join(ROOT, "dist/outliers");
const RUNS = Number(process.env.RUNS ?? 30);
const ES_RUNS = Number(process.env.ES_RUNS ?? 3);
const ES_PORT = process.env.ES_PORT ?? "9260";

function timed(
  cmd: string[],
  env?: Record<string, string>,
): { ms: number; cpuMs: number; code: number; stdout: string; stderr: string } {
  const t0 = performance.now();
  const r = Bun.spawnSync(cmd, { cwd: ROOT, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const ms = performance.now() - t0;
  // CPU time (user + system) depends far less on what else runs on this shared machine than wall time.
  const cpuMs = Number(r.resourceUsage?.cpuTime.total ?? 0n) / 1000;
  return { ms, cpuMs, code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

const loadAtStart = loadavg()
  .map((l) => l.toFixed(1))
  .join(" / ");

// 1. The binary: the first run after a build is the coldest we can get without dropping the page cache.
const startup: number[] = [];
const cpu: number[] = [];
let first = 0;
for (let i = 0; i <= RUNS; i++) {
  const r = timed([BIN, "--help"]);
  if (r.code !== 0) throw new Error(`dist/outliers --help exited ${r.code}: ${r.stderr}`);
  if (i === 0) first = r.ms;
  else {
    startup.push(r.ms);
    cpu.push(r.cpuMs);
  }
}
const cpuMedian = median(cpu);
const size = statSync(BIN).size;
const startMedian = median(startup);
console.log(
  `dist/outliers --help: median ${startMedian.toFixed(1)} ms over ${RUNS} runs (min ${Math.min(...startup).toFixed(1)}, max ${Math.max(...startup).toFixed(1)}, first ${first.toFixed(1)})`,
);
console.log(`dist/outliers --help: median CPU time ${cpuMedian.toFixed(1)} ms`);
console.log(`dist/outliers: ${(size / 1024 / 1024).toFixed(1)} MiB`);

// 2. Elasticsearch: es-start until it prints the URL (cluster green/yellow), then es-stop.
const esStarts: number[] = [];
for (let i = 0; i < ES_RUNS; i++) {
  const r = timed(["bash", "scripts/es-start"], { ES_PORT });
  if (r.code !== 0) throw new Error(`scripts/es-start on ${ES_PORT} failed:\n${r.stderr}`);
  esStarts.push(r.ms);
  const stop = timed(["bash", "scripts/es-stop"], { ES_PORT });
  if (stop.code !== 0) throw new Error(`scripts/es-stop on ${ES_PORT} failed:\n${stop.stderr}`);
  console.log(`es-start on ${ES_PORT}: ${(r.ms / 1000).toFixed(1)} s (stop ${(stop.ms / 1000).toFixed(1)} s)`);
}

// 3. BENCHMARKS.md.
const bun = timed([path.join(ROOT, "node_modules/.bin/bun"), "--version"]).stdout.trim();
const section = `<!-- bench-startup:begin -->
## Startup

Command: \`scripts/bench-startup\` (RUNS=${RUNS}, ES_RUNS=${ES_RUNS}, ES_PORT=${ES_PORT}); measured ${new Date().toISOString().slice(0, 16)}Z
on ${cpus().length} × ${cpus()[0]?.model ?? "?"}, Bun ${bun}, load average ${loadAtStart} at the start (other work running).

| what | figure |
| --- | --- |
| \`dist/outliers --help\`, median of ${RUNS} runs | **${startMedian.toFixed(1)} ms** (min ${Math.min(...startup).toFixed(1)}, max ${Math.max(...startup).toFixed(1)}; goal < 30 ms) |
| \`dist/outliers --help\`, median CPU time (user + system) of the same runs | ${cpuMedian.toFixed(1)} ms |
| \`dist/outliers --help\`, first run after the build | ${first.toFixed(1)} ms |
| \`dist/outliers\` size (\`scripts/build\`: --compile --minify --bytecode, linux-x64) | ${(size / 1024 / 1024).toFixed(1)} MiB |
| \`scripts/es-start\` (1 node, 2 GiB heap) until green/yellow, median of ${ES_RUNS} | ${(median(esStarts) / 1000).toFixed(1)} s (${esStarts.map((m) => (m / 1000).toFixed(1)).join(", ")}) |

Times are wall clock from spawning the process to its exit, with the page cache warm (the "first run"
line is the closest to a cold start this script can get without root). Elasticsearch's time excludes
the one-time Maven download of the runner (cached in ~/.m2 and .es/lib).
<!-- bench-startup:end -->
`;
const file = recordSection(/<!-- bench-startup:begin -->[\s\S]*?<!-- bench-startup:end -->\n?/, section);
console.log(`wrote the Startup section of ${path.relative(process.cwd(), file) || file}`);
