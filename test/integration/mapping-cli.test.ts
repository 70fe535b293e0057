/**
 * The binary on indices with no `outliers.*` mappings and on typos (issue 10.2, 10.4): tag fields
 * are mapped keyword before the first write and counts work (no exit 2 after writing, `--json`
 * always prints), `--tag-mapping ee-outliers` gives dashboards their `.keyword` fields, ee-outliers'
 * text + `.keyword` tag fields are used as they are, and `--index nosuchindex`, an unmapped
 * `--time-field`, an inverted or empty window and `untag --rule does-not-exist` warn and exit 1.
 * `doctor --index` reports the dynamic mapping's ignore_above and text-only fields.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import path from "node:path";
import { cluster, dropIndices, ES_URL, rest, testIndex } from "../helpers/es.ts";
import { bulk, ROOT, stateDir, type Doc } from "../helpers/backfill-fixture.ts";

const BIN = path.join(ROOT, "dist/outliers");
const CONF = path.join(ROOT, "test/fixtures/ee-outliers/mshta.conf");
const RULE_ID = "simplequery_sigma_win_susp_mshta_execution";

function cmd(args: string[]): string[] {
  return existsSync(BIN)
    ? [BIN, ...args, "--node", ES_URL]
    : [process.execPath, path.join(ROOT, "src/cli.ts"), ...args, "--node", ES_URL];
}
async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn(cmd(args), {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, OUTLIERS_STATE_DIR: stateDir() },
  });
  const [stdout, stderr] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code: await p.exited, stdout, stderr };
}

const ts = new Date(Date.now() - 3_600_000).toISOString();
const docs: Doc[] = [
  {
    id: "hit",
    source: {
      "@timestamp": ts,
      winlog: {
        channel: "Microsoft-Windows-Sysmon/Operational",
        event_id: 1,
        event_data: { Image: "C:\\Windows\\System32\\mshta.exe", CommandLine: "mshta.exe http://x/a.png" },
      },
    },
  },
  // longer than the dynamic mapping's ignore_above (256): not in `.keyword`, only _source knows it matches
  {
    id: "long-hit",
    source: {
      "@timestamp": ts,
      winlog: {
        channel: "Microsoft-Windows-Sysmon/Operational",
        event_id: 1,
        event_data: { Image: "C:\\Windows\\System32\\mshta.exe", CommandLine: `mshta.exe ${"x".repeat(300)}.png` },
      },
    },
  },
  {
    id: "miss",
    source: {
      "@timestamp": ts,
      winlog: {
        channel: "Microsoft-Windows-Sysmon/Operational",
        event_id: 1,
        event_data: { Image: "C:\\Windows\\System32\\mshta.exe", CommandLine: "mshta.exe a.hta" },
      },
    },
  },
];
const created: string[] = [];
async function dynamicIndex(mappings?: object): Promise<string> {
  const ix = testIndex("mcli");
  created.push(ix);
  const { client } = await cluster();
  await client.indices.create({ index: ix, ...(mappings ? { mappings } : {}) } as any);
  await bulk(ix, docs);
  return ix;
}
afterAll(async () => {
  await dropIndices(...created);
});

describe("tag fields never break a run", () => {
  test("no outliers.* mappings: keyword mappings first, tags counted, exit 0, JSON printed; a re-run writes nothing", async () => {
    const ix = await dynamicIndex();
    const r = await run(["backfill", CONF, "--since", "1d", "--index", ix, "--json"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.tagged).toBe(2);
    expect(out.rules).toEqual([
      { id: RULE_ID, title: "sigma_win_susp_mshta_execution", count: 2, added: 2, inWindow: 2 },
    ]);
    const tagged = await rest("POST", `/${ix}/_search`, {
      query: { term: { "outliers.rule_id": RULE_ID } },
      _source: false,
    });
    expect(tagged.hits.hits.map((h: any) => h._id).sort()).toEqual(["hit", "long-hit"]);
    const m = await rest("GET", `/${ix}/_mapping`);
    expect(m[ix].mappings.properties.outliers.properties.rule_id).toEqual({ type: "keyword" });
    expect(m[ix].mappings.properties.tags).toEqual({ type: "keyword" });
    const again = JSON.parse((await run(["backfill", CONF, "--since", "1d", "--index", ix, "--json"])).stdout);
    expect(again.tagged).toBe(0);
  }, 60_000);

  test("--tag-mapping ee-outliers: outliers.type.keyword and tags.keyword aggregate for old dashboards", async () => {
    const ix = await dynamicIndex();
    const r = await run(["backfill", CONF, "--since", "1d", "--index", ix, "--json", "--tag-mapping", "ee-outliers"]);
    expect(r.code).toBe(0);
    await rest("POST", `/${ix}/_refresh`);
    const agg = await rest("POST", `/${ix}/_search`, {
      size: 0,
      aggs: { t: { terms: { field: "outliers.type.keyword" } }, g: { terms: { field: "tags.keyword" } } },
    });
    expect(agg.aggregations.t.buckets.map((b: any) => b.key).sort()).toEqual([
      "Sigma hit",
      "attack.defense_evasion",
      "attack.t1140",
    ]);
    expect(agg.aggregations.g.buckets).toEqual([{ key: "outlier", doc_count: 2 }]);
  }, 60_000);

  test("tag fields ee-outliers mapped text + .keyword: used as they are, counts on .keyword", async () => {
    const text = { type: "text", fields: { keyword: { type: "keyword", ignore_above: 256 } } };
    const ix = await dynamicIndex({
      properties: { tags: text, outliers: { properties: { rule_id: text, type: text } } },
    });
    const r = await run(["backfill", CONF, "--since", "1d", "--index", ix, "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).rules[0].count).toBe(2);
    const m = await rest("GET", `/${ix}/_mapping`);
    expect(m[ix].mappings.properties.outliers.properties.rule_id).toEqual(text);
    const u = await run(["untag", "--rule", RULE_ID, "--index", ix, "--json"]);
    expect(u.code).toBe(0);
    expect(JSON.parse(u.stdout).untagged).toBe(2);
  }, 60_000);
});

describe("typos warn and exit 1", () => {
  test("backfill --index nosuchindex, an unmapped --time-field, an inverted window, an empty window", async () => {
    const ix = await dynamicIndex();
    const cases: [string[], RegExp][] = [
      [["--index", "nosuchindex-zz", "--since", "1d"], /matches no index/],
      [["--index", ix, "--since", "1d", "--time-field", "timestamp"], /time field timestamp is not mapped/],
      [["--index", ix, "--since", "1h", "--until", "2d"], /the window is empty/],
      [["--index", ix, "--since", "30d", "--until", "10d"], /no event in/],
    ];
    for (const [args, warning] of cases) {
      const r = await run(["backfill", CONF, ...args, "--json"]);
      expect(r.code).toBe(1);
      const out = JSON.parse(r.stdout);
      expect(out.checked).toBe(0);
      expect(out.warnings.join("\n")).toMatch(warning);
      const plain = await run(["backfill", CONF, ...args]);
      expect(plain.code).toBe(1);
      expect(plain.stderr).toMatch(warning);
    }
  }, 120_000);

  test("untag --rule does-not-exist, untag --index nosuchindex", async () => {
    const ix = await dynamicIndex();
    const r = await run(["untag", "--rule", "does-not-exist", "--index", ix, "--json"]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).warnings).toEqual([
      `rule does-not-exist: no event in ${ix} carries it (unknown rule id?)`,
    ]);
    const n = await run(["untag", "--all", "--index", "nosuchindex-zz"]);
    expect(n.code).toBe(1);
    expect(n.stderr).toMatch(/matches no index/);
  }, 60_000);
});

describe("doctor --index", () => {
  test("the dynamic mapping: ignore_above 256 on the fields the rule tests by substring; no index: exit 1", async () => {
    const ix = await dynamicIndex({
      properties: { winlog: { properties: { event_data: { properties: { CommandLine: { type: "text" } } } } } },
    });
    const r = await run(["doctor", CONF, "--index", ix, "--json"]);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout);
    const by = Object.fromEntries(rep.findings.map((f: any) => [f.field, f]));
    expect(by["winlog.event_data.Image"].kind).toBe("ignore-above");
    expect(by["winlog.event_data.CommandLine"].kind).toBe("text-only");
    expect(by["winlog.event_data.CommandLine"].rules).toEqual([RULE_ID]);
    const none = await run(["doctor", "--index", "nosuchindex-zz"]);
    expect(none.code).toBe(1);
    expect(none.stdout).toMatch(/matches no index/);
  }, 60_000);
});
