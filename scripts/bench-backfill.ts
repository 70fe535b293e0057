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
 * The runs follow scripts/lib/rounds.ts: one warm-up round, then --rounds rounds of them in turn, medians
 * with min-max, ratios within a round; a run where `full` beats a run doing less is flagged and not
 * recorded. The index is untagged (outliers untag) where a run needs it clean. `naive` (--naive) is
 * timed once after the rounds. With --record, writes the figures into BENCHMARKS.md.
 *
 *   bun scripts/bench-backfill.ts [--size 300000] [--rounds 3] [--naive [--naive-rules 40]] [--seed 7]
 *                                 [--background 0.99] [--index-mapping dynamic] [--record]
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
import { DEFAULT_BATCH } from "../src/cluster/history/backfill-target.ts";
import { runUpdate } from "../src/cluster/history/update-task.ts";
import { loadProfile } from "../src/mapping/index.ts";
import { WINDOWS_GUARD_COSTS } from "../src/mapping/windows-profile.ts";
import { generateEvents } from "../test/helpers/gen-events.ts";
import { SHARED, SKIP_MESSAGE, windowsRules } from "../test/helpers/windows-rules.ts";
import { arg, flag } from "./lib/args.ts";
import {
  inversions,
  interleave,
  loadLine,
  roundRatios,
  type RoundsResult,
  showSpread,
  spread,
  waySpread,
} from "./lib/rounds.ts";

const SIZE = Number(arg("size", "300000"));
const ROUNDS = Number(arg("rounds", "3"));
const NAIVE = flag("naive");
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
    // A loaded node can time out applying the corpus' many new dynamic fields: those documents are sent again.
    let lines = body;
    for (let attempt = 0; ; attempt++) {
      const res: any = await client.bulk({ body: lines.join("\n") + "\n" } as any);
      if (!res.errors) break;
      const slow = res.items.flatMap((x: any, k: number) =>
        /waiting for a dynamic mapping update/.test(x.index?.error?.reason ?? "")
          ? [lines[2 * k]!, lines[2 * k + 1]!]
          : [],
      );
      const failed = res.items.filter((x: any) => x.index?.error).length;
      if (slow.length && attempt < 5 && slow.length / 2 === failed) {
        lines = slow;
        continue;
      }
      if (DYNAMIC) refused += failed - slow.length / 2;
      else throw new Error("bulk failed: " + JSON.stringify(res.items.find((x: any) => x.index?.error)?.index?.error));
      break;
    }
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
  await cli(["untag", "--all", "--index", index]);
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
interface Sample {
  seconds: number;
  tagged: number;
  /** The `_update_by_query` task alone (the CLI's own report), for backfill runs. */
  task?: number;
  /** CPU seconds the node's process used during the run: what it cost, whatever else ran on the machine. */
  cpu: number;
}
/** CPU seconds used so far by the processes of the cluster's nodes. */
async function nodeCpu(): Promise<number> {
  const s: any = await client.nodes.stats({ metric: "process" } as any);
  let ms = 0;
  for (const n of Object.values<any>(s.nodes)) ms += n.process?.cpu?.total_in_millis ?? 0;
  return ms / 1000;
}
let prefilterKinds = "";
const backfill = async (args: string[]): Promise<Sample> => {
  const cpu0 = await nodeCpu();
  const r = await timed(() => cli(["backfill", ...args, "--since", "30d", "--index", index]));
  const cpu = (await nodeCpu()) - cpu0;
  prefilterKinds = (r.v.prefilter ?? []).map((p: any) => p.kind).join(", ") || "exact";
  return { seconds: r.s, tagged: r.v.tagged, task: r.v.seconds, cpu };
};
// Each round: one-rule (then untagged), one-rule-window (then untagged), full, full-again, limit (over
// the events full tagged), then untagged for the next round. The order inside a round is fixed by what
// each way needs on the index; the ratios are taken within a round.
const ways = [
  {
    name: "one-rule",
    note: "1 rule (bundled MSHTA rule), our CLI",
    run: async () => {
      const r = await backfill([MSHTA]);
      await untag();
      return r;
    },
  },
  {
    name: "one-rule-window",
    note: "1 rule, our CLI, `--prefilter window` (every event through the script)",
    run: async () => {
      const r = await backfill([MSHTA, "--prefilter", "window"]);
      await untag();
      return r;
    },
  },
  { name: "full", note: `${rules.length} rules, our CLI, one pass`, run: () => backfill(paths) },
  {
    name: "full-again",
    note: `${rules.length} rules, the same run again: every event matched, none written`,
    run: () => backfill(paths),
  },
  {
    name: "limit",
    note: "`_update_by_query`, no-op script, over the events full tagged, slices auto and scroll pages as the CLI's (the engine's limit)",
    run: async () => {
      const cpu0 = await nodeCpu();
      const r = await timed(async () => {
        // Run as the CLI runs its own task (runUpdate: started, polled to its end, forgotten), so that
        // only the script and the events read differ. A synchronous request of a minute or more came back
        // from OpenSearch 2.19 at 1,000,000 events as "Parse Error: Header overflow".
        const u = await runUpdate(
          cluster,
          {
            index: [index],
            query: { exists: { field: "outliers.rule_id" } },
            script: { source: "ctx._source.outliers = ctx._source.outliers", lang: "painless", params: {} },
            slices: "auto",
            // The batch the CLI uses (its scroll pages).
            batchSize: DEFAULT_BATCH,
          },
          { label: "limit", json: true },
        );
        if (u.cancelled || u.failures.length) throw new Error(`limit: ${u.failures[0] ?? "cancelled"}`);
        return u.updated;
      });
      const cpu = (await nodeCpu()) - cpu0;
      await untag();
      return { seconds: r.s, tagged: r.v, cpu };
    },
  },
];
const res: RoundsResult<Sample> = await interleave(
  ways.map((w) => ({ name: w.name, run: w.run })),
  { rounds: ROUNDS, log },
);

let naiveRow: string | undefined;
if (NAIVE) {
  log(`naive loop: one _update_by_query per rule, timed once on ${NAIVE_RULES} rules`);
  const sample = rules
    .filter((_, i) => i % Math.max(1, Math.floor(rules.length / NAIVE_RULES)) === 0)
    .slice(0, NAIVE_RULES);
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
      await client.updateByQuery({
        index,
        refresh: false,
        conflicts: "proceed",
        slices: "auto",
        query: { bool: { filter: [query] } },
        script: updateScript([r], { guardCosts: WINDOWS_GUARD_COSTS }),
      } as any);
    }
  });
  const perRule = naive.s / (sample.length - skipped);
  const fullMedian = waySpread(res, "full").median;
  naiveRow = `| naive (one run, extrapolated) | ${(perRule * rules.length).toFixed(1)} | – | – | ${sample.length - skipped} rules timed (${naive.s.toFixed(1)} s, ${perRule.toFixed(2)} s per rule), extrapolated to ${rules.length}: ${((perRule * rules.length) / fullMedian).toFixed(1)}× the median full run |`;
}
await client.indices.delete({ index });

// --- the report ---------------------------------------------------------------------------------
const eps = (sec: number) => Math.round(EVENTS / sec).toLocaleString("en-US");
const rows = ways.map((w) => {
  const t = waySpread(res, w.name);
  const last = res.samples.get(w.name)!.at(-1)!;
  const task = res.samples.get(w.name)!.flatMap((x) => (x.task === undefined ? [] : [x.task]));
  const note = task.length ? `${w.note} (the task itself: ${showSpread(spread(task), 1, " s")})` : w.note;
  const cpu = spread(res.samples.get(w.name)!.map((x) => x.cpu));
  return `| ${w.name} | ${showSpread(t, 1)} | ${showSpread(cpu, 1)} | ${eps(t.median)} | ${last.tagged.toLocaleString("en-US")} | ${note} |`;
});
if (naiveRow) rows.push(naiveRow);
const ratio = (a: string, b: string) => `**${showSpread(roundRatios(res, a, b), 2)}**`;
const cpuRatio = (a: string, b: string) =>
  `**${showSpread(
    roundRatios(res, a, b, (x) => x.cpu),
    2,
  )}**`;
/** The `_update_by_query` task of `a` alone (the CLI's report) against `b`'s time, per round. */
const taskRatio = (a: string, b: string) =>
  `**${showSpread(
    spread(res.samples.get(a)!.map((x, i) => (x.task ?? x.seconds) / res.samples.get(b)![i]!.seconds)),
    2,
  )}**`;
const flags = inversions(res, [
  ["full", "one-rule-window"],
  ["full", "limit"],
]);
// OpenSearch runs get their own section (ES_URL names the node; the engine is read from it).
const engine = engineOf(cluster.info);
const onOpenSearch = cluster.info.distribution === "opensearch";
const title =
  (DYNAMIC
    ? "## Backfill, ES dynamic mapping (no template)"
    : BACKGROUND === undefined
      ? "## Backfill"
      : `## Backfill, ${Math.round(BACKGROUND * 100)}% background events`) +
  (onOpenSearch ? ` on ${engine.label}` : "") +
  `, ${SIZE.toLocaleString("en-US")} events`; // every size its own section
const section = `${title}

Command: \`${onOpenSearch ? `ES_URL=${NODE} ` : ""}scripts/bench-backfill --size ${SIZE} --rounds ${ROUNDS}${NAIVE ? ` --naive --naive-rules ${NAIVE_RULES}` : ""}${BACKGROUND === undefined ? "" : ` --background ${BACKGROUND}`}${DYNAMIC ? " --index-mapping dynamic" : ""} --record\` (${new Date().toISOString().slice(0, 16)}Z,
${os.cpus().length} cores${process.env.BENCH_CONDITIONS ? `, ${process.env.BENCH_CONDITIONS}` : ""}, one embedded ${engine.label} node, index of ${EVENTS.toLocaleString("en-US")} generated events in 2 shards${DYNAMIC ? `, ES's default dynamic mapping (text + \`.keyword\`, ignore_above 256; ${refused.toLocaleString("en-US")} generated events refused by it and left out)` : ""};
${loadLine(res)}).
Method (scripts/lib/rounds.ts): one warm-up round, then ${ROUNDS} rounds of the runs below in turn; seconds are medians over the
rounds with min–max, ratios are taken within each round before their median. Events per second: events in the index / median time.
"node CPU s": CPU time the node's process used during the run (nodes stats process.cpu), which other work on the machine
does not inflate.
The full runs' prefilter: ${prefilterKinds}.

| run | seconds | node CPU s | events/s | events tagged | what |
| --- | ---: | ---: | ---: | ---: | --- |
${rows.join("\n")}

Ratios: full / engine limit = ${ratio("full", "limit")} (goal ≤ 1.3; in node CPU time ${cpuRatio("full", "limit")}; the
full run's \`_update_by_query\` task alone, without the CLI's start, compile and checks: ${taskRatio("full", "limit")}); full / one-rule = ${ratio("full", "one-rule")};
full / one-rule over the whole window = ${ratio("full", "one-rule-window")}; with nothing to write, full-again / one-rule-window = ${ratio("full-again", "one-rule-window")}.${flags.length ? `\n\n**Flagged, not to be trusted:** ${flags.join("; ")}.` : ""}
`;
console.log(section);
if (flag("record")) {
  if (flags.length) {
    log(`not recorded: ${flags.join("; ")}`);
    process.exit(1);
  }
  const escaped = title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const re = new RegExp(`${escaped}\\n[\\s\\S]*?(?=\\n## |$)`);
  recordSection(re, section.trimEnd() + "\n");
  log("recorded in BENCHMARKS.md");
}
