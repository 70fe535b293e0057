/**
 * The measuring half of scripts/bench-compile. For each target in the compile registry
 * (src/emit/targets.ts, so targets added later are measured too): RUNS runs of
 * `bun src/cli.ts compile <corpus> --target T --out … --report …` under `/usr/bin/time -v`
 * (wall time, peak RSS), falling back to spawn timing without RSS when /usr/bin/time is absent;
 * then one in-process run that splits the time into loading (Sigma → representation) and
 * emitting, with the process's RSS high-water mark. Writes the section between markers in
 * BENCHMARKS.md, leaving the rest of the file alone.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import { TARGETS } from "../src/emit/targets.ts";
import { recordSection } from "./benchmarks-file.ts";
import { loadProfile } from "../src/mapping/index.ts";
import { loadRules } from "../src/rules/load.ts";
import type { Rule } from "../src/ir/types.ts";
import { interleave, loadLine, showSpread, spread } from "./lib/rounds.ts";
import { inclusiveOf, summarizeCpuProfile } from "./lib/cpu-profile.ts";

const ROOT = path.resolve(import.meta.dir, "..");
const SIGMA = path.resolve(ROOT, "../shared/sigma");
const RUNS = Number(process.env.RUNS ?? 3);
const BUN = path.join(ROOT, "node_modules/.bin/bun");
const TIME = "/usr/bin/time";

if (!existsSync(SIGMA)) {
  console.error(`bench-compile: ${SIGMA} not found (the SigmaHQ corpus lives in ../shared next to the repo)`);
  process.exit(2);
}
const dirs = readdirSync(SIGMA)
  .filter((d) => d !== "regression" && statSync(path.join(SIGMA, d)).isDirectory())
  .sort();
const corpus = dirs.map((d) => path.join(SIGMA, d));
const rel = dirs.map((d) => `../shared/sigma/${d}`);

interface Run {
  ms: number;
  /** user + system CPU time: on a shared machine, closer to the work done than wall time. */
  cpuMs?: number;
  rssKiB?: number;
  ok: number;
  failed: number;
  outBytes: number;
}

const tmp = mkdtempSync(path.join(tmpdir(), "bench-compile-"));
function runOnce(target: string): Run {
  const out = path.join(tmp, `${target}.out`);
  const report = path.join(tmp, `${target}.report.json`);
  const cmd = [BUN, "src/cli.ts", "compile", ...corpus, "--target", target, "--out", out, "--report", report];
  const useTime = existsSync(TIME);
  const timeOut = path.join(tmp, `${target}.time`);
  const t0 = performance.now();
  // /usr/bin/time writes its report to a file (-o), not into the command's own stderr
  const r = Bun.spawnSync(useTime ? [TIME, "-v", "-o", timeOut, ...cmd] : cmd, {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  const ms = performance.now() - t0;
  const stderr = useTime && existsSync(timeOut) ? readFileSync(timeOut, "utf8") : r.stderr.toString();
  if (r.exitCode !== 0 && r.exitCode !== 1)
    throw new Error(`compile --target ${target} exited ${r.exitCode}:\n${r.stderr.toString().slice(-2000)}`);
  let wall = ms;
  let rssKiB: number | undefined;
  let cpuMs: number | undefined;
  if (useTime) {
    const user = /User time \(seconds\): ([\d.]+)/.exec(stderr);
    const sys = /System time \(seconds\): ([\d.]+)/.exec(stderr);
    if (user && sys) cpuMs = (Number(user[1]) + Number(sys[1])) * 1000;
    const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
    const el = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(stderr);
    if (rss) rssKiB = Number(rss[1]);
    if (el) wall = ((Number(el[1] ?? 0) * 60 + Number(el[2])) * 60 + Number(el[3])) * 1000;
  }
  const rep = JSON.parse(readFileSync(report, "utf8"));
  if (useTime && rssKiB === undefined)
    console.error(`(no RSS in /usr/bin/time output for ${target}: ${stderr.slice(-400)})`);
  return { ms: wall, cpuMs, rssKiB, ok: rep.ok, failed: rep.failed, outBytes: statSync(out).size };
}

// The targets are the ways of one comparison: a shared warm-up run of each, then RUNS rounds of every
// target in turn (scripts/lib/rounds.ts), so a drift of the machine falls on every target alike.
const res = await interleave(
  TARGETS.map((t) => ({
    name: t.name,
    run: async () => {
      const r = runOnce(t.name);
      return { ...r, seconds: r.ms / 1000 };
    },
  })),
  { rounds: RUNS, log: (l) => console.error(l) },
);
const rows: string[] = [];
for (const t of TARGETS) {
  const runs = res.samples.get(t.name)!;
  const wall = spread(runs.map((r) => r.ms / 1000));
  const rss = runs.every((r) => r.rssKiB !== undefined) ? Math.max(...runs.map((r) => r.rssKiB!)) : undefined;
  const cpu = runs.every((r) => r.cpuMs !== undefined) ? spread(runs.map((r) => r.cpuMs! / 1000)) : undefined;
  const last = runs[runs.length - 1]!;
  const line = `**${showSpread(wall, 2, " s")}** | ${cpu ? `${showSpread(cpu, 2, " s")}` : "n/a"} | ${rss ? `${(rss / 1024).toFixed(0)} MiB` : "n/a"} | ${last.ok} / ${last.failed} | ${(last.outBytes / 1024 / 1024).toFixed(1)} MiB`;
  console.log(`--target ${t.name}: ${line.replace(/\*\*/g, "")}`);
  rows.push(`| \`--target ${t.name}\` | ${line} |`);
}

/**
 * --profile: one more run of each target under `bun --cpu-prof`; the section quotes where its time
 * goes (the main thread's samples), so a missed goal names the code that stands in the way.
 */
const profiles: string[] = [];
if (process.argv.includes("--profile")) {
  for (const t of TARGETS) {
    const dir = path.join(tmp, `prof-${t.name}`);
    const cmd = [BUN, "--cpu-prof", `--cpu-prof-dir=${dir}`, "src/cli.ts", "compile", ...corpus, "--target", t.name];
    Bun.spawnSync([...cmd, "--out", path.join(tmp, "p.out"), "--report", path.join(tmp, "p.json")], {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "pipe",
    });
    const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
    if (!file) throw new Error(`bun --cpu-prof wrote no profile for --target ${t.name}`);
    const s = summarizeCpuProfile(path.join(dir, file), ROOT);
    const stage = (label: string, prefix: string) => `${label} ${inclusiveOf(s, prefix).toFixed(0)}`;
    profiles.push(
      `- \`${t.name}\`: ${s.totalMs.toFixed(0)} ms sampled; ${[
        stage("loading (`loadRules`)", "loadRules "),
        stage("of which YAML (`parseSigmaFile`)", "parseSigmaFile "),
        stage("Sigma → representation (`convertSigmaRule`)", "convertSigmaRule "),
        stage("emitting (the target's `emit`)", "emit "),
        stage("index-key gram counts (`countGrams`)", "countGrams "),
      ].join(", ")} ms. Most self time: ${s.self
        .slice(0, 6)
        .map((f) => `${f.fn} ${f.ms.toFixed(0)}`)
        .join("; ")} (ms).`,
    );
  }
}

// In-process split: load (files → Sigma → representation) vs each target's emit.
const t0 = performance.now();
const profile = loadProfile("winlogbeat");
const results = loadRules(corpus, { profile });
const tLoad = performance.now() - t0;
const rules = results.filter((r) => r.status === "ok").map((r) => (r as { rule: Rule }).rule);
const emitMs: string[] = [];
for (const t of TARGETS) {
  const e0 = performance.now();
  t.emit(rules, { profile });
  emitMs.push(`${t.name} ${(performance.now() - e0).toFixed(0)} ms`);
}
const rssHigh = process.resourceUsage().maxRSS; // KiB on Linux
console.log(
  `in process: load ${tLoad.toFixed(0)} ms for ${results.length} rule documents (${rules.length} ok); emit ${emitMs.join(", ")}; RSS high-water ${(rssHigh / 1024).toFixed(0)} MiB`,
);
rmSync(tmp, { recursive: true, force: true });

const bunVersion = Bun.spawnSync([BUN, "--version"]).stdout.toString().trim();
const section = `<!-- bench-compile:begin -->
## Compile

Command: \`RUNS=${RUNS} scripts/bench-compile${profiles.length ? " --profile" : ""}\`; measured ${new Date().toISOString().slice(0, 16)}Z on ${cpus().length} × ${cpus()[0]?.model ?? "?"}, Bun ${bunVersion}; ${loadLine(res)}.
Corpus: \`${rel.join("`, `")}\` (${results.length} rule documents; \`regression/\` holds events, not rules), mapping \`winlogbeat\`.
Each run is \`bun src/cli.ts compile <corpus> --target T --out FILE --report FILE\`, a fresh process, timed by
\`/usr/bin/time -v\` (wall clock, user+system CPU, maximum resident set size). Method (scripts/lib/rounds.ts): one
warm-up run of every target, then ${RUNS} rounds of every target in turn; medians with min–max. Goal: under 1 s wall
for every target on a quiet machine. CPU time can exceed wall time (Bun collects garbage and reads files on helper
threads); on a shared machine the wall time also includes waiting for a core.

| target | wall time, median (min–max) | CPU (user+sys), median (min–max) | peak RSS | rules ok / failed | output |
| --- | --- | --- | --- | --- | --- |
${rows.join("\n")}

In one process: loading (reading, parsing Sigma, building the representation) ${tLoad.toFixed(0)} ms;
emitting ${emitMs.join(", ")}; RSS high-water ${(rssHigh / 1024).toFixed(0)} MiB.${
  profiles.length
    ? `\n\nWhere the time goes (\`--profile\`: one more run per target under \`bun --cpu-prof\`, main thread, inclusive ms per stage):\n${profiles.join("\n")}`
    : ""
}
<!-- bench-compile:end -->
`;
const file = recordSection(/<!-- bench-compile:begin -->[\s\S]*?<!-- bench-compile:end -->\n?/, section);
console.log(`wrote the Compile section of ${path.relative(process.cwd(), file) || file}`);
