/** Sigma 2.0 filter documents (src/rules/sigma/filters.ts): applied in the representation to the rules they name. */
import { expect, test } from "bun:test";
import { compileSigmaFiles } from "../../src/rules/sigma/index.ts";
import { prefixCondition, type FilterReport } from "../../src/rules/sigma/filters.ts";
import { ruleDigest } from "../../src/cluster/live/rule-changes.ts";
import type { CompileResult, Rule } from "../../src/ir/types.ts";
import { testProfile } from "../helpers/sigma-test-profile.ts";

const rule = (id: string, image: string, extra = "") => `title: rule ${id}
id: ${id}
${extra}logsource:
    product: windows
    category: process_creation
detection:
    selection:
        Image|endswith: '${image}'
    condition: selection
`;
const filter = (rules: string, category = "process_creation") => `title: not for admins
id: f0000000-0000-4000-8000-000000000001
logsource:
    product: windows
    category: ${category}
filter:
    rules: ${rules}
    selection:
        User|startswith: 'adm_'
    condition: not selection
`;
const A = "a0000000-0000-4000-8000-00000000000a";
const B = "b0000000-0000-4000-8000-00000000000b";

function compile(files: Record<string, string>): { results: CompileResult[]; reports: FilterReport[] } {
  const reports: FilterReport[] = [];
  const results = compileSigmaFiles(
    Object.entries(files).map(([path, text]) => ({ path, text })),
    { profile: testProfile, filterReports: reports },
  );
  return { results, reports };
}
const ok = (rs: CompileResult[], id: string): Rule => {
  const r = rs.find((x) => x.status === "ok" && x.rule.id === id);
  if (r?.status !== "ok") throw new Error(`rule ${id} did not compile`);
  return r.rule;
};
const hasNot = (n: unknown): boolean => JSON.stringify(n).includes('"kind":"not"');

test("a filter in another file adds `and (filter condition)` to the rules it names, and only to them", () => {
  const plain = compile({ "a.yml": rule(A, "\\a.exe"), "b.yml": rule(B, "\\b.exe") });
  const { results, reports } = compile({
    "a.yml": rule(A, "\\a.exe"),
    "b.yml": rule(B, "\\b.exe"),
    "mf.yml": filter(`[${A}]`),
  });
  expect(results.every((r) => r.status === "ok")).toBe(true);
  expect(results.length).toBe(2);
  const a = ok(results, A);
  expect(hasNot(a.condition)).toBe(true);
  expect(hasNot(ok(plain.results, A).condition)).toBe(false);
  expect(a.filters).toEqual([{ id: "f0000000-0000-4000-8000-000000000001", title: "not for admins", path: "mf.yml" }]);
  // The rule's digest includes the filter: apply sees it as changed; the other rule is untouched.
  expect(ruleDigest(a)).not.toBe(ruleDigest(ok(plain.results, A)));
  expect(ruleDigest(ok(results, B))).toBe(ruleDigest(ok(plain.results, B)));
  expect(reports).toEqual([
    { id: "f0000000-0000-4000-8000-000000000001", title: "not for admins", path: "mf.yml", rules: [A], warnings: [] },
  ]);
});

test("rules are named by id or by Sigma 2.0 name; `any` applies to every rule of a covered logsource", () => {
  const byName = compile({ "a.yml": rule(A, "\\a.exe", "name: rule_a\n"), "mf.yml": filter("rule_a") });
  expect(byName.reports[0]!.rules).toEqual([A]);
  const any = compile({ "a.yml": rule(A, "\\a.exe"), "b.yml": rule(B, "\\b.exe"), "mf.yml": filter("any") });
  expect(any.reports[0]!.rules.sort()).toEqual([A, B]);
});

test("an unknown rule, or a logsource that does not cover the rule, is a warning naming the file; nothing filtered", () => {
  const { results, reports } = compile({
    "a.yml": rule(A, "\\a.exe"),
    "mf.yml": filter(`[${A}, no-such-rule]`, "network_connection"),
  });
  expect(hasNot(ok(results, A).condition)).toBe(false);
  expect(reports[0]!.rules).toEqual([]);
  expect(reports[0]!.warnings.some((w) => w.startsWith("mf.yml:") && w.includes("'no-such-rule'"))).toBe(true);
  expect(reports[0]!.warnings.some((w) => w.startsWith("mf.yml:") && w.includes("logsource does not cover"))).toBe(
    true,
  );
});

test("a broken filter document is an error naming the file and the place", () => {
  const { results } = compile({ "mf.yml": filter(A).replace("    condition: not selection\n", "") });
  expect(results).toHaveLength(1);
  expect(results[0]!.status).toBe("error");
  expect(results[0]!.status !== "ok" && results[0]!.error).toMatch(/^mf\.yml:\d+: filter\.condition: /);
});

test("the filter's search names get the prefix; keywords, counts and `them` are rewritten to stay the filter's own", () => {
  expect(prefixCondition("not selection", "_f0_")).toBe("not _f0_selection");
  expect(prefixCondition("not (1 of filter_* or all of them)", "_f0_")).toBe("not (1 of _f0_filter_* or all of _f0_*)");
});

test("compile --target dsl and ee-outliers carry the filter (must_not on the named rule's query only)", async () => {
  const { mkdtempSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const path = await import("node:path");
  const { runBin } = await import("../helpers/binary.ts");
  const dir = mkdtempSync(path.join(tmpdir(), "outliers-filter-targets-"));
  writeFileSync(path.join(dir, "a.yml"), rule(A, "\\a.exe"));
  writeFileSync(path.join(dir, "b.yml"), rule(B, "\\b.exe"));
  writeFileSync(path.join(dir, "mf.yml"), filter(`[${A}]`).replace("'adm_'", "'adm_filtered_'"));
  const dsl = await runBin(["compile", dir, "--target", "dsl"]);
  expect(dsl.code, dsl.stderr).toBe(0);
  const q = JSON.parse(dsl.stdout);
  expect(JSON.stringify(q[A].query)).toContain("adm_filtered_");
  expect(JSON.stringify(q[B].query)).not.toContain("adm_filtered_");
  const ee = await runBin(["compile", dir, "--target", "ee-outliers"]);
  expect(ee.code, ee.stderr).toBe(0);
  const sections = ee.stdout.split(/\n(?=# [0-9a-f]{8}-)/);
  expect(sections.find((s) => s.includes(A))).toContain("adm_filtered_");
  expect(sections.find((s) => s.includes(B))).not.toContain("adm_filtered_");
});
