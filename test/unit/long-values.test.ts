/**
 * Issue 17 item 2 without a cluster: the matchers see values of any length (no keyword
 * `ignore_above` in their views), and `compile --target dsl` says what its queries cannot see.
 * The same on a real node, live and by backfill: test/integration/long-values.test.ts.
 */
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadProfile } from "../../src/mapping/index.ts";
import { compileSigmaText } from "../../src/rules/sigma/index.ts";
import { Scanner } from "../../src/local/scan.ts";
import { buildPipeline } from "../../src/emit/painless/pipeline.ts";

const ROOT = path.resolve(import.meta.dir, "../..");
const BUN = path.join(ROOT, "node_modules/.bin/bun");
const RULE = `title: mimikatz anywhere
id: 0e7a0000-0000-4000-8000-000000000001
logsource: {product: windows, category: process_creation}
detection:
  sel: {CommandLine|endswith: 'SEKURLSA::LOGON?ASSWORDS exit'}
  condition: sel
`;

function rules() {
  const [r] = compileSigmaText("r.yml", RULE, { profile: loadProfile("winlogbeat") });
  if (r?.status !== "ok") throw new Error(JSON.stringify(r));
  return [r.rule];
}

test("scan matches a value past any ignore_above (8,200 spaces, 32,767 characters, 1 MB)", () => {
  const scanner = new Scanner(rules());
  for (const pad of [0, 8200, 32767, 1 << 20]) {
    const doc = {
      winlog: {
        channel: "Microsoft-Windows-Sysmon/Operational",
        event_id: 1,
        event_data: { CommandLine: `mimikatz.exe${" ".repeat(pad)} sekurlsa::logonpasswords exit` },
      },
    } as Record<string, any>;
    scanner.scan({ file: "t", line: 1, doc });
    expect([pad, doc.outliers?.rule_id]).toEqual([pad, ["0e7a0000-0000-4000-8000-000000000001"]]);
  }
});

test("the live pipeline's field views carry no length limit", () => {
  const p = JSON.stringify(buildPipeline(rules(), {}));
  expect(p).toContain('["winlog.event_data.CommandLine",0,-1]');
});

test("compile --target dsl (and ee-outliers) notes that its queries do not see values over ignore_above", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "evade-note-"));
  writeFileSync(path.join(dir, "r.yml"), RULE);
  const r = spawnSync(
    BUN,
    [
      "src/cli.ts",
      "compile",
      path.join(dir, "r.yml"),
      "--target",
      "dsl",
      "--json",
      "--report",
      path.join(dir, "report.json"),
    ],
    { cwd: ROOT, encoding: "utf8" },
  );
  expect(r.status).toBe(0);
  expect(JSON.parse(r.stdout).note).toContain("ignore_above");
  expect(JSON.parse(readFileSync(path.join(dir, "report.json"), "utf8")).note).toContain("not indexed");
  const ee = spawnSync(BUN, ["src/cli.ts", "compile", path.join(dir, "r.yml"), "--target", "ee-outliers", "--json"], {
    cwd: ROOT,
    encoding: "utf8",
  });
  expect(JSON.parse(ee.stdout).note).toContain("ignore_above");
});
