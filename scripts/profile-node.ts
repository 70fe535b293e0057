/**
 * Where a node spends its CPU while a command runs: starts a Java Flight Recorder recording on the
 * node behind ES_URL (the embedded runner's JVM, found by its process id in nodes info), runs the
 * command, stops the recording and prints the methods with the most samples, self and inclusive,
 * and the Painless functions of our scripts (compiled as methods of the script's class).
 *
 *   ES_URL=http://127.0.0.1:9200 bun scripts/profile-node.ts [--top 25] [--threads write] [--callers TEXT] -- CMD ARGS…
 *
 * --threads keeps samples from threads whose name contains the text (write: the bulk and ingest
 * threads). The recording is the JVM's "profile" settings (a Java sample every 10 ms per running
 * thread). It needs `jcmd` and `jfr` from a JDK on PATH, and a node on this machine.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { arg } from "./lib/args.ts";

const NODE = process.env.ES_URL ?? "http://127.0.0.1:9200";
const TOP = Number(arg("top", "25"));
const THREADS = arg("threads", "");
/** --callers TEXT: also the call chains (3 frames up) into the methods whose name contains TEXT. */
const CALLERS = arg("callers", "");
const dash = process.argv.indexOf("--");
const cmd = dash >= 0 ? process.argv.slice(dash + 1) : [];
if (!cmd.length) {
  console.error("profile-node: give the command to run after --");
  process.exit(2);
}

const info: any = await (await fetch(`${NODE}/_nodes/_local/process`)).json();
const pid = Object.values<any>(info.nodes)[0]?.process?.id;
if (!pid) {
  console.error(`profile-node: no process id in ${NODE}/_nodes/_local/process`);
  process.exit(2);
}
const dir = mkdtempSync(path.join(tmpdir(), "profile-node-"));
const file = path.join(dir, "node.jfr");
const jcmd = (...a: string[]) => {
  const r = Bun.spawnSync(["jcmd", String(pid), ...a], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`jcmd ${a.join(" ")}: ${r.stderr.toString() || r.stdout.toString()}`);
};
jcmd("JFR.start", "name=outliers-profile", "settings=profile");
const t0 = performance.now();
const run = Bun.spawnSync(cmd, { stdout: "inherit", stderr: "inherit" });
const seconds = (performance.now() - t0) / 1000;
jcmd("JFR.stop", "name=outliers-profile", `filename=${file}`);

// `jfr print` text: one `jdk.ExecutionSample { … stackTrace = [ frame line: N … ] }` block per sample.
const printed = Bun.spawnSync(["jfr", "print", "--events", "jdk.ExecutionSample", "--stack-depth", "96", file], {
  stdout: "pipe",
  stderr: "pipe",
});
if (printed.exitCode !== 0) throw new Error(`jfr print: ${printed.stderr.toString()}`);
const text = printed.stdout.toString();
rmSync(dir, { recursive: true, force: true });

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
const painless = new Map<string, number>();
const callers = new Map<string, number>();
let samples = 0;
for (const block of text.split("jdk.ExecutionSample {").slice(1)) {
  const thread = /sampledThread = "([^"]*)"/.exec(block)?.[1] ?? "";
  if (THREADS && !thread.includes(THREADS)) continue;
  const st = block.indexOf("stackTrace = [");
  if (st < 0) continue;
  const frames: string[] = [];
  for (const raw of block.slice(st + "stackTrace = [".length).split("\n")) {
    const l = raw.trim();
    if (l === "]") break;
    if (!l || l === "...") continue;
    frames.push(l.replace(/\s+line: \d+.*$/, "").replace(/\(.*\)$/, ""));
  }
  if (!frames.length) continue;
  samples++;
  self.set(frames[0]!, (self.get(frames[0]!) ?? 0) + 1);
  if (CALLERS) {
    const at = frames.findIndex((f) => f.includes(CALLERS));
    if (at >= 0) {
      const chain = frames.slice(at, at + 4).join(" < ");
      callers.set(chain, (callers.get(chain) ?? 0) + 1);
    }
  }
  const seen = new Set<string>();
  const seenFn = new Set<string>();
  for (const f of frames) {
    if (!seen.has(f)) {
      seen.add(f);
      inclusive.set(f, (inclusive.get(f) ?? 0) + 1);
    }
    // Painless user functions are methods named `&name` of the generated script class.
    const fn = /\$Script\.(&?[\w$]+)$/.exec(f)?.[1];
    if (fn && !seenFn.has(fn)) {
      seenFn.add(fn);
      painless.set(fn, (painless.get(fn) ?? 0) + 1);
    }
  }
}
const pct = (n: number) => `${((100 * n) / Math.max(1, samples)).toFixed(1)}%`;
const top = (m: Map<string, number>, n: number) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `  ${pct(v).padStart(6)}  ${k}`)
    .join("\n");
console.log(
  `profile-node: ${samples} samples${THREADS ? ` on threads named *${THREADS}*` : ""} over ${seconds.toFixed(1)} s (command exit ${run.exitCode})`,
);
console.log(`self (the method on top of the stack):\n${top(self, TOP)}`);
console.log(`inclusive (the method anywhere on the stack):\n${top(inclusive, TOP)}`);
if (CALLERS) console.log(`call chains into *${CALLERS}*:\n${top(callers, TOP)}`);
if (painless.size) console.log(`Painless functions of our scripts (inclusive):\n${top(painless, TOP)}`);
process.exit(run.exitCode ?? 1);
