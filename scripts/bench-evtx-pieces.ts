/**
 * Where the time of reading + converting .evtx goes (BENCHMARKS.md, "Reading .evtx: where the goals
 * stand"): the corpus of scripts/bench-evtx (every ../shared/sigma .evtx, full chunks, COPIES times),
 * read in one process by ways that each do one step more than the one before; CPU seconds, best and
 * median of ROUNDS interleaved rounds after a warm-up. Differences between lines are the steps' costs.
 *   bun scripts/bench-evtx-pieces.ts [--rounds 7] [--copies 6]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Glob } from "bun";
import { evtxToWinlogbeat } from "../src/events/evtx-json.ts";
import { readEvtxFile } from "../src/events/evtx/index.ts";
import { limitProblem } from "../src/events/limits.ts";
import { readEvents } from "../src/local/events.ts";
import { fullChunksFile } from "../test/helpers/evtx-build.ts";

const args = process.argv.slice(2);
const opt = (name: string, def: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : def);
const ROUNDS = opt("--rounds", 7);
const SHARED = path.resolve(import.meta.dir, "../../shared/sigma");
const files = [...new Glob("**/*.evtx").scanSync({ cwd: SHARED })].sort();
const tmp = mkdtempSync(path.join(os.tmpdir(), "outliers-evtx-pieces-"));
const file = path.join(tmp, "corpus.evtx");
writeFileSync(
  file,
  fullChunksFile(
    files.map((f) => readFileSync(path.join(SHARED, f))),
    opt("--copies", 6),
  ).bytes,
);

const eventDataText = (r: Record<string, unknown>): number => {
  // Reads the first character of every event data string (makes each string flat).
  let x = 0;
  const ed = (r.Event as Record<string, unknown> | undefined)?.EventData as Record<string, unknown> | undefined;
  for (const k in ed) if (typeof ed[k] === "string") x += (ed[k] as string).charCodeAt(0);
  return x;
};
const ways: Array<[string, () => void]> = [
  [
    "parse (readEvtxFile)",
    () => {
      for (const _ of readEvtxFile(file));
    },
  ],
  [
    "+ event data strings read",
    () => {
      for (const r of readEvtxFile(file)) eventDataText(r);
    },
  ],
  [
    "+ Winlogbeat conversion",
    () => {
      for (const r of readEvtxFile(file)) evtxToWinlogbeat(r);
    },
  ],
  [
    "+ limit check",
    () => {
      for (const r of readEvtxFile(file)) limitProblem(evtxToWinlogbeat(r));
    },
  ],
  [
    "+ JSON.stringify",
    () => {
      for (const r of readEvtxFile(file)) {
        const d = evtxToWinlogbeat(r);
        limitProblem(d);
        JSON.stringify(d);
      }
    },
  ],
  [
    "readEvents + JSON.stringify (bench-evtx's convert)",
    () => {
      for (const e of readEvents([file])) JSON.stringify(e.doc);
    },
  ],
];
const cpu = (f: () => void) => {
  const c0 = process.cpuUsage();
  f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
};
const times = ways.map(() => [] as number[]);
for (const [, f] of ways) f();
for (let r = 0; r < ROUNDS; r++) for (const [i, [, f]] of ways.entries()) times[i]!.push(cpu(f));
rmSync(tmp, { recursive: true, force: true });
for (const [i, [name]] of ways.entries()) {
  const xs = [...times[i]!].sort((a, b) => a - b);
  console.log(`${name.padEnd(52)} best ${xs[0]!.toFixed(3)} s, median ${xs[Math.floor(xs.length / 2)]!.toFixed(3)} s`);
}
console.log(`load average (1 min) at the end: ${os.loadavg()[0]!.toFixed(2)}`);
