/**
 * The measuring half of scripts/bench-ingest: bulk-indexes the same generated winlogbeat corpus
 * several ways in one run and records throughputs and ratios in BENCHMARKS.md:
 *   none      no pipeline
 *   naive     one script processor per rule, each with its own `if` running that rule (same
 *             matcher and tagger, params per processor): the baseline to beat
 *   ours      the compiled pipeline (one processor, every rule in params, index keys)
 *   ours-nokeys  (--ablation) ours with every rule a candidate for every event
 *   ours-noaside (--ablation) ours without the processor that sets clashing values aside
 * Each way: a fresh index with the winlogbeat template, the pipeline as `index.default_pipeline`,
 * a warm-up bulk (scripts compile, caches fill) into a throwaway index, then the timed bulk.
 *
 *   bun scripts/bench-ingest.ts [--size 100000] [--naive-size 10000] [--seed 7] [--batch 1000]
 *                               [--concurrency 2] [--warmup 10000] [--ablation] [--index-mapping dynamic] [--record]
 *
 * --index-mapping dynamic: the indices get no template (ES's default dynamic mapping, as a SOC's
 * indices without our template); documents it refuses are counted (column "refused"). Recorded in its
 * own section.
 */
import os from "node:os";
import { connect } from "../src/cluster/connection/client.ts";
import { engineOf } from "../src/cluster/connection/engine.ts";
import { recordSection } from "./benchmarks-file.ts";
import { buildPipeline } from "../src/emit/painless/pipeline.ts";
import { buildNaivePipeline, withoutIndexKeys } from "./lib/naive-pipeline.ts";
import { loadProfile } from "../src/mapping/index.ts";
import { WINDOWS_GUARD_COSTS } from "../src/mapping/windows-profile.ts";
import { generateEvents } from "../test/helpers/gen-events.ts";
import { SHARED, SKIP_MESSAGE, windowsRules } from "../test/helpers/windows-rules.ts";
import { arg, flag } from "./lib/args.ts";

const SIZE = Number(arg("size", "100000"));
const NAIVE_SIZE = Math.min(SIZE, Number(arg("naive-size", "10000")));
// Elasticsearch 7.x runs a pipeline's processors by nested callbacks: ~2,800 processors overflow the
// write thread's stack (StackOverflowError, the bulk never answers). The naive pipeline is therefore
// measured with an evenly spread sample of the rules and its cost extrapolated per rule.
const NAIVE_RULES = Number(arg("naive-rules", "400"));
const SEED = Number(arg("seed", "7"));
const BATCH = Number(arg("batch", "1000"));
const CONC = Number(arg("concurrency", "2"));
const WARMUP = Number(arg("warmup", "10000"));
const NODE = process.env.ES_URL ?? "http://127.0.0.1:9200";
const DYNAMIC = arg("index-mapping", "ours") === "dynamic";

if (!SHARED) {
  console.error(SKIP_MESSAGE);
  process.exit(2);
}

const cluster = await connect({ node: NODE, timeoutMs: 600_000 });
const { client } = cluster;
const rules = windowsRules();
const docs = generateEvents(rules, SIZE, SEED);
const lines = docs.map((d) => JSON.stringify(d.source));
const template = DYNAMIC ? { settings: {}, mappings: undefined } : loadProfile("winlogbeat").indexTemplate();
const tag = `bench-ingest-${Date.now().toString(36)}`;

interface Way {
  name: string;
  processors?: object[];
  docs: number;
  note: string;
}

async function bulkAll(index: string, from: number, to: number): Promise<{ errors: number }> {
  let next = from;
  let errors = 0;
  const worker = async () => {
    while (next < to) {
      const start = next;
      next = Math.min(to, next + BATCH);
      let body = "";
      for (let i = start; i < next; i++)
        body += `{"index":{"_index":"${index}","_id":"${docs[i]!.id}"}}\n${lines[i]}\n`;
      const res: any = await client.bulk({ body } as any);
      if (res.errors) errors += res.items.filter((it: any) => it.index?.error).length;
    }
  };
  await Promise.all(Array.from({ length: CONC }, worker));
  return { errors };
}

async function run(way: Way): Promise<{ seconds: number; errors: number; tagged: number; pipelineMs?: number }> {
  const pipeline = `${tag}-${way.name}`;
  const index = `${tag}-${way.name}`;
  const settings: Record<string, unknown> = { ...template.settings, refresh_interval: "-1" };
  if (way.processors) {
    await client.ingest.putPipeline({ id: pipeline, processors: way.processors } as any);
    settings["index.default_pipeline"] = pipeline;
  }
  try {
    // warm-up: compile the scripts, fill caches (a throwaway index)
    await client.indices.create({
      index: `${index}-warm`,
      settings,
      ...(template.mappings ? { mappings: template.mappings } : {}),
    } as any);
    await bulkAll(`${index}-warm`, 0, Math.min(way.docs, WARMUP));
    await client.indices.delete({ index: `${index}-warm` });
    await client.indices.create({
      index,
      settings,
      ...(template.mappings ? { mappings: template.mappings } : {}),
    } as any);
    const before = way.processors ? await pipelineStats(pipeline) : undefined;
    const t0 = performance.now();
    const { errors } = await bulkAll(index, 0, way.docs);
    const seconds = (performance.now() - t0) / 1000;
    const after = way.processors ? await pipelineStats(pipeline) : undefined;
    await client.indices.refresh({ index });
    const tagged: any = await client.count({ index, query: { exists: { field: "outliers.rule_id" } } } as any);
    return { seconds, errors, tagged: tagged.count, pipelineMs: after && before ? after - before : undefined };
  } finally {
    await client.indices.delete({ index: `${index}*` } as any).catch(() => {});
    if (way.processors) await client.ingest.deletePipeline({ id: pipeline }).catch(() => {});
  }
}

async function pipelineStats(id: string): Promise<number> {
  const s: any = await client.nodes.stats({ metric: "ingest" } as any);
  let ms = 0;
  for (const n of Object.values<any>(s.nodes)) ms += n.ingest?.pipelines?.[id]?.time_in_millis ?? 0;
  return ms;
}

const ours = buildPipeline(rules, { guardCosts: WINDOWS_GUARD_COSTS });
const ways: Way[] = [
  { name: "none", docs: SIZE, note: "no pipeline" },
  {
    name: "ours",
    processors: ours.processors,
    docs: SIZE,
    note: `one script processor, ${ours.ruleIds.length} rules in params, index keys`,
  },
];
if (flag("ablation")) {
  const nokeys = withoutIndexKeys(buildPipeline(rules, { guardCosts: WINDOWS_GUARD_COSTS }));
  ways.push({
    name: "ours-nokeys",
    processors: nokeys.processors,
    docs: SIZE,
    note: "ours, every rule a candidate for every event",
  });
  const noAside = ours.processors.filter((p: any) => p.script?.tag !== "outliers-set-aside");
  ways.push({
    name: "ours-noaside",
    processors: noAside,
    docs: SIZE,
    note: "ours without the set-aside processor (the cost of set-aside.ts)",
  });
  const one = buildPipeline(rules.slice(0, 1), { guardCosts: WINDOWS_GUARD_COSTS });
  ways.push({
    name: "ours-1rule",
    processors: one.processors,
    docs: SIZE,
    note: "ours with a single rule (the fixed cost of the script processor)",
  });
}
const step = Math.max(1, Math.floor(rules.length / NAIVE_RULES));
const naiveRules = rules.filter((_, i) => i % step === 0).slice(0, NAIVE_RULES);
const naive = buildNaivePipeline(naiveRules, { scriptIds: { cond: `${tag}-if`, tag: `${tag}-tag` } });
for (const [id, script] of Object.entries(naive.scripts)) await client.putScript({ id, script } as any);
ways.push({
  name: "naive",
  processors: naive.processors,
  docs: NAIVE_SIZE,
  note: `${naive.processors.length} script processors (every ${step}th rule), each with its own \`if\``,
});

const load0 = os.loadavg()[0]!;
const jvm: any = await client.nodes.stats({ metric: "jvm" } as any);
const nodeCount = Object.keys(jvm.nodes).length;
const heapGiB = Math.max(...Object.values<any>(jvm.nodes).map((n) => n.jvm.mem.heap_max_in_bytes)) / 2 ** 30;
const results: { way: Way; seconds: number; errors: number; tagged: number; pipelineMs?: number }[] = [];
for (const way of ways) {
  process.stderr.write(`${way.name}: ${way.docs} docs… `);
  const r = await run(way);
  process.stderr.write(
    `${r.seconds.toFixed(1)} s, ${(way.docs / r.seconds).toFixed(0)} docs/s, ${r.errors} refused, ${r.tagged} tagged\n`,
  );
  results.push({ way, ...r });
}
const load1 = os.loadavg()[0]!;
for (const id of Object.keys(naive.scripts)) await client.deleteScript({ id }).catch(() => {});

const base = results.find((r) => r.way.name === "none")!;
const perDoc = (r: (typeof results)[number]) => r.seconds / r.way.docs;
const rows = results.map((r) => {
  const ratio = perDoc(r) / perDoc(base);
  // OpenSearch's ingest time_in_millis gave impossible per-document times here (more than the wall time): left out.
  const pipe =
    r.pipelineMs !== undefined && cluster.info.distribution !== "opensearch"
      ? `${((r.pipelineMs * 1000) / r.way.docs).toFixed(0)} µs`
      : "–";
  return `| ${r.way.name} | ${r.way.note} | ${r.way.docs} | ${r.seconds.toFixed(1)} s | **${(r.way.docs / r.seconds).toFixed(0)}** | **${ratio.toFixed(2)}×** | ${pipe} | ${r.tagged} | ${r.errors} |`;
});
const nv = results.find((r) => r.way.name === "naive");
if (nv) {
  const factor = ours.ruleIds.length / naive.processors.length;
  const extra = (perDoc(nv) - perDoc(base)) * factor + perDoc(base);
  rows.push(
    `| naive (extrapolated) | ${ours.ruleIds.length} processors: pipeline cost of the sample × ${factor.toFixed(2)} | – | – | ${(1 / extra).toFixed(0)} | ${(extra / perDoc(base)).toFixed(2)}× | ${nv.pipelineMs !== undefined && cluster.info.distribution !== "opensearch" ? `${((nv.pipelineMs * 1000 * factor) / nv.way.docs).toFixed(0)} µs` : "–"} | – | – |`,
  );
}
// OpenSearch runs get their own section (ES_URL names the node; the engine is read from it).
const engine = engineOf(cluster.info);
const onOpenSearch = cluster.info.distribution === "opensearch";
const mark = (DYNAMIC ? "bench-ingest-dynamic" : "bench-ingest") + (onOpenSearch ? "-opensearch" : "");
const cmd = `${onOpenSearch ? `ES_URL=${NODE} ` : ""}scripts/bench-ingest --size ${SIZE} --naive-size ${NAIVE_SIZE} --naive-rules ${NAIVE_RULES} --seed ${SEED} --batch ${BATCH} --concurrency ${CONC}${flag("ablation") ? " --ablation" : ""}${DYNAMIC ? " --index-mapping dynamic" : ""}`;
const section = `<!-- ${mark}:begin -->
## Live tagging (ingest)${DYNAMIC ? ", ES dynamic mapping (no template)" : ""}${onOpenSearch ? ` on ${engine.label}` : ""}

Command: \`${cmd}\`; measured ${new Date().toISOString().slice(0, 16)}Z against ${engine.label} at ${NODE}
(${nodeCount} node(s), ${heapGiB.toFixed(0)} GiB heap) on ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}; load average ${load0.toFixed(2)} before, ${load1.toFixed(2)} after
(one-minute load averages of the whole machine, which may be shared).
Corpus: ${SIZE} generated winlogbeat events (test/helpers/gen-events.ts, seed ${SEED}); rules: every Windows rule of
../shared/sigma/rules* (${rules.length}; ${ours.ruleIds.length} live). Bulk of ${BATCH} docs, ${CONC} requests at a time, refresh off;
each way indexes into a fresh index with ${DYNAMIC ? "NO template (ES's default dynamic mapping; documents it refuses are counted, not retried)" : "the winlogbeat template"} after a ${WARMUP}-doc warm-up (Painless is JIT-compiled: a cold script is several times slower). The naive pipeline runs on the first
${NAIVE_SIZE} events only (it is that slow) and with ${NAIVE_RULES} of the rules: with all of them, Elasticsearch 7.10 overflows the write
thread's stack (its processors run by nested callbacks; the bulk request never answers), so its full-ruleset cost is extrapolated
linearly per rule from the sample. Throughput is what compares.

| way | what | docs | time | docs/s | cost vs no pipeline | pipeline time/doc | tagged docs | refused |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join("\n")}

"cost vs no pipeline" is (time per document) / (time per document without pipeline); the goal for ours is ≤ 2×.
"pipeline time/doc" is Elasticsearch's own ingest stat for the pipeline (time_in_millis / docs); 7.10 rounds each
document's time down to whole milliseconds, so it undercounts a pipeline that takes well under 1 ms per document.${
  mark === "bench-ingest"
    ? ""
    : "\nOn OpenSearch that stat gave per-document times above the wall time per document, so the column is left empty."
}
<!-- ${mark}:end -->`;
console.log(section);

if (flag("record")) {
  const file = recordSection(new RegExp(`<!-- ${mark}:begin -->[\\s\\S]*?<!-- ${mark}:end -->`), section);
  console.error(`recorded in ${file}`);
}
