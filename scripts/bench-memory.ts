/**
 * Peak memory of `ingest` and `scan` on large inputs (issue 22.6): both stream, so RSS should stay at a
 * few hundred MB whatever the input size. Generates under /tmp (never in the repository):
 *
 * - an NDJSON file of `--ndjson-mb` MB: `scripts/gen-events` output repeated, each copy's
 *   `winlog.record_id` shifted so that every event is distinct;
 * - a folder of `--evtx-mb` MB of `.evtx` files: copies of every `.evtx` under ../shared/sigma/regression;
 *
 * then runs, each under `/usr/bin/time -v` (peak RSS = "Maximum resident set size"), with the load
 * average read before and after:
 *
 * - `scan RULES --events FILE` on the whole NDJSON and on the whole .evtx folder;
 * - `ingest` of the first `--ingest-ndjson-mb` MB of the NDJSON and `--ingest-evtx-mb` MB of the .evtx
 *   copies into the shared node (`ES_URL`), index `ingest-bench-<stamp>` (deleted afterwards), with
 *   `--no-ids` so that the copies are all indexed;
 * - with `--baseline BIN` the same ingest and NDJSON scan with another build (e.g. main's) for comparison.
 *
 *   ES_URL=http://127.0.0.1:9200 scripts/bench-memory [--ndjson-mb 2048] [--evtx-mb 1024]
 *       [--ingest-ndjson-mb 200] [--ingest-evtx-mb 100] [--rules rules/windows] [--baseline BIN] [--record] [--keep]
 */
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { loadavg } from "node:os";
import path from "node:path";
import { Glob } from "bun";
import { arg, flag } from "./lib/args.ts";
import { recordSection } from "./benchmarks-file.ts";

const ROOT = path.resolve(import.meta.dir, "..");
const BIN = path.join(ROOT, "dist/outliers");
const REGRESSION = path.resolve(ROOT, "../shared/sigma/regression");
const ES = process.env.ES_URL ?? "http://127.0.0.1:9200";
const MB = 1 << 20;

const ndjsonMb = Number(arg("ndjson-mb", "2048"));
const evtxMb = Number(arg("evtx-mb", "1024"));
const ingestNdjsonMb = Number(arg("ingest-ndjson-mb", "200"));
const ingestEvtxMb = Number(arg("ingest-evtx-mb", "100"));
const rules = path.resolve(ROOT, arg("rules", "rules/windows"));
const baseline = arg("baseline", "");
const work = path.join("/tmp", `outliers-bench-memory-${Date.now().toString(36)}`);
mkdirSync(work, { recursive: true });

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");

/** Writes `mb` MB of distinct events: gen-events' output repeated with record ids shifted per copy. */
function makeNdjson(file: string, mb: number): { bytes: number; events: number } {
  const base = path.join(work, "base.ndjson");
  if (!existsSync(base)) {
    const g = Bun.spawnSync(
      ["bash", path.join(ROOT, "scripts/gen-events"), "--count", "20000", "--seed", "7", "--out", base],
      { cwd: ROOT, stdout: "ignore", stderr: "pipe" },
    );
    if (g.exitCode !== 0) throw new Error(`gen-events failed: ${g.stderr.toString()}`);
  }
  const docs = readFileSync(base, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, any>);
  const fd = openSync(file, "w");
  let bytes = 0;
  let events = 0;
  for (let copy = 0; bytes < mb * MB; copy++) {
    let buf = "";
    for (const d of docs) {
      const w = d.winlog;
      const rid = w?.record_id;
      if (w && rid !== undefined) w.record_id = Number(rid) + copy * 1_000_000;
      d.bench_copy = copy;
      buf += JSON.stringify(d) + "\n";
      if (w && rid !== undefined) w.record_id = rid;
      events++;
    }
    bytes += writeSync(fd, buf);
  }
  closeSync(fd);
  return { bytes, events };
}

/** Copies every regression .evtx into `dir/copy-N/` until `mb` MB. */
function makeEvtx(dir: string, mb: number): { bytes: number; files: number } {
  const files = [...new Glob("**/*.evtx").scanSync({ cwd: REGRESSION })].sort();
  if (files.length === 0) throw new Error(`no .evtx under ${REGRESSION}`);
  let bytes = 0;
  let n = 0;
  for (let copy = 0; bytes < mb * MB; copy++) {
    const d = path.join(dir, `copy-${copy}`);
    mkdirSync(d, { recursive: true });
    for (const f of files) {
      if (bytes >= mb * MB) break;
      const to = path.join(d, `${n}-${path.basename(f)}`);
      copyFileSync(path.join(REGRESSION, f), to);
      bytes += statSync(to).size;
      n++;
    }
  }
  return { bytes, files: n };
}

interface Measured {
  what: string;
  command: string;
  inputMb: number;
  rssMb: number;
  seconds: number;
  events?: number;
  loadBefore: string;
  loadAfter: string;
  exit: number;
}

function timed(what: string, args: string[], inputBytes: number, events?: number): Measured {
  const loadBefore = load();
  const started = Date.now();
  // time's report goes to its own file: the command's stderr may be long.
  const report = path.join(work, "time.txt");
  const p = Bun.spawnSync(["/usr/bin/time", "-v", "-o", report, ...args], {
    cwd: work,
    stdout: "ignore",
    stderr: "pipe",
  });
  const seconds = (Date.now() - started) / 1000;
  const err = readFileSync(report, "utf8");
  const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(err)?.[1] ?? "0") / 1024;
  const m: Measured = {
    what,
    command: args.map((a) => a.replace(ROOT + "/", "").replace(work, "$TMP")).join(" "),
    inputMb: inputBytes / MB,
    rssMb: rss,
    seconds,
    events,
    loadBefore,
    loadAfter: load(),
    exit: p.exitCode ?? -1,
  };
  if (m.exit !== 0 && m.exit !== 1) console.error(`${what}: exit ${m.exit}\n${p.stderr.toString().slice(-2000)}`);
  console.log(
    `${what}: ${m.inputMb.toFixed(0)} MB in ${seconds.toFixed(1)}s (${(m.inputMb / seconds).toFixed(1)} MB/s), peak RSS ${rss.toFixed(0)} MB, exit ${m.exit}, load ${loadBefore} → ${m.loadAfter}`,
  );
  return m;
}

/** The first `mb` MB of an NDJSON file (whole lines). */
function headNdjson(from: string, to: string, mb: number): { bytes: number; events: number } {
  const fd = openSync(from, "r");
  const out = openSync(to, "w");
  const buf = Buffer.allocUnsafe(4 * MB);
  let bytes = 0;
  let events = 0;
  let rest = Buffer.alloc(0);
  while (bytes < mb * MB) {
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n <= 0) break;
    const chunk = Buffer.concat([rest, buf.subarray(0, n)]);
    const last = chunk.lastIndexOf(10);
    const whole = chunk.subarray(0, last + 1);
    rest = Buffer.from(chunk.subarray(last + 1));
    bytes += writeSync(out, whole);
    for (let i = 0; i < whole.length; i++) if (whole[i] === 10) events++;
  }
  closeSync(fd);
  closeSync(out);
  return { bytes, events };
}

function evtxSubset(dir: string, to: string, mb: number): number {
  mkdirSync(to, { recursive: true });
  let bytes = 0;
  for (const sub of readdirSync(dir).sort()) {
    for (const f of readdirSync(path.join(dir, sub)).sort()) {
      if (bytes >= mb * MB) return bytes;
      copyFileSync(path.join(dir, sub, f), path.join(to, f));
      bytes += statSync(path.join(to, f)).size;
    }
  }
  return bytes;
}

const results: Measured[] = [];
const index = `ingest-bench-${Date.now().toString(36)}`;
try {
  console.log(`work dir ${work}; generating ${ndjsonMb} MB NDJSON and ${evtxMb} MB of .evtx …`);
  const big = path.join(work, "big.ndjson");
  const nd = makeNdjson(big, ndjsonMb);
  const evtxDir = path.join(work, "evtx");
  const ev = makeEvtx(evtxDir, evtxMb);
  console.log(
    `NDJSON ${(nd.bytes / MB).toFixed(0)} MB (${nd.events} events); .evtx ${(ev.bytes / MB).toFixed(0)} MB (${ev.files} files)`,
  );

  results.push(timed("scan NDJSON", [BIN, "scan", rules, "--events", big], nd.bytes, nd.events));
  results.push(timed("scan .evtx folder", [BIN, "scan", rules, "--events", evtxDir], ev.bytes));

  const small = path.join(work, "ingest.ndjson");
  const sn = headNdjson(big, small, ingestNdjsonMb);
  const ingestArgs = (bin: string, input: string, idx: string) => [
    bin,
    "ingest",
    input,
    "--index",
    idx,
    "--create",
    "--no-ids",
    "--no-refresh",
    "--json",
    "--node",
    ES,
  ];
  results.push(timed("ingest NDJSON", ingestArgs(BIN, small, index), sn.bytes, sn.events));
  const evSmall = path.join(work, "evtx-ingest");
  const eb = evtxSubset(evtxDir, evSmall, ingestEvtxMb);
  results.push(timed("ingest .evtx folder", ingestArgs(BIN, evSmall, index), eb));
  if (baseline) {
    // The other build reads one file: the same NDJSON.
    const base = [
      baseline,
      "ingest",
      small,
      "--index",
      `${index}-baseline`,
      "--no-ids",
      "--no-refresh",
      "--json",
      "--node",
      ES,
    ];
    results.push(timed("ingest NDJSON (baseline build)", base, sn.bytes, sn.events));
    results.push(
      timed("scan NDJSON (baseline build)", [baseline, "scan", rules, "--events", small], sn.bytes, sn.events),
    );
  }
} finally {
  // One by one: a multi-index DELETE fails whole when one of them was never created.
  for (const i of [index, `${index}-baseline`]) await fetch(`${ES}/${i}`, { method: "DELETE" }).catch(() => {});
  if (!flag("keep")) rmSync(work, { recursive: true, force: true });
}

if (flag("record")) {
  const rows = results.map(
    (m) =>
      `| ${m.what} | ${m.inputMb.toFixed(0)} MB${m.events ? ` (${m.events.toLocaleString("en-US")} events)` : ""} | ${m.rssMb.toFixed(0)} MB | ${m.seconds.toFixed(0)} s | ${(m.inputMb / m.seconds).toFixed(1)} MB/s${m.events ? `, ${Math.round(m.events / m.seconds).toLocaleString("en-US")} ev/s` : ""} | ${m.loadBefore} → ${m.loadAfter} | \`${m.command}\` |`,
  );
  const section = `## Memory: ingest and scan stream (scripts/bench-memory)

\`ES_URL=${ES} scripts/bench-memory --ndjson-mb ${ndjsonMb} --evtx-mb ${evtxMb} --ingest-ndjson-mb ${ingestNdjsonMb} --ingest-evtx-mb ${ingestEvtxMb}${baseline ? " --baseline BIN" : ""} --record\`
(${new Date().toISOString().slice(0, 10)}; peak RSS from \`/usr/bin/time -v\`; load average 1/5/15 min before → after; rules: ${path.relative(ROOT, rules)}).
The NDJSON is \`scripts/gen-events\` output repeated (record ids shifted per copy); the .evtx set is copies of every
\`.evtx\` under ../shared/sigma/regression in a folder tree. Ingest uses \`--no-ids\` so that every copy is indexed.

| run | input | peak RSS | wall | throughput | load | command |
| --- | --- | --- | --- | --- | --- | --- |
${rows.join("\n")}
`;
  console.log(`recorded in ${recordSection(/## Memory: ingest and scan stream[\s\S]*?(?=\n## |$)/, section)}`);
}
