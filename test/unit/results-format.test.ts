/** The pure parts of seeing results: tag-field groups, Navigator layers, rule changes, summaries and tables. */
import { describe, expect, test } from "bun:test";
import { groupsFor } from "../../src/cluster/history/tag-fields.ts";
import { ruleChanges } from "../../src/cluster/live/rule-changes.ts";
import { titleFromTag } from "../../src/cluster/history/report.ts";
import { coverageTechniques, navigatorLayer } from "../../src/emit/navigator.ts";
import { formatSummary } from "../../src/commands/backfill-summary.ts";
import { topTable } from "../../src/commands/count-tables.ts";
import type { Rule } from "../../src/ir/types.ts";

describe("groupsFor", () => {
  const P = ["logs-*"];
  test("keyword: the field itself", () => {
    expect(groupsFor({ "outliers.rule_id": { keyword: { aggregatable: true } } }, "outliers.rule_id", P)).toEqual([
      { index: P, field: "outliers.rule_id" },
    ]);
  });
  test("text with .keyword: the sub-field", () => {
    const caps = {
      "outliers.rule_id": { text: { aggregatable: false } },
      "outliers.rule_id.keyword": { keyword: { aggregatable: true } },
    };
    expect(groupsFor(caps, "outliers.rule_id", P)).toEqual([{ index: P, field: "outliers.rule_id.keyword" }]);
  });
  test("mixed: one group per mapping, by index", () => {
    const caps = {
      "outliers.rule_id": {
        keyword: { aggregatable: true, indices: ["a"] },
        text: { aggregatable: false, indices: ["b"] },
      },
      "outliers.rule_id.keyword": { keyword: { aggregatable: true, indices: ["b"] } },
    };
    expect(groupsFor(caps, "outliers.rule_id", P)).toEqual([
      { index: ["a"], field: "outliers.rule_id" },
      { index: ["b"], field: "outliers.rule_id.keyword" },
    ]);
  });
  test("unmapped or text without a keyword: nothing to aggregate", () => {
    expect(groupsFor({}, "outliers.rule_id", P)).toEqual([]);
    expect(groupsFor({ "outliers.rule_id": { text: { aggregatable: false } } }, "outliers.rule_id", P)).toEqual([]);
  });
});

function rule(id: string, title: string, tags: string[]): Rule {
  return { id, title, tags, tagsOut: { techniques: [] } } as unknown as Rule;
}

describe("Navigator layers", () => {
  test("coverage: techniques and sub-techniques apart, scored by rules, titles in the comment", () => {
    const t = coverageTechniques([
      rule("a", "Rule A", ["attack.t1059.001", "attack.execution"]),
      rule("b", "Rule B", ["attack.t1059.001", "attack.t1027"]),
      rule("c", "C", []),
    ]);
    const by = Object.fromEntries(t.map((x) => [x.techniqueID, x]));
    expect(Object.keys(by).sort()).toEqual(["T1027", "T1059.001"]);
    expect(by["T1059.001"]).toEqual({ techniqueID: "T1059.001", score: 2, comment: "2 rule(s): Rule A; Rule B" });
  });
  test("a layer 4.5 of enterprise-attack, ids checked, gradient up to the top score", () => {
    const l = navigatorLayer("n", "d", [
      { techniqueID: "T1027", score: 3, comment: "" },
      { techniqueID: "bogus", score: 99, comment: "" },
    ]);
    expect(l).toMatchObject({
      name: "n",
      domain: "enterprise-attack",
      versions: { layer: "4.5" },
      gradient: { minValue: 0, maxValue: 3 },
    });
    expect(l.techniques.map((x) => x.techniqueID)).toEqual(["T1027"]);
    expect(navigatorLayer("n", "d", []).gradient.maxValue).toBe(1); // maxValue must exceed minValue
  });
});

describe("rule changes", () => {
  test("added, removed, changed by digest; unknown digests count as unchanged and say so", () => {
    const c = ruleChanges(
      [
        { id: "a", title: "A", digest: "1" },
        { id: "b", title: "B", digest: "2" },
        { id: "c", title: "C", digest: "3" },
      ],
      [
        { id: "a", title: "A", digest: "1" },
        { id: "b", title: "B2", digest: "9" },
        { id: "d", title: "D", digest: "4" },
      ],
    );
    expect(c).toEqual({
      added: [{ id: "d", title: "D", digest: "4" }],
      removed: [{ id: "c", title: "C", digest: "3" }],
      changed: [{ id: "b", title: "B2", digest: "9" }],
      unchanged: 1,
      digestsUnknown: false,
    });
    const old = ruleChanges([{ id: "a", title: "A" }], [{ id: "a", title: "A", digest: "1" }]);
    expect(old).toMatchObject({ changed: [], unchanged: 1, digestsUnknown: true });
  });
  test("titles from tags: the Sigma prefix goes; ee-outliers keep their reason", () => {
    expect(titleFromTag("Sigma hit - Foo", "sigma", "foo")).toBe("Foo");
    expect(titleFromTag("Suspicious thing", "simplequery", "uc")).toBe("Suspicious thing");
    expect(titleFromTag("", "simplequery", "uc")).toBe("uc");
  });
});

describe("summaries and tables", () => {
  const rules = Array.from({ length: 1634 }, (_, i) => ({
    id: `r${i}`,
    title: `Rule ${i}`,
    added: i % 7,
    inWindow: i % 11,
  }));
  test("backfill: one line per unit, explained, then the top 20 and one line for the rest", () => {
    const lines = formatSummary({
      dryRun: false,
      window: { since: "2026-01-01T00:00:00.000Z", until: null },
      targets: 1,
      checked: 1000,
      eventsTagged: 300,
      rules,
      seconds: 2,
      versionConflictsRetried: 0,
    });
    expect(lines.length).toBeLessThan(35);
    expect(lines.find((l) => l.includes("events checked"))).toMatch(/1,000 {2}events the candidate query selected/);
    expect(lines.find((l) => l.includes("events newly tagged"))).toMatch(
      /300 {2}events rewritten because at least one rule newly matched/,
    );
    expect(lines.find((l) => l.includes("new rule hits"))).toContain("(event, rule) pairs added");
    expect(lines.find((l) => l.includes("tags in window"))).toContain("older tags included");
    expect(lines.at(-1)).toMatch(/… and [\d,]+ more rule\(s\)/);
    const dry = formatSummary({
      dryRun: true,
      window: { since: "x", until: "y" },
      targets: 1,
      checked: 1,
      eventsTagged: 1,
      rules: [],
    });
    expect(dry[0]).toStartWith("dry run, nothing written");
    expect(dry.some((l) => l.includes("events to tag"))).toBe(true);
  });
  test("topTable: zero rows out, most first, the rest summed", () => {
    const lines = topTable(
      [
        { count: 2, label: "b" },
        { count: 5, label: "a" },
        { count: 0, label: "z" },
        { count: 1, label: "c" },
      ],
      { top: 2, header: ["events", "rule"], unit: "rules" },
    );
    expect(lines).toEqual(["  events  rule", "       5  a", "       2  b", "          … and 1 more rules (1 in all)"]);
  });
});
