/**
 * Untag and backfill on indices wired to the live pipeline (index.final_pipeline), with the binary
 * against the real node. `_update_by_query` writes go through the final pipeline; untag and backfill
 * mark them (src/emit/painless/rewrite.ts) so the live tagger lets them through: untag removes exactly
 * the tags asked for while the pipeline stays installed and keeps tagging new events, backfill's
 * writes are not tagged a second time, and the marker never stays on an event. A tagger installed by
 * an older version (no marker check) makes untag warn and exit 1 instead of reporting events cleaned.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ES_URL, rest, testIndex } from "../helpers/es.ts";
import { ensureBinary, runBin } from "../helpers/binary.ts";
import { INGEST_SOURCE } from "../../src/emit/painless/pipeline.ts";
import { MARK_FIELD, SKIP_REWRITE } from "../../src/emit/painless/rewrite.ts";

const dir = mkdtempSync(path.join(tmpdir(), "outliers-untag-wired-"));
const wired = testIndex("wired-live");
const plain = testIndex("wired-plain");
const oldIx = testIndex("wired-old");
const name = `${wired}-pl`;
const oldName = `${oldIx}-pl`;
const stacked = `${wired}-pl2`;
const env = { ES_URL, OUTLIERS_STATE_DIR: dir };
const ts = () => new Date(Date.now() - 60_000).toISOString();

const conf = (id: string, field: string, index: string) =>
  `[simplequery_${id}]\nes_dsl_filter = {"query": {"term": {"${field}": "hit"}}}\nes_index = ${index}\noutlier_type = ${id}\noutlier_reason = ${id} reason\noutlier_summary = ${id} {${field}}\nrun_model = 1\ntest_model = 0\n\n`;
const files = { both: path.join(dir, "both.conf"), a: path.join(dir, "a.conf") };
const docs: Record<string, object> = {
  ab: { x: "hit", y: "hit" },
  a: { x: "hit", y: "no" },
  b: { x: "no", y: "hit" },
  none: { x: "no", y: "no" },
};
const mappings = { properties: { x: { type: "keyword" }, y: { type: "keyword" }, "@timestamp": { type: "date" } } };

beforeAll(async () => {
  ensureBinary();
  writeFileSync(files.both, conf("a", "x", wired) + conf("b", "y", wired));
  writeFileSync(files.a, conf("a", "x", wired));
  for (const ix of [wired, plain, oldIx]) await rest("PUT", `/${ix}`, { mappings });
  for (const [ix, n] of [
    [wired, name],
    [oldIx, oldName],
  ] as const) {
    const r = await runBin(["pipeline", "install", files.both, "--index", ix, "--name", n], env);
    expect(r.code, r.stderr).toBe(0);
  }
  for (const [id, src] of Object.entries(docs)) {
    for (const ix of [wired, plain])
      await rest("PUT", `/${ix}/_doc/${id}`, { ...src, "@timestamp": ts() }, { refresh: "true" });
  }
}, 120_000);

afterAll(async () => {
  for (const n of [stacked, name, oldName]) await runBin(["pipeline", "uninstall", "--name", n], env);
  for (const ix of [wired, plain, oldIx]) await rest("DELETE", `/${ix}`).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

async function read(ix: string): Promise<Map<string, { source: any; version: number }>> {
  const res = await rest("GET", `/${ix}/_search`, { size: 100, version: true, query: { match_all: {} } });
  return new Map(res.hits.hits.map((h: any) => [h._id, { source: h._source, version: h._version }]));
}
const ruleIds = (d: { source: any } | undefined) => d?.source.outliers?.rule_id ?? [];
const stripTs = (s: any) => {
  const { "@timestamp": _, ...rest } = s;
  return rest;
};
async function noMarker(ix: string): Promise<void> {
  const r = await rest("GET", `/${ix}/_count`, { query: { exists: { field: MARK_FIELD } } });
  expect(r.count, `${ix}: events left with ${MARK_FIELD}`).toBe(0);
  for (const [id, d] of await read(ix)) expect(Object.hasOwn(d.source, MARK_FIELD), `${ix}/${id}`).toBe(false);
}

test("untag (--rule, then all) on a wired index removes exactly those tags; the pipeline stays and tags new events", async () => {
  const live = await read(wired);
  expect(ruleIds(live.get("ab"))).toEqual(["simplequery_a", "simplequery_b"]);
  expect(ruleIds(live.get("a"))).toEqual(["simplequery_a"]);
  expect(ruleIds(live.get("b"))).toEqual(["simplequery_b"]);
  expect(live.get("none")!.source.outliers).toBeUndefined();

  const one = await runBin(["untag", "--index", wired, "--rule", "simplequery_b", "--json"], env);
  expect(one.code, one.stderr).toBe(0);
  expect(JSON.parse(one.stdout).untagged).toBe(2);
  const afterOne = await read(wired);
  expect(ruleIds(afterOne.get("ab"))).toEqual(["simplequery_a"]);
  expect(afterOne.get("ab")!.source.outliers.type).toEqual(["a"]);
  expect(afterOne.get("a")!.source).toEqual(live.get("a")!.source);
  expect(stripTs(afterOne.get("b")!.source)).toEqual(docs.b as any);
  for (const id of ["ab", "b"]) expect(afterOne.get(id)!.version, id).toBe(live.get(id)!.version + 1);
  expect(afterOne.get("a")!.version).toBe(live.get("a")!.version);
  await noMarker(wired);

  const all = await runBin(["untag", "--all", "--index", wired, "--json"], env);
  expect(all.code, all.stderr).toBe(0);
  expect(JSON.parse(all.stdout).untagged).toBe(2);
  for (const [id, d] of await read(wired)) expect(stripTs(d.source), id).toEqual(docs[id] as any);
  await noMarker(wired);
  // Nothing left to remove: a second run cleans nothing (it did before only because the tagger re-tagged).
  const again = await runBin(["untag", "--all", "--index", wired, "--json"], env);
  expect(again.code, again.stderr).toBe(0);
  expect(JSON.parse(again.stdout).untagged).toBe(0);

  // The pipeline is still installed and wired, and tags a new event live.
  const settings = await rest("GET", `/${wired}/_settings/index.final_pipeline`, undefined, { flat_settings: "true" });
  expect(settings[wired].settings["index.final_pipeline"]).toBe(name);
  await rest("PUT", `/${wired}/_doc/new`, { x: "hit", y: "hit", "@timestamp": ts() }, { refresh: "true" });
  expect(ruleIds((await read(wired)).get("new"))).toEqual(["simplequery_a", "simplequery_b"]);
  await rest("DELETE", `/${wired}/_doc/new`, undefined, { refresh: "true" });
}, 180_000);

test("backfill on a wired index tags once: its writes skip the live tagger, _version grows by one per write", async () => {
  const before = await read(wired);
  for (const [id, d] of before) expect(d.source.outliers, id).toBeUndefined();
  // Only rule a: the live pipeline holds a and b, and would add b to the events it rewrites if it ran.
  const ra = await runBin(["backfill", files.a, "--since", "1d", "--index", wired, "--index", plain, "--json"], env);
  expect(ra.code, ra.stderr).toBe(0);
  const afterA = await read(wired);
  expect(ruleIds(afterA.get("ab"))).toEqual(["simplequery_a"]);
  expect(ruleIds(afterA.get("a"))).toEqual(["simplequery_a"]);
  expect(afterA.get("b")!.source.outliers).toBeUndefined();
  for (const [id, d] of afterA)
    expect(d.version, id).toBe(before.get(id)!.version + (id === "ab" || id === "a" ? 1 : 0));
  // The index not wired was tagged the same way, and got no marker either.
  const plainA = await read(plain);
  expect(ruleIds(plainA.get("ab"))).toEqual(["simplequery_a"]);
  await noMarker(wired);
  await noMarker(plain);

  const rb = await runBin(["backfill", files.both, "--since", "1d", "--index", wired, "--json"], env);
  expect(rb.code, rb.stderr).toBe(0);
  const afterB = await read(wired);
  expect(ruleIds(afterB.get("ab"))).toEqual(["simplequery_a", "simplequery_b"]);
  expect(ruleIds(afterB.get("b"))).toEqual(["simplequery_b"]);
  expect(ruleIds(afterB.get("a"))).toEqual(["simplequery_a"]);
  for (const [id, d] of afterB)
    expect(d.version, id).toBe(afterA.get(id)!.version + (id === "ab" || id === "b" ? 1 : 0));
  // Live and backfilled tags agree: the same event ingested now carries the same tags.
  await rest("PUT", `/${wired}/_doc/live-ab`, { ...docs.ab, "@timestamp": ts() }, { refresh: "true" });
  const now = await read(wired);
  expect(now.get("live-ab")!.source.outliers).toEqual(now.get("ab")!.source.outliers);
  await rest("DELETE", `/${wired}/_doc/live-ab`, undefined, { refresh: "true" });
  await noMarker(wired);
}, 180_000);

test("a tagger installed by an older version (no marker check): untag warns and exits 1, writes nothing there; backfill still works", async () => {
  const got = await rest("GET", `/_ingest/pipeline/${oldName}`);
  const body = got[oldName];
  const tagger = body.processors.find((p: any) => p.script?.tag === "outliers-tagger");
  expect(tagger.script.source).toBe(INGEST_SOURCE);
  tagger.script.source = INGEST_SOURCE.replace(SKIP_REWRITE, "");
  expect(tagger.script.source).not.toContain(MARK_FIELD);
  await rest("PUT", `/_ingest/pipeline/${oldName}`, body);
  for (const [id, src] of Object.entries(docs))
    await rest("PUT", `/${oldIx}/_doc/${id}`, { ...src, "@timestamp": ts() }, { refresh: "true" });
  const live = await read(oldIx);
  expect(ruleIds(live.get("ab"))).toEqual(["simplequery_a", "simplequery_b"]);

  const dry = await runBin(["untag", "--all", "--index", oldIx, "--dry-run", "--json"], env);
  expect(dry.code).toBe(1);
  expect(JSON.parse(dry.stdout).events).toBe(0);
  const r = await runBin(["untag", "--all", "--index", oldIx], env);
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toContain(oldIx);
  expect(r.stderr).toContain(oldName);
  expect(r.stderr).toContain("older outliers version");
  expect(r.stdout).toContain("0 event(s) cleaned");
  for (const [id, d] of await read(oldIx)) expect(d.version, `${id} left alone`).toBe(live.get(id)!.version);

  // Backfill is unaffected: no marker is sent there (the old tagger would leave it on the event).
  const b = await runBin(["backfill", files.both, "--since", "1d", "--index", oldIx, "--json"], env);
  expect(b.code, b.stderr).toBe(0);
  await noMarker(oldIx);

  // A wired index next to it is still cleaned in the same run; the old one is still left alone.
  const mixed = await runBin(["untag", "--all", "--index", oldIx, "--index", wired, "--json"], env);
  expect(mixed.code).toBe(1);
  expect(JSON.parse(mixed.stdout).untagged).toBe(3);
  for (const [id, d] of await read(wired)) expect(stripTs(d.source), id).toEqual(docs[id] as any);
  expect(ruleIds((await read(oldIx)).get("ab"))).toEqual(["simplequery_a", "simplequery_b"]);
}, 180_000);

test("stacked installs (b-chain-a runs two taggers): untag and backfill writes pass both untagged", async () => {
  const r = await runBin(["pipeline", "install", files.a, "--index", wired, "--name", stacked], env);
  expect(r.code, r.stderr).toBe(0);
  const settings = await rest("GET", `/${wired}/_settings/index.final_pipeline`, undefined, { flat_settings: "true" });
  expect(settings[wired].settings["index.final_pipeline"]).toBe(`${stacked}-chain-${name}`);
  await rest("PUT", `/${wired}/_doc/stacked`, { ...docs.ab, "@timestamp": ts() }, { refresh: "true" });
  expect(ruleIds((await read(wired)).get("stacked"))).toEqual(["simplequery_a", "simplequery_b"]);

  // Backfill (the events untagged above): a spent marker would let the second tagger add rule b too.
  const before = await read(wired);
  const b = await runBin(["backfill", files.a, "--since", "1d", "--index", wired, "--json"], env);
  expect(b.code, b.stderr).toBe(0);
  const after = await read(wired);
  expect(ruleIds(after.get("ab"))).toEqual(["simplequery_a"]);
  expect(ruleIds(after.get("a"))).toEqual(["simplequery_a"]);
  expect(after.get("b")!.source.outliers).toBeUndefined();
  for (const [id, d] of after)
    expect(d.version, id).toBe(before.get(id)!.version + (id === "ab" || id === "a" ? 1 : 0));
  await noMarker(wired);

  // Untag: the second tagger would put rule a back on every event cleaned, were the marker spent on the first.
  const all = await runBin(["untag", "--all", "--index", wired, "--json"], env);
  expect(all.code, all.stderr).toBe(0);
  expect(JSON.parse(all.stdout).untagged).toBe(3);
  for (const [id, d] of await read(wired)) expect(stripTs(d.source), id).toEqual((docs[id] ?? docs.ab) as any);
  await noMarker(wired);
  await rest("DELETE", `/${wired}/_doc/stacked`, undefined, { refresh: "true" });
}, 180_000);
