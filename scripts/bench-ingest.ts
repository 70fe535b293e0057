/**
 * The measuring half of scripts/bench-ingest: bulk-indexes the same generated winlogbeat corpus
 * several ways, interleaved in rounds after a shared warm-up (scripts/lib/rounds.ts), and records
 * medians, spreads and per-round ratios in BENCHMARKS.md:
 *   none        no pipeline
 *   any-pipeline a pipeline of one no-op processor: what the engine charges for running any pipeline
 *   aside       the set-aside processor alone
 *   ours-1rule  set-aside + the tagging script with one rule (the script's fixed cost)
 *   ours        the compiled pipeline (one processor, every rule in params, index keys)
 *   ours-nokeys (--ablation) ours with every rule a candidate for every event
 *   naive       (--naive) one script processor per rule, each with its own `if` (a sample of the rules,
 *               extrapolated): the baseline to beat
 *   ours-match  (--phases) set-aside + the matcher over every rule, hits discarded (no tagging)
 *   tagged      (--phases) no pipeline, each document as the tagger would write it (tagged beforehand
 *               by the JavaScript twin): what indexing the tags costs the engine
 * The differences between none, aside, ours-1rule and ours are the per-phase costs; with --phases,
 * ours-match splits matching from tagging, and tagged - none is the engine's cost of the written tags.
 *
 *   bun scripts/bench-ingest.ts [--size 50000] [--rounds 4] [--warmup 20000] [--seed 7] [--batch 1000]
 *                               [--concurrency 2] [--ablation] [--phases] [--naive [--naive-size 10000] [--naive-rules 400]]
 *                               [--index-mapping dynamic] [--ways ours,…] [--record]
 *
 * --index-mapping dynamic: the indices get no template (ES's default dynamic mapping, as a SOC's
 * indices without our template); documents it refuses are counted (column "refused"). Recorded in its
 * own section. A run whose way doing more work beats a way doing less (in node CPU time) is flagged and
 * not recorded (within 5% for two ways closer than a round's noise; scripts/lib/rounds.ts inversions).
 * Rounds start each index from its way's warm-up mapping (warmMappings below).
 */
import os from "node:os";
import { connect } from "../src/cluster/connection/client.ts";
import { engineOf } from "../src/cluster/connection/engine.ts";
import { recordSection } from "./benchmarks-file.ts";
import { buildPipeline } from "../src/emit/painless/pipeline.ts";
import { Scanner } from "../src/local/scan.ts";
import { TAGGER_TAG } from "../src/emit/painless/rewrite.ts";
import { buildNaivePipeline, withoutIndexKeys } from "./lib/naive-pipeline.ts";
import { loadProfile } from "../src/mapping/index.ts";
import { WINDOWS_GUARD_COSTS } from "../src/mapping/windows-profile.ts";
import { generateEvents } from "../test/helpers/gen-events.ts";
import { SHARED, SKIP_MESSAGE, windowsRules } from "../test/helpers/windows-rules.ts";
import { arg, flag } from "./lib/args.ts";
import { inversions, interleave, loadLine, type RoundsResult, showSpread, spread, waySpread } from "./lib/rounds.ts";
import { median } from "./lib/stats.ts";

const SIZE = Number(arg("size", "50000"));
const ROUNDS = Number(arg("rounds", "4"));
const NAIVE = flag("naive");
const NAIVE_SIZE = Math.min(SIZE, Number(arg("naive-size", "10000")));
// Elasticsearch 7.x runs a pipeline's processors by nested callbacks: ~2,800 processors overflow the
// write thread's stack (StackOverflowError, the bulk never answers). The naive pipeline is therefore
// measured with an evenly spread sample of the rules and its cost extrapolated per rule.
const NAIVE_RULES = Number(arg("naive-rules", "400"));
const SEED = Number(arg("seed", "7"));
const BATCH = Number(arg("batch", "1000"));
const CONC = Number(arg("concurrency", "2"));
const WARMUP = Number(arg("warmup", "20000"));
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
const PHASES = flag("phases");
/** --phases: each document as live tagging writes it (set aside, matched and tagged by the JS twin). */
const taggedLines = PHASES
  ? (() => {
      const scanner = new Scanner(rules, { guardCosts: WINDOWS_GUARD_COSTS });
      return docs.map((d, i) => {
        const doc = JSON.parse(lines[i]!);
        scanner.scan({ doc, file: "bench", line: i + 1 } as any);
        return JSON.stringify(doc);
      });
    })()
  : [];
const template = DYNAMIC ? { settings: {}, mappings: undefined } : loadProfile("winlogbeat").indexTemplate();
const tag = `bench-ingest-${Date.now().toString(36)}`;

interface Way {
  name: string;
  processors?: object[];
  docs: number;
  note: string;
  /** The documents' JSON lines (default: the generated events as they are). */
  lines?: string[];
}

async function bulkAll(index: string, from: number, to: number, src = lines): Promise<{ errors: number }> {
  let next = from;
  let errors = 0;
  const worker = async () => {
    while (next < to) {
      const start = next;
      next = Math.min(to, next + BATCH);
      let body = "";
      for (let i = start; i < next; i++) body += `{"index":{"_index":"${index}","_id":"${docs[i]!.id}"}}\n${src[i]}\n`;
      const res: any = await client.bulk({ body } as any);
      if (res.errors) errors += res.items.filter((it: any) => it.index?.error).length;
    }
  };
  await Promise.all(Array.from({ length: CONC }, worker));
  return { errors };
}

interface Sample {
  seconds: number;
  errors: number;
  tagged: number;
  pipelineMs?: number;
  /** CPU time the node's process used during the bulk (ms): what the way cost, whatever else ran on the machine. */
  cpuMs: number;
}

/** Puts each way's pipeline once (kept for every round), and deletes them at the end. */
async function putPipelines(): Promise<void> {
  for (const way of ways)
    if (way.processors)
      await client.ingest.putPipeline({ id: `${tag}-${way.name}`, processors: way.processors } as any);
}

/**
 * Each way's mapping as its warm-up index ended up (the template plus the fields the documents and
 * tags added dynamically). The rounds' indices start from it, so they measure the steady state of an
 * index: otherwise every round pays a burst of dynamic mapping updates, each of which publishes a
 * cluster state holding every stored bench pipeline (3.4 MB of params apiece), and that cost, which
 * no real index pays after its first minutes, inflates every way (`none` included).
 */
const warmMappings = new Map<string, unknown>();

/** One run of a way: a fresh index wired to its pipeline, `docs` documents bulk-indexed and timed. Round -1: the warm-up. */
async function run(way: Way, round: number): Promise<Sample> {
  const pipeline = `${tag}-${way.name}`;
  const index = `${tag}-${way.name}-${round < 0 ? "warm" : round}`;
  const settings: Record<string, unknown> = { ...template.settings, refresh_interval: "-1" };
  if (way.processors) settings["index.default_pipeline"] = pipeline;
  const docCount = round < 0 ? Math.min(way.docs, WARMUP) : way.docs;
  const mappings = (round < 0 ? undefined : warmMappings.get(way.name)) ?? template.mappings;
  try {
    await client.indices.create({ index, settings, ...(mappings ? { mappings } : {}) } as any);
    const before = way.processors ? await pipelineStats(pipeline) : undefined;
    const cpu0 = await nodeCpuMs();
    const t0 = performance.now();
    const { errors } = await bulkAll(index, 0, docCount, way.lines);
    const seconds = (performance.now() - t0) / 1000;
    const cpuMs = (await nodeCpuMs()) - cpu0;
    const after = way.processors ? await pipelineStats(pipeline) : undefined;
    await client.indices.refresh({ index });
    if (round < 0) {
      const m: any = await client.indices.getMapping({ index } as any);
      warmMappings.set(way.name, m[index]?.mappings);
    }
    const tagged: any = await client.count({ index, query: { exists: { field: "outliers.rule_id" } } } as any);
    return { seconds, errors, tagged: tagged.count, pipelineMs: after && before ? after - before : undefined, cpuMs };
  } finally {
    await client.indices.delete({ index } as any).catch(() => {});
  }
}

/** CPU milliseconds used so far by the processes of the cluster's nodes. */
async function nodeCpuMs(): Promise<number> {
  const s: any = await client.nodes.stats({ metric: "process" } as any);
  let ms = 0;
  for (const n of Object.values<any>(s.nodes)) ms += n.process?.cpu?.total_in_millis ?? 0;
  return ms;
}

async function pipelineStats(id: string): Promise<number> {
  const s: any = await client.nodes.stats({ metric: "ingest" } as any);
  let ms = 0;
  for (const n of Object.values<any>(s.nodes)) ms += n.ingest?.pipelines?.[id]?.time_in_millis ?? 0;
  return ms;
}

const ours = buildPipeline(rules, { guardCosts: WINDOWS_GUARD_COSTS });
const setAside = ours.processors.filter((p: any) => p.script?.tag === "outliers-set-aside");
/** --phases: the tagger's body with matching only (every candidate evaluated, no tag written). */
const MATCH_ONLY = `def[] S = oxState(ctx, params);
int prev = -1;
int n = 0;
for (def ri : oxCands(S)) { if (ri == prev) { continue; } prev = ri; try { if (oxRule(S, ri)) { n++; } } catch (Exception e) {} }
ctx.put('outliers_bench_hits', n);
`;
const one = buildPipeline(rules.slice(0, 1), { guardCosts: WINDOWS_GUARD_COSTS });
const ways: Way[] = [
  { name: "none", docs: SIZE, note: "no pipeline" },
  {
    name: "any-pipeline",
    // The engine's own cost of running a pipeline at all (the source parsed into a map, written back).
    processors: [{ remove: { field: "outliers_bench_absent", ignore_missing: true } }],
    docs: SIZE,
    note: "a pipeline of one processor that does nothing (the engine's cost of any pipeline: the floor)",
  },
  { name: "aside", processors: setAside, docs: SIZE, note: "the set-aside processor alone (phase: set-aside)" },
  {
    name: "ours-1rule",
    processors: one.processors,
    docs: SIZE,
    note: "set-aside + the tagging script with a single rule (phase: the script's fixed cost)",
  },
  {
    name: "ours",
    processors: ours.processors,
    docs: SIZE,
    note: `one script processor, ${ours.ruleIds.length} rules in params, index keys`,
  },
];
if (PHASES) {
  const tagger = ours.processors.find((p: any) => p.script?.tag === TAGGER_TAG) as any;
  const matchOnly = {
    script: { ...tagger.script, source: tagger.script.source.replace(/outliersRun\(ctx, params\);\s*$/, MATCH_ONLY) },
  };
  ways.push(
    {
      name: "ours-match",
      processors: [...setAside, matchOnly],
      docs: SIZE,
      note: "set-aside + the matcher over every rule, hits not written (phases: candidates and evaluation)",
    },
    {
      name: "tagged",
      docs: SIZE,
      lines: taggedLines,
      note: "no pipeline, the documents as ours writes them (tagged beforehand by the JavaScript twin)",
    },
  );
}
if (flag("ablation")) {
  const nokeys = withoutIndexKeys(buildPipeline(rules, { guardCosts: WINDOWS_GUARD_COSTS }));
  ways.push({
    name: "ours-nokeys",
    processors: nokeys.processors,
    docs: SIZE,
    note: "ours, every rule a candidate for every event",
  });
}
const step = Math.max(1, Math.floor(rules.length / NAIVE_RULES));
const naiveRules = rules.filter((_, i) => i % step === 0).slice(0, NAIVE_RULES);
const naive = buildNaivePipeline(naiveRules, { scriptIds: { cond: `${tag}-if`, tag: `${tag}-tag` } });
if (NAIVE) {
  for (const [id, script] of Object.entries(naive.scripts)) await client.putScript({ id, script } as any);
  ways.push({
    name: "naive",
    processors: naive.processors,
    docs: NAIVE_SIZE,
    note: `${naive.processors.length} script processors (every ${step}th rule), each with its own \`if\``,
  });
}

// --ways a,b: only these ways (and `none`, every ratio's baseline), e.g. to profile one way alone (scripts/profile-node.ts).
const only = arg("ways", "");
if (only) {
  const keep = new Set(["none", ...only.split(",")]);
  for (let i = ways.length - 1; i >= 0; i--) if (!keep.has(ways[i]!.name)) ways.splice(i, 1);
}
const jvm: any = await client.nodes.stats({ metric: "jvm" } as any);
const nodeCount = Object.keys(jvm.nodes).length;
const heapGiB = Math.max(...Object.values<any>(jvm.nodes).map((n) => n.jvm.mem.heap_max_in_bytes)) / 2 ** 30;
await putPipelines();
let res: RoundsResult<Sample>;
try {
  res = await interleave(
    ways.map((way) => ({ name: way.name, run: (round: number) => run(way, round) })),
    { rounds: ROUNDS, log: (l) => process.stderr.write(`${l}\n`) },
  );
} finally {
  for (const way of ways)
    if (way.processors) await client.ingest.deletePipeline({ id: `${tag}-${way.name}` }).catch(() => {});
  for (const id of Object.keys(naive.scripts)) await client.deleteScript({ id }).catch(() => {});
}

const wayOf = (name: string) => ways.find((w) => w.name === name)!;
/** Seconds per document of one sample of a way: wall time, or the node's CPU time (`cpu`). */
const perDoc =
  (name: string, cpu = false) =>
  (t: Sample) =>
    (cpu ? t.cpuMs / 1000 : t.seconds) / wayOf(name).docs;
const usPerDoc = (name: string, cpu = false) => {
  const xs = res.samples.get(name)!.map((t) => perDoc(name, cpu)(t) * 1e6);
  return spread(xs);
};
/** Per round, µs per document of `a` minus `b`. */
const phase = (a: string, b: string, cpu = false) =>
  spread(res.samples.get(a)!.map((t, i) => (perDoc(a, cpu)(t) - perDoc(b, cpu)(res.samples.get(b)![i]!)) * 1e6));
const ratioVsNone = (name: string, cpu = false) => {
  const a = res.samples.get(name)!;
  const b = res.samples.get("none")!;
  return spread(a.map((t, i) => perDoc(name, cpu)(t) / perDoc("none", cpu)(b[i]!)));
};
/** The tolerance of the flag for two ways closer than a round's noise (node CPU varies ~5% between rounds). */
const NEAR_EQUAL = 0.05;
const flags = inversions(
  res,
  [
    ["any-pipeline", "none"],
    // Near-equal ways (set-aside vs any pipeline, one rule's script vs set-aside): a few µs per document,
    // less than a round's noise (BENCHMARKS.md, "How figures are measured").
    ["aside", "any-pipeline", NEAR_EQUAL],
    ["ours-1rule", "aside", NEAR_EQUAL],
    ["ours", "ours-1rule"],
    ["ours-nokeys", "ours"],
    ...(PHASES
      ? ([
          ["ours-match", "ours-1rule"],
          ["ours", "ours-match"],
          ["tagged", "none"],
        ] as [string, string][])
      : []),
  ],
  // By node CPU time: on the shared machine wall times of one round swing by 2× with other work.
  (t) => t.cpuMs,
);

const rows = ways.map((w) => {
  const ss = res.samples.get(w.name)!;
  const time = waySpread(res, w.name);
  const rate = spread(ss.map((t) => w.docs / t.seconds));
  const pipeMs = ss.map((t) => t.pipelineMs).filter((x): x is number => x !== undefined);
  // OpenSearch's ingest time_in_millis gave impossible per-document times here (more than the wall time): left out.
  const pipe =
    pipeMs.length && cluster.info.distribution !== "opensearch"
      ? `${((median(pipeMs) * 1000) / w.docs).toFixed(0)} µs`
      : "–";
  const ratio = w.name === "none" ? "1" : showSpread(ratioVsNone(w.name), 2, "×");
  const cpuRatio = w.name === "none" ? "1" : showSpread(ratioVsNone(w.name, true), 2, "×");
  return `| ${w.name} | ${w.note} | ${w.docs} | ${showSpread(time, 1, " s")} | ${rate.median.toFixed(0)} | **${ratio}** | ${showSpread(usPerDoc(w.name), 0)} | ${cpuRatio} | ${showSpread(usPerDoc(w.name, true), 0)} | ${pipe} | ${ss.at(-1)!.tagged} | ${ss.at(-1)!.errors} |`;
});
if (NAIVE) {
  const factor = ours.ruleIds.length / naive.processors.length;
  const extra = spread(
    res.samples.get("naive")!.map((t, i) => {
      const base = perDoc("none")(res.samples.get("none")![i]!);
      return ((perDoc("naive")(t) - base) * factor + base) / base;
    }),
  );
  rows.push(
    `| naive (extrapolated) | ${ours.ruleIds.length} processors: the sample's cost over no pipeline × ${factor.toFixed(2)} | – | – | – | ${showSpread(extra, 2, "×")} | – | – | – | – | – | – |`,
  );
}
/** The per-phase differences, each as [what, way, the way it extends]; those whose ways ran (--ways). */
const PHASE_PAIRS: [string, string, string][] = [
  ["any pipeline (the engine's floor)", "any-pipeline", "none"],
  ["set-aside", "aside", "any-pipeline"],
  ["the script's fixed cost (params, one rule)", "ours-1rule", "aside"],
  ["the rules (candidate selection by index keys, evaluation, tagging)", "ours", "ours-1rule"],
  ...(PHASES
    ? ([
        ["of which matching (candidates and evaluation; ours-match - ours-1rule)", "ours-match", "ours-1rule"],
        ["and tagging, the engine indexing the tags included (ours - ours-match)", "ours", "ours-match"],
        ["the engine indexing the written tags alone (tagged - none)", "tagged", "none"],
      ] as [string, string, string][])
    : []),
];
const phaseLine = (cpu: boolean) =>
  PHASE_PAIRS.filter(([, a, b]) => res.samples.has(a) && res.samples.has(b))
    .map(([what, a, b]) => `${what} ${showSpread(phase(a, b, cpu), 1)}`)
    .join("; ") || "(no phase: --ways left out the ways it compares)";
const phases = `wall time: ${phaseLine(false)}.\nNode CPU time: ${phaseLine(true)}`;
// OpenSearch runs get their own section (ES_URL names the node; the engine is read from it).
const engine = engineOf(cluster.info);
const onOpenSearch = cluster.info.distribution === "opensearch";
const mark = (DYNAMIC ? "bench-ingest-dynamic" : "bench-ingest") + (onOpenSearch ? "-opensearch" : "");
const cmd = `${onOpenSearch ? `ES_URL=${NODE} ` : ""}scripts/bench-ingest --size ${SIZE} --rounds ${ROUNDS} --warmup ${WARMUP} --seed ${SEED} --batch ${BATCH} --concurrency ${CONC}${NAIVE ? ` --naive --naive-size ${NAIVE_SIZE} --naive-rules ${NAIVE_RULES}` : ""}${flag("ablation") ? " --ablation" : ""}${PHASES ? " --phases" : ""}${DYNAMIC ? " --index-mapping dynamic" : ""}`;
const section = `<!-- ${mark}:begin -->
## Live tagging (ingest)${DYNAMIC ? ", ES dynamic mapping (no template)" : ""}${onOpenSearch ? ` on ${engine.label}` : ""}

Command: \`${cmd}\`; measured ${new Date().toISOString().slice(0, 16)}Z against ${engine.label} at ${NODE}
(${nodeCount} node(s), ${heapGiB.toFixed(0)} GiB heap) on ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}; ${loadLine(res)}.
Corpus: ${SIZE} generated winlogbeat events (test/helpers/gen-events.ts, seed ${SEED}); rules: every Windows rule of
../shared/sigma/rules* (${rules.length}; ${ours.ruleIds.length} live). Bulk of ${BATCH} docs, ${CONC} requests at a time, refresh off;
${DYNAMIC ? "NO template (ES's default dynamic mapping; documents it refuses are counted, not retried)" : "the winlogbeat template"}.
Method (scripts/lib/rounds.ts): one warm-up run of every way (${WARMUP} docs each: Painless is JIT-compiled), then ${ROUNDS} rounds
in which every way indexes into a fresh index in turn; each figure is the median over the rounds with min–max in
parentheses, and each ratio is taken within its round (way / no pipeline, per document) before its median.${
  NAIVE
    ? ` The naive pipeline runs on ${NAIVE_SIZE} events and ${NAIVE_RULES} of the rules (with all of them Elasticsearch 7.10 overflows the write thread's stack); its full-ruleset cost is extrapolated linearly per rule.`
    : ""
}

| way | what | docs | time | docs/s | cost vs no pipeline | µs/doc | node CPU vs no pipeline | node CPU µs/doc | pipeline time/doc | tagged docs | refused |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join("\n")}

Per phase, µs per document (differences within each round), ${phases}.
The goal for ours is ≤ 1.3× no pipeline. "node CPU" is the CPU time the node's process used during the bulk (nodes stats
process.cpu), which other work on the machine does not inflate. "pipeline time/doc" is the engine's own ingest stat (time_in_millis / docs; 7.10 rounds each
document's time down to whole milliseconds, so it undercounts).${flags.length ? `\n\n**Flagged, not to be trusted:** ${flags.join("; ")}.` : ""}
<!-- ${mark}:end -->`;
console.log(section);

if (flag("record")) {
  if (only) {
    console.error("not recorded: --ways measures some ways only (for profiling); the recorded table has them all");
    process.exit(1);
  }
  if (flags.length) {
    console.error(`not recorded: ${flags.join("; ")}`);
    process.exit(1);
  }
  const file = recordSection(new RegExp(`<!-- ${mark}:begin -->[\\s\\S]*?<!-- ${mark}:end -->`), section);
  console.error(`recorded in ${file}`);
}
