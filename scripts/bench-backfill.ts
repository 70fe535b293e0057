/**
 * The measuring half of scripts/bench-backfill: on one index of generated winlogbeat events, in one
 * run on the same data, times
 *   one-rule   our backfill (the CLI) with one rule (the bundled MSHTA rule), as `auto` runs it: the
 *              rule's own query, which selects the few events it matches
 *   one-rule-window  the same rule with `--prefilter window`: every event of the window through the
 *              script, the cost of one pass whatever the rule count (what `full` adds to it is the
 *              price of the other 2,855 rules)
 *   full       our backfill (the CLI) with every Windows rule of ../shared/sigma/rules*
 *   naive      one `_update_by_query` per rule, each with the rule's own query and the tagging script
 *              (timed on --naive-rules rules spread over the set, and extrapolated to the full set)
 *   full-again the same full backfill run again: every event read and matched against every rule,
 *              nothing left to write (what the rule count costs when there are no new hits)
 *   limit      the engine's limit: one `_update_by_query` over the events `full` tagged, with a
 *              script that changes nothing (the cost of rewriting exactly those events)
 * The index is untagged (outliers untag) between runs. With --record, writes the figures into the
 * "Backfill" section of BENCHMARKS.md.
 *
 *   bun scripts/bench-backfill.ts [--size 1000000] [--naive-rules 40] [--seed 7] [--background 0.99] [--index-mapping dynamic] [--record]
 *
 * --index-mapping dynamic: the index gets no template at all (ES's default dynamic mapping: text +
 * `.keyword` with ignore_above 256, as on a SOC's existing history), so backfill compiles its queries
 * for that mapping; events the dynamic mapping refuses (a generated `winlog.event_id: "decoy"` after
 * numbers) are left out and counted. Recorded in its own section.
 *
 * --background: the share of background events in the corpus (default: the generator's 0.35, where two
 * thirds of events match some rule; random background still trips generic rules, see
 * test/helpers/gen-events.ts); recorded in its own section.
 */
import os from "node:os";
import path from "node:path";
import { connect } from "../src/cluster/connection/client.ts";
import { recordSection } from "./benchmarks-file.ts";
import { engineOf } from "../src/cluster/connection/engine.ts";
import { ruleQuery } from "../src/emit/dsl.ts";
import { mappedFor } from "../src/cluster/history/backfill-queries.ts";
import { discoverFields } from "../src/cluster/connection/field-discovery.ts";
import { updateScript } from "../src/emit/painless/pipeline.ts";
import { loadProfile } from "../src/mapping/index.ts";
import { WINDOWS_GUARD_COSTS } from "../src/mapping/windows-profile.ts";
import { generateEvents } from "../test/helpers/gen-events.ts";
import { SHARED, SKIP_MESSAGE, windowsRules } from "../test/helpers/windows-rules.ts";
import { arg, flag } from "./lib/args.ts";

const SIZE = Number(arg("size", "1000000"));
const NAIVE_RULES = Number(arg("naive-rules", "40"));
const SEED = Number(arg("seed", "7"));
const BACKGROUND = flag("background") ? Number(arg("background", "0.99")) : undefined;
const DYNAMIC = arg("index-mapping", "ours") === "dynamic";
const NODE = process.env.ES_URL ?? "http://127.0.0.1:9200";
const ROOT = path.resolve(import.meta.dir, "..");
const MSHTA = path.join(ROOT, "rules/windows/process_creation/proc_creation_win_mshta_susp_execution_01.yml");

if (!SHARED) {
  console.error(SKIP_MESSAGE);
  process.exit(2);
}

const cluster = await connect({ node: NODE, timeoutMs: 3_600_000 });
const { client } = cluster;
const rules = windowsRules();
const paths = [...new Set(rules.map((r) => r.source.path))];
const index = `bench-backfill-${Date.now().toString(36)}`;
const log = (s: string) => process.stderr.write(s + "\n");

// --- the data -----------------------------------------------------------------------------------
log(`bench-backfill: generating ${SIZE} events, ${rules.length} rules`);
const t = loadProfile("winlogbeat").indexTemplate();
await client.indices.create({
  index,
  settings: { ...(DYNAMIC ? {} : (t.settings ?? {})), "index.number_of_shards": 2, "index.refresh_interval": "-1" },
  ...(DYNAMIC ? {} : { mappings: t.mappings }),
} as any);
let refused = 0;
const now = Date.now();
const CHUNK = 50_000;
for (let from = 0; from < SIZE; from += CHUNK) {
  // Generated in chunks with their own seeds so that a million events never sit in memory at once.
  const docs = generateEvents(rules, Math.min(CHUNK, SIZE - from), SEED + from, { background: BACKGROUND });
  for (let i = 0; i < docs.length; i += 5000) {
    const body: string[] = [];
    docs.slice(i, i + 5000).forEach((d, j) => {
      d.source["@timestamp"] = new Date(now - 60_000 - ((from + i + j) % 1_000_000) * 1000).toISOString();
      body.push(JSON.stringify({ index: { _index: index } }), JSON.stringify(d.source));
    });
    const res: any = await client.bulk({ body: body.join("\n") + "\n" } as any);
    if (res.errors && DYNAMIC) refused += res.items.filter((x: any) => x.index?.error).length;
    else if (res.errors)
      throw new Error("bulk failed: " + JSON.stringify(res.items.find((x: any) => x.index?.error)?.index?.error));
  }
  log(`  loaded ${Math.min(from + CHUNK, SIZE)}`);
}
await client.indices.putSettings({ index, settings: { "index.refresh_interval": "1s" } } as any);
await client.indices.refresh({ index });
await client.indices.forcemerge({ index, max_num_segments: 1 } as any).catch(() => {});

// --- the runs -----------------------------------------------------------------------------------
async function cli(args: string[]): Promise<any> {
  const p = Bun.spawn([process.execPath, path.join(ROOT, "src/cli.ts"), ...args, "--node", NODE, "--json"], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "inherit",
  });
  const out = await new Response(p.stdout).text();
  const code = await p.exited;
  if (code !== 0) throw new Error(`outliers ${args[0]} exited ${code}`);
  return JSON.parse(out);
}

async function untag(): Promise<void> {
  await cli(["untag", "--index", index]);
}

async function timed<T>(fn: () => Promise<T>): Promise<{ s: number; v: T }> {
  const t0 = performance.now();
  const v = await fn();
  return { s: (performance.now() - t0) / 1000, v };
}

const EVENTS = SIZE - refused;
if (refused) log(`  the dynamic mapping refused ${refused} events; ${EVENTS} indexed`);
// The naive loop's rule queries, compiled for the index as really mapped (as backfill does).
const discovery = await discoverFields(cluster, [index]);
const mapped = mappedFor(discovery.fields);
const results: Record<string, { seconds: number; tagged: number; note: string }> = {};

log("one-rule backfill");
const one = await timed(() => cli(["backfill", MSHTA, "--since", "30d", "--index", index]));
results["one-rule"] = { seconds: one.s, tagged: one.v.tagged, note: "1 rule (bundled MSHTA rule), our CLI" };
await untag();

log("one-rule backfill over the whole window");
const oneWin = await timed(() => cli(["backfill", MSHTA, "--since", "30d", "--index", index, "--prefilter", "window"]));
results["one-rule-window"] = {
  seconds: oneWin.s,
  tagged: oneWin.v.tagged,
  note: "1 rule, our CLI, `--prefilter window` (every event through the script)",
};
await untag();

log("full-ruleset backfill");
const full = await timed(() => cli(["backfill", ...paths, "--since", "30d", "--index", index]));
results.full = {
  seconds: full.s,
  tagged: full.v.tagged,
  note: `${rules.length} rules, our CLI, one pass (the \`_update_by_query\` task itself: ${full.v.seconds.toFixed(1)} s; prefilter: ${full.v.prefilter.map((p: any) => p.kind).join(", ") || "exact"})`,
};

log("full-ruleset backfill again (nothing left to write)");
const again = await timed(() => cli(["backfill", ...paths, "--since", "30d", "--index", index]));
results["full-again"] = {
  seconds: again.s,
  tagged: again.v.tagged,
  note: `${rules.length} rules, the same run again: every event matched, none written`,
};

log("engine limit: no-op script over the events the full run tagged");
const limit = await timed(async () => {
  const r: any = await client.updateByQuery({
    index,
    refresh: true,
    conflicts: "proceed",
    slices: "auto",
    query: { exists: { field: "outliers.rule_id" } },
    script: { source: "ctx._source.outliers = ctx._source.outliers", lang: "painless" },
  } as any);
  return r.updated as number;
});
results.limit = { seconds: limit.s, tagged: limit.v, note: "`_update_by_query`, no-op script, the same tagged events" };
await untag();

log(`naive loop: one _update_by_query per rule, timed on ${NAIVE_RULES} rules`);
const sample = rules
  .filter((_, i) => i % Math.max(1, Math.floor(rules.length / NAIVE_RULES)) === 0)
  .slice(0, NAIVE_RULES);
let naiveTagged = 0;
let skipped = 0;
const naive = await timed(async () => {
  for (const r of sample) {
    let query: object;
    try {
      query = ruleQuery(r, mapped);
    } catch {
      skipped++;
      continue;
    }
    const res: any = await client.updateByQuery({
      index,
      refresh: false,
      conflicts: "proceed",
      slices: "auto",
      query: { bool: { filter: [query] } },
      script: updateScript([r], { guardCosts: WINDOWS_GUARD_COSTS }),
    } as any);
    naiveTagged += res.updated ?? 0;
  }
});
const perRule = naive.s / (sample.length - skipped);
results.naive = {
  seconds: perRule * rules.length,
  tagged: naiveTagged,
  note: `${sample.length - skipped} rules timed (${naive.s.toFixed(1)} s, ${perRule.toFixed(2)} s per rule), extrapolated to ${rules.length}`,
};
await client.indices.delete({ index });

// --- the report ---------------------------------------------------------------------------------
const eps = (s: number) => Math.round(EVENTS / s).toLocaleString("en-US");
const rows = ["one-rule", "one-rule-window", "full", "full-again", "naive", "limit"].map((k) => {
  const r = results[k]!;
  return `| ${k} | ${r.seconds.toFixed(1)} | ${eps(r.seconds)} | ${r.tagged.toLocaleString("en-US")} | ${r.note} |`;
});
const ratio = (a: string, b: string) => (results[a]!.seconds / results[b]!.seconds).toFixed(2);
// OpenSearch runs get their own section (ES_URL names the node; the engine is read from it).
const engine = engineOf(cluster.info);
const onOpenSearch = cluster.info.distribution === "opensearch";
const title =
  (DYNAMIC
    ? "## Backfill, ES dynamic mapping (no template)"
    : BACKGROUND === undefined
      ? "## Backfill"
      : `## Backfill, ${Math.round(BACKGROUND * 100)}% background events`) +
  (onOpenSearch ? ` on ${engine.label}` : "");
const [loadNow] = os.loadavg();
const section = `${title}

Command: \`${onOpenSearch ? `ES_URL=${NODE} ` : ""}scripts/bench-backfill --size ${SIZE} --naive-rules ${NAIVE_RULES}${BACKGROUND === undefined ? "" : ` --background ${BACKGROUND}`}${DYNAMIC ? " --index-mapping dynamic" : ""} --record\` (${new Date().toISOString().slice(0, 10)},
${os.cpus().length} cores${process.env.BENCH_CONDITIONS ? `, ${process.env.BENCH_CONDITIONS}` : ""}, one embedded ${engine.label} node, index of ${EVENTS.toLocaleString("en-US")} generated events in 2 shards${DYNAMIC ? `, ES's default dynamic mapping (text + \`.keyword\`, ignore_above 256; ${refused.toLocaleString("en-US")} generated events refused by it and left out)` : ""};
one-minute load average of the whole machine, which may be shared, ${loadNow!.toFixed(2)} at the end).
Events per second are events in the index divided by wall time.

| run | seconds | events/s | events tagged | what |
| --- | ---: | ---: | ---: | --- |
${rows.join("\n")}

Ratios in this run: full / one-rule = **${ratio("full", "one-rule")}** (goal ≤ 3; full / one-rule over the whole window
= **${ratio("full", "one-rule-window")}**; with nothing to write, full-again / one-rule-window = **${ratio("full-again", "one-rule-window")}**), full / engine limit = **${ratio("full", "limit")}** (goal ≤ 1.5), naive / full = **${ratio("naive", "full")}**.
`;
console.log(section);
if (flag("record")) {
  const escaped = title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const re = new RegExp(`${escaped}\\n[\\s\\S]*?(?=\\n## |$)`);
  recordSection(re, section.trimEnd() + "\n");
  log("recorded in BENCHMARKS.md");
}
