/**
 * `untag` removes only what `outliers.added` says this tool wrote (issue 11.2), with the binary
 * against the real node: events ee-outliers tagged (its layout without our provenance, with or
 * without a rule_id list) stay byte for byte; events carrying ee-outliers' tags and ours get back
 * exactly ee-outliers' tags; `--dry-run` counts and writes nothing.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ES_URL, rest, testIndex } from "../helpers/es.ts";
import { ensureBinary, runBin } from "../helpers/binary.ts";
import { canonical } from "../../src/cluster/live/pipeline-body.ts";

const dir = mkdtempSync(path.join(tmpdir(), "outliers-untag-"));
const index = testIndex("untag-own");
const name = `${index}-pl`;
const env = { ES_URL, OUTLIERS_STATE_DIR: dir };

/** ee-outliers' own tags, as ee-outliers writes them (no rule_id, no provenance). */
const eeOnly = {
  type: ["ee type", "attack.t1059"],
  reason: ["ee reason"],
  summary: ["ee summary"],
  model_name: ["ee model"],
  model_type: ["simplequery"],
  total_outliers: 1,
};
/** ee-outliers-like tags that also carry a rule_id list (another writer), still no provenance. */
const eeWithId = { ...eeOnly, rule_id: ["ee-rule"] };

const docs: Record<string, object> = {
  "ee-only-nomatch": { x: "other", tags: ["outlier"], outliers: eeOnly },
  "ee-id-nomatch": { x: "other", tags: ["outlier", "kept"], outliers: eeWithId },
  "ee-only-match": { x: "hit", tags: ["outlier"], outliers: eeOnly },
  "ee-id-match": { x: "hit", tags: ["outlier"], outliers: eeWithId },
  "ours-only": { x: "hit", keep: 1 },
  nothing: { x: "other" },
};

beforeAll(async () => {
  ensureBinary();
  const rule = path.join(dir, "hit.conf");
  writeFileSync(
    rule,
    `[simplequery_hit]\nes_dsl_filter = {"query": {"term": {"x": "hit"}}}\nes_index = ${index}\noutlier_type = ours, attack.t1140\noutlier_reason = ours reason\noutlier_summary = ours {x}\nrun_model = 1\ntest_model = 0\n`,
  );
  await rest("PUT", `/${index}`, { mappings: { properties: { x: { type: "keyword" } } } });
  // The pipeline is wired to no index of this test (untag-wired.test.ts covers wired indices):
  // events go through it by name, as the live pipeline would tag them.
  const r = await runBin(["pipeline", "install", rule, "--index", `${index}-unused`, "--name", name], env);
  expect(r.code, r.stderr).toBe(0);
  for (const [id, src] of Object.entries(docs))
    await rest("PUT", `/${index}/_doc/${id}`, src, { refresh: "true", pipeline: name });
}, 120_000);

afterAll(async () => {
  await runBin(["pipeline", "uninstall", "--name", name], env);
  await rest("DELETE", `/${index}`);
  rmSync(dir, { recursive: true, force: true });
});

async function raw(): Promise<Map<string, { text: string; source: any; version: number }>> {
  const res = await rest("GET", `/${index}/_search`, { size: 100, version: true, query: { match_all: {} } });
  return new Map(
    res.hits.hits.map((h: any) => [h._id, { text: JSON.stringify(h._source), source: h._source, version: h._version }]),
  );
}

test("untag without --rule removes our tags only; ee-outliers' tags stay byte for byte; --dry-run counts and writes nothing", async () => {
  const tagged = await raw();
  // The live pipeline tagged the matching events, next to ee-outliers' tags where there were some.
  expect(tagged.get("ee-only-match")!.source.outliers.rule_id).toEqual(["simplequery_hit"]);
  expect(tagged.get("ee-id-match")!.source.outliers.rule_id).toEqual(["ee-rule", "simplequery_hit"]);
  expect(tagged.get("ours-only")!.source.outliers.rule_id).toEqual(["simplequery_hit"]);
  expect(tagged.get("ee-only-nomatch")!.source).toEqual(docs["ee-only-nomatch"] as any);

  const dry = await runBin(["untag", "--all", "--index", index, "--dry-run", "--json"], env);
  expect(dry.code, dry.stderr).toBe(0);
  const { indices: _indices, ...dryOut } = JSON.parse(dry.stdout);
  expect(dryOut).toEqual({ dryRun: true, events: 3, entries: 3, warnings: [] });
  const afterDry = await raw();
  for (const [id, d] of tagged) expect(afterDry.get(id)!.version, `${id} untouched by --dry-run`).toBe(d.version);

  const run = await runBin(["untag", "--all", "--index", index, "--json"], env);
  expect(run.code, run.stderr).toBe(0);
  expect(JSON.parse(run.stdout).untagged).toBe(3);
  const after = await raw();
  // Events only ee-outliers tagged: not even rewritten.
  for (const id of ["ee-only-nomatch", "ee-id-nomatch", "nothing"]) {
    expect(after.get(id)!.text, id).toBe(tagged.get(id)!.text);
    expect(after.get(id)!.version, id).toBe(tagged.get(id)!.version);
  }
  // Events with both: exactly what ee-outliers wrote is back (Painless maps reorder keys only).
  for (const id of ["ee-only-match", "ee-id-match", "ours-only"])
    expect(canonical(after.get(id)!.source), id).toBe(canonical(docs[id]));

  // Nothing of ours left: a second run and a dry run find nothing.
  const again = await runBin(["untag", "--all", "--index", index, "--dry-run", "--json"], env);
  const { indices: _againIndices, ...againOut } = JSON.parse(again.stdout);
  expect(againOut).toEqual({ dryRun: true, events: 0, entries: 0, warnings: [] });
}, 120_000);

test("untag --rule keeps the other rules and ee-outliers' entries", async () => {
  // Tag again through the pipeline (re-index the event), then remove a rule id nobody wrote: nothing changes.
  await rest("PUT", `/${index}/_doc/ee-id-match`, docs["ee-id-match"], { refresh: "true", pipeline: name });
  const before = await raw();
  const none = await runBin(["untag", "--index", index, "--rule", "ee-rule", "--json"], env);
  expect(none.code, none.stderr).toBe(0);
  expect(JSON.parse(none.stdout).untagged).toBe(0);
  expect((await raw()).get("ee-id-match")!.text).toBe(before.get("ee-id-match")!.text);
  const ours = await runBin(["untag", "--index", index, "--rule", "simplequery_hit", "--json"], env);
  expect(JSON.parse(ours.stdout).untagged).toBe(1);
  expect(canonical((await raw()).get("ee-id-match")!.source)).toBe(canonical(docs["ee-id-match"]));
}, 120_000);
