/**
 * `outliers scan` and `outliers test`, end to end through dist/outliers: scanning local event files
 * (table, --json tagged events, --all, unreadable input), and the regression check on a fixture
 * (one case that hits, one that must fail with exit 1), locally and with --node through a pipeline
 * installed on the real node; then on SigmaHQ's regression cases in ../shared (skipped when absent).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { runBin } from "../helpers/binary.ts";
import { ES_URL } from "../helpers/es.ts";
import { SHARED, SKIP_MESSAGE, windowsRules } from "../helpers/windows-rules.ts";

const FIX = path.resolve(import.meta.dir, "../fixtures/regression");
const RULES = path.join(FIX, "rules");
const CASES = path.join(FIX, "cases");
const HIT = path.join(CASES, "hit");
const RULE_ID = "0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b";
const HIT_EVENTS = path.join(HIT, `${RULE_ID}.json`);
const MISS_EVENTS = path.join(CASES, "miss", `${RULE_ID}.json`);
const tmp = mkdtempSync(path.join(tmpdir(), "outliers-scan-cli-"));
const suffix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const installed: string[] = [];

/** Installs `rules` as pipeline `name`, wired to an index pattern no index uses. */
async function install(name: string, rules: string[]): Promise<void> {
  const r = await runBin([
    "pipeline",
    "install",
    ...rules,
    "--name",
    name,
    "--index",
    `t-scan-nothing-${suffix}-*`,
    "--node",
    ES_URL,
  ]);
  if (r.code !== 0) throw new Error(`pipeline install exited ${r.code}: ${r.stderr}`);
  installed.push(name);
}

afterAll(async () => {
  for (const name of installed) await runBin(["pipeline", "uninstall", "--name", name, "--node", ES_URL]);
  rmSync(tmp, { recursive: true, force: true });
});

describe("outliers scan", () => {
  test("prints hits per rule and per technique, with totals", async () => {
    const r = await runBin(["scan", RULES, "--events", HIT_EVENTS, MISS_EVENTS]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("3 event(s), 2 tagged; 2 (event, rule) hit(s) by 1 of 1 rule(s)");
    expect(r.stdout).toMatch(new RegExp(`\\n\\s+2  ${RULE_ID}  Fixture - Whoami Execution`));
    expect(r.stdout).toMatch(/\n\s+2 {2}T1033\s+1\n?/);
  });

  test("--json prints the matched events tagged as the pipeline tags them; --all every event", async () => {
    const r = await runBin(["scan", RULES, "--docs", HIT_EVENTS, MISS_EVENTS, "--json"]);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    for (const e of lines) {
      expect(e.winlog.event_data.Image.toLowerCase()).toEndWith("\\whoami.exe");
      expect(e.tags).toEqual(["outlier"]);
      expect(e.outliers.rule_id).toEqual([RULE_ID]);
      expect(e.outliers.total_outliers).toBe(1);
      expect(e.outliers.reason).toEqual(["Sigma hit - Fixture - Whoami Execution"]);
      expect(e.outliers.model_type).toEqual(["sigma"]);
      expect(e.outliers.type).toEqual(["Sigma hit", "attack.discovery", "attack.t1033"]);
      expect(e.threat.technique.id).toEqual(["T1033"]);
      expect(e.outliers.added.techniques).toEqual([["T1033", RULE_ID]]);
    }
    const all = await runBin(["scan", RULES, "--events", HIT_EVENTS, MISS_EVENTS, "--json", "--all"]);
    const every = all.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(every).toHaveLength(3);
    expect(every[2].winlog.event_data.Image).toEndWith("\\notepad.exe");
    expect(every[2].outliers).toBeUndefined();
  });

  test("a line that does not parse is reported with its file and line (exit 1); the others are scanned", async () => {
    const file = path.join(tmp, "broken.ndjson");
    const ok = {
      winlog: {
        channel: "Microsoft-Windows-Sysmon/Operational",
        event_id: 1,
        event_data: { Image: "C:\\x\\whoami.exe" },
      },
    };
    writeFileSync(file, `${JSON.stringify(ok)}\n{not json\n${JSON.stringify(ok)}\n`);
    const r = await runBin(["scan", RULES, "--events", file, "--json"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}:2: `);
    expect(r.stdout.trimEnd().split("\n")).toHaveLength(2);
  });

  test("a missing events file or no --events is bad usage (exit 2)", async () => {
    const missing = await runBin(["scan", RULES, "--events", path.join(tmp, "nope.ndjson")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("nope.ndjson: no such file");
    const none = await runBin(["scan", RULES]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("--events");
  });
});

describe("outliers test --regression", () => {
  test("a case whose rule misses its events fails: exit 1, the miss named, the passing case kept", async () => {
    const r = await runBin(["test", RULES, "--regression", CASES]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("2 case(s): 1 passed, 1 missed");
    expect(r.stdout).toMatch(new RegExp(`MISS\\s+${RULE_ID}\\s+0/1`));
    expect(r.stdout).toMatch(new RegExp(`PASS\\s+${RULE_ID}\\s+2/2`));
    const ok = await runBin(["test", RULES, "--regression", HIT]);
    expect(ok.code).toBe(0);
    const json = await runBin(["test", RULES, "--regression", CASES, "--json"]);
    expect(json.code).toBe(1);
    const j = JSON.parse(json.stdout);
    expect(j).toMatchObject({ cases: 2, passed: 1, missed: 1, errors: 0, node: false });
    expect(j.results.map((x: any) => [path.basename(x.case), x.status, x.local, x.events])).toEqual([
      ["hit", "pass", 2, 2],
      ["miss", "miss", 0, 1],
    ]);
  });

  test("a rule not in the rule set is skipped; no case under the folder is bad usage", async () => {
    const other = path.join(tmp, "other-rules");
    const empty = path.join(tmp, "empty");
    for (const d of [other, empty]) rmSync(d, { recursive: true, force: true });
    Bun.spawnSync(["mkdir", "-p", other, empty]);
    writeFileSync(
      path.join(other, "r.yml"),
      "title: other\nid: 11111111-2222-4333-8444-555555555555\nlogsource: {product: windows, category: process_creation}\ndetection: {sel: {Image: x}, condition: sel}\n",
    );
    const r = await runBin(["test", other, "--regression", HIT, "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ passed: 0, skipped: 1 });
    const none = await runBin(["test", RULES, "--regression", empty]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no regression case");
  });

  test("--node checks through the installed pipeline (_simulate) as well", async () => {
    const name = `outliers-test-fix-${suffix}`;
    const missing = await runBin(["test", RULES, "--regression", CASES, "--node", ES_URL, "--name", name]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`pipeline ${name} is not installed`);
    await install(name, [RULES]);
    const r = await runBin(["test", RULES, "--regression", CASES, "--node", ES_URL, "--name", name, "--json"]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.node).toBe(true);
    expect(j.results.map((x: any) => [path.basename(x.case), x.status, x.local, x.node])).toEqual([
      ["hit", "pass", 2, 2],
      ["miss", "miss", 0, 0],
    ]);
    expect(j.results[1].reason).toContain(`through pipeline ${name} 0 of 1`);
  }, 120_000);
});

describe("outliers test on SigmaHQ's regression cases (../shared)", () => {
  if (!SHARED) console.warn(SKIP_MESSAGE);
  test.skipIf(!SHARED)(
    "every case's rule hits its events, locally and through the installed pipeline",
    async () => {
      const regression = path.join(SHARED!, "regression");
      const local = await runBin([
        "test",
        ...["rules", "rules-emerging-threats"].map((d) => path.join(SHARED!, d)),
        "--regression",
        regression,
        "--json",
      ]);
      const j = JSON.parse(local.stdout);
      const bad = j.results.filter((x: any) => x.status !== "pass");
      expect(bad).toEqual([]);
      expect(local.code).toBe(0);
      expect(j.cases).toBeGreaterThan(50);
      expect(j.passed).toBe(j.results.length);

      // Through the node: the pipeline of the rules the cases name (their files).
      const ids = new Set(j.results.map((x: any) => x.rule));
      const windows = windowsRules().filter((r) => ids.has(r.id));
      const files = [...new Set(windows.map((r) => r.source.path))];
      expect(files.length).toBeGreaterThan(50);
      const notWindows = j.results.filter((x: any) => !windows.some((r) => r.id === x.rule)).length;
      const name = `outliers-test-reg-${suffix}`;
      await install(name, files);
      const node = await runBin([
        "test",
        ...files,
        "--regression",
        regression,
        "--node",
        ES_URL,
        "--name",
        name,
        "--json",
      ]);
      const n = JSON.parse(node.stdout);
      expect(n.results.filter((x: any) => x.status !== "pass" && x.status !== "skipped")).toEqual([]);
      expect(n.skipped).toBe(notWindows);
      expect(n.passed).toBe(n.results.length - notWindows);
      expect(n.results.every((x: any) => x.status === "skipped" || x.node === x.local)).toBe(true);
      expect(node.code).toBe(0);
    },
    600_000,
  );
});
