/**
 * Issue 17 item 4, with the binary against the real node: an index wired to the pipeline, whose mapping a
 * first batch fixed (one index object-first, one scalar-first for the fields the pipeline does not map),
 * takes events carrying every tag field (tags, outliers.*, threat.*, outliers_original, outliers.added)
 * as a string, number, object, array of objects, null and forged provenance: none is refused, none loses
 * its detection, and `scan --json` writes exactly the indexed `_source`; `backfill` then records nothing
 * new (live already tagged), and on a copy without the pipeline backfill tags them the same way.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ES_URL, rest, testIndex } from "../helpers/es.ts";
import { ensureBinary, runBin } from "../helpers/binary.ts";
import { canonical } from "../../src/cluster/live/pipeline-body.ts";

const dir = mkdtempSync(path.join(tmpdir(), "tagger-hostile-"));
const base = testIndex("tagger-hostile");
const objFirst = `${base}-obj`;
const scalarFirst = `${base}-scalar`;
const name = `${base}-pl`;
const env = { ES_URL, OUTLIERS_STATE_DIR: dir };
const rule = path.join(dir, "hit.conf");
const ts = "2026-01-01T00:00:00Z";

const shapes: Record<string, unknown> = {
  string: "s",
  number: 42,
  object: { a: 1, "b.c": "x" },
  objects: [{ a: 1 }, { b: [2] }],
  null: null,
};
const forged: Record<string, unknown> = {
  "old-layout": { type_counts: "x", techniques: { T1: 1 } },
  "fake-spans": { entries: [{ r: "simplequery_hit", k: "rule_id", p: 5, n: 1 }] },
  scalar: "forged",
  list: [1, 2],
};

function hostile(): [string, Record<string, unknown>][] {
  const out: [string, Record<string, unknown>][] = [];
  const ev = (extra: Record<string, unknown>) => ({ "@timestamp": ts, x: "hit", ...extra });
  for (const [s, v] of Object.entries(shapes)) {
    out.push([`tags-${s}`, ev({ tags: v })]);
    out.push([`outliers-${s}`, ev({ outliers: v })]);
    out.push([`threat-${s}`, ev({ threat: v })]);
    out.push([`technique-${s}`, ev({ threat: { technique: v } })]);
    out.push([`techid-${s}`, ev({ threat: { technique: { id: v } } })]);
    out.push([`original-${s}`, ev({ outliers_original: v })]);
    for (const k of [
      "rule_id",
      "type",
      "reason",
      "summary",
      "model_type",
      "level",
      "total_outliers",
      "max_level",
      "max_severity",
      "error",
    ])
      out.push([`o-${k}-${s}`, ev({ outliers: { [k]: v } })]);
  }
  for (const [f, v] of Object.entries(forged)) out.push([`added-${f}`, ev({ outliers: { added: v } })]);
  return out;
}

beforeAll(async () => {
  ensureBinary();
  writeFileSync(
    rule,
    `[simplequery_hit]\nes_dsl_filter = {"query": {"term": {"x": "hit"}}}\nes_index = ${base}-*\noutlier_type = ours, attack.t1140\noutlier_reason = ours\noutlier_summary = ours {x}\nlevel = high\nrun_model = 1\ntest_model = 0\n`,
  );
  for (const index of [objFirst, scalarFirst])
    await rest("PUT", `/${index}`, {
      mappings: { properties: { x: { type: "keyword" }, "@timestamp": { type: "date" } } },
    });
  const r = await runBin(
    ["pipeline", "install", rule, "--index", objFirst, "--index", scalarFirst, "--name", name],
    env,
  );
  expect(r.code, r.stderr + r.stdout).toBe(0);
  // First batches fix the dynamic mapping of what the pipeline does not map, both ways.
  const objBatch = {
    "@timestamp": ts,
    x: "hit",
    outliers_original: { tags: "t" },
    threat: { technique: { name: { a: 1 } } },
    outliers: { extra: { a: 1 } },
  };
  const scalarBatch = {
    "@timestamp": ts,
    x: "hit",
    outliers_original: "s",
    threat: { technique: { name: "n" } },
    outliers: { extra: "e" },
  };
  await rest("PUT", `/${objFirst}/_doc/first`, objBatch, { refresh: "true" });
  await rest("PUT", `/${scalarFirst}/_doc/first`, scalarBatch, { refresh: "true" });
}, 300_000);

afterAll(async () => {
  await runBin(["pipeline", "uninstall", "--name", name], env);
  await rest("DELETE", `/${objFirst}`);
  await rest("DELETE", `/${scalarFirst}`);
  rmSync(dir, { recursive: true, force: true });
});

for (const which of ["object-first", "scalar-first"])
  test(`hostile shapes, ${which} mapping: 0 refused, 0 detections lost, scan --json == indexed _source`, async () => {
    const index = which === "object-first" ? objFirst : scalarFirst;
    const events = hostile();
    const file = path.join(dir, `${which}.ndjson`);
    writeFileSync(file, events.map(([, e]) => JSON.stringify(e)).join("\n") + "\n");
    const refused: string[] = [];
    for (const [id, e] of events) {
      const res = await rest("PUT", `/${index}/_doc/${id}`, e, { refresh: "false" }).catch((err: Error) => {
        refused.push(`${id}: ${err.message}`);
      });
      if (res && res.result !== "created") refused.push(`${id}: ${JSON.stringify(res).slice(0, 300)}`);
    }
    expect(refused).toEqual([]);
    await rest("POST", `/${index}/_refresh`);
    const got = await rest("GET", `/${index}/_search`, {
      size: 500,
      query: { ids: { values: events.map(([id]) => id) } },
    });
    const byId = new Map<string, any>(got.hits.hits.map((h: any) => [h._id, h._source]));
    const lost = events.filter(([id]) => !(byId.get(id)?.outliers?.rule_id ?? []).includes("simplequery_hit"));
    expect(lost.map(([id]) => `${id}: ${JSON.stringify(byId.get(id)?.outliers)}`)).toEqual([]);
    const scan = await runBin(["scan", rule, "--docs", file, "--json"], env);
    expect(scan.code, scan.stderr).toBe(0);
    const scanned = scan.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(scanned.length).toBe(events.length);
    const diff = events
      .map(([id], i) => [id, canonical(byId.get(id)), canonical(scanned[i])])
      .filter(([, a, b]) => a !== b)
      .map(([id, a, b]) => `${id}\n live ${a}\n scan ${b}`);
    expect(diff).toEqual([]);
    // Backfill after live records nothing new on any of them.
    const bf = await runBin(["backfill", rule, "--index", index, "--since", "10000d", "--json"], env);
    expect(bf.code, bf.stderr + bf.stdout).toBe(0);
    expect(JSON.parse(bf.stdout).tagged).toBe(0);
  }, 300_000);
