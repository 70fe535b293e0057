/**
 * What `backfill --dry-run` costs next to the run it previews, in one run on the same data: an index
 * of generated winlogbeat events and every Windows rule of ../shared/sigma/rules*, timing
 *   dry-run       `outliers backfill --dry-run` (the run's own passes, the matcher as an aggregation script)
 *   run           `outliers backfill` (the `_update_by_query` pass that writes the tags)
 *   per-rule      the former dry run: each rule's exact query counted on its own, twice (a check with
 *                 terminate_after 1, then a count), 50 rules per `_msearch`; timed on --sample rules
 *                 spread over the set and extrapolated (on the whole set it can exhaust a small node's
 *                 heap: a 1.5 GB node hit its circuit breaker)
 * and checks that the dry run's counts equal the run's. With --record, writes the "Backfill dry run"
 * section of BENCHMARKS.md.
 *
 *   ES_URL=… bun scripts/bench-dry-run.ts [--size 100000] [--sample 300] [--seed 7] [--record]
 */
import os from "node:os";
import path from "node:path";
import { connect } from "../src/cluster/connection/client.ts";
import { untaggedQuery } from "../src/cluster/history/backfill-queries.ts";
import { recordSection } from "./benchmarks-file.ts";
import { loadProfile } from "../src/mapping/index.ts";
import { generateEvents } from "../test/helpers/gen-events.ts";
import { SHARED, SKIP_MESSAGE, windowsRules } from "../test/helpers/windows-rules.ts";

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] && !process.argv[i + 1]!.startsWith("--") ? process.argv[i + 1]! : def;
}
const SIZE = Number(arg("size", "100000"));
const SEED = Number(arg("seed", "7"));
const SAMPLE = Number(arg("sample", "300"));
const NODE = process.env.ES_URL ?? "http://127.0.0.1:9200";
const ROOT = path.resolve(import.meta.dir, "..");

if (!SHARED) {
  console.error(SKIP_MESSAGE);
  process.exit(2);
}

const cluster = await connect({ node: NODE, timeoutMs: 3_600_000 });
const { client } = cluster;
const rules = windowsRules();
const paths = [...new Set(rules.map((r) => r.source.path))];
const index = `bench-dry-run-${Date.now().toString(36)}`;
const log = (s: string) => process.stderr.write(s + "\n");

log(`bench-dry-run: generating ${SIZE} events, ${rules.length} rules`);
const t = loadProfile("winlogbeat").indexTemplate();
await client.indices.create({
  index,
  settings: { ...(t.settings ?? {}), "index.number_of_shards": 1, "index.refresh_interval": "-1" },
  mappings: t.mappings,
} as any);
const now = Date.now();
for (let from = 0; from < SIZE; from += 50_000) {
  const docs = generateEvents(rules, Math.min(50_000, SIZE - from), SEED + from);
  for (let i = 0; i < docs.length; i += 5000) {
    const body: string[] = [];
    docs.slice(i, i + 5000).forEach((d, j) => {
      d.source["@timestamp"] = new Date(now - 60_000 - ((from + i + j) % 1_000_000) * 1000).toISOString();
      body.push(JSON.stringify({ index: { _index: index } }), JSON.stringify(d.source));
    });
    const res: any = await client.bulk({ body: body.join("\n") + "\n" } as any);
    if (res.errors) throw new Error("bulk failed");
  }
}
await client.indices.putSettings({ index, settings: { "index.refresh_interval": "1s" } } as any);
await client.indices.refresh({ index });
await client.indices.forcemerge({ index, max_num_segments: 1 } as any).catch(() => {});

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

async function timed<T>(fn: () => Promise<T>): Promise<{ s: number; v: T }> {
  const t0 = performance.now();
  const v = await fn();
  return { s: (performance.now() - t0) / 1000, v };
}

log("dry run");
const dry = await timed(() => cli(["backfill", ...paths, "--since", "30d", "--index", index, "--dry-run"]));
log("run");
const run = await timed(() => cli(["backfill", ...paths, "--since", "30d", "--index", index]));
const same = dry.v.events === run.v.tagged && dry.v.newRuleHits === run.v.newRuleHits;
log(
  `  dry run ${dry.s.toFixed(1)} s (${dry.v.events} events to tag, ${dry.v.newRuleHits} new hits); run ${run.s.toFixed(1)} s (${run.v.tagged} tagged, ${run.v.newRuleHits} new hits)`,
);
await cli(["untag", "--all", "--index", index]);

log("former dry run: per-rule exact counts, twice");
const since = new Date(now - 30 * 86_400_000).toISOString();
let refused = 0;
const sample = rules.filter((_, i) => i % Math.max(1, Math.floor(rules.length / SAMPLE)) === 0).slice(0, SAMPLE);
const sampled = await timed(async () => {
  for (const body of [
    { size: 0, terminate_after: 1 },
    { size: 0, track_total_hits: true },
  ]) {
    for (let i = 0; i < sample.length; i += 50) {
      const searches: object[] = [];
      for (const r of sample.slice(i, i + 50)) {
        let query: object;
        try {
          query = untaggedQuery(r, [{ field: "outliers.rule_id", indices: null }], "exact");
        } catch {
          continue;
        }
        searches.push(
          { index },
          { ...body, query: { bool: { filter: [{ range: { "@timestamp": { gte: since } } }, query] } } },
        );
      }
      const res: any = await client.msearch({ searches } as any, { requestTimeout: 3_600_000 });
      refused += res.responses.filter((x: any) => x.error).length;
    }
  }
});
await client.indices.delete({ index });
const perRule = { s: (sampled.s * rules.length) / sample.length };

const section = `## Backfill dry run

Command: \`ES_URL=… bun scripts/bench-dry-run.ts --size ${SIZE} --sample ${SAMPLE} --record\` (${new Date().toISOString().slice(0, 10)},
${os.cpus().length} cores, one embedded Elasticsearch 7.10.2 node, index of ${SIZE.toLocaleString("en-US")} generated events, 1 shard,
${rules.length} Windows rules of ../shared; the index is untagged when the dry run and the former dry run count; the
CLI runs in a pipe, so the dry run sends one request per pass, where a terminal gets a few time slices for progress).

| run | seconds | what |
| --- | ---: | --- |
| dry-run | ${dry.s.toFixed(1)} | \`backfill --dry-run\`: ${dry.v.checked.toLocaleString("en-US")} events checked, ${dry.v.events.toLocaleString("en-US")} to tag, ${dry.v.newRuleHits.toLocaleString("en-US")} new rule hits |
| run | ${run.s.toFixed(1)} | \`backfill\`: ${run.v.checked.toLocaleString("en-US")} events checked, ${run.v.tagged.toLocaleString("en-US")} tagged, ${run.v.newRuleHits.toLocaleString("en-US")} new rule hits |
| per-rule | ${perRule.s.toFixed(1)} | the former dry run: each rule's exact query counted, twice; timed on ${sample.length} rules (${sampled.s.toFixed(1)} s, ${refused} refused), extrapolated to ${rules.length} |

Ratios in this run: dry-run / run = **${(dry.s / run.s).toFixed(2)}** (goal ≤ 1), per-rule / run = **${(perRule.s / run.s).toFixed(2)}**.
Dry-run counts equal the run's: **${same ? "yes" : "NO"}**.
`;
console.log(section);
if (process.argv.includes("--record")) {
  recordSection(/## Backfill dry run\n[\s\S]*?(?=\n## |$)/, section.trimEnd() + "\n");
  log("recorded in BENCHMARKS.md");
}
