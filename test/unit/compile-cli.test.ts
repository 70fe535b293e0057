/**
 * `outliers compile` end to end through the CLI (`bun src/cli.ts compile …`): outputs, the report,
 * one stderr line per failed rule while the rest compile, --json, and the exit statuses.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const ROOT = path.resolve(import.meta.dir, "../..");
const BUN = path.join(ROOT, "node_modules/.bin/bun");
let dir = "";

function cli(...args: string[]) {
  const r = spawnSync(BUN, ["src/cli.ts", "compile", ...args], { cwd: ROOT, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const good = `title: Good Rule
id: 11111111-1111-4111-8111-111111111111
tags: [attack.execution, attack.t1059.001]
logsource: {product: windows, category: process_creation}
detection:
  sel:
    CommandLine|contains: 'evil; 100% #1'
  condition: sel
`;
const badModifier = `title: Bad Modifier
id: 22222222-2222-4222-8222-222222222222
logsource: {product: windows}
detection:
  sel:
    Image|foo: 'x'
  condition: sel
`;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "compile-cli-"));
  mkdirSync(path.join(dir, "rules"));
  writeFileSync(path.join(dir, "rules/good.yml"), good);
  writeFileSync(path.join(dir, "rules/bad.yml"), badModifier);
  mkdirSync(path.join(dir, "only-good"));
  writeFileSync(path.join(dir, "only-good/good.yml"), good);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("outliers compile", () => {
  test("dsl: a map of rule id to {title, path, index, query}; exit 0 when all compile", () => {
    const r = cli(path.join(dir, "only-good"), "--target", "dsl");
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout);
    const rule = out["11111111-1111-4111-8111-111111111111"];
    expect(rule.title).toBe("Good Rule");
    expect(rule.index).toEqual(["winlogbeat-*"]);
    expect(JSON.stringify(rule.query)).toContain('"*evil; 100% #1*"');
  });

  test("one stderr line per failed rule (path: reason), the rest compile, report written, exit 1", () => {
    const report = path.join(dir, "report.json");
    const out = path.join(dir, "out.conf");
    const r = cli(path.join(dir, "rules"), "--target", "ee-outliers", "--out", out, "--report", report);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split("\n");
    expect(lines.length).toBe(1);
    expect(lines[0]).toStartWith(path.join(dir, "rules/bad.yml"));
    expect(lines[0]).toContain("Image|foo");
    expect(lines[0]).toContain("foo");
    const rep = JSON.parse(readFileSync(report, "utf8"));
    expect(rep.ok).toBe(1);
    expect(rep.failed).toBe(1);
    expect(rep.rules.map((x: any) => [x.id, x.status])).toEqual([
      ["22222222-2222-4222-8222-222222222222", "error"],
      ["11111111-1111-4111-8111-111111111111", "ok"],
    ]);
    expect(rep.rules[0].title).toBe("Bad Modifier");
    expect(rep.rules[0].error).toContain("foo");
    const conf = readFileSync(out, "utf8");
    expect(conf).toContain("[simplequery_sigma_Good-Rule]");
    expect(conf).toContain("outlier_type = Sigma hit, attack.execution, attack.t1059.001");
    expect(r.stdout).toBe("");
  });

  test("--json prints only JSON: the report and the output", () => {
    const r = cli(path.join(dir, "rules"), "--json");
    expect(r.code).toBe(1);
    const body = JSON.parse(r.stdout);
    expect(body.target).toBe("dsl");
    expect([body.ok, body.failed]).toEqual([1, 1]);
    expect(Object.keys(body.output)).toEqual(["11111111-1111-4111-8111-111111111111"]);
  });

  test("bad usage exits 2: unknown target, missing path", () => {
    const t = cli(path.join(dir, "rules"), "--target", "nope");
    expect(t.code).toBe(2);
    expect(t.stderr).toContain("--target nope: unknown target (choose one of: dsl, ee-outliers");
    const m = cli(path.join(dir, "does-not-exist"));
    expect(m.code).toBe(2);
    expect(m.stderr).toContain("does-not-exist");
  });
});
