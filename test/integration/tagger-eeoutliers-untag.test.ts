/**
 * Issue 17 item 1 and issue 18 item 1, with the binary against the real node: on events carrying the
 * layouts ee-outliers' simplequery, terms, metrics and terms-beaconing models really write
 * (app/helpers/outlier.py get_outlier_dict_of_arrays: every key a list, `total_outliers` a number;
 * terms.py/metrics.py observations: aggregator, term, term_count, decision_frontier, confidence,
 * metric, target, trigger_method, non_outlier_values_sample; simplequery.py matched_values;
 * analyzer.py extra config keys and elasticsearch_filter), 1, 2 and 3 of our rules hit; live tagging,
 * backfill, and live then backfill; `untag` then gives back every event's `_source` exactly (a string
 * `tags` stays a string). While ours are on, total_outliers counts ee-outliers' and ours, and each hit
 * carries its rule's level, the event its highest.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ES_URL, rest, testIndex } from "../helpers/es.ts";
import { ensureBinary, runBin } from "../helpers/binary.ts";
import { canonical } from "../../src/cluster/live/pipeline-body.ts";

const dir = mkdtempSync(path.join(tmpdir(), "tagger-ee-"));
const back = testIndex("tagger-ee-back");
const live = testIndex("tagger-ee-live");
const name = `${live}-pl`;
const env = { ES_URL, OUTLIERS_STATE_DIR: dir };

/** ee-outliers' `outliers` objects, per model. */
const layouts: Record<string, object> = {
  simplequery: {
    type: ["suspicious", "attack.t1059"],
    reason: ["encoded powershell"],
    summary: ["encoded powershell on host1"],
    model_name: ["encoded_ps"],
    model_type: ["simplequery"],
    elasticsearch_filter: ["process.args: -enc"],
    matched_values: ["{'process.args': ['-enc']}"],
    assets: ["host: host1", "user: bob"],
    total_outliers: 1,
  },
  terms: {
    type: ["rare process"],
    reason: ["rare process per host"],
    summary: ["rare process x.exe on host1"],
    model_name: ["rare_process"],
    model_type: ["terms"],
    aggregator: ["host"],
    term: ["x.exe"],
    term_count: [1],
    decision_frontier: [2.5],
    trigger_method: ["pct_of_max_value"],
    non_outlier_values_sample: ["a.exe,b.exe"],
    confidence: [0.9],
    total_outliers: 1,
  },
  metrics: {
    type: ["long command", "attack.t1140"],
    reason: ["long command line"],
    summary: ["long command line on host1"],
    model_name: ["cmd_length"],
    model_type: ["metrics"],
    metric: [812],
    decision_frontier: [300.5],
    confidence: [511.5],
    target: ["812"],
    aggregator: ["host1"],
    non_outlier_values_sample: [],
    total_outliers: 1,
  },
  // Two outliers merged (add_outlier_to_document): lists extended, total_outliers 2.
  beaconing: {
    type: ["suspicious connection", "attack.t1071", "suspicious connection", "attack.t1071"],
    reason: ["beaconing TLS connection", "beaconing TLS connection"],
    summary: ["beaconing TLS connection to a.example", "beaconing TLS connection to b.example"],
    model_name: ["ssl_outbound", "ssl_outbound_2"],
    model_type: ["terms", "terms"],
    aggregator: ["a.example - 10.0.0.1 - 07", "b.example - 10.0.0.1 - 07"],
    term: ["11", "11"],
    term_count: [24, 24],
    decision_frontier: [0.1, 0.1],
    trigger_method: ["coeff_of_variation", "coeff_of_variation"],
    confidence: [0.05, 0.07],
    total_outliers: 2,
  },
};

const hitsOf: Record<number, string[]> = { 1: ["a"], 2: ["a", "b"], 3: ["a", "b", "c"] };
const docs: Record<string, Record<string, unknown>> = {};
for (const [model, outliers] of Object.entries(layouts))
  for (const n of [1, 2, 3]) {
    docs[`${model}-${n}`] = { "@timestamp": "2026-01-01T00:00:00Z", x: hitsOf[n], tags: ["outlier"], outliers };
    docs[`${model}-${n}-str`] = {
      "@timestamp": "2026-01-01T00:00:00Z",
      x: hitsOf[n],
      tags: "outlier",
      outliers,
      threat: { technique: { id: "T1071" } },
    };
  }

const rules = path.join(dir, "rules");
beforeAll(async () => {
  ensureBinary();
  const { mkdirSync } = await import("node:fs");
  mkdirSync(rules);
  const level: Record<string, string> = { a: "level = high\n", b: "", c: "level = critical\n" };
  for (const v of ["a", "b", "c"])
    writeFileSync(
      path.join(rules, `hit_${v}.conf`),
      `[simplequery_hit_${v}]\nes_dsl_filter = {"query": {"term": {"x": "${v}"}}}\nes_index = ${back}\noutlier_type = ours ${v}, attack.t1140\noutlier_reason = ours ${v}\noutlier_summary = ours {x}\n${level[v]}run_model = 1\ntest_model = 0\n`,
    );
  for (const index of [back, live])
    await rest("PUT", `/${index}`, {
      mappings: { properties: { x: { type: "keyword" }, "@timestamp": { type: "date" } } },
    });
  // Live: only hit_a runs in the pipeline; backfill later adds b and c.
  const r = await runBin(
    ["pipeline", "install", path.join(rules, "hit_a.conf"), "--index", `${live}-unused`, "--name", name],
    env,
  );
  expect(r.code, r.stderr).toBe(0);
  for (const [id, src] of Object.entries(docs)) {
    await rest("PUT", `/${back}/_doc/${id}`, src, { refresh: "true" });
    await rest("PUT", `/${live}/_doc/${id}`, src, { refresh: "true", pipeline: name });
  }
}, 300_000);

afterAll(async () => {
  await runBin(["pipeline", "uninstall", "--name", name], env);
  await rest("DELETE", `/${back}`);
  await rest("DELETE", `/${live}`);
  rmSync(dir, { recursive: true, force: true });
});

async function sources(index: string): Promise<Map<string, any>> {
  const res = await rest("GET", `/${index}/_search`, { size: 200, query: { match_all: {} } });
  return new Map(res.hits.hits.map((h: any) => [h._id, h._source]));
}

function checkTagged(got: Map<string, any>) {
  for (const [id, d] of Object.entries(docs)) {
    const s = got.get(id);
    const n = (d.x as string[]).length;
    const ee = d.outliers as Record<string, any>;
    expect(s.outliers.rule_id, id).toEqual(["simplequery_hit_a", "simplequery_hit_b", "simplequery_hit_c"].slice(0, n));
    // ee-outliers' count plus ours
    expect(s.outliers.total_outliers, id).toBe(ee.total_outliers + n);
    expect(s.outliers.level, id).toEqual(["high", "informational", "critical"].slice(0, n));
    expect(s.outliers.max_level, id).toBe(n === 3 ? "critical" : "high");
    expect(s.outliers.max_severity, id).toBe(n === 3 ? 5 : 4);
    // ee-outliers' observation lists are untouched while ours are on
    for (const k of ["aggregator", "confidence", "decision_frontier", "term", "metric", "matched_values"])
      if (k in ee) expect(s.outliers[k], `${id} ${k}`).toEqual(ee[k]);
  }
}

async function untagAndCompare(index: string) {
  const run = await runBin(["untag", "--all", "--index", index, "--json"], env);
  expect(run.code, run.stderr).toBe(0);
  expect(JSON.parse(run.stdout).untagged).toBe(Object.keys(docs).length);
  const after = await sources(index);
  for (const [id, d] of Object.entries(docs)) expect(canonical(after.get(id)), id).toBe(canonical(d));
}

test("backfill with 1, 2 and 3 rules on every ee-outliers layout, then untag: _source byte for byte", async () => {
  const r = await runBin(["backfill", rules, "--index", back, "--since", "10000d", "--json"], env);
  expect(r.code, r.stderr + r.stdout).toBe(0);
  checkTagged(await sources(back));
  // one rule off first: the others keep exactly their entries
  const one = await runBin(["untag", "--index", back, "--rule", "simplequery_hit_b", "--json"], env);
  expect(one.code, one.stderr).toBe(0);
  const mid = await sources(back);
  for (const [id, d] of Object.entries(docs)) {
    const n = (d.x as string[]).length;
    const ee = d.outliers as Record<string, any>;
    const s = mid.get(id);
    expect(s.outliers.rule_id, id).toEqual(
      n === 1 ? ["simplequery_hit_a"] : n === 2 ? ["simplequery_hit_a"] : ["simplequery_hit_a", "simplequery_hit_c"],
    );
    expect(s.outliers.total_outliers, id).toBe(ee.total_outliers + s.outliers.rule_id.length);
    expect(s.outliers.reason, id).toEqual([
      ...ee.reason,
      ...s.outliers.rule_id.map((x: string) => `ours ${x.slice(-1)}`),
    ]);
    expect(s.outliers.max_level, id).toBe(n === 3 ? "critical" : "high");
  }
  await untagAndCompare(back);
}, 300_000);

test("live tagging (1 rule) then backfill (3 rules), then untag: _source byte for byte", async () => {
  const before = await sources(live);
  for (const id of Object.keys(docs)) expect(before.get(id).outliers.rule_id, id).toEqual(["simplequery_hit_a"]);
  const r = await runBin(["backfill", rules, "--index", live, "--since", "10000d", "--json"], env);
  expect(r.code, r.stderr + r.stdout).toBe(0);
  checkTagged(await sources(live));
  await untagAndCompare(live);
}, 300_000);
