/**
 * `scan --workers 1` vs `--workers 2` (scripts/bench-scan --workers): the same generated winlogbeat
 * events (NDJSON) and every Windows rule of ../shared/sigma/rules*, the binary end to end (rule
 * compilation, reading, matching, the summary), in interleaved rounds after a shared warm-up
 * (scripts/lib/rounds.ts). Per way: events/s (median, min–max), CPU seconds of the process (all its
 * threads), RSS; the speed-up taken within each round (time of 1 worker / time of 2); the load
 * average. Also what the main thread alone costs with workers: splitting the file into batches
 * (`readEventBatches`, measured here in-process), as a share of the 1-worker CPU time. Both ways
 * must print the same summary. No cluster.
 *
 *   bun scripts/bench-scan-workers.ts [--size 100000] [--seed 7] [--rounds 3] [--record]
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { readEventBatches } from "../src/local/events.ts";
import { BATCH } from "../src/local/parallel-scan.ts";
import { generateEvents } from "../test/helpers/gen-events.ts";
import { SHARED, SKIP_MESSAGE, windowsRules } from "../test/helpers/windows-rules.ts";
import { recordSection } from "./benchmarks-file.ts";
import { interleave, loadLine, roundRatios, showSpread, spread, waySpread } from "./lib/rounds.ts";

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] && !process.argv[i + 1]!.startsWith("--") ? process.argv[i + 1]! : def;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

const SIZE = Number(arg("size", "100000"));
const SEED = Number(arg("seed", "7"));
const ROUNDS = Number(arg("rounds", "3"));
const BIN = path.resolve(import.meta.dir, "../dist/outliers");
const CHUNK = 100_000;

if (!SHARED) {
  console.error(SKIP_MESSAGE);
  process.exit(2);
}

const rules = windowsRules();
const files = [...new Set(rules.map((r) => r.source.path))];
const dir = mkdtempSync(path.join(os.tmpdir(), "bench-scan-workers-"));
const eventsFile = path.join(dir, "events.ndjson");
process.stderr.write(`generating ${SIZE} events… `);
const fd = openSync(eventsFile, "w");
for (let done = 0, k = 0; done < SIZE; k++) {
  const n = Math.min(CHUNK, SIZE - done);
  writeSync(
    fd,
    `${generateEvents(rules, n, SEED + k)
      .map((d) => JSON.stringify(d.source))
      .join("\n")}\n`,
  );
  done += n;
}
closeSync(fd);
process.stderr.write("done\n");

interface Sample {
  seconds: number;
  cpu: number;
  rssMB: number;
  summary: string;
}

async function scan(workers: number): Promise<Sample> {
  const t0 = performance.now();
  const p = Bun.spawn([BIN, "scan", ...files, "--events", eventsFile, "--no-timeline", "--workers", String(workers)], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`scan --workers ${workers} exited ${code}: ${err.slice(0, 2000)}`);
  const usage = p.resourceUsage();
  const cpu = usage ? Number(usage.cpuTime.total) / 1e6 : Number.NaN;
  const rssMB = usage ? Number(usage.maxRSS) / (1024 * 1024) : Number.NaN;
  return { seconds, cpu, rssMB, summary: out };
}

// What the main thread does alone with workers: read the file and split it into batches of text.
const t0 = performance.now();
const c0 = process.cpuUsage();
let units = 0;
for (const b of readEventBatches([eventsFile], "auto", BATCH)) units += b.units.length;
const splitCpu = (process.cpuUsage(c0).user + process.cpuUsage(c0).system) / 1e6;
const splitSeconds = (performance.now() - t0) / 1000;
if (units !== SIZE) throw new Error(`split ${units} events, not ${SIZE}`);

const W1 = "scan --workers 1";
const W2 = "scan --workers 2";
let res: Awaited<ReturnType<typeof interleave<Sample>>>;
try {
  res = await interleave<Sample>(
    [
      { name: W1, run: () => scan(1) },
      { name: W2, run: () => scan(2) },
    ],
    { rounds: ROUNDS, log: (l) => process.stderr.write(`${l}\n`) },
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const same = res.samples.get(W1)!.every((s, i) => s.summary === res.samples.get(W2)![i]!.summary);
const rate = (s: Sample) => SIZE / s.seconds;
const speedup = roundRatios(res, W1, W2); // seconds(1 worker) / seconds(2 workers), per round
const cpuRatio = roundRatios(res, W2, W1, (s) => s.cpu);
const w1Cpu = waySpread(res, W1, (s) => s.cpu);
const row = (name: string) =>
  `| \`${name}\` | ${showSpread(waySpread(res, name, rate), 0)} | ${showSpread(waySpread(res, name), 1, " s")} | ${showSpread(
    waySpread(res, name, (s) => s.cpu),
    1,
    " s",
  )} | ${spread(res.samples.get(name)!.map((s) => s.rssMB)).max.toFixed(0)} MB |`;

const cmd = `scripts/bench-scan --workers --size ${SIZE} --seed ${SEED} --rounds ${ROUNDS}`;
const section = `<!-- bench-scan-workers:begin -->
## Local scan on all cores (\`scan --workers\`)

Command: \`${cmd}\`; measured ${new Date().toISOString().slice(0, 16)}Z on ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"},
shared with other work: ${loadLine(res)}. Corpus: ${SIZE.toLocaleString("en-US")} generated winlogbeat events (NDJSON), every
Windows rule of ../shared/sigma/rules* (${rules.length} rules). \`dist/outliers scan RULE-FILES --events FILE --no-timeline --workers N\`,
wall clock from start to exit (rule compilation included); CPU = user + system of the whole process (every thread);
${ROUNDS} interleaved rounds after a warm-up of each way; figures are medians (min–max).

| way | events/s | time | CPU | max RSS |
| --- | --- | --- | --- | --- |
${row(W1)}
${row(W2)}

Speed-up, 2 workers vs 1 (time of 1 / time of 2, within each round): **${showSpread(speedup)}×** (per round: ${speedup.perRound.map((x) => x.toFixed(2)).join(", ")}).
CPU of 2 workers / CPU of 1 (the price of the threads: a matcher built per worker, messages): ${showSpread(cpuRatio)}.
Main thread with workers: reading and splitting the file into batches took ${splitCpu.toFixed(2)} s CPU (${splitSeconds.toFixed(2)} s),
${((100 * splitCpu) / w1Cpu.median).toFixed(1)}% of the 1-worker CPU time. ${same ? "Both ways printed the same summary." : "The summaries DIFFER."}
<!-- bench-scan-workers:end -->`;
console.log(section);
if (flag("record") && same)
  console.error(
    `recorded in ${recordSection(/<!-- bench-scan-workers:begin -->[\s\S]*?<!-- bench-scan-workers:end -->/, section)}`,
  );
if (!same) process.exitCode = 1;
