/**
 * The guards every command shares (issue 11.4), with the binary against the real node: backfill
 * refuses a use case with `es_index = *` as install does; patterns never reach indices whose names
 * start with '.' (hidden or not) unless named exactly; a use case whose es_dsl_filter runs a script
 * is refused with a message naming it while the other rules of the file still run.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ES_URL, rest } from "../helpers/es.ts";
import { ensureBinary, runBin } from "../helpers/binary.ts";

const dir = mkdtempSync(path.join(tmpdir(), "outliers-guards-"));
const id = `g${Date.now().toString(36)}`;
const visible = `${id}-vis`;
const dot = `.${id}-dot`;
const hidden = `.${id}-hid`;
const env = { ES_URL, OUTLIERS_STATE_DIR: path.join(dir, "state") };

function useCase(section: string, filter: string, index: string): string {
  return `[simplequery_${section}]\nes_dsl_filter = ${filter}\nes_index = ${index}\noutlier_type = t\noutlier_reason = r ${section}\noutlier_summary = s\nrun_model = 1\ntest_model = 0\n\n`;
}
const TERM = `{"query": {"term": {"x": "hit"}}}`;
const SCRIPT = `{"query": {"bool": {"filter": [{"script": {"script": {"source": "doc['x'].value == 'hit'", "lang": "painless"}}}]}}}`;
const files = {
  star: path.join(dir, "star.conf"),
  mixed: path.join(dir, "mixed.conf"),
  plain: path.join(dir, "plain.conf"),
};

async function tagged(index: string): Promise<string[][]> {
  const r = await rest(
    "GET",
    `/${index}/_search`,
    { size: 100, query: { match_all: {} } },
    { expand_wildcards: "all" },
  );
  return r.hits.hits.map((h: any) => h._source.outliers?.rule_id ?? []);
}

beforeAll(async () => {
  ensureBinary();
  writeFileSync(files.star, useCase("everything", TERM, "*"));
  writeFileSync(files.mixed, useCase("by_script", SCRIPT, `${id}-*`) + useCase("by_term", TERM, `${id}-*`));
  writeFileSync(files.plain, useCase("plain", TERM, `${id}-*`));
  const ts = new Date().toISOString();
  for (const [index, settings] of [
    [visible, {}],
    [dot, {}],
    [hidden, { "index.hidden": true }],
  ] as const) {
    await rest("PUT", `/${index}`, {
      settings,
      mappings: {
        properties: {
          x: { type: "keyword" },
          "@timestamp": { type: "date" },
          outliers: { properties: { rule_id: { type: "keyword" } } },
        },
      },
    });
    await rest("PUT", `/${index}/_doc/1`, { x: "hit", "@timestamp": ts }, { refresh: "true" });
  }
}, 120_000);

afterAll(async () => {
  for (const i of [visible, dot, hidden]) await rest("DELETE", `/${i}`);
  rmSync(dir, { recursive: true, force: true });
});

test("backfill refuses a use case with es_index = * as install does, naming the file and section", async () => {
  for (const cmd of [
    ["backfill", files.star, "--since", "1d"],
    ["pipeline", "install", files.star, "--name", `${id}-star`, "--dry-run"],
  ]) {
    const r = await runBin(cmd, env);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain("refusing to touch every index");
    if (cmd[0] === "backfill") expect(r.stderr).toContain(`${files.star}: [simplequery_everything]`);
  }
  expect(await tagged(visible)).toEqual([[]]);
});

test("patterns never reach '.' indices; '.*', '.x*', '*' are refused by every command; an exact '.' name is allowed", async () => {
  for (const bad of [".*", `.${id}*`, "*", "_all"])
    for (const cmd of [
      ["backfill", files.plain, "--since", "1d", "--index", bad],
      ["untag", "--all", "--index", bad],
      ["untag", "--all", "--index", bad, "--dry-run"],
      ["pipeline", "install", files.plain, "--name", `${id}-p`, "--index", bad, "--dry-run"],
      ["ingest", path.join(dir, "plain.conf"), "--index", bad],
    ]) {
      const r = await runBin(cmd, env);
      expect(r.code, `${cmd.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/only touched when named exactly|refusing to touch every index|one index/);
    }
  // A wildcard that would match the '.' index by name: only the visible one is tagged.
  const r = await runBin(["backfill", files.plain, "--since", "1d", "--index", `*${id}*`, "--json"], env);
  expect(r.code, r.stderr).toBe(0);
  expect(await tagged(visible)).toEqual([["simplequery_plain"]]);
  expect(await tagged(dot)).toEqual([[]]);
  expect(await tagged(hidden)).toEqual([[]]);
  // Its install plan does not wire the '.' index either.
  const plan = await runBin(
    ["pipeline", "install", files.plain, "--name", `${id}-p`, "--index", `*${id}*`, "--dry-run", "--json"],
    env,
  );
  expect(plan.code, plan.stderr).toBe(0);
  expect(JSON.parse(plan.stdout).indices).toEqual([visible]);
  // Named exactly, a '.' index is backfilled.
  const exact = await runBin(["backfill", files.plain, "--since", "1d", "--index", dot, "--json"], env);
  expect(exact.code, exact.stderr).toBe(0);
  expect(await tagged(dot)).toEqual([["simplequery_plain"]]);
  expect(await tagged(hidden)).toEqual([[]]);
  const un = await runBin(["untag", "--all", "--index", `*${id}*`, "--json"], env);
  expect(un.code, un.stderr).toBe(0);
  expect(await tagged(visible)).toEqual([[]]);
  expect(await tagged(dot)).toEqual([["simplequery_plain"]]);
  await runBin(["untag", "--all", "--index", dot], env);
  expect(await tagged(dot)).toEqual([[]]);
});

test("a use case whose es_dsl_filter runs a script is refused with its name; the other use case of the file still runs", async () => {
  const r = await runBin(["backfill", files.mixed, "--since", "1d", "--index", visible], env);
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toContain(`${files.mixed}: [simplequery_by_script]`);
  expect(r.stderr).toContain("runs a script on the cluster");
  expect(await tagged(visible)).toEqual([["simplequery_by_term"]]);
  await runBin(["untag", "--all", "--index", visible], env);
});
