/**
 * Issue 18.5: one default target for every command that reads or writes events (the patterns the
 * tagging pipeline is wired to when it is installed, else the rules' patterns), said out loud with
 * the indices and event counts touched; `untag` needs --rule or --all; --rule takes ids, exact
 * titles and rule files. The binary against the real node.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ES_URL, rest } from "../helpers/es.ts";
import { ensureBinary, runBin } from "../helpers/binary.ts";

const dir = mkdtempSync(path.join(tmpdir(), "cli-h-targets-"));
const stamp = Date.now().toString(36);
const wired = `cli-h-tg-wired-${stamp}`;
const ruled = `cli-h-tg-rules-${stamp}`;
const name = `cli-h-tg-pl-${stamp}`;
const env = { ES_URL, OUTLIERS_STATE_DIR: dir };
const conf = path.join(dir, "r.conf");
const other = path.join(dir, "other.conf");
const RULE = "simplequery_cli_h_tg";
const REASON = `cli h target reason ${stamp}`;

const section = (id: string, index: string, reason: string) =>
  `[${id}]\nes_dsl_filter = {"query": {"term": {"x": "hit"}}}\nes_index = ${index}\noutlier_type = t\noutlier_reason = ${reason}\noutlier_summary = s\nrun_model = 1\ntest_model = 0\n\n`;

async function tagged(index: string, rule?: string): Promise<number> {
  const r = await rest("POST", `/${index}/_count`, {
    query: rule ? { term: { "outliers.rule_id": rule } } : { exists: { field: "outliers.rule_id" } },
  });
  return r.count;
}

beforeAll(async () => {
  ensureBinary();
  writeFileSync(conf, section(RULE.replace("simplequery_", "simplequery_"), ruled, REASON));
  writeFileSync(other, section("simplequery_cli_h_tg_other", ruled, `other ${stamp}`));
  const mappings = { properties: { x: { type: "keyword" }, "@timestamp": { type: "date" } } };
  for (const ix of [wired, ruled]) {
    await rest("PUT", `/${ix}`, { mappings });
    for (let i = 0; i < 6; i++)
      await rest("POST", `/${ix}/_doc`, {
        x: i < 4 ? "hit" : "no",
        "@timestamp": new Date(Date.now() - 60_000).toISOString(),
      });
    await rest("POST", `/${ix}/_refresh`);
  }
  // Installed after the events: none of them is tagged yet.
  const r = await runBin(
    ["pipeline", "install", conf, other, "--index", `cli-h-tg-wired-${stamp}*`, "--name", name],
    env,
  );
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await runBin(["pipeline", "uninstall", "--name", name], env);
  for (const ix of [wired, ruled]) await rest("DELETE", `/${ix}`).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

describe("one default target, named with its counts", () => {
  test("untag without --rule or --all refuses (exit 2) and says what to give", async () => {
    const r = await runBin(["untag", "--index", wired], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--all");
    expect(r.stderr).toContain("--rule");
    const both = await runBin(["untag", "--index", wired, "--all", "--rule", RULE], env);
    expect(both.code).toBe(2);
  });

  test("backfill without --index: the wired patterns when the pipeline is installed, named with their counts", async () => {
    const r = await runBin(["backfill", conf, other, "--since", "1d", "--name", name], env);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stderr).toContain(`backfill: cli-h-tg-wired-${stamp}* (the patterns pipeline ${name} is wired to)`);
    expect(r.stdout).toContain(`indices (1): ${wired} (6 event(s) in the window, 4 carrying these rules)`);
    expect(await tagged(wired)).toBe(4);
    // The rules' own index was not named and not touched.
    expect(await tagged(ruled)).toBe(0);
    const json = await runBin(["backfill", conf, other, "--since", "1d", "--name", name, "--json"], env);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).indices).toEqual([{ index: wired, inWindow: 6, carrying: 4 }]);
  }, 120_000);

  test("backfill without --index and no install: the rules' patterns, named", async () => {
    const r = await runBin(["backfill", conf, "--since", "1d", "--name", `${name}-none`], env);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stderr).toContain(`backfill: ${ruled} (the rules' index patterns)`);
    expect(r.stdout).toContain(`indices (1): ${ruled} (6 event(s) in the window, 4 carrying these rules)`);
    expect(await tagged(ruled, RULE)).toBe(4);
  }, 120_000);

  test("untag --rule by exact title (the installed pipeline's rule list) on the wired default, counts per index", async () => {
    const status = JSON.parse((await runBin(["pipeline", "status", "--name", name, "--json"], env)).stdout);
    const title = status.rules.find((x: { id: string }) => x.id === RULE).title as string;
    expect(title.length).toBeGreaterThan(0);
    const r = await runBin(["untag", "--rule", title, "--name", name], env);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stderr).toContain(`untag: cleaning cli-h-tg-wired-${stamp}* (the patterns pipeline ${name} is wired to)`);
    expect(r.stderr).toContain(`--rule ${title} (title): ${RULE}`);
    expect(r.stdout).toContain(`${wired}: 4 event(s)`);
    expect(await tagged(wired, RULE)).toBe(0);
    // The other rule's tags stay.
    expect(await tagged(wired, "simplequery_cli_h_tg_other")).toBe(4);
  }, 120_000);

  test("untag --rule by rule file path: the ids the file compiles to", async () => {
    const r = await runBin(["untag", "--rule", conf, "--index", ruled, "--json"], env);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.untagged).toBe(4);
    expect(out.indices).toEqual([{ index: ruled, events: 4 }]);
    expect(await tagged(ruled)).toBe(0);
    const missing = await runBin(["untag", "--rule", path.join(dir, "nope.yml"), "--index", ruled], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no such rule file");
  }, 120_000);

  test("untag --all cleans every rule's tags and names the index", async () => {
    const r = await runBin(["untag", "--all", "--index", wired], env);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain(`${wired}: 4 event(s)`);
    expect(await tagged(wired)).toBe(0);
  }, 120_000);
});
