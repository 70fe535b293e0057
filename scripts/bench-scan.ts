/**
 * The measuring half of scripts/bench-scan: the same generated winlogbeat events, with every Windows
 * rule of ../shared/sigma/rules*, (1) scanned locally by the binary (`dist/outliers scan RULES --events
 * FILE`: reading, JSON parsing, the JavaScript matcher and tagger, the table; rule compilation
 * included) and (2) bulk-indexed into a fresh index through the compiled ingest pipeline (after a
 * warm-up, as scripts/bench-ingest). Events per second of each and their ratio, measured in one run;
 * both must tag the same number of events.
 *
 *   bun scripts/bench-scan.ts [--size 1000000] [--seed 7] [--batch 1000] [--concurrency 2] [--warmup 10000] [--record]
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { connect } from "../src/cluster/connection/client.ts";
import { buildPipeline } from "../src/emit/painless/pipeline.ts";
import { loadProfile } from "../src/mapping/index.ts";
import { WINDOWS_GUARD_COSTS } from "../src/mapping/windows-profile.ts";
import { generateEvents } from "../test/helpers/gen-events.ts";
import { SHARED, SKIP_MESSAGE, windowsRules } from "../test/helpers/windows-rules.ts";
import { recordSection } from "./benchmarks-file.ts";

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] && !process.argv[i + 1]!.startsWith("--") ? process.argv[i + 1]! : def;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

const SIZE = Number(arg("size", "1000000"));
const SEED = Number(arg("seed", "7"));
const BATCH = Number(arg("batch", "1000"));
const CONC = Number(arg("concurrency", "2"));
const WARMUP = Number(arg("warmup", "10000"));
const NODE = process.env.ES_URL ?? "http://127.0.0.1:9200";
const BIN = path.resolve(import.meta.dir, "../dist/outliers");
/** Events generated (and held) at a time: a million events at once would not fit beside the node. */
const CHUNK = 100_000;

if (!SHARED) {
  console.error(SKIP_MESSAGE);
  process.exit(2);
}

const cluster = await connect({ node: NODE, timeoutMs: 600_000 });
const { client } = cluster;
const rules = windowsRules();
const files = [...new Set(rules.map((r) => r.source.path))];
const dir = mkdtempSync(path.join(os.tmpdir(), "bench-scan-"));
const eventsFile = path.join(dir, "events.ndjson");

// The corpus, written once as NDJSON (generated in chunks of different seeds).
process.stderr.write(`generating ${SIZE} events… `);
const fd = openSync(eventsFile, "w");
for (let done = 0, k = 0; done < SIZE; k++) {
  const n = Math.min(CHUNK, SIZE - done);
  const docs = generateEvents(rules, n, SEED + k);
  writeSync(fd, docs.map((d) => JSON.stringify(d.source)).join("\n") + "\n");
  done += n;
}
closeSync(fd);
process.stderr.write("done\n");

const load0 = os.loadavg()[0]!;

// (1) the local scan, the binary end to end.
process.stderr.write("scan… ");
const t0 = performance.now();
const scan = Bun.spawnSync([BIN, "scan", ...files, "--events", eventsFile], { stdout: "pipe", stderr: "pipe" });
const scanSeconds = (performance.now() - t0) / 1000;
const scanOut = scan.stdout.toString();
if (scan.exitCode !== 0) throw new Error(`scan exited ${scan.exitCode}: ${scan.stderr.toString().slice(0, 2000)}`);
const m = /^([\d,]+) event\(s\), ([\d,]+) tagged/m.exec(scanOut);
if (!m) throw new Error(`no totals in the scan output: ${scanOut.slice(0, 500)}`);
const scanEvents = Number(m[1]!.replace(/,/g, ""));
const scanTagged = Number(m[2]!.replace(/,/g, ""));
process.stderr.write(
  `${scanSeconds.toFixed(1)} s, ${(SIZE / scanSeconds).toFixed(0)} events/s, ${scanTagged} tagged\n`,
);

// (2) ingest through the compiled pipeline.
const built = buildPipeline(rules, { guardCosts: WINDOWS_GUARD_COSTS });
const template = loadProfile("winlogbeat").indexTemplate();
const tag = `bench-scan-${Date.now().toString(36)}`;
await client.ingest.putPipeline({ id: tag, processors: built.processors, on_failure: built.on_failure } as any);
const settings = { ...template.settings, refresh_interval: "-1", "index.default_pipeline": tag };

async function bulkFile(index: string, limit: number): Promise<number> {
  let refused = 0;
  let sent = 0;
  const reader = Bun.file(eventsFile).stream().pipeThrough(new TextDecoderStream());
  let rest = "";
  let batch: string[] = [];
  const inflight = new Set<Promise<void>>();
  const send = async (lines: string[]) => {
    let body = "";
    for (const l of lines) body += `{"index":{"_index":"${index}"}}\n${l}\n`;
    const res: any = await client.bulk({ body } as any);
    if (res.errors) refused += res.items.filter((it: any) => it.index?.error).length;
  };
  const push = async () => {
    const p = send(batch).finally(() => inflight.delete(p));
    inflight.add(p);
    batch = [];
    if (inflight.size >= CONC) await Promise.race(inflight);
  };
  for await (const chunk of reader) {
    const text = rest + chunk;
    let start = 0;
    for (let nl = text.indexOf("\n"); nl >= 0 && sent < limit; nl = text.indexOf("\n", start)) {
      batch.push(text.slice(start, nl));
      start = nl + 1;
      sent++;
      if (batch.length === BATCH) await push();
    }
    rest = text.slice(start);
    if (sent >= limit) break;
  }
  if (batch.length) await push();
  await Promise.all(inflight);
  return refused;
}

let ingestSeconds = 0;
let ingestTagged = 0;
let refused = 0;
try {
  await client.indices.create({ index: `${tag}-warm`, settings, mappings: template.mappings } as any);
  await bulkFile(`${tag}-warm`, WARMUP);
  await client.indices.delete({ index: `${tag}-warm` });
  await client.indices.create({ index: tag, settings, mappings: template.mappings } as any);
  process.stderr.write("ingest with the pipeline… ");
  const t1 = performance.now();
  refused = await bulkFile(tag, SIZE);
  ingestSeconds = (performance.now() - t1) / 1000;
  await client.indices.refresh({ index: tag });
  ingestTagged = ((await client.count({ index: tag, query: { exists: { field: "outliers.rule_id" } } } as any)) as any)
    .count;
  process.stderr.write(
    `${ingestSeconds.toFixed(1)} s, ${(SIZE / ingestSeconds).toFixed(0)} events/s, ${ingestTagged} tagged, ${refused} refused\n`,
  );
} finally {
  await client.indices.delete({ index: `${tag}*` } as any).catch(() => {});
  await client.ingest.deletePipeline({ id: tag }).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}
const load1 = os.loadavg()[0]!;
if (scanEvents !== SIZE) throw new Error(`scan read ${scanEvents} events, not ${SIZE}`);
const same = scanTagged === ingestTagged && refused === 0;

const cmd = `scripts/bench-scan --size ${SIZE} --seed ${SEED} --batch ${BATCH} --concurrency ${CONC} --warmup ${WARMUP}`;
const scanRate = SIZE / scanSeconds;
const ingestRate = SIZE / ingestSeconds;
const section = `<!-- bench-scan:begin -->
## Local scan vs live tagging

Command: \`${cmd}\`; measured ${new Date().toISOString().slice(0, 16)}Z against ${cluster.info.version} at ${NODE}
on ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, shared with other work (load average ${load0.toFixed(1)} before, ${load1.toFixed(1)} after).
Corpus: ${SIZE.toLocaleString("en-US")} generated winlogbeat events (test/helpers/gen-events.ts, seeds from ${SEED}, NDJSON); rules: every Windows
rule of ../shared/sigma/rules* (${rules.length}; ${built.ruleIds.length} live). Scan: \`dist/outliers scan RULE-FILES --events FILE\`, one process,
wall clock from start to exit (rule compilation, reading and parsing, matching, tagging, the table). Ingest: bulk of ${BATCH} docs,
${CONC} requests at a time, refresh off, into a fresh index whose default pipeline is the compiled one, after a ${WARMUP}-doc warm-up. The scan
runs on one thread; the node (1 node, same machine) uses both cores. Other engineers' work shared the 2 cores during the run.

| way | events | time | events/s | tagged events |
| --- | --- | --- | --- | --- |
| scan (local, JavaScript matcher) | ${SIZE} | ${scanSeconds.toFixed(1)} s | **${scanRate.toFixed(0)}** | ${scanTagged} |
| ingest through the pipeline | ${SIZE} | ${ingestSeconds.toFixed(1)} s | **${ingestRate.toFixed(0)}** | ${ingestTagged} |

Scan / ingest throughput: **${(scanRate / ingestRate).toFixed(2)}×**${same ? " (both tagged the same events count)" : ` — tagged counts DIFFER (refused ${refused})`}.
<!-- bench-scan:end -->`;
console.log(section);
if (flag("record")) {
  const file = recordSection(/<!-- bench-scan:begin -->[\s\S]*?<!-- bench-scan:end -->/, section);
  console.error(`recorded in ${file}`);
}
if (!same) process.exitCode = 1;
